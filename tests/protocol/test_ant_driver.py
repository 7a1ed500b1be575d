"""The ANT driver over Bluetooth (FFE0), against the simulator."""

from __future__ import annotations

import pytest

from bms_simulator.device import Fault
from bms_simulator.families.ant import CHARGE_CODES, DISCHARGE_CODES, AntSimulator, demo
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.ant import AntDriver
from custom_components.lithium_bms.protocol.errors import CommandNotConfirmedError
from custom_components.lithium_bms.protocol.matching import Advertisement
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
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.006)
    assert snapshot.current == pytest.approx(pack.current, abs=0.05)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.state_of_health == round(pack.state_of_health)
    assert snapshot.remaining_capacity == pytest.approx(pack.remaining_capacity)
    assert snapshot.full_capacity == pytest.approx(pack.full_capacity)
    assert snapshot.design_capacity is None
    assert snapshot.cycles is None
    assert [t.value for t in snapshot.temperatures] == [
        *(round(t) for t in pack.temperatures),
        round(pack.mosfet_temperature),
    ]
    assert snapshot.switches == {
        SwitchKind.CHARGE: pack.charge_enabled,
        SwitchKind.DISCHARGE: pack.discharge_enabled,
        SwitchKind.BALANCER: pack.balancer_enabled,
    }
    balancing = pack.balancing_cells if pack.balancer_enabled else set()
    assert snapshot.balancing_cells == balancing
    assert snapshot.heater is None


@pytest.fixture(autouse=True)
def fast_ant(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(AntDriver, "request_timeout", 0.2)
    monkeypatch.setattr(AntDriver, "switch_settle", 0.0)


@pytest.fixture
def sim() -> AntSimulator:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: AntSimulator) -> MakeClient:
    return sim_clients.maker(AntDriver, sim, address=ADDRESS)


def test_the_demo_is_claimed_by_ant(sim: AntSimulator) -> None:
    adv = Advertisement(
        address=ADDRESS,
        name=sim.advertising.name,
        service_uuids=tuple(sim.advertising.service_uuids),
        manufacturer_data=sim.advertising.manufacturer_data,
    )
    assert driver_for_advertisement(adv) is AntDriver
    # The legacy protocol's names are not this one's.
    assert not AntDriver.claims(Advertisement(ADDRESS, "ANT-BLE16S", adv.service_uuids))
    assert not AntDriver.claims(Advertisement(ADDRESS, sim.advertising.name))


async def test_snapshot_equals_the_pack(
    sim: AntSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    snap = await client.read_snapshot()
    assert_matches(snap, sim.pack)
    kinds = [t.kind for t in snap.temperatures]
    assert kinds == [TemperatureKind.CELL, TemperatureKind.CELL, TemperatureKind.MOSFET]
    assert snap.charge_mosfet is True
    assert snap.discharge_mosfet is True
    await client.close()
    client = make_client()
    sim.pack.cell_voltages = [round(3.3 + 0.002 * i, 3) for i in range(16)]
    sim.pack.current = -37.2
    sim.pack.full_capacity = 280.0
    sim.pack.soc = 73
    sim.pack.balancing_cells = {3, 16}
    sim.pack.temperatures = [-4.0, 1.0, 2.0, 3.0]
    assert_matches(await client.read_snapshot(), sim.pack)


async def test_device_info_and_the_one_request(
    sim: AntSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    info = await client.read_device_info()
    assert (info.manufacturer, info.model) == ("ANT", None)
    assert (info.hw_version, info.sw_version) == (sim.hw_version, sim.sw_version)
    await client.read_snapshot()
    await client.read_snapshot()
    assert [w.hex() for w in sim.writes] == [
        "7ea1026c022058c4aa55",
        "7ea1010000be1855aa55",
        "7ea1010000be1855aa55",
    ]


@pytest.mark.parametrize("alarm", sorted({*CHARGE_CODES, *DISCHARGE_CODES}))
async def test_each_alarm(
    sim: AntSimulator, make_client: MakeClient, alarm: str
) -> None:
    sim.pack.alarms = {alarm}
    snap = await make_client().read_snapshot()
    assert snap.alarms == {Alarm(alarm)}
    assert snap.problem is True
    assert Alarm(alarm) in snap.supported_alarms
    # A protection holds the MOSFET off; the switch stays as set.
    assert snap.switches[SwitchKind.CHARGE] is True
    assert snap.switches[SwitchKind.DISCHARGE] is True


@pytest.mark.parametrize("kind", sorted(AntDriver.switches))
async def test_each_switch_writes_its_register_and_is_read_back(
    sim: AntSimulator, make_client: MakeClient, kind: SwitchKind
) -> None:
    client = make_client()
    before = (await client.read_snapshot()).switches
    snap = await client.set_switch(kind, False)
    assert snap.switches == before | {kind: False}
    assert sim.writes[-2][2] == 0x51
    snap = await client.set_switch(kind, True)
    assert snap.switches == before
    assert sim.pack.charge_enabled
    assert sim.pack.discharge_enabled


async def test_a_switched_off_mosfet_is_inactive(
    sim: AntSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    snap = await client.set_switch(SwitchKind.DISCHARGE, False)
    assert snap.discharge_mosfet is False
    assert snap.charge_mosfet is True
    assert snap.protection_code == 0x010F


async def test_an_ignored_command_is_not_confirmed(
    sim: AntSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(CommandNotConfirmedError):
        await client.set_switch(SwitchKind.CHARGE, False)
    assert sim.pack.charge_enabled is True
    assert (await client.read_snapshot()).switches[SwitchKind.CHARGE] is True
