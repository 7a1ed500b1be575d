"""The Redodo driver over Bluetooth (FFE0), against the simulator."""

from __future__ import annotations

import pytest

from bms_simulator.families.redodo import ALARM_BITS, RedodoSimulator, demo
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.matching import Advertisement
from custom_components.lithium_bms.protocol.plausibility import ImplausibleDataError
from custom_components.lithium_bms.protocol.redodo import RedodoDriver
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    Alarm,
    BatterySnapshot,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "C8:47:80:12:34:56"


def assert_matches(snapshot: BatterySnapshot, pack: PackModel) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.001)
    assert snapshot.current == pytest.approx(pack.current)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.state_of_health == round(pack.state_of_health)
    assert snapshot.remaining_capacity == pytest.approx(
        pack.remaining_capacity, abs=0.006
    )
    assert snapshot.full_capacity == pytest.approx(pack.full_capacity)
    assert snapshot.design_capacity is None
    assert snapshot.cycles == pack.cycles
    probes = [pack.temperatures[0], pack.mosfet_temperature, *pack.temperatures[1:]]
    assert [t.value for t in snapshot.temperatures] == [round(t) for t in probes]
    assert snapshot.mosfet_temperature == round(pack.mosfet_temperature)
    assert snapshot.charge_mosfet is pack.charge_fet
    assert snapshot.discharge_mosfet is pack.discharge_fet
    assert snapshot.balancing is bool(pack.balancing_cells)
    assert snapshot.heater is None
    assert snapshot.alarms == {Alarm(a) for a in pack.alarms}


@pytest.fixture(autouse=True)
def fast_redodo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(RedodoDriver, "request_timeout", 0.2)


@pytest.fixture
def sim() -> RedodoSimulator:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: RedodoSimulator) -> MakeClient:
    return sim_clients.maker(RedodoDriver, sim, address=ADDRESS)


def test_the_demo_is_claimed_by_redodo(sim: RedodoSimulator) -> None:
    adv = Advertisement(
        address=ADDRESS,
        name=sim.advertising.name,
        service_uuids=tuple(sim.advertising.service_uuids),
        manufacturer_data=sim.advertising.manufacturer_data,
    )
    assert driver_for_advertisement(adv) is RedodoDriver
    # Without the company ID (or with another name) it is not ours.
    assert not RedodoDriver.claims(
        Advertisement(ADDRESS, sim.advertising.name, adv.service_uuids)
    )
    assert not RedodoDriver.claims(
        Advertisement(
            ADDRESS, "LT-12100BG-A06359", adv.service_uuids, adv.manufacturer_data
        )
    )


async def test_snapshot_equals_the_pack(
    sim: RedodoSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    snap = await client.read_snapshot()
    assert_matches(snap, sim.pack)
    kinds = [t.kind for t in snap.temperatures]
    assert kinds == [TemperatureKind.CELL, TemperatureKind.MOSFET, TemperatureKind.CELL]
    # A pack of another size, on a new connection (the count guard holds
    # the cell count within one).
    await client.close()
    client = make_client()
    sim.pack.cell_voltages = [round(3.3 + 0.002 * i, 3) for i in range(16)]
    sim.pack.current = 37.25
    sim.pack.full_capacity = 280.0
    sim.pack.soc = 73
    sim.pack.balancing_cells = {3}
    sim.pack.charge_enabled = False
    assert_matches(await client.read_snapshot(), sim.pack)


async def test_device_info_and_the_one_request(
    sim: RedodoSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert (await client.read_device_info()).manufacturer == "Redodo"
    await client.read_snapshot()
    # The request of every public decoder (redodo_vectors.json sources).
    assert [w.hex() for w in sim.writes] == ["000004011355aa17"]


@pytest.mark.parametrize("alarm", sorted(ALARM_BITS))
async def test_each_alarm(
    sim: RedodoSimulator, make_client: MakeClient, alarm: str
) -> None:
    sim.pack.alarms = {alarm}
    snap = await make_client().read_snapshot()
    assert_matches(snap, sim.pack)
    assert snap.problem is True
    assert Alarm(alarm) in snap.supported_alarms


async def test_bms_error_is_a_hardware_fault(
    sim: RedodoSimulator, make_client: MakeClient
) -> None:
    sim.failure = 0x001
    snap = await make_client().read_snapshot()
    assert snap.alarms == {Alarm.HARDWARE_FAULT}
    assert snap.protection_code == 1 << 32


async def test_extra_probes_appear_and_stay(
    sim: RedodoSimulator, make_client: MakeClient
) -> None:
    sim.pack.temperatures = [20.0]
    client = make_client()
    assert len((await client.read_snapshot()).temperatures) == 2
    sim.pack.temperatures = [20.0, 0.0, 0.0, 4.0]
    # Within a connection the count guard takes a new probe count once it
    # repeats (protocol/plausibility.py CountGuard).
    for _ in range(2):
        with pytest.raises(ImplausibleDataError):
            await client.read_snapshot()
    assert len((await client.read_snapshot()).temperatures) == 5
    # A probe at 0 °C reads 0: once seen, it is kept.
    sim.pack.temperatures = [20.0, 0.0, 0.0, 0.0]
    values = [t.value for t in (await client.read_snapshot()).temperatures]
    assert values == [20, 22, 0, 0, 0]


async def test_health_above_the_rating_is_full_health(
    sim: RedodoSimulator, make_client: MakeClient
) -> None:
    sim.pack.state_of_health = 105
    assert (await make_client().read_snapshot()).state_of_health == 100
