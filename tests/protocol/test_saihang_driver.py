"""The Saihang driver over Bluetooth (FFFA), against the simulator.

The link contract (faults, lost links, read-only switches) runs for the demo
in ``tests/protocol/test_ble_link_contract.py``.
"""

from __future__ import annotations

import pytest

from bms_simulator.device import Fault
from bms_simulator.families.saihang import SaihangSimulator, demo
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.errors import (
    BmsTimeoutError,
    ChecksumError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.matching import Advertisement, uuid16
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.saihang import SaihangDriver
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    SwitchKind,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "A2:51:22:00:00:01"


def assert_matches(snapshot: BatterySnapshot, sim: SaihangSimulator) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    pack: PackModel = sim.pack
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.005)
    assert snapshot.current == pytest.approx(pack.current)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.state_of_health == pack.state_of_health
    assert snapshot.remaining_capacity == pytest.approx(
        pack.remaining_capacity, abs=0.005
    )
    assert snapshot.full_capacity == pytest.approx(pack.full_capacity)
    assert snapshot.design_capacity == pytest.approx(pack.design_capacity)
    assert snapshot.cycles == pack.cycles
    assert [(t.kind, t.value) for t in snapshot.temperatures] == [
        *((TemperatureKind.CELL, t) for t in pack.temperatures),
        (TemperatureKind.MOSFET, pack.mosfet_temperature),
        (TemperatureKind.AMBIENT, sim.ambient_temperature),
    ]
    assert snapshot.charge_mosfet is pack.charge_fet
    assert snapshot.discharge_mosfet is pack.discharge_fet
    assert snapshot.balancing is bool(pack.balancing_cells)
    assert snapshot.balancing_cells is None
    assert snapshot.protection_code == sim.problem_code
    assert snapshot.alarms == frozenset()
    assert snapshot.heater is None


@pytest.fixture(autouse=True)
def fast_saihang(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(SaihangDriver, "request_timeout", 0.2)


@pytest.fixture
def sim() -> SaihangSimulator:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: SaihangSimulator) -> MakeClient:
    return sim_clients.maker(SaihangDriver, sim, address=ADDRESS)


def test_the_demo_is_claimed_and_the_name_alone_is_not() -> None:
    sim = demo(ADDRESS)
    adv = Advertisement(
        address=ADDRESS,
        name=sim.advertising.name,
        service_uuids=tuple(sim.advertising.service_uuids),
        manufacturer_data=sim.advertising.manufacturer_data,
    )
    assert driver_for_advertisement(adv) is SaihangDriver
    assert not SaihangDriver.claims(Advertisement(ADDRESS, "SH24100-H-00387"))
    # BMS_BLE-HA #483: the address as its name, no service: not claimed.
    nameless = Advertisement(ADDRESS, ADDRESS, (uuid16(0xFFFA),))
    assert not SaihangDriver.claims(nameless)


async def test_snapshot_equals_the_pack(
    sim: SaihangSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim)
    await client.close()
    # Another pack: the cell count holds within a connection.
    client = make_client()
    sim.pack.cell_voltages = [round(3.3 + 0.002 * i, 3) for i in range(16)]
    sim.pack.current = -37.25
    sim.pack.temperatures = [-8.5, 0.0, 4.1, 12.0]
    sim.pack.full_capacity = 280.0
    sim.pack.design_capacity = 300.0
    sim.pack.soc = 73
    sim.pack.state_of_health = 93
    sim.pack.balancing_cells = {3}
    sim.pack.charge_enabled = False
    sim.ambient_temperature = -3.2
    assert_matches(await client.read_snapshot(), sim)


async def test_charging_and_a_problem(
    sim: SaihangSimulator, make_client: MakeClient
) -> None:
    sim.pack.current = 20.5
    sim.problem_code = 0x0004
    snap = await make_client().read_snapshot()
    assert_matches(snap, sim)
    assert snap.current == 20.5
    assert snap.problem is True


async def test_the_one_request(sim: SaihangSimulator, make_client: MakeClient) -> None:
    client = make_client()
    assert (await client.read_device_info()).manufacturer == "Saihang Technology"
    await client.read_snapshot()
    # aiobmsble 0.31.0 (PyPI sdist) tests/bms/test_saihang_bms.py answers it.
    assert sim.writes == [bytes.fromhex("a5a5000300000048442d")]


async def test_a_lost_reply_times_out_and_the_next_read_recovers(
    sim: SaihangSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    sim.inject(Fault.NO_ANSWER)
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    assert_matches(await client.read_snapshot(), sim)


async def test_a_corrupt_reply_is_not_read(
    sim: SaihangSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    sim.inject(Fault.BAD_CHECKSUM)
    with pytest.raises(ChecksumError):
        await client.read_snapshot()
    assert_matches(await client.read_snapshot(), sim)


async def test_read_only(make_client: MakeClient) -> None:
    client = make_client()
    with pytest.raises(UnsupportedError):
        await client.driver.set_switch(SwitchKind.CHARGE, False)
    assert SaihangDriver.switches == frozenset()


@pytest.mark.parametrize("mtu", [1, 20, 64, 244])
async def test_any_notification_size(
    sim: SaihangSimulator, make_client: MakeClient, mtu: int
) -> None:
    sim.mtu = mtu
    assert_matches(await make_client().read_snapshot(), sim)
