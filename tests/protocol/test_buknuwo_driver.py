"""The Buknuwo driver against the simulator: reads, faults, discovery."""

from __future__ import annotations

import pytest

from bms_simulator.device import Fault
from bms_simulator.families.buknuwo import BuknuwoSimulator, demo
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.buknuwo import BuknuwoDriver
from custom_components.lithium_bms.protocol.errors import (
    BmsTimeoutError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.gobel import GobelDriver
from custom_components.lithium_bms.protocol.matching import Advertisement
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    SwitchKind,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "82:FF:00:00:11:22"


def assert_matches(snapshot: BatterySnapshot, pack: PackModel) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    assert snapshot.cell_voltages == ()
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
    assert {t.kind for t in snapshot.probe_temperatures} <= {TemperatureKind.CELL}
    assert snapshot.mosfet_temperature == pytest.approx(pack.mosfet_temperature)
    assert snapshot.charge_mosfet is pack.charge_fet
    assert snapshot.discharge_mosfet is pack.discharge_fet
    assert snapshot.alarms == frozenset()
    assert snapshot.balancing is None


@pytest.fixture(autouse=True)
def fast_buknuwo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(BuknuwoDriver, "request_timeout", 0.2)


@pytest.fixture
def sim() -> BuknuwoSimulator:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: BuknuwoSimulator) -> MakeClient:
    return sim_clients.maker(BuknuwoDriver, sim, address=ADDRESS)


@pytest.mark.parametrize(
    ("name", "manufacturer_data", "claimed"),
    [
        ("CDZG202512050020000242 ", {0xFFFF: b"\x4e"}, True),
        ("CDZG202512050020000242", {}, True),
        ("MEY-12320-A00898", {0xFFFF: b"\x4e"}, True),
        ("MEY-12320-", {}, True),
        ("MEY-1232-A00898", {}, False),  # four characters, not five
        ("CDZ202512050020000242", {}, False),
        ("B7522603211101", {0xFFFF: b"\x4e"}, False),  # Gobel's Dyness
        ("BMS-4056911A1100032P", {}, False),  # Gobel
    ],
)
def test_discovery(
    name: str, manufacturer_data: dict[int, bytes], claimed: bool
) -> None:
    adv = Advertisement(ADDRESS, name, (), manufacturer_data)
    assert BuknuwoDriver.claims(adv) is claimed
    if claimed:
        assert driver_for_advertisement(adv) is BuknuwoDriver
        assert not GobelDriver.claims(adv)


async def test_snapshot_equals_the_pack(
    sim: BuknuwoSimulator, make_client: MakeClient
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


async def test_ten_probes(sim: BuknuwoSimulator, make_client: MakeClient) -> None:
    sim.pack.temperatures = [round(0.5 * i - 2, 1) for i in range(10)]
    assert_matches(await make_client().read_snapshot(), sim.pack)


async def test_no_probe_but_the_mosfets(
    sim: BuknuwoSimulator, make_client: MakeClient
) -> None:
    sim.pack.temperatures = []
    snap = await make_client().read_snapshot()
    assert [t.kind for t in snap.temperatures] == [TemperatureKind.MOSFET]


async def test_status_words_are_no_problem_state(
    sim: BuknuwoSimulator, make_client: MakeClient
) -> None:
    """The one capture sets them while the pack charges normally at 99 %: what
    they mean is unknown, so no problem state is reported, set or not."""
    client = make_client()
    for words in ((0, 0, 0), (0x0004, 0x8000, 0x0001)):
        sim.status_words = words
        snap = await client.read_snapshot()
        assert snap.protection_code is None
        assert snap.alarms == frozenset()
        assert snap.problem is None


async def test_three_requests_per_snapshot(
    sim: BuknuwoSimulator, make_client: MakeClient
) -> None:
    await make_client().read_snapshot()
    assert [w.hex() for w in sim.writes] == [
        "01030000000d840f",
        "0103003900015407",
        "0103002e000b6404",
    ]


async def test_device_info_is_the_manufacturer(make_client: MakeClient) -> None:
    info = await make_client().read_device_info()
    assert info.manufacturer == "Buknuwo"
    assert (info.model, info.sw_version, info.serial_number) == (None, None, None)


async def test_a_silent_pack_times_out(
    sim: BuknuwoSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    assert_matches(await client.read_snapshot(), sim.pack)


async def test_a_refused_read_is_unsupported(
    sim: BuknuwoSimulator, make_client: MakeClient
) -> None:
    # A map that ends before the MOSFET probe: exception 0x02 for its read.
    sim.map_end = 0x30
    with pytest.raises(UnsupportedError):
        await make_client().read_snapshot()


async def test_read_only(make_client: MakeClient) -> None:
    with pytest.raises(UnsupportedError):
        await make_client().set_switch(SwitchKind.CHARGE, on=False)
