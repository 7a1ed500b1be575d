"""The Humsienk driver over Bluetooth (service 0001), against the simulator."""

from __future__ import annotations

import pytest

from bms_simulator.families.humsienk import ALARM_BITS, HumsienkSimulator, demo
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.errors import ProtocolError
from custom_components.lithium_bms.protocol.humsienk import HumsienkDriver
from custom_components.lithium_bms.protocol.jbd import JbdDriver
from custom_components.lithium_bms.protocol.matching import Advertisement, uuid16
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    Alarm,
    BatterySnapshot,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "13:C2:A7:03:30:A3"
FF00, SERVICE = uuid16(0xFF00), uuid16(0x0001)


def assert_matches(snapshot: BatterySnapshot, pack: PackModel) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.001)
    assert snapshot.current == pytest.approx(pack.current)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.state_of_health == round(pack.state_of_health)
    assert snapshot.remaining_capacity == pytest.approx(pack.remaining_capacity)
    assert snapshot.design_capacity == pytest.approx(pack.full_capacity)
    assert snapshot.full_capacity is None
    assert snapshot.cycles == pack.cycles
    # Four cell probes and the environment probe, from the pack's probes.
    probes = (pack.temperatures * 5)[:5]
    assert [t.value for t in snapshot.probe_temperatures] == [round(t) for t in probes]
    assert snapshot.mosfet_temperature == round(pack.mosfet_temperature)
    assert snapshot.charge_mosfet is pack.charge_fet
    assert snapshot.discharge_mosfet is pack.discharge_fet
    assert snapshot.balancing is bool(pack.balancing_cells)
    assert snapshot.balancing_cells == pack.balancing_cells
    assert snapshot.heater is None
    assert snapshot.alarms == {Alarm(a) for a in pack.alarms}


@pytest.fixture(autouse=True)
def fast_humsienk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(HumsienkDriver, "request_timeout", 0.2)


@pytest.fixture
def sim() -> HumsienkSimulator:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: HumsienkSimulator) -> MakeClient:
    return sim_clients.maker(HumsienkDriver, sim, address=ADDRESS)


def test_the_demo_is_claimed_by_humsienk_not_jbd(sim: HumsienkSimulator) -> None:
    adv = Advertisement(
        address=ADDRESS,
        name=sim.advertising.name,
        service_uuids=tuple(sim.advertising.service_uuids),
        manufacturer_data=sim.advertising.manufacturer_data,
    )
    assert driver_for_advertisement(adv) is HumsienkDriver
    assert not JbdDriver.claims(adv)
    # FF00 alone, a Braun Power name or a longer ECO- name is not Humsienk.
    assert not HumsienkDriver.claims(Advertisement(ADDRESS, "HS30A3", (FF00,)))
    for name in ("HSKS-25A-118", "ECO-WORTHY 02_B8EF", "ECO-LFP48100-3U-8EC7"):
        assert not HumsienkDriver.claims(Advertisement(ADDRESS, name, (SERVICE,)))
    assert HumsienkDriver.claims(Advertisement(ADDRESS, "ECOBF9F", (SERVICE,)))


async def test_snapshot_equals_the_pack(
    sim: HumsienkSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    snap = await client.read_snapshot()
    assert_matches(snap, sim.pack)
    kinds = [t.kind for t in snap.temperatures]
    assert kinds == [TemperatureKind.CELL] * 4 + [
        TemperatureKind.MOSFET,
        TemperatureKind.AMBIENT,
    ]
    await client.close()
    client = make_client()
    sim.pack.cell_voltages = [round(3.3 + 0.002 * i, 3) for i in range(16)]
    sim.pack.current = 37.25
    sim.pack.full_capacity = 280.0
    sim.pack.soc = 73
    sim.pack.temperatures = [-5.0, 12.0]
    sim.pack.balancing_cells = {3, 16}
    sim.pack.charge_enabled = False
    assert_matches(await client.read_snapshot(), sim.pack)


async def test_handshake_device_info_and_requests(
    sim: HumsienkSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    info = await client.read_device_info()
    assert (info.manufacturer, info.model, info.hw_version) == (
        "Humsienk",
        "BMC-04S001",
        "V02",
    )
    await client.read_snapshot()
    # aiobmsble's requests (MockHumsienkBleakClient._RESP): the handshake
    # once after connecting, then status, battery and cells.
    writes = [w.hex() for w in sim.writes]
    assert writes[0] == "aa00000000"
    assert writes[-3:] == ["aa20002000", "aa21002100", "aa22002200"]
    assert writes.count("aa00000000") == 1


@pytest.mark.parametrize("alarm", sorted(ALARM_BITS))
async def test_each_alarm(
    sim: HumsienkSimulator, make_client: MakeClient, alarm: str
) -> None:
    sim.pack.alarms = {alarm}
    snap = await make_client().read_snapshot()
    assert_matches(snap, sim.pack)
    assert snap.problem is True
    assert Alarm(alarm) in snap.supported_alarms


async def test_disconnected_cell_is_a_hardware_fault(
    sim: HumsienkSimulator, make_client: MakeClient
) -> None:
    sim.disconnected_cells = {2}
    snap = await make_client().read_snapshot()
    assert snap.alarms == {Alarm.HARDWARE_FAULT}
    assert snap.protection_code == 1 << 33


async def test_soc_that_disagrees_with_the_capacities_is_refused(
    sim: HumsienkSimulator, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client()
    await client.read_snapshot()
    frame = sim.battery_frame()
    # 42 % of 150 Ah remaining, but the SOC byte says 90 %.
    monkeypatch.setattr(sim, "battery_frame", lambda: _with(frame, 11, b"\x5a"))
    with pytest.raises(ProtocolError, match="SOC disagrees"):
        await client.read_snapshot()


async def test_health_above_100_is_refused(
    sim: HumsienkSimulator, make_client: MakeClient
) -> None:
    sim.pack.state_of_health = 101
    with pytest.raises(ProtocolError, match="out of range"):
        await make_client().read_snapshot()


def _with(frame: bytes, offset: int, data: bytes) -> bytes:
    body = bytearray(frame[:-2])
    body[offset : offset + len(data)] = data
    return bytes(body) + (sum(body[1:]) & 0xFFFF).to_bytes(2, "little")
