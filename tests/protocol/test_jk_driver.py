"""The JK driver against the JK simulator, for every frame layout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any

import pytest

from bms_simulator.backend import SimulatedBleakClient
from bms_simulator.device import Fault
from bms_simulator.families.jk import JkLayout, JkSimulator
from bms_simulator.pack import PackModel
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.ble import _resolve
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    BmsTimeoutError,
    ChecksumError,
    CommandNotConfirmedError,
    PairingRequiredError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.jk import JkDriver
from custom_components.lithium_bms.protocol.matching import Advertisement, uuid16
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    Alarm,
    SwitchKind,
    TemperatureKind,
)

ADDRESS = "C8:47:8C:12:34:56"
PERIOD = 0.05
TIMEOUT = 0.3
SETTINGS_REQUEST = bytes.fromhex("aa5590eb96" + "00" * 14 + "10")
DEVICE_INFO_REQUEST = bytes.fromhex("aa5590eb97" + "00" * 14 + "11")

type Factory = Callable[..., tuple[JkSimulator, BmsClient]]


@pytest.fixture(autouse=True)
def fast_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(JkDriver, "request_timeout", TIMEOUT)
    monkeypatch.setattr(JkDriver, "confirm_delay", 0.01)
    monkeypatch.setattr(JkDriver, "pause_timeout", 0.02)


def _pack() -> PackModel:
    return PackModel(
        cell_voltages=[3.301, 3.312, 3.325, 3.298],
        current=-12.345,
        soc=67,
        full_capacity=95.5,
        design_capacity=100.0,
        cycles=42,
        temperatures=[18.5, 19.5],
        mosfet_temperature=27.3,
        balancing_cells={2},
        state_of_health=96,
    )


@pytest.fixture
async def make() -> AsyncGenerator[Factory]:
    clients: list[BmsClient] = []

    def factory(
        layout: JkLayout = JkLayout.JK02_32S,
        options: DriverOptions | None = None,
        **knobs: object,
    ) -> tuple[JkSimulator, BmsClient]:
        sim = JkSimulator(ADDRESS, "BatteryOben-00", _pack(), layout=layout)
        sim.period = PERIOD
        for name, value in knobs.items():
            setattr(sim, name, value)
        driver = JkDriver(SimulatorTransport(sim), options or DriverOptions(ADDRESS))
        client = BmsClient(driver)
        clients.append(client)
        return sim, client

    yield factory
    for client in clients:
        await client.close()


@pytest.mark.parametrize("layout", list(JkLayout))
@pytest.mark.parametrize(("mtu", "noise"), [(128, 0.0), (20, 0.5)])
async def test_snapshot_matches_the_pack(
    make: Factory, layout: JkLayout, mtu: int, noise: float
) -> None:
    sim, client = make(layout, mtu=mtu, noise=noise, balance_current=0.123)
    snap = await client.read_snapshot()
    pack = sim.pack
    assert client.driver.variant == layout.value
    assert snap.cell_voltages == tuple(pack.cell_voltages)
    assert snap.voltage == pytest.approx(pack.voltage, abs=0.001)
    assert snap.balancing is True
    assert snap.balance_current == 0.123
    assert snap.cell_resistances == (0.06,) * 4
    if layout is JkLayout.JK04:
        assert snap.current == 0.0
        assert snap.temperatures == ()
        assert snap.state_of_charge is None
        assert snap.design_capacity is None
        assert snap.protection_code is None
        assert snap.switches == {SwitchKind.BALANCER: True}
        return
    assert snap.current == pack.current
    assert snap.state_of_charge == 67.0
    assert snap.state_of_health == 96.0
    assert snap.remaining_capacity == pytest.approx(pack.remaining_capacity, abs=0.001)
    assert snap.full_capacity == 95.5
    assert snap.design_capacity == 100.0
    assert snap.cycles == 42
    assert snap.charge_mosfet is True
    assert snap.discharge_mosfet is True
    assert snap.probe_temperatures[0].value == 18.5
    assert snap.probe_temperatures[1].value == 19.5
    assert snap.mosfet_temperature == 27.3
    assert snap.temperatures[-1].kind is TemperatureKind.MOSFET
    assert snap.alarms == frozenset()
    assert snap.protection_code == 0
    assert snap.switches == dict.fromkeys(SwitchKind, True)
    assert snap.heater is (False if layout is JkLayout.JK02_32S else None)


async def test_32s_v19_reports_extra_probes(make: Factory) -> None:
    sim, client = make()
    sim.pack.temperatures = [18.5, 19.5, 20.5]
    snap = await client.read_snapshot()
    assert [t.value for t in snap.probe_temperatures] == [18.5, 19.5, 20.5, None]
    assert snap.mosfet_temperature == 27.3
    mosfets = [t for t in snap.temperatures if t.kind is TemperatureKind.MOSFET]
    assert [t.value for t in mosfets] == [27.3, 27.3]  # byte 144 and byte 254


async def test_24s_has_no_extra_probes(make: Factory) -> None:
    sim, client = make(JkLayout.JK02_24S)
    sim.pack.temperatures = [18.5]
    snap = await client.read_snapshot()
    assert [t.value for t in snap.temperatures] == [18.5, None, 27.3]


async def test_device_info(make: Factory) -> None:
    _, client = make(JkLayout.JK02_24S)
    info = await client.read_device_info()
    assert info.model == "JK-B2A24S20P"
    assert info.hw_version == "10.XG"
    assert info.sw_version == "10.07"
    assert info.serial_number == "50618C123456"
    assert info.name == "BatteryOben-00"
    assert info.manufacturer == JkDriver.manufacturer


async def test_reads_use_the_stream_without_requests(make: Factory) -> None:
    sim, client = make()
    await client.read_snapshot()
    assert sim.writes == [DEVICE_INFO_REQUEST, SETTINGS_REQUEST]
    for current in (1.5, -3.25, 7.0):
        sim.pack.current = current
        await sim.stream_advances()
        snap = await client.read_snapshot()
        assert snap.current == current
    assert len(sim.writes) == 2


async def test_each_read_waits_for_a_new_frame(make: Factory) -> None:
    sim, client = make()
    await client.read_snapshot()
    sim.pack.current = 4.5
    # Nothing newer yet: each read waits for the next frame. The first of them
    # may have been built before the change (it waited for its successor), so
    # the change shows by the second new frame; a read that returned the
    # previous frame again would never show it.
    currents = [(await client.read_snapshot()).current for _ in range(2)]
    assert currents[-1] == 4.5


async def test_alarms_and_inverted_current(make: Factory) -> None:
    sim, client = make(options=DriverOptions(ADDRESS, invert_current=True))
    sim.pack.alarms = {"cell_undervoltage", "short_circuit", "mosfet_fault"}
    snap = await client.read_snapshot()
    assert snap.alarms == {
        Alarm.CELL_UNDERVOLTAGE,
        Alarm.SHORT_CIRCUIT,
        Alarm.MOSFET_FAULT,
    }
    assert snap.problem
    assert snap.charge_mosfet is False
    assert snap.discharge_mosfet is False
    assert snap.current == 12.345


SWITCH_ATTRIBUTES = {
    SwitchKind.CHARGE: "charge_enabled",
    SwitchKind.DISCHARGE: "discharge_enabled",
    SwitchKind.BALANCER: "balancer_enabled",
}


@pytest.mark.parametrize(
    ("layout", "kind"),
    [
        (JkLayout.JK04, SwitchKind.BALANCER),
        *(
            (layout, kind)
            for layout in JkLayout
            if layout != "JK04"
            for kind in SwitchKind
        ),
    ],
)
async def test_switch_off_and_on_with_read_back(
    make: Factory, layout: JkLayout, kind: SwitchKind
) -> None:
    sim, client = make(layout)
    await client.read_snapshot()
    others = {
        k: getattr(sim.pack, a) for k, a in SWITCH_ATTRIBUTES.items() if k != kind
    }
    snap = await client.set_switch(kind, False)
    assert getattr(sim.pack, SWITCH_ATTRIBUTES[kind]) is False
    assert snap.switches[kind] is False
    if kind is SwitchKind.CHARGE:
        assert snap.charge_mosfet is False
    if kind is SwitchKind.DISCHARGE:
        assert snap.discharge_mosfet is False
    snap = await client.set_switch(kind, True)
    assert getattr(sim.pack, SWITCH_ATTRIBUTES[kind]) is True
    assert snap.switches[kind] is True
    assert {
        k: getattr(sim.pack, a) for k, a in SWITCH_ATTRIBUTES.items() if k != kind
    } == (others)
    assert sum(w[4] in (0x1D, 0x1E, 0x1F, 0x6C) for w in sim.writes) == 2


@pytest.mark.parametrize("kind", [SwitchKind.CHARGE, SwitchKind.DISCHARGE])
async def test_jk04_refuses_mosfet_switches(make: Factory, kind: SwitchKind) -> None:
    sim, client = make(JkLayout.JK04)
    await client.read_snapshot()
    with pytest.raises(UnsupportedError):
        await client.set_switch(kind, False)
    assert len(sim.writes) == 2


async def test_ignored_command_is_not_confirmed(make: Factory) -> None:
    sim, client = make()
    await client.read_snapshot()
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(CommandNotConfirmedError):
        await client.set_switch(SwitchKind.CHARGE, False)
    assert sim.pack.charge_enabled is True


async def test_missing_read_back_is_not_confirmed(make: Factory) -> None:
    sim, client = make()
    await client.read_snapshot()
    sim.lost_settings = 1
    with pytest.raises(CommandNotConfirmedError):
        await client.set_switch(SwitchKind.DISCHARGE, False)


async def test_stopped_stream_is_restarted(make: Factory) -> None:
    sim, client = make()
    await client.read_snapshot()
    sim.streaming = False
    await asyncio.sleep(PERIOD * 2)
    client.driver.inbox.clear()  # drop frames sent before the stop
    sim.pack.current = 2.5
    snap = await client.read_snapshot()
    assert snap.current == 2.5
    assert sim.writes[-1] == SETTINGS_REQUEST
    assert client.stats.connects == 1


async def test_dead_stream_and_silent_bms_time_out(make: Factory) -> None:
    sim, client = make()
    await client.read_snapshot()
    sim.streaming = False
    sim.hung = True
    await asyncio.sleep(PERIOD * 2)
    client.driver.inbox.clear()
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    assert not client.is_connected
    sim.hung = False
    snap = await client.read_snapshot()  # reconnects and starts over
    assert snap.cycles == 42
    assert client.stats.connects == 2


async def test_restart_without_settings_uses_the_first_cells(make: Factory) -> None:
    sim, client = make()
    await client.read_snapshot()
    sim.streaming = False
    sim.lost_settings = 1
    await asyncio.sleep(PERIOD * 2)
    client.driver.inbox.clear()
    sim.pack.current = -1.25
    snap = await client.read_snapshot()
    assert snap.current == -1.25


async def test_settings_without_cells_is_a_timeout(
    make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, client = make()
    await client.read_snapshot()
    sim.streaming = False
    await asyncio.sleep(PERIOD * 2)
    client.driver.inbox.clear()
    monkeypatch.setattr(sim, "cell_frame", lambda: b"")
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    assert sim.writes.count(SETTINGS_REQUEST) == 2


async def test_lost_settings_still_give_snapshots(make: Factory) -> None:
    # Lost at start-up and again on the first read's re-request.
    sim, client = make(lost_settings=2)
    snap = await client.read_snapshot()
    assert sim.writes.count(SETTINGS_REQUEST) == 2
    assert snap.switches == dict.fromkeys(SwitchKind)
    assert snap.design_capacity is None
    assert snap.cell_voltages == tuple(sim.pack.cell_voltages)
    snap = await client.read_snapshot()  # asks for the settings again
    assert sim.writes.count(SETTINGS_REQUEST) == 3
    assert snap.switches == dict.fromkeys(SwitchKind, True)
    assert snap.design_capacity == 100.0
    await asyncio.sleep(PERIOD * 1.5)
    await client.read_snapshot()  # settings known: no more requests
    assert sim.writes.count(SETTINGS_REQUEST) == 3


async def test_settings_lost_at_start_are_fetched_by_the_first_read(
    make: Factory,
) -> None:
    sim, client = make(lost_settings=1)
    snap = await client.read_snapshot()
    assert sim.writes.count(SETTINGS_REQUEST) == 2
    assert snap.switches == dict.fromkeys(SwitchKind, True)


async def test_firmware_that_needs_pairing(make: Factory) -> None:
    _, client = make(needs_pairing=True)
    with pytest.raises(PairingRequiredError):
        await client.read_snapshot()
    with pytest.raises(PairingRequiredError):
        await client.read_snapshot()


async def test_silent_older_firmware_is_a_timeout(make: Factory) -> None:
    sim, client = make(hung=True)
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    assert sim.writes == [DEVICE_INFO_REQUEST]


async def test_remembered_layout_survives_a_lost_device_info(make: Factory) -> None:
    sim, client = make(
        JkLayout.JK02_24S, options=DriverOptions(ADDRESS, variant="JK02_24S")
    )
    sim.inject(Fault.NO_ANSWER)
    snap = await client.read_snapshot()
    assert snap.cell_voltages == tuple(sim.pack.cell_voltages)
    assert client.driver.variant == "JK02_24S"


async def test_corrupt_device_info_is_retried_on_the_next_read(make: Factory) -> None:
    sim, client = make()
    sim.inject(Fault.BAD_CHECKSUM)
    with pytest.raises(ChecksumError):
        await client.read_snapshot()
    snap = await client.read_snapshot()
    assert snap.cycles == 42
    assert sim.writes.count(DEVICE_INFO_REQUEST) == 2


async def test_read_without_initialize_identifies_and_starts_the_stream() -> None:
    sim = JkSimulator(ADDRESS, "JK", _pack(), layout=JkLayout.JK02_24S)
    sim.period = PERIOD
    transport = SimulatorTransport(sim)
    driver = JkDriver(transport, DriverOptions(ADDRESS))
    await transport.connect(driver.feed, lambda: None)
    try:
        snap = await driver.read_snapshot()
    finally:
        await transport.disconnect()
    assert sim.writes == [DEVICE_INFO_REQUEST, SETTINGS_REQUEST]
    assert driver.variant == "JK02_24S"
    assert snap.switches[SwitchKind.CHARGE] is True


async def test_invalid_remembered_variant_is_ignored(make: Factory) -> None:
    sim, client = make(options=DriverOptions(ADDRESS, variant="bogus"))
    assert client.driver.variant is None
    sim.inject(Fault.NO_ANSWER)
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()


@pytest.mark.parametrize("fault", [Fault.BAD_CHECKSUM, Fault.TRUNCATED])
async def test_a_broken_stream_frame_is_skipped(make: Factory, fault: Fault) -> None:
    sim, client = make()
    await client.read_snapshot()
    sim.inject(fault)
    sim.pack.current = 9.0
    # The broken frame goes out at the next tick, a good one after it: on a
    # busy machine that can take longer than a few periods.
    for _ in range(60):
        if (await client.read_snapshot()).current == 9.0:
            break
        await asyncio.sleep(PERIOD)
    else:
        pytest.fail("no good frame after the broken one")
    assert not sim.faults
    assert client.driver.inbox._last_error is not None


async def test_disconnect_mid_frame_then_reconnect(make: Factory) -> None:
    sim, client = make()
    await client.read_snapshot()
    sim.inject(Fault.DISCONNECT_MID_FRAME)
    with pytest.raises(BmsConnectionError):
        await client.read_snapshot()
    snap = await client.read_snapshot()
    assert snap.cycles == 42
    assert client.stats.connects == 2


@pytest.mark.parametrize("end", ["closed", "lost"])
async def test_no_pause_timer_outlives_the_connection(
    make: Factory, monkeypatch: pytest.MonkeyPatch, end: str
) -> None:
    monkeypatch.setattr(JkDriver, "pause_timeout", 60.0)
    _, client = make()
    await client.read_snapshot()
    await asyncio.sleep(PERIOD)
    driver = client.driver
    assert isinstance(driver, JkDriver)
    assert driver._pause is not None, "the next frame waits for the stream"
    if end == "closed":
        await client.close()
    else:
        transport = driver.transport
        assert isinstance(transport, SimulatorTransport)
        transport._dropped()
    assert driver._pause is None


async def test_gatt_characteristics_are_picked_by_properties() -> None:
    sim = JkSimulator(ADDRESS, "JK-B2A24S20P")
    bleak_client = SimulatedBleakClient(ADDRESS, devices={ADDRESS: sim})
    await bleak_client.connect()
    chars = _resolve(bleak_client, JkDriver.gatt[0])  # type: ignore[arg-type]
    assert chars is not None
    notify, write = chars
    assert (notify.handle, write.handle) == (0x05, 0x03)
    await bleak_client.disconnect()


def test_matchers_need_ffe0_and_a_jk_company_id() -> None:
    sim = JkSimulator(ADDRESS, "renamed battery")
    adv = Advertisement(
        ADDRESS,
        "renamed battery",
        tuple(sim.advertising.service_uuids),
        sim.advertising.manufacturer_data,
    )
    assert driver_for_advertisement(adv) is JkDriver
    ffe0 = (uuid16(0xFFE0),)
    assert JkDriver.claims(Advertisement(ADDRESS, None, ffe0, {0x4B4A: b"\x00\x01"}))
    assert not JkDriver.claims(Advertisement(ADDRESS, "JK-B2A24S", ffe0, {}))
    assert not JkDriver.claims(
        Advertisement(ADDRESS, None, (uuid16(0xFF00),), {0x0B65: b"\x88\xa0"})
    )


# Issue 10: an "off" under a protection, layouts from frames, secrets.


@pytest.mark.parametrize(
    ("alarm", "kind"),
    [
        ("cell_undervoltage", SwitchKind.DISCHARGE),
        ("cell_overvoltage", SwitchKind.CHARGE),
    ],
)
async def test_off_is_not_confirmed_by_a_mosfet_a_protection_holds_off(
    make: Factory, alarm: str, kind: SwitchKind
) -> None:
    """The MOSFET flag is off already; only the settings frame confirms."""
    sim, client = make(JkLayout.JK02_32S)
    sim.pack.alarms = {alarm}
    snap = await client.read_snapshot()
    mosfet = "discharge_mosfet" if kind is SwitchKind.DISCHARGE else "charge_mosfet"
    assert getattr(snap, mosfet) is False
    assert snap.switches[kind] is True
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(CommandNotConfirmedError):
        await client.set_switch(kind, False)
    assert getattr(sim.pack, SWITCH_ATTRIBUTES[kind]) is True
    snap = await client.set_switch(kind, False)  # now applied: confirmed
    assert snap.switches[kind] is False
    assert getattr(sim.pack, SWITCH_ATTRIBUTES[kind]) is False


@pytest.mark.parametrize(
    ("layout", "model", "version"),
    [
        # syssi/esphome-jk-bms README: JK04 on 8.0.3M, JK02_24S on 8.1.2H.
        (JkLayout.JK04, "JK-B5A24S", "8.0.3M"),
        (JkLayout.JK02_24S, "JK-B2A24S20P", "8.1.2H"),
    ],
)
async def test_software_8_speaks_the_layout_of_its_model(
    make: Factory, layout: JkLayout, model: str, version: str
) -> None:
    sim, client = make(layout, model=model, sw_version=version)
    snap = await client.read_snapshot()
    assert client.driver.variant == layout.value
    assert snap.cell_voltages == tuple(sim.pack.cell_voltages)


async def test_frames_overrule_a_wrong_guess(make: Factory) -> None:
    """Device info that suggests JK04 over a stream of JK02_24S frames."""
    sim, client = make(JkLayout.JK02_24S, model="JK-B5A24S", sw_version="8.0.3M")
    snap = await client.read_snapshot()
    assert client.driver.variant == "JK02_24S"
    assert snap.current == sim.pack.current
    await client.set_switch(SwitchKind.CHARGE, False)  # a JK02 register
    assert sim.pack.charge_enabled is False


@pytest.mark.parametrize("remembered", ["JK02_24S", "JK02_32S", "JK04"])
async def test_a_remembered_layout_that_decodes_stays(
    make: Factory, remembered: str
) -> None:
    """A guess from the device info never replaces a layout that decodes."""
    sim, client = make(
        JkLayout.JK02_24S,
        options=DriverOptions(ADDRESS, variant=remembered),
        model="JK-B5A24S",
        sw_version="8.0.3M",
    )
    snap = await client.read_snapshot()
    assert client.driver.variant == "JK02_24S"  # the frames decide
    assert snap.cell_voltages == tuple(sim.pack.cell_voltages)


async def test_snapshots_state_the_cell_count(make: Factory) -> None:
    _, client = make(JkLayout.JK02_32S)
    snap = await client.read_snapshot()
    assert snap.reported_cell_count == len(snap.cell_voltages) == 4


def test_the_device_info_frame_is_sensitive() -> None:
    sim = JkSimulator(ADDRESS, "x", _pack())
    driver = JkDriver(SimulatorTransport(sim), DriverOptions(ADDRESS))
    info = sim.device_info_frame()
    assert sim.serial_number.encode() in info
    assert driver.is_sensitive(info)
    assert not driver.is_sensitive(sim.cell_frame())
    assert not driver.is_sensitive(sim.settings_frame())
    assert not driver.is_sensitive(DEVICE_INFO_REQUEST)
    assert not driver.is_sensitive(SETTINGS_REQUEST)
    assert not driver.is_sensitive(b"")


async def test_an_inconsistent_cell_frame_is_skipped(
    make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frame whose sum passes but whose fields disagree (SOC 170 %)."""
    sim, client = make()
    await client.read_snapshot()
    real = sim.cell_frame

    def forged() -> bytes:
        monkeypatch.setattr(sim, "cell_frame", real)
        frame = bytearray(real())
        frame[173] = 170
        frame[299] = sum(frame[:299]) & 0xFF
        return bytes(frame)

    monkeypatch.setattr(sim, "cell_frame", forged)
    await asyncio.sleep(PERIOD * 1.5)
    snap = await client.read_snapshot()
    assert snap.state_of_charge == 67.0
    assert client.driver.variant == "JK02_32S"


async def test_a_stalled_loop_after_a_notification_is_no_pause_of_the_stream(
    make: Factory,
) -> None:
    """Home Assistant busy for longer than the pause right after a frame's
    first notification: the BMS went on sending, so the frame is complete."""
    sim, client = make(JkLayout.JK02_24S)
    attach = sim.attach

    def attach_busy_once(notify: Callable[[int, bytes], None], drop: Any) -> None:
        stalls = [JkDriver.pause_timeout * 2]  # after the first notification

        def notify_then_stall(handle: int, data: bytes) -> None:
            notify(handle, data)
            if stalls:
                time.sleep(stalls.pop())

        attach(notify_then_stall, drop)

    sim.attach = attach_busy_once  # type: ignore[method-assign]
    snap = await client.read_snapshot()
    assert snap.current == sim.pack.current
