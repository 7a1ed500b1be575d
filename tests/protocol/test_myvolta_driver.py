"""The MyVolta driver over Bluetooth (service 00035b03-…), against the simulator."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bms_simulator.backend import SimulatedBleakClient
from bms_simulator.device import Fault
from bms_simulator.families.myvolta import MyvoltaSimulator, demo
from bms_simulator.pack import PackModel
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.ble import _resolve
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    BmsTimeoutError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.matching import Advertisement
from custom_components.lithium_bms.protocol.myvolta import MyvoltaDriver
from custom_components.lithium_bms.protocol.myvolta.driver import SERVICE
from custom_components.lithium_bms.protocol.plausibility import ImplausibleDataError
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    SwitchKind,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "E8:EB:1B:12:34:56"
PERIOD = 0.03  # seconds between streamed cycles


def assert_matches(snapshot: BatterySnapshot, sim: MyvoltaSimulator) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    pack = sim.pack
    assert snapshot.voltage == round(pack.voltage, 3)
    assert snapshot.current == round(pack.current, 2)
    assert snapshot.state_of_charge == round(pack.soc, 1)
    assert snapshot.cell_voltages == tuple(round(v, 3) for v in pack.cell_voltages)
    assert [t.value for t in snapshot.temperatures] == [round(t, 1) for t in sim.probes]
    assert {t.kind for t in snapshot.temperatures} == {TemperatureKind.CELL}
    assert snapshot.protection_code == sim.problem_code & 0xFF00FFFF
    assert snapshot.heater is sim.heater
    assert snapshot.problem is (snapshot.protection_code != 0)
    # What the messages do not carry stays unknown.
    for absent in (
        snapshot.state_of_health,
        snapshot.remaining_capacity,
        snapshot.full_capacity,
        snapshot.cycles,
        snapshot.balancing,
        snapshot.charge_mosfet,
        snapshot.discharge_mosfet,
    ):
        assert absent is None
    assert snapshot.alarms == frozenset()
    assert snapshot.supported_alarms == frozenset()


@pytest.fixture(autouse=True)
def fast_myvolta(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short wait for missing messages, so silent-pack tests take milliseconds."""
    monkeypatch.setattr(MyvoltaDriver, "request_timeout", 0.5)


@pytest.fixture
def sim() -> MyvoltaSimulator:
    device = demo(ADDRESS)
    device.period = PERIOD
    return device


@pytest.fixture
def make_client(sim_clients: SimClients, sim: MyvoltaSimulator) -> MakeClient:
    return sim_clients.maker(MyvoltaDriver, sim, address=ADDRESS)


def test_the_demo_is_claimed_by_name_and_service() -> None:
    adv = demo(ADDRESS).advertising
    found = Advertisement(ADDRESS, adv.name, service_uuids=tuple(adv.service_uuids))
    assert driver_for_advertisement(found) is MyvoltaDriver
    # The name alone (aiobmsble's matcher asks for the service too).
    assert driver_for_advertisement(Advertisement(ADDRESS, "VPS-197B")) is None
    other = Advertisement(ADDRESS, "XYZ-197B", service_uuids=(SERVICE,))
    assert driver_for_advertisement(other) is None


async def test_snapshot_equals_the_pack(
    sim: MyvoltaSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim)
    sim.pack.current = 37.25
    sim.pack.soc = 73.4
    sim.pack.temperatures = [-12.5, 3.0]
    sim.pack.cell_voltages = [3.301, 3.3, 3.299, 3.305] + [3.302] * 10
    sim.heater = True
    await sim.stream_advances()
    assert_matches(await client.read_snapshot(), sim)


async def test_sixteen_cells_fill_every_slot(
    sim: MyvoltaSimulator, make_client: MakeClient
) -> None:
    sim.pack.cell_voltages = [3.2 + i / 1000 for i in range(16)]
    assert_matches(await make_client().read_snapshot(), sim)


async def test_the_problem_code_skips_byte_3(
    sim: MyvoltaSimulator, make_client: MakeClient
) -> None:
    sim.problem_code = 0x00000800  # VCellLow (docs/myvolta_bms.md, byte 1)
    snap = await make_client().read_snapshot()
    assert_matches(snap, sim)
    assert (snap.protection_code, snap.problem) == (0x800, True)


