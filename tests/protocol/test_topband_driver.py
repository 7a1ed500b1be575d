"""The Topband driver over Bluetooth (FFE0 / FFF0), against the simulator."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bms_simulator.backend import SimulatedBleakClient
from bms_simulator.device import Fault
from bms_simulator.families.topband import TopbandSimulator, demo
from bms_simulator.pack import PackModel
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.ble import BleTransport, _resolve
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    BmsTimeoutError,
    ChecksumError,
)
from custom_components.lithium_bms.protocol.matching import Advertisement
from custom_components.lithium_bms.protocol.redodo import RedodoDriver
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    TemperatureKind,
)
from custom_components.lithium_bms.protocol.topband import TopbandDriver

from .sim_clients import MakeClient, SimClients

ADDRESS = "30:55:44:12:34:56"
PERIOD = 0.03  # seconds between streamed frames


def assert_matches(snapshot: BatterySnapshot, sim: TopbandSimulator) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    pack = sim.pack
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == round(pack.voltage, 3)
    # PowerXtreme counts 0.1 A, Topband 1 mA.
    unit = 0.1 if sim.powerxtreme else 0.001
    assert snapshot.current == pytest.approx(pack.current, abs=unit / 2 + 1e-9)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.remaining_capacity == round(pack.remaining_capacity, 3)
    assert snapshot.cycles == pack.cycles
    [probe] = snapshot.temperatures
    assert probe.kind is TemperatureKind.CELL
    assert probe.value == sim.carried_temperature(pack.temperatures[0])
    assert abs(probe.value - pack.temperatures[0]) <= 0.05 + 1e-9
    assert snapshot.protection_code == sim.problem
    # What the frame does not carry stays unknown.
    for absent in (
        snapshot.full_capacity,
        snapshot.design_capacity,
        snapshot.state_of_health,
        snapshot.charge_mosfet,
        snapshot.discharge_mosfet,
        snapshot.balancing,
        snapshot.heater,
        snapshot.mosfet_temperature,
    ):
        assert absent is None
    assert snapshot.alarms == frozenset()
    assert snapshot.supported_alarms == frozenset()


def _advertisement(sim: TopbandSimulator) -> Advertisement:
    return Advertisement(
        address=sim.address,
        name=sim.advertising.name,
        service_uuids=tuple(sim.advertising.service_uuids),
        manufacturer_data=sim.advertising.manufacturer_data,
    )


@pytest.fixture(autouse=True)
def fast_topband(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short wait for the next frame, so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(TopbandDriver, "request_timeout", 0.5)


@pytest.fixture(params=[False, True], ids=["topband", "powerxtreme"])
def sim(request: pytest.FixtureRequest) -> TopbandSimulator:
    device = TopbandSimulator(
        ADDRESS, "NWJ20221223010330", demo(ADDRESS).pack, powerxtreme=request.param
    )
    device.period = PERIOD
    return device


@pytest.fixture
def make_client(sim_clients: SimClients, sim: TopbandSimulator) -> MakeClient:
    return sim_clients.maker(TopbandDriver, sim, address=ADDRESS)


def test_the_demos_are_claimed_by_topband(sim: TopbandSimulator) -> None:
    adv = _advertisement(sim)
    assert driver_for_advertisement(adv) is TopbandDriver
    # The service alone, or the company alone, is not enough.
    assert not TopbandDriver.claims(Advertisement(ADDRESS, adv.name, adv.service_uuids))
    assert not TopbandDriver.claims(
        Advertisement(ADDRESS, adv.name, (), adv.manufacturer_data)
    )


def test_a_redodo_pack_on_ffe0_is_not_topband() -> None:
    adv = Advertisement(
        "C8:47:80:12:34:56",
        "R-12100BNN160-A00643",
        ("0000ffe0-0000-1000-8000-00805f9b34fb",),
        {22618: bytes.fromhex("c84780123456")},
    )
    assert driver_for_advertisement(adv) is RedodoDriver


async def test_snapshot_equals_the_pack(
    sim: TopbandSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim)
    # A 16-cell pack, charging, on a new connection (the count guard holds
    # the cell count within one).
    await client.close()
    client = make_client()
    sim.pack.cell_voltages = [round(3.3 + 0.002 * i, 3) for i in range(16)]
    sim.pack.current = 37.25
    sim.pack.full_capacity = 280.0
    sim.pack.soc = 73
    sim.pack.cycles = 1234
    sim.pack.temperatures = [-7.0]
    assert_matches(await client.read_snapshot(), sim)


async def test_each_read_takes_the_newest_frame(
    sim: TopbandSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    sim.pack.current = -3.5
    sim.pack.soc = 12
    await asyncio.sleep(5 * PERIOD)  # frames of the old and the new state
    snap = await client.read_snapshot()
    assert (snap.current, snap.state_of_charge) == (-3.5, 12)
    if not sim.powerxtreme:  # PowerXtreme's answer to its second request waits
        assert client.driver.inbox.take(lambda _: True) is None, "older ones dropped"


async def test_a_frame_is_never_read_twice(
    sim: TopbandSimulator, make_client: MakeClient
) -> None:
    """Once the pack falls silent, the last frame is not published again.

    PowerXtreme takes only the frames after its requests: none once silent.
    """
    client = make_client()
    await client.read_snapshot()
    await asyncio.sleep(5 * PERIOD)  # several frames wait
    sim.hung = True
    await asyncio.sleep(5 * PERIOD)  # whatever was on its way has arrived
    if not sim.powerxtreme:
        await client.read_snapshot()  # the newest of them
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()


async def test_device_info_tells_the_maker_by_the_service(
    sim: TopbandSimulator, make_client: MakeClient
) -> None:
    info = await make_client().read_device_info()
    assert info.manufacturer == ("PowerXtreme" if sim.powerxtreme else "Topband")
    assert info.model is None


async def test_only_powerxtreme_is_asked_before_each_read(
    sim: TopbandSimulator, make_client: MakeClient
) -> None:
    """PowerXtreme: ``<B:ST>`` and ``<H:ST>`` before each read; Topband: nothing."""
    client = make_client()
    await client.read_device_info()
    await client.read_snapshot()
    await client.read_snapshot()
    asked = [b"<B:ST>", b"<H:ST>"] * 2 if sim.powerxtreme else []
    assert sim.writes == asked


async def test_powerxtreme_answers_are_skipped_for_the_status_frame() -> None:
    """The ``<B:AN>`` and ``<H:NO>`` answers are no status frame and no error."""
    device = TopbandSimulator(ADDRESS, "Moby", demo(ADDRESS).pack, powerxtreme=True)
    device.period = 60.0  # only the answers to the requests
    device.first_delay = 60.0
    device.pack.current = -3.2
    client = BmsClient(TopbandDriver(SimulatorTransport(device), DriverOptions()))
    try:
        snapshot = await client.read_snapshot()
    finally:
        await client.close()
    assert snapshot.current == -3.2
    assert client.stats.read_failures == 0


async def test_a_problem_code_shows_as_the_protection_code_and_problem(
    sim: TopbandSimulator, make_client: MakeClient
) -> None:
    """No public source names its bits: no named alarm, but a problem."""
    sim.problem = 0x80
    snap = await make_client().read_snapshot()
    assert_matches(snap, sim)
    assert snap.protection_code == 0x80
    assert snap.alarms == frozenset()
    assert snap.problem is True


@pytest.mark.parametrize(
    "fault", [Fault.NO_ANSWER, Fault.BAD_CHECKSUM, Fault.TRUNCATED]
)
async def test_a_lost_or_bad_frame_is_skipped_for_the_next(
    sim: TopbandSimulator, make_client: MakeClient, fault: Fault
) -> None:
    client = make_client()
    sim.inject(fault)
    assert_matches(await client.read_snapshot(), sim)
    assert client.stats.read_failures == 0
    assert client.stats.connects == 1
    assert not sim.faults


async def test_a_drop_mid_frame_fails_the_read_then_recovers(
    sim: TopbandSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    sim.inject(Fault.DISCONNECT_MID_FRAME)
    with pytest.raises(BmsConnectionError):
        await client.read_snapshot()
    assert client.is_connected is False
    assert_matches(await client.read_snapshot(), sim)
    assert client.stats.connects == 2


async def test_every_frame_bad_is_the_checksum_error(
    sim: TopbandSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    sim.inject(Fault.BAD_CHECKSUM, count=1000)
    with pytest.raises(ChecksumError):
        await client.read_snapshot()
    sim.faults.clear()
    assert_matches(await client.read_snapshot(), sim)


async def test_a_silent_pack_times_out_then_recovers(
    sim: TopbandSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    sim.hung = True
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    sim.hung = False
    assert_matches(await client.read_snapshot(), sim)


async def test_the_stream_stops_with_the_link(
    sim: TopbandSimulator, make_client: MakeClient
) -> None:
    client = make_client(keep_connected=False)
    await client.read_snapshot()
    assert not sim.connected
    assert sim._timer is None


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(mtu=st.integers(min_value=1, max_value=120), delay=st.sampled_from([0, 0.001]))
async def test_fuzzed_notification_splits(mtu: int, delay: float) -> None:
    """Frames cut into notifications of any size reassemble into the pack."""
    sim = demo(ADDRESS)
    sim.period = PERIOD
    sim.mtu = mtu
    sim.notify_delay = delay
    sim.pack = PackModel(cell_voltages=[3.301, 3.302, 3.303], current=-1.5)
    options = DriverOptions(address=ADDRESS, reply_timeout=5.0)
    client = BmsClient(TopbandDriver(SimulatorTransport(sim), options))
    try:
        assert_matches(await client.read_snapshot(), sim)
    finally:
        await client.close()


@pytest.mark.parametrize("powerxtreme", [False, True], ids=["topband", "powerxtreme"])
async def test_gatt_resolves_each_makers_characteristics(powerxtreme: bool) -> None:
    """Topband's profile has no write characteristic: it resolves to notify alone."""
    device = TopbandSimulator(ADDRESS, "NWJ", powerxtreme=powerxtreme)
    bleak_client = SimulatedBleakClient(ADDRESS, devices={ADDRESS: device})
    await bleak_client.connect()
    try:
        topband, powerx = (
            _resolve(bleak_client, profile)  # type: ignore[arg-type]
            for profile in TopbandDriver.gatt
        )
        found = powerx if powerxtreme else topband
        assert (topband is None) is powerxtreme
        assert found is not None
        notify, write = found
        assert notify.handle == 0x11
        # PowerXtreme's requests go to FFF2 (aiobmsble 0.31.0 pwrxtreme_bms.py).
        assert (write.handle if write else None) == (0x14 if powerxtreme else None)
    finally:
        await bleak_client.disconnect()


async def test_the_ble_transport_refuses_a_write_without_a_write_characteristic() -> (
    None
):
    transport = BleTransport(lambda: None, TopbandDriver.gatt)
    with pytest.raises(BmsConnectionError, match="not connected"):
        await transport.write(b"\x00")
    transport._client = object()  # type: ignore[assignment]  # a link, no write char
    with pytest.raises(BmsConnectionError, match="no write characteristic"):
        await transport.write(b"\x00")
    assert transport.service is None, "no profile in use before a connect"
