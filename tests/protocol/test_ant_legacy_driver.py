"""The ANT legacy driver over Bluetooth (FFE0), against the simulator."""

from __future__ import annotations

import pytest

from bms_simulator.device import Fault
from bms_simulator.families.ant_legacy import (
    CHARGE_CODES,
    DISCHARGE_CODES,
    AntLegacySimulator,
    demo,
)
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.ant import AntDriver
from custom_components.lithium_bms.protocol.ant_legacy import AntLegacyDriver
from custom_components.lithium_bms.protocol.errors import (
    CommandNotConfirmedError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.matching import Advertisement, uuid16
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    Alarm,
    BatterySnapshot,
    SwitchKind,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "88:A0:12:34:56:78"


def assert_matches(snapshot: BatterySnapshot, pack: PackModel) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.06)
    assert snapshot.current == pytest.approx(pack.current, abs=0.05)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.state_of_health is None
    assert snapshot.remaining_capacity == pytest.approx(pack.remaining_capacity)
    assert snapshot.full_capacity == pytest.approx(pack.full_capacity)
    assert snapshot.design_capacity is None
    assert snapshot.cycles == pack.cycles
    probes = [round(t) for t in pack.temperatures[:4]]
    assert [t.value for t in snapshot.temperatures] == [
        *probes,
        *[None] * (4 - len(probes)),
        round(pack.mosfet_temperature),
    ]
    assert snapshot.switches == {
        SwitchKind.CHARGE: pack.charge_enabled,
        SwitchKind.DISCHARGE: pack.discharge_enabled,
    }
    balancing = pack.balancing_cells if pack.balancer_enabled else set()
    assert snapshot.balancing_cells == balancing
    assert snapshot.balancing is bool(balancing)
    assert snapshot.heater is None


@pytest.fixture(autouse=True)
def fast_ant(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(AntLegacyDriver, "request_timeout", 0.2)
    monkeypatch.setattr(AntLegacyDriver, "switch_settle", 0.0)


@pytest.fixture
def sim() -> AntLegacySimulator:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: AntLegacySimulator) -> MakeClient:
    return sim_clients.maker(AntLegacyDriver, sim, address=ADDRESS)


def _adv(name: str) -> Advertisement:
    return Advertisement(ADDRESS, name, (uuid16(0xFFE0), uuid16(0xFEE7)))


def test_the_demo_is_claimed_by_ant_legacy(sim: AntLegacySimulator) -> None:
    adv = Advertisement(
        address=ADDRESS,
        name=sim.advertising.name,
        service_uuids=tuple(sim.advertising.service_uuids),
        manufacturer_data=sim.advertising.manufacturer_data,
    )
    assert driver_for_advertisement(adv) is AntLegacyDriver


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("ANT-BLE16S", AntLegacyDriver),
        ("ANT-BLE24C", AntLegacyDriver),
        ("ANT-BLE22AACB-0489", AntLegacyDriver),
        # The current protocol's board codes end in UB (esphome-ant-bms README).
        ("ANT-BLE16ZMUB", AntDriver),
        ("ANT-BLE04DMUB", AntDriver),
        ("ANT-BLE24CHUB-0001", AntDriver),
        ("ANT@BLE22AAUB", AntDriver),
        ("ANT-BLE24BHUB", AntDriver),
    ],
)
def test_names_pick_the_protocol(name: str, family: type) -> None:
    assert driver_for_advertisement(_adv(name)) is family


def test_each_family_offers_the_other() -> None:
    assert AntLegacyDriver.probe_also == ("ant",)
    assert "ant_legacy" in AntDriver.probe_also
    # Without FFE0 the names claim nothing.
    assert not AntLegacyDriver.claims(Advertisement(ADDRESS, "ANT-BLE16S"))


