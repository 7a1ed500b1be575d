"""The Gobel Power driver against the simulator: reads, faults, discovery."""

from __future__ import annotations

import pytest

from bms_simulator.device import Fault
from bms_simulator.families.gobel import GobelSimulator, demo
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.gobel import GobelDriver
from custom_components.lithium_bms.protocol.matching import Advertisement
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "04:D8:10:00:11:22"


def assert_matches(snapshot: BatterySnapshot, pack: PackModel) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.006)
    assert snapshot.current == pytest.approx(pack.current)
    assert snapshot.state_of_charge == pytest.approx(pack.soc)
    assert snapshot.state_of_health == pytest.approx(pack.state_of_health)
    assert snapshot.remaining_capacity == pytest.approx(
        pack.remaining_capacity, abs=0.006
    )
    assert snapshot.full_capacity == pytest.approx(pack.full_capacity)
    assert snapshot.design_capacity == pytest.approx(pack.design_capacity)
    assert snapshot.cycles == pack.cycles
    assert [t.value for t in snapshot.probe_temperatures] == pytest.approx(
        pack.temperatures
    )
    assert snapshot.mosfet_temperature == pytest.approx(pack.mosfet_temperature)
    assert snapshot.charge_mosfet is pack.charge_fet
    assert snapshot.discharge_mosfet is pack.discharge_fet
    assert snapshot.alarms == frozenset()


@pytest.fixture(autouse=True)
def fast_gobel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(GobelDriver, "request_timeout", 0.2)


@pytest.fixture
def sim() -> GobelSimulator:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: GobelSimulator) -> MakeClient:
    return sim_clients.maker(GobelDriver, sim, address=ADDRESS)


@pytest.mark.parametrize(
    ("name", "manufacturer_data", "claimed"),
    [
        ("BMS-4056911A1100032P    ", {}, True),
        ("BMS-1234567890ABCDEF", {}, True),
        ("B7522603211101     ", {0xFFFF: b"\x4e"}, True),
        ("B7522603211101", {}, False),  # the name alone is no claim
        ("B7522603211101", {0xFFFF: b"\x10"}, False),
        ("BMS-SMART_708BFC", {}, False),  # a classic BT device (aiobmsble)
        ("BMS-1234", {}, False),  # too short for the 16-character serial
        ("MEY-12320-A00898", {0xFFFF: b"\x4e"}, False),  # Buknuwo
    ],
)
def test_discovery(
    name: str, manufacturer_data: dict[int, bytes], claimed: bool
) -> None:
    adv = Advertisement(ADDRESS, name, (), manufacturer_data)
    assert GobelDriver.claims(adv) is claimed
    if claimed:
        assert driver_for_advertisement(adv) is GobelDriver


async def test_snapshot_equals_the_pack(
    sim: GobelSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim.pack)
    sim.pack.current = 31.5
    sim.pack.temperatures = [-7.5]
    sim.pack.mosfet_temperature = -1.0
    sim.pack.charge_enabled = False
    assert_matches(await client.read_snapshot(), sim.pack)
    sim.pack.current = -150.25
    sim.pack.discharge_enabled = False
    assert_matches(await client.read_snapshot(), sim.pack)


async def test_a_sixteen_cell_pack_with_three_probes(
    sim: GobelSimulator, make_client: MakeClient
) -> None:
    sim.pack.cell_voltages = [round(3.2 + i / 1000, 3) for i in range(16)]
    sim.pack.temperatures = [-7.5, 2.0, 3.5]
    snap = await make_client().read_snapshot()
    assert_matches(snap, sim.pack)
    assert snap.reported_cell_count == 16


async def test_status_words_are_the_protection_code(
    sim: GobelSimulator, make_client: MakeClient
) -> None:
    sim.status_words = (0x0001, 0x0080, 0x8000)
    snap = await make_client().read_snapshot()
    assert snap.protection_code == 0x000100808000
    assert snap.alarms == frozenset()
    assert snap.supported_alarms == frozenset()


async def test_a_missing_mosfet_probe_is_left_out(
    sim: GobelSimulator, make_client: MakeClient
) -> None:
    original = sim.status_registers

    def without_mosfet_probe() -> list[int]:
        registers = original()
        registers[57] = 0xFFFF
        return registers

    sim.status_registers = without_mosfet_probe  # type: ignore[method-assign]
    snap = await make_client().read_snapshot()
    assert snap.mosfet_temperature is None
    assert [t.kind for t in snap.temperatures] == [TemperatureKind.CELL]


async def test_device_info_and_redacted_serial(make_client: MakeClient) -> None:
    client = make_client()
    info = await client.read_device_info()
    assert info.manufacturer == "Gobel Power"
    assert info.model == "GP-LA12-10020260101"
    assert info.sw_version == "P4S200A-40569-1.02"
    assert info.serial_number == "SIM0000000000001"
    received = [f for d, f in client.frame_log if d == "rx"]
    assert received == ["redacted (75 bytes)"]


async def test_device_info_when_the_pack_refuses_the_block(
    sim: GobelSimulator, make_client: MakeClient
) -> None:
    sim.inject(Fault.IGNORE_COMMAND)
    info = await make_client().read_device_info()
    assert info.manufacturer == "Gobel Power"
    assert info.serial_number is None


async def test_one_request_per_snapshot(
    sim: GobelSimulator, make_client: MakeClient
) -> None:
    await make_client().read_snapshot()
    assert [w.hex() for w in sim.writes] == ["01030000003b0419"]
