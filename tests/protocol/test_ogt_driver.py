"""The Offgridtec driver over Bluetooth (FFF0), against the simulator.

The link contract (faults, lost links, read-only switches) runs for the demo
in ``tests/protocol/test_ble_link_contract.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from bms_simulator.families.ogt import OgtSimulator, demo, type_a_demo
from bms_simulator.pack import PackModel
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    BmsTimeoutError,
    FrameError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.matching import Advertisement, uuid16
from custom_components.lithium_bms.protocol.ogt import OgtDriver
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    SwitchKind,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "C8:47:8C:12:34:56"


def assert_matches(snapshot: BatterySnapshot, sim: OgtSimulator) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    pack: PackModel = sim.pack
    cells = tuple(pack.cell_voltages) if sim.kind == "B" else ()
    assert snapshot.cell_voltages == cells
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.0005)
    assert snapshot.current == pytest.approx(pack.current, abs=0.005)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.remaining_capacity == pytest.approx(
        pack.remaining_capacity, abs=0.005
    )
    assert snapshot.design_capacity == pytest.approx(pack.design_capacity)
    assert snapshot.full_capacity is None
    assert snapshot.state_of_health is None
    assert snapshot.cycles == pack.cycles
    assert [(t.kind, t.value) for t in snapshot.temperatures] == [
        (TemperatureKind.CELL, sim.carried_temperature(pack.temperatures[0]))
    ]
    assert snapshot.charge_mosfet is None
    assert snapshot.discharge_mosfet is None
    assert snapshot.balancing is None
    assert snapshot.alarms == frozenset()
    assert snapshot.supported_alarms == frozenset()


@pytest.fixture(autouse=True)
def fast_ogt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(OgtDriver, "request_timeout", 0.2)


@pytest.fixture(params=["B", "A"], ids=["type_b", "type_a"])
def sim(request: pytest.FixtureRequest) -> OgtSimulator:
    return demo(ADDRESS) if request.param == "B" else type_a_demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: OgtSimulator) -> MakeClient:
    return sim_clients.maker(OgtDriver, sim, address=ADDRESS, name=sim.advertising.name)


def test_both_types_are_claimed_and_nothing_else() -> None:
    for name in ("SmartBat-A42491", "SmartBat-B15051"):
        adv = Advertisement(ADDRESS, name, (uuid16(0xFFF0),))
        assert driver_for_advertisement(adv) is OgtDriver
        assert not OgtDriver.claims(Advertisement(ADDRESS, name))
    for name in ("SmartBat-C12294", "SmartBatA1", "smartbat-A1"):
        assert not OgtDriver.claims(Advertisement(ADDRESS, name, (uuid16(0xFFF0),)))


async def test_snapshot_equals_the_pack(
    sim: OgtSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim)
    await client.close()
    # Another connection: the cell count may change between two.
    client = make_client()
    sim.pack.cell_voltages = [round(3.3 + 0.002 * i, 3) for i in range(16)]
    sim.pack.current = -37.25
    sim.pack.soc = 73
    sim.pack.temperatures = [-7.4]
    sim.pack.design_capacity = 280.0
    sim.pack.full_capacity = 280.0
    sim.pack.cycles = 1234
    assert_matches(await client.read_snapshot(), sim)


async def test_an_idle_pack(sim: OgtSimulator, make_client: MakeClient) -> None:
    sim.pack.current = 0.0
    assert_matches(await make_client().read_snapshot(), sim)


async def test_the_requests_are_the_register_map_in_turn(
    sim: OgtSimulator, make_client: MakeClient
) -> None:
    await make_client().read_snapshot()
    plain = [sim.scramble(w) for w in sim.writes]
    if sim.kind == "A":
        assert plain == [
            b"+RAA0201",
            b"+RAA0403",
            b"+RAA0802",
            b"+RAA0C02",
            b"+RAA1003",
            b"+RAA2C02",
            b"+RAA3C03",
        ]
    else:
        # The fields, then cells from register 63 until the pack says Err.
        assert plain == [
            b"+R160802",
            b"+R160902",
            b"+R160A03",
            b"+R160D01",
            b"+R160F03",
            b"+R161702",
            b"+R161803",
            b"+R163F02",
            b"+R163E02",
            b"+R163D02",
            b"+R163C02",
            b"+R163B02",
        ]


async def test_sixteen_cells_stop_without_an_err(make_client: MakeClient) -> None:
    sim = demo(ADDRESS)
    sim.pack.cell_voltages = [3.3] * 16
    driver = OgtDriver(SimulatorTransport(sim), DriverOptions(name="SmartBat-B15051"))
    client = BmsClient(driver)
    try:
        assert len((await client.read_snapshot()).cell_voltages) == 16
    finally:
        await client.close()
    assert sim.scramble(sim.writes[-1]) == b"+R163002"


async def test_device_info_from_the_name(
    sim: OgtSimulator, make_client: MakeClient
) -> None:
    info = await make_client().read_device_info()
    assert info.manufacturer == "Offgridtec"
    assert info.model == f"LiFePo4 Smart Pro type {sim.kind}"
    assert info.serial_number == sim.advertising.name[10:]
    assert sim.writes == []


async def test_the_name_is_remembered(sim: OgtSimulator) -> None:
    """Read while the pack is not advertising: the name saved before."""
    name = sim.advertising.name
    first = OgtDriver(SimulatorTransport(sim), DriverOptions(name=name))
    assert first.memory == {"name": name}
    later = OgtDriver(SimulatorTransport(sim), DriverOptions(memory=first.memory))
    client = BmsClient(later)
    try:
        assert_matches(await client.read_snapshot(), sim)
    finally:
        await client.close()
    assert later.memory == first.memory
    # A name advertised now wins over the one remembered.
    other = OgtDriver(
        SimulatorTransport(sim),
        DriverOptions(name="SmartBat-A42491", memory={"name": "SmartBat-B1"}),
    )
    assert other.memory == {"name": "SmartBat-A42491"}


@pytest.mark.parametrize(
    "options",
    [{}, {"name": "BT-Battery"}, {"memory": {"name": 5}}, {"name": "SmartBat-C1"}],
)
async def test_without_a_smartbat_name_nothing_is_sent(
    sim: OgtSimulator, options: dict[str, Any]
) -> None:
    driver = OgtDriver(SimulatorTransport(sim), DriverOptions(**options))
    assert driver.memory == {}
    client = BmsClient(driver)
    try:
        with pytest.raises(UnsupportedError):
            await client.read_snapshot()
    finally:
        await client.close()
    assert sim.writes == []


async def test_a_pack_of_the_other_type_or_key_answers_nothing(
    sim: OgtSimulator, make_client: MakeClient
) -> None:
    other = "SmartBat-B15051" if sim.kind == "A" else "SmartBat-A42491"
    with pytest.raises(BmsTimeoutError):
        await make_client(name=other).read_snapshot()


async def test_a_refused_field_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = type_a_demo(ADDRESS)
    client = BmsClient(
        OgtDriver(SimulatorTransport(sim), DriverOptions(name="SmartBat-A42491"))
    )
    try:
        monkeypatch.setattr(sim, "reply", lambda *_: b"+RD,Erro\x00")
        with pytest.raises(FrameError, match="register 2"):
            await client.read_snapshot()
    finally:
        await client.close()


async def test_type_b_without_a_cell_is_refused() -> None:
    sim = demo(ADDRESS)
    sim.pack.cell_voltages = []
    sim.pack.temperatures = [20.0]
    client = BmsClient(
        OgtDriver(SimulatorTransport(sim), DriverOptions(name="SmartBat-B15051"))
    )
    try:
        with pytest.raises(FrameError, match="no cell"):
            await client.read_snapshot()
    finally:
        await client.close()


@pytest.mark.parametrize("kind", list(SwitchKind))
async def test_read_only(make_client: MakeClient, kind: SwitchKind) -> None:
    assert not OgtDriver.switches
    with pytest.raises(UnsupportedError):
        await make_client().set_switch(kind, False)
