"""The CBT Power driver over Bluetooth (FFE0 / FFE5), against the simulators."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bms_simulator.device import Fault
from bms_simulator.families.cbtpwr import CbtPowerClassic, CbtPowerVb, demo, vb_demo
from bms_simulator.pack import PackModel
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.cbtpwr import CbtPowerDriver
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    BmsError,
    BmsTimeoutError,
    ChecksumError,
    FrameError,
)
from custom_components.lithium_bms.protocol.matching import Advertisement
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "38:AB:41:12:34:56"
type CbtSim = CbtPowerClassic | CbtPowerVb
DEMOS: dict[str, Callable[[str], CbtSim]] = {"classic": demo, "vb": vb_demo}


def assert_matches(snapshot: BatterySnapshot, device: CbtSim) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    pack: PackModel = device.pack
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.current == pytest.approx(pack.current)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.design_capacity == pack.design_capacity
    assert snapshot.cycles == pack.cycles
    assert snapshot.protection_code == device.problem_word
    assert snapshot.alarms == frozenset()
    assert snapshot.supported_alarms == frozenset()
    for absent in (
        snapshot.remaining_capacity,
        snapshot.full_capacity,
        snapshot.state_of_health,
        snapshot.charge_mosfet,
        snapshot.discharge_mosfet,
        snapshot.balancing,
        snapshot.heater,
        snapshot.mosfet_temperature,
    ):
        assert absent is None
    assert all(t.kind == TemperatureKind.CELL for t in snapshot.temperatures)
    if isinstance(device, CbtPowerVb):
        assert snapshot.voltage == round(pack.voltage, 1)
        assert [t.value for t in snapshot.temperatures] == pack.temperatures
        assert snapshot.reported_cell_count == len(pack.cell_voltages)
    else:
        assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.001)
        assert [t.value for t in snapshot.temperatures] == [round(pack.temperatures[0])]


@pytest.fixture(autouse=True)
def fast_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts (a VB request goes out in 20-byte writes: not too short)."""
    monkeypatch.setattr(CbtPowerDriver, "request_timeout", 0.3)


@pytest.fixture(params=sorted(DEMOS))
def variant(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def sim(variant: str) -> CbtSim:
    return DEMOS[variant](ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: CbtSim) -> MakeClient:
    return sim_clients.maker(
        CbtPowerDriver, sim, address=ADDRESS, name=sim.advertising.name
    )


def _advertisement(device: CbtSim) -> Advertisement:
    return Advertisement(
        address=ADDRESS,
        name=device.advertising.name,
        service_uuids=tuple(device.advertising.service_uuids),
        manufacturer_data=device.advertising.manufacturer_data,
    )


def test_the_demos_are_claimed_by_cbtpwr(sim: CbtSim) -> None:
    assert driver_for_advertisement(_advertisement(sim)) is CbtPowerDriver
    # The name alone, without service or company data, is not enough.
    assert not CbtPowerDriver.claims(Advertisement(ADDRESS, sim.advertising.name))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("170R000121", "classic"),
        ("150R000042", "classic"),
        ("VB024000390", "vb"),
        ("VB035000297", "vb"),
        (None, None),
    ],
)
def test_the_variant_comes_from_the_name(
    name: str | None, expected: str | None
) -> None:
    driver = CbtPowerDriver(SimulatorTransport(demo(ADDRESS)), DriverOptions(name=name))
    assert driver.variant == expected


def test_a_stored_variant_wins_over_the_name() -> None:
    options = DriverOptions(name="170R000121", variant="vb")
    driver = CbtPowerDriver(SimulatorTransport(demo(ADDRESS)), options)
    assert driver.variant == "vb"
    unknown = DriverOptions(name="VB024000390", variant="pro")
    assert CbtPowerDriver(SimulatorTransport(demo(ADDRESS)), unknown).variant == "vb"


async def test_snapshot_equals_the_pack(sim: CbtSim, make_client: MakeClient) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim)
    # A pack of another size, charging, on a new connection.
    await client.close()
    client = make_client()
    sim.pack.cell_voltages = [round(3.3 + 0.002 * i, 3) for i in range(16)]
    sim.pack.current = 37.5
    sim.pack.soc = 73
    sim.pack.cycles = 812
    sim.pack.temperatures = [-7.0, 3.0] if isinstance(sim, CbtPowerVb) else [-7.0]
    sim.problem_word = 1
    snap = await client.read_snapshot()
    assert_matches(snap, sim)
    # No public bit table: the word is kept, no alarm is named, a problem is.
    assert snap.alarms == frozenset()
    assert snap.problem is True


