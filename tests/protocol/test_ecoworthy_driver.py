"""The ECO-WORTHY driver over Bluetooth (FFF0), against the simulator."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bms_simulator.device import Fault
from bms_simulator.families.ecoworthy import EcoworthySimulator, demo
from bms_simulator.pack import PackModel
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.ecoworthy import EcoworthyDriver
from custom_components.lithium_bms.protocol.ecoworthy.frames import UNLOCK
from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    BmsError,
    BmsTimeoutError,
)
from custom_components.lithium_bms.protocol.jbd import JbdDriver
from custom_components.lithium_bms.protocol.matching import Advertisement, uuid16
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "E2:E0:5A:78:3C:31"
STREAM_PERIOD = 0.03  # seconds between streamed A1 / A2 pairs


def assert_matches(snapshot: BatterySnapshot, pack: PackModel) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.005)
    assert snapshot.current == pytest.approx(pack.current)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.state_of_health == round(pack.state_of_health)
    assert snapshot.design_capacity == pack.design_capacity
    assert [t.value for t in snapshot.temperatures] == pack.temperatures
    assert {t.kind for t in snapshot.temperatures} <= {TemperatureKind.CELL}
    # Nothing the frames do not carry.
    assert snapshot.remaining_capacity is None
    assert snapshot.full_capacity is None
    assert snapshot.cycles is None
    assert snapshot.charge_mosfet is None
    assert snapshot.discharge_mosfet is None
    assert snapshot.balancing is None
    assert snapshot.heater is None
    assert snapshot.alarms == frozenset()
    assert snapshot.supported_alarms == frozenset()


@pytest.fixture(autouse=True)
def fast_ecoworthy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(EcoworthyDriver, "request_timeout", 0.3)


@pytest.fixture(params=[True, False], ids=["v2", "v1"])
def sim(request: pytest.FixtureRequest) -> EcoworthySimulator:
    device = demo(ADDRESS)
    device.mac_in_front = request.param
    device.period = STREAM_PERIOD
    return device


@pytest.fixture
def make_client(sim_clients: SimClients, sim: EcoworthySimulator) -> MakeClient:
    return sim_clients.maker(EcoworthyDriver, sim, address=ADDRESS)


def test_the_demo_is_claimed_by_ecoworthy() -> None:
    sim = demo(ADDRESS)
    adv = Advertisement(
        address=ADDRESS,
        name=sim.advertising.name,
        service_uuids=tuple(sim.advertising.service_uuids),
        manufacturer_data=sim.advertising.manufacturer_data,
    )
    assert driver_for_advertisement(adv) is EcoworthyDriver
    # A 0B module needs FFF0; an 02 module is claimed by its name alone.
    assert not EcoworthyDriver.claims(Advertisement(ADDRESS, sim.advertising.name))
    assert EcoworthyDriver.claims(Advertisement(ADDRESS, "ECO-WORTHY 02_50DB"))


def test_jbd_boards_of_eco_worthy_packs_stay_jbd() -> None:
    """ECO-WORTHY packs with a JBD board advertise a JBD name on FF00."""
    for name, address in (
        ("DP04S007L4S100A", "A5:C2:37:00:00:00"),
        ("ECO-LFP48100-3U-8EC7", "AA:C2:37:00:00:00"),
    ):
        adv = Advertisement(address, name, (uuid16(0xFF00),))
        assert driver_for_advertisement(adv) is JbdDriver
        assert not EcoworthyDriver.claims(adv)


async def test_snapshot_equals_the_pack(
    sim: EcoworthySimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim.pack)
    # A pack of another size, on a new connection.
    await client.close()
    client = make_client()
    sim.pack.cell_voltages = [round(3.3 + 0.002 * i, 3) for i in range(16)]
    sim.pack.temperatures = [-5.5, 0.0, 31.2]
    sim.pack.current = 37.2
    sim.pack.design_capacity = 280.0
    sim.pack.soc = 73
    sim.pack.state_of_health = 97
    assert_matches(await client.read_snapshot(), sim.pack)


async def test_device_info_and_the_two_commands(
    sim: EcoworthySimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert (await client.read_device_info()).manufacturer == "ECO-WORTHY"
    await client.read_snapshot()
    assert sim.writes == list(UNLOCK)
    await client.read_snapshot()
    assert sim.writes == [*UNLOCK, *UNLOCK]


async def test_the_problem_code_is_shown_without_a_named_alarm(
    sim: EcoworthySimulator, make_client: MakeClient
) -> None:
    sim.problem_code = 0x8001
    snap = await make_client().read_snapshot()
    assert snap.protection_code == 0x8001
    assert snap.alarms == frozenset()


async def test_a_v2_module_read_without_its_address_times_out(
    sim: EcoworthySimulator, make_client: MakeClient
) -> None:
    client = make_client(address="")
    if sim.mac_in_front:
        with pytest.raises(BmsTimeoutError):
            await client.read_snapshot()
    else:
        assert_matches(await client.read_snapshot(), sim.pack)


@pytest.mark.parametrize(
    "fault", [Fault.NO_ANSWER, Fault.BAD_CHECKSUM, Fault.TRUNCATED]
)
async def test_a_damaged_frame_is_made_up_by_the_stream(
    sim: EcoworthySimulator, make_client: MakeClient, fault: Fault
) -> None:
    client = make_client()
    sim.inject(fault, 4)  # every frame of the first burst
    assert_matches(await client.read_snapshot(), sim.pack)
    assert client.stats.read_failures == 0


@pytest.mark.parametrize(
    ("fault", "count", "error"),
    [
        (Fault.DISCONNECT_MID_FRAME, 1, BmsConnectionError),
        # No command taken: no answer and no stream.
        (Fault.IGNORE_COMMAND, 2, BmsTimeoutError),
    ],
)
async def test_fault_then_recovery(
    sim: EcoworthySimulator,
    make_client: MakeClient,
    fault: Fault,
    count: int,
    error: type[BmsError],
) -> None:
    client = make_client()
    sim.inject(fault, count)
    with pytest.raises(error):
        await client.read_snapshot()
    assert client.is_connected is False
    assert client.stats.read_failures == 1
    assert_matches(await client.read_snapshot(), sim.pack)
    assert client.stats.connects == 2


async def test_a_silent_stream_times_out(
    sim: EcoworthySimulator, make_client: MakeClient
) -> None:
    """The commands are answered (A1) but no A2 comes."""
    sim.cell_frame = lambda: b""  # type: ignore[method-assign]
    with pytest.raises(BmsTimeoutError):
        await make_client().read_snapshot()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    mtu=st.integers(min_value=1, max_value=110),
    delay=st.sampled_from([0, 0.001]),
    v2=st.booleans(),
)
async def test_fuzzed_notification_splits(mtu: int, delay: float, v2: bool) -> None:
    """Frames cut into notifications of any size reassemble into the pack."""
    sim = demo(ADDRESS)
    sim.mac_in_front = v2
    sim.period = STREAM_PERIOD
    sim.mtu = mtu
    sim.notify_delay = delay
    options = DriverOptions(address=ADDRESS, reply_timeout=5.0)
    client = BmsClient(EcoworthyDriver(SimulatorTransport(sim), options))
    try:
        assert_matches(await client.read_snapshot(), sim.pack)
    finally:
        await client.close()
