"""The Felicity driver against the simulator: reads, faults, discovery."""

from __future__ import annotations

import pytest

from bms_simulator.device import Fault
from bms_simulator.families.felicity import FelicityBattery, demo
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.felicity import FelicityDriver
from custom_components.lithium_bms.protocol.matching import Advertisement
from custom_components.lithium_bms.protocol.plausibility import ImplausibleDataError
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "A8:17:10:00:11:22"


def assert_matches(snapshot: BatterySnapshot, pack: PackModel) -> None:
    """The snapshot is the pack model; what the protocol lacks stays None."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.0005)
    assert snapshot.current == pytest.approx(pack.current)
    assert snapshot.state_of_charge == pytest.approx(pack.soc)
    assert snapshot.remaining_capacity == pytest.approx(
        pack.remaining_capacity, abs=0.0005
    )
    assert snapshot.full_capacity == pytest.approx(pack.full_capacity)
    assert [t.value for t in snapshot.temperatures] == pytest.approx(pack.temperatures)
    assert {t.kind for t in snapshot.temperatures} <= {TemperatureKind.CELL}
    assert snapshot.mosfet_temperature is None
    assert (snapshot.state_of_health, snapshot.cycles) == (None, None)
    assert (snapshot.design_capacity, snapshot.balancing) == (None, None)
    assert (snapshot.charge_mosfet, snapshot.discharge_mosfet) == (None, None)
    assert snapshot.alarms == snapshot.supported_alarms == frozenset()


@pytest.fixture(autouse=True)
def fast_felicity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(FelicityDriver, "request_timeout", 0.2)


@pytest.fixture
def sim() -> FelicityBattery:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: FelicityBattery) -> MakeClient:
    return sim_clients.maker(FelicityDriver, sim, address=ADDRESS)


@pytest.mark.parametrize(
    ("name", "claimed"),
    [
        ("F100011002424470238", True),  # BMS_BLE-HA #161
        ("F074204831425240169", True),  # BMS_BLE-HA #466
        ("F075704831426020011", True),  # BMS_BLE-HA #801, before the update
        ("SolarB_77F7_26030796", False),  # after it: no public reply shows
        ("F20-something", False),
        ("FX100011002424470238", False),
    ],
)
def test_discovery(name: str, claimed: bool) -> None:
    adv = Advertisement(ADDRESS, name, ())
    assert FelicityDriver.claims(adv) is claimed
    if claimed:
        assert driver_for_advertisement(adv) is FelicityDriver


async def test_snapshot_equals_the_pack(
    sim: FelicityBattery, make_client: MakeClient
) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim.pack)
    sim.pack.current = 64.7
    sim.pack.soc = 78
    sim.pack.temperatures = [-7.5, 34.0, 0.0, 12.3]
    assert_matches(await client.read_snapshot(), sim.pack)
    sim.pack.current = -150.3
    sim.pack.soc = 0
    assert_matches(await client.read_snapshot(), sim.pack)


async def test_four_to_sixteen_cells(
    sim: FelicityBattery, make_client: MakeClient
) -> None:
    for count in (4, 8, 15, 16):
        sim.pack.cell_voltages = [round(3.2 + i / 1000, 3) for i in range(count)]
        client = make_client()
        assert_matches(await client.read_snapshot(), sim.pack)
        await client.close()


async def test_fault_and_warning_are_the_protection_code_only(
    sim: FelicityBattery, make_client: MakeClient
) -> None:
    sim.fault, sim.warning = 1, 10
    snap = await make_client().read_snapshot()
    assert snap.protection_code == 1 << 32 | 10
    assert snap.alarms == frozenset()
    # Unnamed, but flagged: the word is not zero.
    assert snap.problem is True


async def test_a_pack_voltage_off_the_cells_is_refused(
    sim: FelicityBattery, make_client: MakeClient
) -> None:
    original = sim.real_info

    def off_by_a_volt() -> bytes:
        cells = round(sim.pack.voltage * 1000)
        return original().replace(f"[[{cells},".encode(), f"[[{cells + 1000},".encode())

    sim.real_info = off_by_a_volt  # type: ignore[method-assign]
    with pytest.raises(ImplausibleDataError):
        await make_client().read_snapshot()


async def test_device_info_and_redacted_replies(make_client: MakeClient) -> None:
    client = make_client()
    info = await client.read_device_info()
    assert info.manufacturer == "Felicity Solar"
    assert info.sw_version == "2.06"
    assert info.serial_number == "100011002400000001"
    await client.read_snapshot()
    received = [f for d, f in client.frame_log if d == "rx"]
    assert len(received) == 2
    assert all(f.startswith("redacted") for f in received)
    sent = [f for d, f in client.frame_log if d == "tx"]
    assert not any(f.startswith("redacted") for f in sent)


async def test_device_info_when_the_module_is_silent(
    sim: FelicityBattery, make_client: MakeClient
) -> None:
    sim.inject(Fault.IGNORE_COMMAND)
    info = await make_client().read_device_info()
    assert info.manufacturer == "Felicity Solar"
    assert info.serial_number is None


async def test_one_request_per_snapshot(
    sim: FelicityBattery, make_client: MakeClient
) -> None:
    await make_client().read_snapshot()
    assert sim.writes == [b"wifilocalMonitor:get dev real infor"]