async def test_classic_requests_and_five_cell_groups(make_client: MakeClient) -> None:
    device = demo(ADDRESS)
    device.pack.cell_voltages = [3.3] * 10
    client = BmsClient(
        CbtPowerDriver(SimulatorTransport(device), DriverOptions(name="170R000121"))
    )
    try:
        assert len((await client.read_snapshot()).cell_voltages) == 10
    finally:
        await client.close()
    # Voltage first, the cell groups up to the first short one, then the rest;
    # the temperature and SOC replies twice (their sum is all that guards them).
    commands = [w[2] for w in device.writes]
    assert commands == [0x0B, 5, 6, 7, 9, 9, 0x0A, 0x0A, 0x15, 0x21]
    assert all(
        w == bytes((0xAA, 0x55, w[2], 0, w[2], 0x0A, 0x0D)) for w in device.writes
    )


async def test_twenty_cells_are_the_most(make_client: MakeClient) -> None:
    device = demo(ADDRESS)
    device.pack.cell_voltages = [3.3] * 20
    client = BmsClient(
        CbtPowerDriver(SimulatorTransport(device), DriverOptions(name="170R000121"))
    )
    try:
        assert len((await client.read_snapshot()).cell_voltages) == 20
    finally:
        await client.close()
    assert [w[2] for w in device.writes][:5] == [0x0B, 5, 6, 7, 8]


async def test_vb_requests_go_in_twenty_byte_writes() -> None:
    device = vb_demo(ADDRESS)
    client = BmsClient(
        CbtPowerDriver(SimulatorTransport(device), DriverOptions(name="VB024000390"))
    )
    try:
        await client.read_snapshot()
    finally:
        await client.close()
    assert device.writes == [
        b"~11014642E00201FD35\r",
        b"~11014681A006010001F",
        b"C71\r",
    ]


def _drifting_temperatures(
    monkeypatch: pytest.MonkeyPatch, device: CbtPowerClassic, values: list[int]
) -> None:
    """The 0x09 replies read ``values`` in turn (then the last one)."""
    replies = iter(values)
    original = device.reply

    def drifting(command: int) -> bytes | None:
        if command == 0x09:
            device.pack.temperatures = [float(next(replies, values[-1]))]
        return original(command)

    monkeypatch.setattr(device, "reply", drifting)


async def test_classic_replies_that_keep_disagreeing_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    device = demo(ADDRESS)
    _drifting_temperatures(monkeypatch, device, [20, 21, 20])
    client = BmsClient(
        CbtPowerDriver(SimulatorTransport(device), DriverOptions(name="170R000121"))
    )
    try:
        with pytest.raises(FrameError, match="disagree"):
            await client.read_snapshot()
    finally:
        await client.close()


async def test_a_value_that_changes_once_costs_one_more_ask(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    device = demo(ADDRESS)
    _drifting_temperatures(monkeypatch, device, [20, 21, 21])
    client = BmsClient(
        CbtPowerDriver(SimulatorTransport(device), DriverOptions(name="170R000121"))
    )
    try:
        snap = await client.read_snapshot()
    finally:
        await client.close()
    assert [t.value for t in snap.temperatures] == [21]
    assert [w[2] for w in device.writes].count(0x09) == 3


async def test_device_info(sim: CbtSim, make_client: MakeClient) -> None:
    info = await make_client().read_device_info()
    if isinstance(sim, CbtPowerClassic):
        assert (info.manufacturer, info.model) == ("CBT Power", None)
    else:
        assert (info.manufacturer, info.model) == ("Creabest", "VB series")


@pytest.mark.parametrize(
    ("fault", "error", "reconnects"),
    [
        (Fault.NO_ANSWER, BmsTimeoutError, True),
        (Fault.BAD_CHECKSUM, ChecksumError, False),
        (Fault.TRUNCATED, BmsTimeoutError, True),
        (Fault.DISCONNECT_MID_FRAME, BmsConnectionError, True),
        (Fault.IGNORE_COMMAND, BmsTimeoutError, True),
    ],
)
async def test_fault_then_recovery(
    sim: CbtSim,
    make_client: MakeClient,
    fault: Fault,
    error: type[BmsError],
    reconnects: bool,
) -> None:
    client = make_client()
    sim.inject(fault)
    with pytest.raises(error):
        await client.read_snapshot()
    assert client.is_connected is not reconnects
    assert client.stats.read_failures == 1
    assert_matches(await client.read_snapshot(), sim)
    assert client.stats.connects == (2 if reconnects else 1)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    variant=st.sampled_from(sorted(DEMOS)),
    mtu=st.integers(min_value=1, max_value=100),
    delay=st.sampled_from([0, 0.001]),
)
async def test_fuzzed_notification_splits(variant: str, mtu: int, delay: float) -> None:
    """Replies cut into notifications of any size reassemble into the pack."""
    sim = DEMOS[variant](ADDRESS)
    sim.mtu = mtu
    sim.notify_delay = delay
    options = DriverOptions(
        address=ADDRESS, name=sim.advertising.name, reply_timeout=5.0
    )
    client = BmsClient(CbtPowerDriver(SimulatorTransport(sim), options))
    try:
        assert_matches(await client.read_snapshot(), sim)
    finally:
        await client.close()