async def test_each_read_takes_the_newest_messages(
    sim: MyvoltaSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    sim.pack.current = -3.5
    sim.pack.soc = 12.0
    await asyncio.sleep(5 * PERIOD)  # cycles of the old and the new state
    snap = await client.read_snapshot()
    assert (snap.current, snap.state_of_charge) == (-3.5, 12.0)
    assert client.driver.inbox.take(lambda _: True) is None, "older ones dropped"


async def test_a_missing_message_leaves_its_values_unknown(
    sim: MyvoltaSimulator, make_client: MakeClient
) -> None:
    """A message that never comes costs its values, not the snapshot."""
    sim.silent = {0x13, 0x25, 0x01}
    snap = await make_client().read_snapshot()
    assert snap.voltage == round(sim.pack.voltage, 3)
    assert snap.cell_voltages == ()
    assert snap.temperatures == ()
    assert (snap.protection_code, snap.heater, snap.problem) == (None, None, None)


async def test_without_the_metrics_message_the_read_times_out(
    sim: MyvoltaSimulator, make_client: MakeClient
) -> None:
    sim.silent = {0x00}
    client = make_client()
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    sim.silent = set()
    assert_matches(await client.read_snapshot(), sim)


async def test_device_info_is_the_sources_model(make_client: MakeClient) -> None:
    info = await make_client().read_device_info()
    assert (info.manufacturer, info.model) == (
        "Voltagen Power Solutions",
        "MyVolta BLE HW",
    )
    assert info.serial_number is None


async def test_nothing_is_ever_written(
    sim: MyvoltaSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_device_info()
    await client.read_snapshot()
    await client.read_snapshot()
    assert sim.writes == []


@pytest.mark.parametrize(
    "fault", [Fault.NO_ANSWER, Fault.BAD_CHECKSUM, Fault.TRUNCATED]
)
async def test_a_lost_or_bad_frame_is_skipped_for_the_next(
    sim: MyvoltaSimulator, make_client: MakeClient, fault: Fault
) -> None:
    client = make_client()
    sim.inject(fault, count=3)  # the 0x83 frame, metrics and info
    assert_matches(await client.read_snapshot(), sim)
    assert client.stats.read_failures == 0
    assert client.stats.connects == 1
    assert not sim.faults


async def test_a_drop_mid_frame_fails_the_read_then_recovers(
    sim: MyvoltaSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    sim.inject(Fault.DISCONNECT_MID_FRAME)
    with pytest.raises(BmsConnectionError):
        await client.read_snapshot()
    assert client.is_connected is False
    assert_matches(await client.read_snapshot(), sim)
    assert client.stats.connects == 2


async def test_a_silent_pack_times_out_then_recovers(
    sim: MyvoltaSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    sim.hung = True
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    sim.hung = False
    assert_matches(await client.read_snapshot(), sim)


async def test_the_stream_stops_with_the_link(
    sim: MyvoltaSimulator, make_client: MakeClient
) -> None:
    client = make_client(keep_connected=False)
    await client.read_snapshot()
    assert not sim.connected
    assert sim._timer is None


@pytest.mark.parametrize("kind", list(SwitchKind))
async def test_every_switch_is_refused(
    sim: MyvoltaSimulator, make_client: MakeClient, kind: SwitchKind
) -> None:
    client = make_client()
    with pytest.raises(UnsupportedError):
        await client.set_switch(kind, on=False)
    assert sim.writes == []


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(mtu=st.integers(min_value=1, max_value=40), delay=st.sampled_from([0, 0.0005]))
async def test_fuzzed_notification_splits(mtu: int, delay: float) -> None:
    """Frames cut into notifications of any size reassemble into the pack."""
    sim = demo(ADDRESS)
    sim.period = PERIOD
    sim.mtu = mtu
    sim.notify_delay = delay
    sim.pack = PackModel(cell_voltages=[3.301, 3.302, 3.303, 3.304], current=-1.5)
    options = DriverOptions(address=ADDRESS, reply_timeout=5.0)
    client = BmsClient(MyvoltaDriver(SimulatorTransport(sim), options))
    try:
        assert_matches(await client.read_snapshot(), sim)
    finally:
        await client.close()


async def test_gatt_needs_only_the_notify_characteristic() -> None:
    """The profile has no write characteristic: notify alone resolves."""
    device = demo(ADDRESS)
    bleak_client = SimulatedBleakClient(ADDRESS, devices={ADDRESS: device})
    await bleak_client.connect()
    try:
        [profile] = MyvoltaDriver.gatt
        found = _resolve(bleak_client, profile)  # type: ignore[arg-type]
        assert found is not None
        notify, write = found
        assert (notify.handle, write) == (0x11, None)
    finally:
        await bleak_client.disconnect()


async def test_cells_lost_for_good_settle_after_the_count_gate(
    sim: MyvoltaSimulator, make_client: MakeClient
) -> None:
    """Cells gone within a connection: refused until the new count repeats."""
    client = make_client()
    await client.read_snapshot()
    sim.silent = {0x13}
    for _ in range(2):
        with pytest.raises(ImplausibleDataError, match="cell count changed"):
            await client.read_snapshot()
    snap = await client.read_snapshot()
    assert (snap.cell_voltages, snap.voltage) == ((), round(sim.pack.voltage, 3))
