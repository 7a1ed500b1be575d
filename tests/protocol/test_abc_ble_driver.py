"""The ABC-BMS (SOK) driver over Bluetooth (FFE0), against the simulator."""

from __future__ import annotations

import pytest

from bms_simulator.device import Fault
from bms_simulator.families.abc import AbcSimulator, demo
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.abc import AbcDriver
from custom_components.lithium_bms.protocol.errors import (
    BmsTimeoutError,
    ProtocolError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.matching import Advertisement, uuid16
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    SwitchKind,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "D6:6C:0A:12:34:56"


def assert_matches(snapshot: BatterySnapshot, pack: PackModel) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == round(pack.voltage, 3)
    assert snapshot.current == pytest.approx(pack.current)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.state_of_health is None
    assert snapshot.remaining_capacity == pytest.approx(
        pack.remaining_capacity, abs=0.001
    )
    assert snapshot.design_capacity == pack.design_capacity
    assert snapshot.full_capacity is None
    assert snapshot.cycles == pack.cycles
    assert [t.value for t in snapshot.temperatures] == [
        round(t) for t in pack.temperatures
    ]
    assert {t.kind for t in snapshot.temperatures} <= {TemperatureKind.CELL}
    assert snapshot.balancing is bool(pack.balancing_cells)
    assert snapshot.balancing_cells is None
    assert snapshot.charge_mosfet is pack.charge_fet
    assert snapshot.discharge_mosfet is pack.discharge_fet
    assert snapshot.alarms == frozenset()
    assert snapshot.protection_code is None


@pytest.fixture(autouse=True)
def fast_abc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(AbcDriver, "request_timeout", 0.2)


@pytest.fixture
def sim() -> AbcSimulator:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: AbcSimulator) -> MakeClient:
    return sim_clients.maker(AbcDriver, sim, address=ADDRESS)


@pytest.mark.parametrize(
    "name", ["SOK-24V1127", "SOK-AA02120", "ABC-1", "NB-48V1", "Hoover"]
)
def test_the_names_with_fff0_are_claimed(name: str) -> None:
    adv = Advertisement(ADDRESS, name, (uuid16(0xFFF0),))
    assert driver_for_advertisement(adv) is AbcDriver
    # The name alone, or FFF0 with another name, is not enough.
    assert not AbcDriver.claims(Advertisement(ADDRESS, name, (uuid16(0xFFE0),)))
    assert not AbcDriver.claims(Advertisement(ADDRESS, f"X{name}", (uuid16(0xFFF0),)))


async def test_snapshot_equals_the_pack(
    sim: AbcSimulator, make_client: MakeClient
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
    sim.pack.temperatures = [-5.0, 0.0, 12.0]
    sim.pack.charge_enabled = False
    assert_matches(await client.read_snapshot(), sim.pack)


@pytest.mark.parametrize("cells", [1, 3, 4, 5, 7, 8, 13, 24, 31, 32])
async def test_every_cell_count_is_read_whole(
    sim: AbcSimulator, make_client: MakeClient, cells: int
) -> None:
    sim.pack.cell_voltages = [round(3.2 + 0.003 * i, 3) for i in range(cells)]
    snapshot = await make_client().read_snapshot()
    assert snapshot.cell_voltages == tuple(sim.pack.cell_voltages)


async def test_the_heater(sim: AbcSimulator, make_client: MakeClient) -> None:
    client = make_client()
    assert (await client.read_snapshot()).heater is False
    sim.heater = True
    assert (await client.read_snapshot()).heater is True


async def test_device_info_and_the_requests(
    sim: AbcSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    info = await client.read_device_info()
    assert info.manufacturer == "Chunguang Song"
    assert info.model == "SOK-BMS"
    await client.read_snapshot()
    # aiobmsble abc_bms.py ``_cmd``: EE <cmd> 00 00 00 <crc8>.
    assert [w.hex() for w in sim.writes] == [
        "eec000000041",
        "eec1000000ce",
        "eec200000046",
    ]


async def test_a_lost_cell_part_times_out_and_the_next_read_is_whole(
    sim: AbcSimulator, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.pack.cell_voltages = [3.301, 3.312, 3.325, 3.298, 3.305, 3.31, 3.299]
    client = make_client()
    await client.read_snapshot()
    parts = sim.cell_replies
    monkeypatch.setattr(sim, "cell_replies", lambda: parts()[:1])
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    monkeypatch.setattr(sim, "cell_replies", parts)
    assert_matches(await client.read_snapshot(), sim.pack)


async def test_repeated_and_early_parts_are_ignored(
    sim: AbcSimulator, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A part that does not continue the cells (aiobmsble test_repeated_cell_parts)."""
    sim.pack.cell_voltages = [round(3.25 + 0.004 * i, 3) for i in range(12)]
    parts = sim.cell_replies
    monkeypatch.setattr(
        sim, "cell_replies", lambda: [parts()[1], parts()[0], parts()[0], *parts()[1:]]
    )
    assert_matches(await make_client().read_snapshot(), sim.pack)


async def test_cells_that_disagree_with_the_pack_voltage_are_refused(
    sim: AbcSimulator, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last part ends the cells short of the pack voltage."""
    client = make_client()
    sim.pack.cell_voltages = [3.3] * 7
    replies = sim.replies

    def higher_status(kind: int) -> list[bytes]:
        if kind != 0xF0:
            return replies(kind)
        sim.pack.cell_voltages.append(3.3)
        try:
            return replies(kind)
        finally:
            sim.pack.cell_voltages.pop()

    monkeypatch.setattr(sim, "replies", higher_status)
    with pytest.raises(ProtocolError):
        await client.read_snapshot()


async def test_a_silent_pack_times_out(
    sim: AbcSimulator, make_client: MakeClient
) -> None:
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(BmsTimeoutError):
        await make_client().read_snapshot()


async def test_every_switch_is_refused(make_client: MakeClient) -> None:
    client = make_client()
    for kind in SwitchKind:
        with pytest.raises(UnsupportedError):
            await client.driver.set_switch(kind, True)
