"""The E&J driver over Bluetooth (Nordic UART, AG's service), against the simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bms_simulator.device import Fault
from bms_simulator.families.ej import (
    AG_SERVICE,
    NUS,
    EjSimulator,
    Variant,
    demo,
)
from bms_simulator.pack import PackModel
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.ej import EjDriver
from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    BmsError,
    BmsTimeoutError,
    ChecksumError,
)
from custom_components.lithium_bms.protocol.matching import Advertisement
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "02:00:07:12:34:56"
VECTORS = {
    v["name"]: bytes.fromhex(v["hex"])
    for v in json.loads(
        (Path(__file__).parent / "data" / "ej_vectors.json").read_text()
    )
}


def assert_matches(snapshot: BatterySnapshot, pack: PackModel) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.001)
    assert snapshot.current == pytest.approx(pack.current)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.state_of_health is None
    assert snapshot.remaining_capacity == pytest.approx(
        pack.remaining_capacity, abs=0.05
    )
    assert snapshot.full_capacity is None
    assert snapshot.design_capacity == pytest.approx(pack.design_capacity)
    assert snapshot.cycles == pack.cycles
    assert [t.value for t in snapshot.temperatures] == [round(pack.temperatures[0])]
    assert snapshot.temperatures[0].kind is TemperatureKind.CELL
    assert snapshot.charge_mosfet is pack.charge_fet
    assert snapshot.discharge_mosfet is pack.discharge_fet
    assert snapshot.balancing is bool(pack.balancing_cells)
    assert snapshot.alarms == frozenset()
    assert snapshot.supported_alarms == frozenset()


@pytest.fixture(autouse=True)
def fast_ej(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(EjDriver, "request_timeout", 0.2)


@pytest.fixture
def sim() -> EjSimulator:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: EjSimulator) -> MakeClient:
    return sim_clients.maker(EjDriver, sim, address=ADDRESS, name=sim.advertising.name)


def _advertisement(sim: EjSimulator) -> Advertisement:
    return Advertisement(
        address=sim.address,
        name=sim.advertising.name,
        service_uuids=tuple(sim.advertising.service_uuids),
        manufacturer_data=sim.advertising.manufacturer_data,
    )


def test_the_demos_are_claimed_by_ej(sim: EjSimulator) -> None:
    assert driver_for_advertisement(_advertisement(sim)) is EjDriver
    chins = EjSimulator(ADDRESS, "G-12V300Ah-0345", variant=Variant.SINGLE_FRAME)
    assert driver_for_advertisement(_advertisement(chins)) is EjDriver
    ag = EjSimulator("84:28:08:00:11:22", "AG100L21021805", ag=True)
    assert driver_for_advertisement(_advertisement(ag)) is EjDriver
    # AG's name without its company ID, a Redodo serial range: not ours.
    assert not EjDriver.claims(Advertisement(ADDRESS, "AG100L21021805"))
    assert not EjDriver.claims(
        Advertisement(ADDRESS, "LT-12100BG-A07700", (), {22618: b"\xc8G\x80"})
    )
    assert not EjDriver.claims(Advertisement(ADDRESS, "G-force"))


@pytest.mark.parametrize("name", ["EJ22040073", "EJ12345678", "EJ30010001"])
def test_ej_pro_names_with_company_21320_are_claimed(name: str) -> None:
    """aiobmsble 0.31.0 ejpro_bms.py: ``EJ*`` with 21320; a digit spelt out."""
    assert EjDriver.claims(Advertisement(ADDRESS, name, (), {21320: b"\x11\x12"}))
    assert not EjDriver.claims(Advertisement(ADDRESS, name))


async def test_two_frame_snapshot_equals_the_pack(
    sim: EjSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim.pack)
    assert sim.writes == [b":000250000E03~", b":001031000E05~"]
    assert (await client.read_device_info()).manufacturer == "E&J Technology"


async def test_another_pack_on_a_new_connection(
    sim: EjSimulator, make_client: MakeClient
) -> None:
    sim.pack.cell_voltages = [round(3.6 + 0.002 * i, 3) for i in range(16)]
    sim.pack.current = 37.25
    sim.pack.soc = 73
    sim.pack.balancing_cells = {3}
    sim.pack.charge_enabled = False
    sim.pack.temperatures = [-12.0]
    sim.heater = True
    snap = await make_client().read_snapshot()
    assert_matches(snap, sim.pack)
    assert snap.heater is True


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("G-12V300Ah-0345", {"variant": Variant.SINGLE_FRAME}),
        ("AG100L21021805", {"ag": True}),
        ("libattU12E9", {"wrong_checksum": True}),
    ],
    ids=["single_frame", "ag", "libattu"],
)
async def test_each_variant(name: str, options: dict[str, Any]) -> None:
    sim = EjSimulator(ADDRESS, name, **options)
    sim.pack.current = -4.5
    driver = EjDriver(SimulatorTransport(sim), DriverOptions(ADDRESS, name=name))
    client = BmsClient(driver)
    try:
        assert_matches(await client.read_snapshot(), sim.pack)
    finally:
        await client.close()
    single = options.get("variant") is Variant.SINGLE_FRAME
    assert len(sim.writes) == (1 if single else 2)
    service = sim.services[0].uuid
    assert service == (AG_SERVICE if options.get("ag") else NUS)


async def test_a_wrong_checksum_is_refused_unless_the_name_says_libattu() -> None:
    sim = EjSimulator(ADDRESS, "L-12V100AH-0001", wrong_checksum=True)
    client = BmsClient(EjDriver(SimulatorTransport(sim), DriverOptions(ADDRESS)))
    try:
        with pytest.raises(ChecksumError):
            await client.read_snapshot()
    finally:
        await client.close()


async def test_the_captured_pairs_through_the_driver(
    sim: EjSimulator, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = VECTORS["two-frame real-time, AG Automotive 4S 100 Ah"]
    cap = VECTORS["two-frame capacity, AG Automotive 4S 100 Ah"]
    monkeypatch.setattr(sim, "realtime_frame", lambda: rt)
    monkeypatch.setattr(sim, "capacity_frame", lambda: cap)
    client = make_client()
    snap = await client.read_snapshot()
    assert snap.voltage == 13.185
    assert snap.current == -3.34
    assert (snap.state_of_charge, snap.cycles) == (60.0, 63)
    assert (snap.remaining_capacity, snap.design_capacity) == (59.0, 100.0)
    assert snap.runtime == pytest.approx(59.0 / 3.34 * 3600)
    # E&J's 10S pair (on a new connection: the cell count guard holds the
    # count within one): 0.2 of 1.0 Ah at a SOC of 1 % shows no capacity.
    await client.close()
    client = make_client()
    monkeypatch.setattr(
        sim, "realtime_frame", lambda: VECTORS["two-frame real-time, 10S E&J"]
    )
    monkeypatch.setattr(
        sim, "capacity_frame", lambda: VECTORS["two-frame capacity, 10S E&J"]
    )
    snap = await client.read_snapshot()
    assert snap.voltage == 39.517
    assert (snap.remaining_capacity, snap.design_capacity) == (None, None)


async def test_a_new_design_capacity_counts_once_seen_twice(
    sim: EjSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert (await client.read_snapshot()).design_capacity == 100.0
    sim.pack.design_capacity = 200.0
    assert (await client.read_snapshot()).design_capacity is None
    assert (await client.read_snapshot()).design_capacity == 200.0
    # A single odd one (as a forged reply) is not shown, the next is.
    sim.pack.design_capacity = 150.0
    assert (await client.read_snapshot()).remaining_capacity is None
    sim.pack.design_capacity = 200.0
    assert (await client.read_snapshot()).design_capacity == 200.0


async def test_capacities_that_disagree_with_the_soc_are_not_shown(
    sim: EjSimulator, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client()
    remaining = {"value": 80.0}
    monkeypatch.setattr(
        type(sim.pack),
        "remaining_capacity",
        property(lambda _pack: remaining["value"]),
    )
    snap = await client.read_snapshot()
    assert (snap.state_of_charge, snap.remaining_capacity) == (50.0, None)
    assert snap.cell_voltages == tuple(sim.pack.cell_voltages)
    remaining["value"] = 51.5
    assert (await client.read_snapshot()).remaining_capacity == 51.5


async def test_protection_bits_show_in_the_code(
    sim: EjSimulator, make_client: MakeClient
) -> None:
    sim.protection = 0x0804
    snap = await make_client().read_snapshot()
    assert snap.protection_code == 0x0804
    # No public table names the bits: no named alarm, no problem.
    assert snap.alarms == frozenset()


async def test_protection_holding_a_mosfet(
    sim: EjSimulator, make_client: MakeClient
) -> None:
    sim.pack.alarms = {"cell_undervoltage"}
    snap = await make_client().read_snapshot()
    assert (snap.charge_mosfet, snap.discharge_mosfet) == (True, False)


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
    sim: EjSimulator,
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
    assert_matches(await client.read_snapshot(), sim.pack)
    assert client.stats.connects == (2 if reconnects else 1)


async def test_a_silent_capacity_request_fails_the_read(
    sim: EjSimulator, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real-time reply alone publishes nothing; the next read recovers."""
    client = make_client()
    answer = sim.handle_write
    ignored: list[bytes] = []

    def capacity_ignored_once(handle: int, data: bytes) -> None:
        if data == b":001031000E05~" and not ignored:
            ignored.append(data)
            return
        answer(handle, data)

    monkeypatch.setattr(sim, "handle_write", capacity_ignored_once)
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    assert_matches(await client.read_snapshot(), sim.pack)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    mtu=st.integers(min_value=1, max_value=150),
    delay=st.sampled_from([0, 0.001]),
    variant=st.sampled_from(list(Variant)),
)
async def test_fuzzed_notification_splits(
    mtu: int, delay: float, variant: Variant
) -> None:
    """Replies cut into notifications of any size reassemble into the pack."""
    sim = EjSimulator(ADDRESS, "L-12V100AH-0001", variant=variant)
    sim.mtu = mtu
    sim.notify_delay = delay
    options = DriverOptions(address=ADDRESS, reply_timeout=5.0)
    client = BmsClient(EjDriver(SimulatorTransport(sim), options))
    try:
        assert_matches(await client.read_snapshot(), sim.pack)
    finally:
        await client.close()
