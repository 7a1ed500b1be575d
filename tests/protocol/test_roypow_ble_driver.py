"""The RoyPow driver over Bluetooth (FFE0), against the simulator."""

from __future__ import annotations

import pytest

from bms_simulator.families.roypow import RoyPowSimulator, demo
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.matching import Advertisement, uuid16
from custom_components.lithium_bms.protocol.plausibility import ImplausibleDataError
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.roypow import RoyPowDriver
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "12:6C:14:12:34:56"


def _probes(pack: PackModel) -> list[float]:
    """The simulated probes in slot order: cell, cell, MOSFET, ambient."""
    return [*pack.temperatures[:2], pack.mosfet_temperature, *pack.temperatures[2:3]]


def assert_matches(snapshot: BatterySnapshot, pack: PackModel) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.005)
    assert snapshot.current == pytest.approx(pack.current, abs=0.005)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.state_of_health is None
    assert snapshot.remaining_capacity == pytest.approx(
        pack.remaining_capacity, abs=0.0005
    )
    assert snapshot.full_capacity == pytest.approx(pack.full_capacity)
    assert snapshot.design_capacity == pytest.approx(pack.design_capacity)
    assert snapshot.cycles == pack.cycles
    assert [t.value for t in snapshot.temperatures] == [round(t) for t in _probes(pack)]
    assert snapshot.mosfet_temperature == round(pack.mosfet_temperature)
    assert snapshot.charge_mosfet is pack.charge_fet
    assert snapshot.discharge_mosfet is pack.discharge_fet
    assert snapshot.balancing is None
    assert snapshot.heater is None
    assert snapshot.alarms == frozenset()
    assert snapshot.supported_alarms == frozenset()


@pytest.fixture(autouse=True)
def fast_roypow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(RoyPowDriver, "request_timeout", 0.2)


@pytest.fixture
def sim() -> RoyPowSimulator:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: RoyPowSimulator) -> MakeClient:
    return sim_clients.maker(RoyPowDriver, sim, address=ADDRESS)


def test_the_demo_is_claimed_by_roypow(sim: RoyPowSimulator) -> None:
    adv = Advertisement(
        address=ADDRESS,
        name=sim.advertising.name,
        service_uuids=tuple(sim.advertising.service_uuids),
        manufacturer_data=sim.advertising.manufacturer_data,
    )
    assert driver_for_advertisement(adv) is RoyPowDriver
    ffe0 = (uuid16(0xFFE0),)
    # The leading space and FFE0 are both needed.
    assert not RoyPowDriver.claims(Advertisement(ADDRESS, "B12100A 220600016", ffe0))
    assert not RoyPowDriver.claims(Advertisement(ADDRESS, " B12100A 220600016"))
    for name in (" S12200A  LE00006", " B24100B x", " S24100A x", " UT1300 BT 22"):
        assert RoyPowDriver.claims(Advertisement(ADDRESS, name, ffe0)), name


async def test_snapshot_equals_the_pack(
    sim: RoyPowSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    snap = await client.read_snapshot()
    assert_matches(snap, sim.pack)
    kinds = [t.kind for t in snap.temperatures]
    assert kinds == [
        TemperatureKind.CELL,
        TemperatureKind.CELL,
        TemperatureKind.MOSFET,
        TemperatureKind.AMBIENT,
    ]
    # A pack of another size, discharging, on a new connection (the count
    # guard holds the cell count within one).
    await client.close()
    client = make_client()
    sim.pack.cell_voltages = [round(3.3 + 0.002 * i, 3) for i in range(16)]
    sim.pack.current = -37.25
    sim.pack.full_capacity = 280.0
    sim.pack.design_capacity = 280.0
    sim.pack.soc = 73
    sim.pack.cycles = 1234
    sim.pack.temperatures = [-12.0, 3.0, 41.0]
    sim.pack.charge_enabled = False
    snap = await client.read_snapshot()
    assert_matches(snap, sim.pack)
    assert snap.runtime == pytest.approx(280 * 0.73 / 37.25 * 3600, rel=1e-4)


async def test_device_info_and_the_three_requests(
    sim: RoyPowSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert (await client.read_device_info()).manufacturer == "RoyPow"
    await client.read_snapshot()
    # The requests of aiobmsble's test and vboginskey/bmv ut1300.py.
    assert [w.hex() for w in sim.writes] == [
        "ead10104ff02f9f5",
        "ead10104ff03f8f5",
        "ead10104ff04fff5",
    ]


async def test_the_problem_code_is_reported_without_a_named_alarm(
    sim: RoyPowSimulator, make_client: MakeClient
) -> None:
    sim.problem_code = 0x800001
    snap = await make_client().read_snapshot()
    assert snap.protection_code == 0x800001
    assert snap.alarms == frozenset()


async def test_three_probes_and_a_disabled_discharge(
    sim: RoyPowSimulator, make_client: MakeClient
) -> None:
    sim.pack.temperatures = [20.0, 21.0]
    sim.pack.discharge_enabled = False
    snap = await make_client().read_snapshot()
    assert_matches(snap, sim.pack)
    assert [t.kind for t in snap.temperatures][-1] is TemperatureKind.MOSFET


async def test_a_probe_count_change_settles_within_a_connection(
    sim: RoyPowSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    sim.pack.temperatures = [20.0]
    for _ in range(2):
        with pytest.raises(ImplausibleDataError):
            await client.read_snapshot()
    assert len((await client.read_snapshot()).temperatures) == 2


async def test_a_pack_voltage_apart_from_the_cells_is_refused(
    sim: RoyPowSimulator, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = _with_voltage(sim.pack_frame(), 30.0)
    monkeypatch.setattr(sim, "pack_frame", lambda: frame)
    with pytest.raises(ImplausibleDataError, match="sum of the"):
        await make_client().read_snapshot()


def _with_voltage(frame: bytes, volts: float) -> bytes:
    body = bytearray(frame[:-2])
    body[47:49] = round(volts * 100).to_bytes(2, "big")
    xor = 0
    for byte in body[3:]:
        xor ^= byte
    return bytes(body) + bytes((xor, 0xF5))