async def test_snapshot_equals_the_pack(
    sim: AntLegacySimulator, make_client: MakeClient
) -> None:
    client = make_client()
    snap = await client.read_snapshot()
    assert_matches(snap, sim.pack)
    kinds = [t.kind for t in snap.temperatures]
    assert kinds == [TemperatureKind.CELL] * 4 + [TemperatureKind.MOSFET]
    assert snap.charge_mosfet is True
    assert snap.discharge_mosfet is True
    await client.close()
    client = make_client()
    sim.pack.cell_voltages = [round(3.3 + 0.002 * i, 3) for i in range(16)]
    sim.pack.current = -37.2
    sim.pack.full_capacity = 280.0
    sim.pack.soc = 73
    sim.pack.cycles = 12
    sim.pack.balancing_cells = {3, 16}
    sim.pack.temperatures = [-4.0, 1.0, 2.0, 3.0]
    assert_matches(await client.read_snapshot(), sim.pack)


async def test_device_info_and_the_one_request(
    sim: AntLegacySimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert (await client.read_device_info()).manufacturer == "ANT"
    await client.read_snapshot()
    assert [w.hex() for w in sim.writes] == ["dbdb00000000"]


@pytest.mark.parametrize("alarm", sorted({*CHARGE_CODES, *DISCHARGE_CODES}))
async def test_each_alarm(
    sim: AntLegacySimulator, make_client: MakeClient, alarm: str
) -> None:
    sim.pack.alarms = {alarm}
    snap = await make_client().read_snapshot()
    assert snap.alarms == {Alarm(alarm)}
    assert snap.problem is True
    assert Alarm(alarm) in snap.supported_alarms
    # A protection holds the MOSFET off; the switch stays as set.
    assert snap.switches == {SwitchKind.CHARGE: True, SwitchKind.DISCHARGE: True}


@pytest.mark.parametrize("kind", sorted(AntLegacyDriver.switches))
async def test_each_switch_writes_its_register_and_is_read_back(
    sim: AntLegacySimulator, make_client: MakeClient, kind: SwitchKind
) -> None:
    client = make_client()
    before = (await client.read_snapshot()).switches
    snap = await client.set_switch(kind, False)
    assert snap.switches == before | {kind: False}
    register = 0xFA if kind is SwitchKind.CHARGE else 0xF9
    # The password, the MOSFET's own register (never the other's), apply.
    writes = [w for w in sim.writes if w[:2] == b"\xa5\xa5"]
    assert [w[2] for w in writes] == [0xF1, 0xF2, 0xF3, 0xF4, register, 0xFF]
    snap = await client.set_switch(kind, True)
    assert snap.switches == before
    assert sim.pack.charge_enabled
    assert sim.pack.discharge_enabled


async def test_a_switched_off_mosfet_is_inactive(make_client: MakeClient) -> None:
    snap = await make_client().set_switch(SwitchKind.DISCHARGE, False)
    assert snap.discharge_mosfet is False
    assert snap.charge_mosfet is True
    assert snap.protection_code == 0x010F


async def test_the_configured_password_is_sent(
    sim: AntLegacySimulator, make_client: MakeClient
) -> None:
    sim.password = "abcd1234"
    client = make_client(password="abcd1234")
    snap = await client.set_switch(SwitchKind.CHARGE, False)
    assert snap.switches[SwitchKind.CHARGE] is False
    assert client.driver.is_sensitive(sim.writes[1])
    assert not client.driver.is_sensitive(sim.writes[-2])


async def test_a_wrong_password_is_not_confirmed(
    sim: AntLegacySimulator, make_client: MakeClient
) -> None:
    sim.password = "abcd1234"
    client = make_client()
    with pytest.raises(CommandNotConfirmedError):
        await client.set_switch(SwitchKind.CHARGE, False)
    assert sim.pack.charge_enabled is True


async def test_an_ignored_command_is_not_confirmed(
    sim: AntLegacySimulator, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(CommandNotConfirmedError):
        await client.set_switch(SwitchKind.CHARGE, False)
    assert sim.pack.charge_enabled is True
    assert (await client.read_snapshot()).switches[SwitchKind.CHARGE] is True


async def test_no_balancer_switch(make_client: MakeClient) -> None:
    with pytest.raises(UnsupportedError):
        await make_client().set_switch(SwitchKind.BALANCER, True)
