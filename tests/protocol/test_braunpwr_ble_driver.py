"""The Braun Power driver over Bluetooth (FF00), against the simulator."""

from __future__ import annotations

import pytest

from bms_simulator.families.braunpwr import BraunPowerSimulator, demo
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.braunpwr import BraunPowerDriver
from custom_components.lithium_bms.protocol.errors import ProtocolError
from custom_components.lithium_bms.protocol.jbd import JbdDriver
from custom_components.lithium_bms.protocol.matching import Advertisement
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "24:19:72:12:34:56"


def assert_matches(snapshot: BatterySnapshot, pack: PackModel) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == round(pack.voltage, 2)
    assert snapshot.current == pytest.approx(pack.current)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.state_of_health == round(pack.state_of_health)
    assert snapshot.remaining_capacity == pytest.approx(
        pack.remaining_capacity, abs=0.006
    )
    assert snapshot.design_capacity == pack.design_capacity
    assert snapshot.full_capacity is None
    assert snapshot.cycles == pack.cycles
    assert [t.value for t in snapshot.temperatures] == pack.temperatures
    assert {t.kind for t in snapshot.temperatures} == {TemperatureKind.CELL}
    assert snapshot.balancing is bool(pack.balancing_cells)
    assert snapshot.balancing_cells == pack.balancing_cells
    assert snapshot.charge_mosfet is None
    assert snapshot.discharge_mosfet is None
    assert snapshot.heater is None
    assert snapshot.alarms == frozenset()


@pytest.fixture(autouse=True)
def fast_braunpwr(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(BraunPowerDriver, "request_timeout", 0.2)


@pytest.fixture
def sim() -> BraunPowerSimulator:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: BraunPowerSimulator) -> MakeClient:
    return sim_clients.maker(BraunPowerDriver, sim, address=ADDRESS)


def test_the_demo_is_claimed_by_braun_power_not_jbd(sim: BraunPowerSimulator) -> None:
    adv = Advertisement(
        address=ADDRESS,
        name=sim.advertising.name,
        service_uuids=tuple(sim.advertising.service_uuids),
        manufacturer_data=sim.advertising.manufacturer_data,
    )
    assert driver_for_advertisement(adv) is BraunPowerDriver
    assert not JbdDriver.claims(adv)
    # Without the company ID, or with a JBD name, it is not ours.
    assert not BraunPowerDriver.claims(
        Advertisement(ADDRESS, sim.advertising.name, adv.service_uuids)
    )
    jbd = Advertisement(
        "A4:C1:37:00:00:01",
        "SBL-12330BLH1-242055",
        adv.service_uuids,
        adv.manufacturer_data,
    )
    assert not BraunPowerDriver.claims(jbd)
    assert driver_for_advertisement(jbd) is JbdDriver


async def test_snapshot_equals_the_pack(
    sim: BraunPowerSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim.pack)
    await client.close()
    client = make_client()
    sim.pack.cell_voltages = [round(3.3 + 0.002 * i, 3) for i in range(16)]
    sim.pack.current = 37.25
    sim.pack.soc = 73
    sim.pack.cycles = 412
    sim.pack.balancing_cells = {3, 16}
    sim.pack.temperatures = [-5.5, 0.0]
    sim.pack.state_of_health = 97
    assert_matches(await client.read_snapshot(), sim.pack)


async def test_device_info_and_the_requests(
    sim: BraunPowerSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    info = await client.read_device_info()
    assert info.manufacturer == "Braun Power"
    # The firmware text and program version of the captured vectors.
    assert info.hw_version == "KS_BLE_WIFI_Ver1.0.0_20240313"
    assert info.sw_version == "2.3.1"
    await client.read_snapshot()
    # patman15/aiobmsble braunpwr_bms.py: 7B <cmd> 00 7D.
    assert [w.hex() for w in sim.writes] == [
        "7b74007d",
        "7bf4007d",
        "7b01007d",
        "7b02007d",
        "7b03007d",
    ]


async def test_the_problem_code_is_kept_without_an_alarm(
    sim: BraunPowerSimulator, make_client: MakeClient
) -> None:
    sim.problem_code = 0x8000
    snap = await make_client().read_snapshot()
    assert snap.protection_code == 0x8000
    assert snap.alarms == frozenset()
    assert snap.supported_alarms == frozenset()


async def test_a_damaged_status_is_refused(
    sim: BraunPowerSimulator, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No checksum: a status that disagrees with the cells publishes nothing."""
    client = make_client()
    status = sim.status_data

    def wrong_voltage() -> bytes:
        data = bytearray(status())
        data[2:4] = (round(sim.pack.voltage * 100) + 150).to_bytes(2, "big")
        return bytes(data)

    monkeypatch.setattr(sim, "status_data", wrong_voltage)
    with pytest.raises(ProtocolError):
        await client.read_snapshot()
    monkeypatch.setattr(sim, "status_data", status)
    assert_matches(await client.read_snapshot(), sim.pack)
