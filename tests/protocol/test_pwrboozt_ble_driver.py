"""The PowerBoozt / Dörr driver over Bluetooth (FFF0), against the simulator.

The link contract (faults, lost links, read-only switches) runs for the demo
in ``tests/protocol/test_ble_link_contract.py``.
"""

from __future__ import annotations

import pytest

from bms_simulator.families.pwrboozt import ALARM_BITS, PwrbooztSimulator, demo
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.matching import Advertisement, uuid16
from custom_components.lithium_bms.protocol.pwrboozt import PwrbooztDriver
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import Alarm, BatterySnapshot

from .sim_clients import MakeClient, SimClients

ADDRESS = "00:25:07:12:34:56"


def assert_matches(snapshot: BatterySnapshot, pack: PackModel) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.001)
    assert snapshot.current == pytest.approx(pack.current)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.state_of_health is None
    assert snapshot.remaining_capacity is None
    assert snapshot.full_capacity == pytest.approx(pack.full_capacity)
    assert snapshot.design_capacity == pytest.approx(pack.design_capacity)
    assert snapshot.cycles == pack.cycles
    probes = [*pack.temperatures[:4]]
    probes += [probes[-1]] * (4 - len(probes))
    assert [t.value for t in snapshot.temperatures] == [round(t) for t in probes]
    assert snapshot.charge_mosfet is pack.charge_fet
    assert snapshot.discharge_mosfet is pack.discharge_fet
    assert snapshot.balancing_cells == pack.balancing_cells
    assert snapshot.balancing is bool(pack.balancing_cells)
    assert snapshot.heater is None
    assert snapshot.alarms == {Alarm(a) for a in pack.alarms}


@pytest.fixture(autouse=True)
def fast_pwrboozt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(PwrbooztDriver, "request_timeout", 0.2)


@pytest.fixture(params=[False, True], ids=["powerboozt", "doerr"])
def sim(request: pytest.FixtureRequest) -> PwrbooztSimulator:
    if request.param:
        return PwrbooztSimulator(ADDRESS, "BT-Battery", demo(ADDRESS).pack, doerr=True)
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: PwrbooztSimulator) -> MakeClient:
    return sim_clients.maker(PwrbooztDriver, sim, address=ADDRESS)


def test_the_demo_and_a_doerr_pack_are_claimed() -> None:
    sim = demo(ADDRESS)
    adv = Advertisement(
        address=ADDRESS,
        name=sim.advertising.name,
        service_uuids=tuple(sim.advertising.service_uuids),
        manufacturer_data=sim.advertising.manufacturer_data,
    )
    assert driver_for_advertisement(adv) is PwrbooztDriver
    # Dörr: the name and service data under FFE1 (BMS_BLE-HA #792).
    doerr = Advertisement(
        ADDRESS, "BT-Battery", service_data={uuid16(0xFFE1): bytes(6)}
    )
    assert driver_for_advertisement(doerr) is PwrbooztDriver
    # The name alone, or the company ID without FFF0, is not ours.
    assert not PwrbooztDriver.claims(Advertisement(ADDRESS, "BT-Battery"))
    assert not PwrbooztDriver.claims(
        Advertisement(ADDRESS, "BT-Battery", (), sim.advertising.manufacturer_data)
    )


async def test_snapshot_equals_the_pack(
    sim: PwrbooztSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim.pack)
    await client.close()
    client = make_client()
    sim.pack.cell_voltages = [round(3.3 + 0.002 * i, 3) for i in range(16)]
    sim.pack.current = -37.25
    sim.pack.full_capacity = 280.0
    sim.pack.design_capacity = 280.0
    sim.pack.soc = 73
    sim.pack.balancing_cells = {3, 15}
    sim.pack.charge_enabled = False
    assert_matches(await client.read_snapshot(), sim.pack)


async def test_an_idle_pack(sim: PwrbooztSimulator, make_client: MakeClient) -> None:
    sim.pack.current = 0.0
    assert_matches(await make_client().read_snapshot(), sim.pack)


async def test_device_info_and_the_one_request(
    sim: PwrbooztSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert (await client.read_device_info()).manufacturer == "PowerBoozt"
    await client.read_snapshot()
    # The request of every public decoder (pwrboozt_vectors.json sources).
    assert sim.writes == [b":015150000EFE~"]


@pytest.mark.parametrize("alarm", sorted(ALARM_BITS))
async def test_each_alarm(
    sim: PwrbooztSimulator, make_client: MakeClient, alarm: str
) -> None:
    sim.pack.alarms = {alarm}
    snap = await make_client().read_snapshot()
    assert_matches(snap, sim.pack)
    assert snap.problem is True
    assert Alarm(alarm) in snap.supported_alarms
