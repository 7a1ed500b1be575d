"""The Super-B driver over Bluetooth (service 74b9c2d1-…), against the simulator."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bms_simulator.backend import SimulatedBleakClient
from bms_simulator.device import Fault
from bms_simulator.families.superb import SuperbSimulator, demo
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
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import BatterySnapshot, SwitchKind
from custom_components.lithium_bms.protocol.superb import SuperbDriver

from .sim_clients import MakeClient, SimClients

ADDRESS = "60:8A:10:12:34:56"
PERIOD = 0.03  # seconds between streamed frames


def assert_matches(snapshot: BatterySnapshot, sim: SuperbSimulator) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    pack = sim.pack
    # Single-precision floats, rounded to 3 decimals.
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.0006)
    assert snapshot.current == pytest.approx(pack.current, abs=0.0006)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.state_of_health == round(pack.state_of_health)
    assert snapshot.balancing is bool(pack.balancing_cells)
    assert snapshot.protection_code == int(sim.problem)
    assert snapshot.problem is sim.problem
    # What the frame does not carry stays unknown.
    assert snapshot.cell_voltages == ()
    assert snapshot.temperatures == ()
    for absent in (
        snapshot.remaining_capacity,
        snapshot.full_capacity,
        snapshot.design_capacity,
        snapshot.cycles,
        snapshot.charge_mosfet,
        snapshot.discharge_mosfet,
        snapshot.heater,
        snapshot.runtime,
    ):
        assert absent is None
    assert snapshot.alarms == frozenset()
    assert snapshot.supported_alarms == frozenset()


@pytest.fixture(autouse=True)
def fast_superb(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short wait for the next frame, so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(SuperbDriver, "request_timeout", 0.5)


@pytest.fixture
def sim() -> SuperbSimulator:
    device = demo(ADDRESS)
    device.period = PERIOD
    return device


@pytest.fixture
def make_client(sim_clients: SimClients, sim: SuperbSimulator) -> MakeClient:
    return sim_clients.maker(SuperbDriver, sim, address=ADDRESS)


def test_the_demo_is_claimed_by_its_name() -> None:
    adv = Advertisement(ADDRESS, demo(ADDRESS).advertising.name)
    assert driver_for_advertisement(adv) is SuperbDriver
    # The second generation's name (BMS_BLE-HA #546, #813) is not claimed.
    v2 = Advertisement(
        "48:23:35:00:00:01",
        "Epsilon 150 - 202019586",
        manufacturer_data={0x50BE: b"Epsilon V2"},
    )
    assert driver_for_advertisement(v2) is None


async def test_snapshot_equals_the_pack(
    sim: SuperbSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim)
    sim.pack.current = 37.25
    sim.pack.soc = 73
    sim.pack.state_of_health = 88
    sim.pack.balancing_cells = {0}
    await sim.stream_advances()
    assert_matches(await client.read_snapshot(), sim)


async def test_each_read_takes_the_newest_frame(
    sim: SuperbSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    sim.pack.current = -3.5
    sim.pack.soc = 12
    await asyncio.sleep(5 * PERIOD)  # frames of the old and the new state
    snap = await client.read_snapshot()
    assert (snap.current, snap.state_of_charge) == (-3.5, 12)
    assert client.driver.inbox.take(lambda _: True) is None, "older ones dropped"


async def test_a_frame_is_never_read_twice(
    sim: SuperbSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    await asyncio.sleep(5 * PERIOD)
    sim.hung = True
    await asyncio.sleep(5 * PERIOD)
    await client.read_snapshot()
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()


async def test_device_info_is_the_sources_model(make_client: MakeClient) -> None:
    info = await make_client().read_device_info()
    assert (info.manufacturer, info.model) == ("Super-B", "Epsilon")
    assert info.serial_number is None


async def test_nothing_is_ever_written(
    sim: SuperbSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_device_info()
    await client.read_snapshot()
    await client.read_snapshot()
    assert sim.writes == []


async def test_a_cleared_flag_bit_0_is_a_problem(
    sim: SuperbSimulator, make_client: MakeClient
) -> None:
    """No public source names the other bits: no named alarm, but a problem."""
    sim.problem = True
    snap = await make_client().read_snapshot()
    assert_matches(snap, sim)
    assert (snap.protection_code, snap.problem) == (1, True)


@pytest.mark.parametrize(
    "fault", [Fault.NO_ANSWER, Fault.BAD_CHECKSUM, Fault.TRUNCATED]
)
async def test_a_lost_or_bad_frame_is_skipped_for_the_next(
    sim: SuperbSimulator, make_client: MakeClient, fault: Fault
) -> None:
    client = make_client()
    sim.inject(fault)
    assert_matches(await client.read_snapshot(), sim)
    assert client.stats.read_failures == 0
    assert client.stats.connects == 1
    assert not sim.faults


async def test_a_drop_mid_frame_fails_the_read_then_recovers(
    sim: SuperbSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    sim.inject(Fault.DISCONNECT_MID_FRAME)
    with pytest.raises(BmsConnectionError):
        await client.read_snapshot()
    assert client.is_connected is False
    assert_matches(await client.read_snapshot(), sim)
    assert client.stats.connects == 2


async def test_only_bad_frames_time_out_then_recover(
    sim: SuperbSimulator, make_client: MakeClient
) -> None:
    """Without a checksum a bad frame is no frame: the read times out."""
    client = make_client()
    sim.inject(Fault.BAD_CHECKSUM, count=1000)
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    sim.faults.clear()
    assert_matches(await client.read_snapshot(), sim)


async def test_a_silent_pack_times_out_then_recovers(
    sim: SuperbSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    sim.hung = True
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    sim.hung = False
    assert_matches(await client.read_snapshot(), sim)


async def test_the_stream_stops_with_the_link(
    sim: SuperbSimulator, make_client: MakeClient
) -> None:
    client = make_client(keep_connected=False)
    await client.read_snapshot()
    assert not sim.connected
    assert sim._timer is None


@pytest.mark.parametrize("kind", list(SwitchKind))
async def test_every_switch_is_refused(
    sim: SuperbSimulator, make_client: MakeClient, kind: SwitchKind
) -> None:
    client = make_client()
    with pytest.raises(UnsupportedError):
        await client.set_switch(kind, on=False)
    assert sim.writes == []


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(mtu=st.integers(min_value=1, max_value=40), delay=st.sampled_from([0, 0.001]))
async def test_fuzzed_notification_splits(mtu: int, delay: float) -> None:
    """Frames cut into notifications of any size reassemble into the pack."""
    sim = demo(ADDRESS)
    sim.period = PERIOD
    sim.mtu = mtu
    sim.notify_delay = delay
    sim.pack = PackModel(cell_voltages=[3.301, 3.302, 3.303, 3.304], current=-1.5)
    options = DriverOptions(address=ADDRESS, reply_timeout=5.0)
    client = BmsClient(SuperbDriver(SimulatorTransport(sim), options))
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
        [profile] = SuperbDriver.gatt
        found = _resolve(bleak_client, profile)  # type: ignore[arg-type]
        assert found is not None
        notify, write = found
        assert (notify.handle, write) == (0x11, None)
    finally:
        await bleak_client.disconnect()
