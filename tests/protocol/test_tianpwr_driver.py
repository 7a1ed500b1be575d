"""The TianPower driver over Bluetooth (FF00), against the simulator."""

from __future__ import annotations

import pytest

from bms_simulator.device import Fault
from bms_simulator.families.tianpwr import TianpwrSimulator, demo
from bms_simulator.pack import PackModel
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    BmsTimeoutError,
    ProtocolError,
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
from custom_components.lithium_bms.protocol.tianpwr import TianpwrDriver

from .sim_clients import MakeClient, SimClients

ADDRESS = "90:A6:BF:12:34:56"


def assert_matches(snapshot: BatterySnapshot, pack: PackModel, ambient: float) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.reported_cell_count == len(pack.cell_voltages)
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
    assert [(t.kind, t.value) for t in snapshot.temperatures] == [
        *((TemperatureKind.CELL, round(t, 1)) for t in pack.temperatures),
        (TemperatureKind.AMBIENT, ambient),
        (TemperatureKind.MOSFET, pack.mosfet_temperature),
    ]
    assert snapshot.balancing is bool(pack.balancing_cells)
    assert snapshot.balancing_cells == frozenset(pack.balancing_cells)
    fets = pack.charge_fet if pack.charge_fet is pack.discharge_fet else None
    assert snapshot.charge_mosfet is fets
    assert snapshot.discharge_mosfet is fets
    assert snapshot.heater is None
    assert snapshot.alarms == frozenset(Alarm(a) for a in pack.alarms)
    assert snapshot.protection_code is None


@pytest.fixture(autouse=True)
def fast_tianpwr(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(TianpwrDriver, "request_timeout", 0.2)


@pytest.fixture
def sim() -> TianpwrSimulator:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: TianpwrSimulator) -> MakeClient:
    return sim_clients.maker(TianpwrDriver, sim, address=ADDRESS)


@pytest.mark.parametrize("name", ["TP_123456", "TP_A1"])
def test_the_tp_names_are_claimed(name: str) -> None:
    assert driver_for_advertisement(Advertisement(ADDRESS, name)) is TianpwrDriver
    adv = Advertisement(ADDRESS, name, (uuid16(0xFF00),))
    assert driver_for_advertisement(adv) is TianpwrDriver
    assert not TianpwrDriver.claims(Advertisement(ADDRESS, f"X{name}"))
    assert not TianpwrDriver.claims(Advertisement(ADDRESS, "TP-LT55"))


async def test_snapshot_equals_the_pack(
    sim: TianpwrSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim.pack, sim.ambient)
    await client.close()
    client = make_client()
    sim.pack.cell_voltages = [round(3.3 + 0.002 * i, 3) for i in range(8)]
    sim.pack.current = 37.25
    sim.pack.soc = 73
    sim.pack.cycles = 412
    sim.pack.state_of_health = 91
    sim.pack.balancing_cells = {3, 8}
    sim.pack.temperatures = [-5.2, 0.0, 12.7]
    sim.pack.mosfet_temperature = -1.5
    sim.ambient = -7.0
    assert_matches(await client.read_snapshot(), sim.pack, sim.ambient)


@pytest.mark.parametrize("cells", [1, 4, 7, 8, 9, 15, 16, 17, 24])
async def test_every_cell_count_is_read_whole(
    sim: TianpwrSimulator, make_client: MakeClient, cells: int
) -> None:
    sim.pack.cell_voltages = [round(3.2 + 0.003 * i, 3) for i in range(cells)]
    snapshot = await make_client().read_snapshot()
    assert snapshot.cell_voltages == tuple(sim.pack.cell_voltages)
    # One cell reply per eight cells, no more.
    asked = {w[2] for w in sim.writes if w[2] >= 0x88}
    assert asked == set(range(0x88, 0x88 + -(-cells // 8)))


@pytest.mark.parametrize(
    ("charge", "discharge", "shown"),
    [(True, True, True), (False, False, False), (True, False, None)],
)
async def test_a_mosfet_shows_only_where_the_sources_agree(
    sim: TianpwrSimulator,
    make_client: MakeClient,
    charge: bool,
    discharge: bool,
    shown: bool | None,
) -> None:
    sim.pack.charge_enabled = charge
    sim.pack.discharge_enabled = discharge
    snapshot = await make_client().read_snapshot()
    assert (snapshot.charge_mosfet, snapshot.discharge_mosfet) == (shown, shown)


@pytest.mark.parametrize(
    "alarm",
    [
        "cell_overvoltage",
        "cell_undervoltage",
        "pack_overvoltage",
        "pack_undervoltage",
        "discharge_overcurrent",
        "charge_overtemperature",
        "charge_undertemperature",
        "discharge_overtemperature",
        "discharge_undertemperature",
        "mosfet_overtemperature",
        "temperature_sensor_fault",
        "mosfet_fault",
    ],
)
async def test_each_alarm(
    sim: TianpwrSimulator, make_client: MakeClient, alarm: str
) -> None:
    client = make_client()
    assert (await client.read_snapshot()).problem is False
    sim.pack.alarms = {alarm}
    snapshot = await client.read_snapshot()
    assert snapshot.alarms == {Alarm(alarm)}
    assert Alarm(alarm) in snapshot.supported_alarms
    assert snapshot.problem is True
    assert_matches(snapshot, sim.pack, sim.ambient)


async def test_device_info_and_the_requests(
    sim: TianpwrSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    info = await client.read_device_info()
    assert info.manufacturer == "TianPower"
    # The texts of the captured vectors, up to the first NUL.
    assert info.model == "TP-LT55"
    assert info.sw_version == "0.1.10"
    assert info.hw_version is None
    await client.read_snapshot()
    # aiobmsble tianpwr_bms.py ``_cmd``: 55 04 <type> AA, one per reply.
    assert [w.hex() for w in sim.writes] == [
        "550481aa",
        "550482aa",
        "550483aa",
        "550484aa",
        "550485aa",
        "550487aa",
        "550488aa",
        "550489aa",
    ]


async def test_a_damaged_status_is_refused(
    sim: TianpwrSimulator, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No checksum: a status that disagrees with the cells publishes nothing."""
    client = make_client()
    status = sim.status_data

    def wrong_voltage() -> bytes:
        data = bytearray(status())
        data[2:4] = (round(sim.pack.voltage * 100) + 900).to_bytes(2, "big")
        return bytes(data)

    monkeypatch.setattr(sim, "status_data", wrong_voltage)
    with pytest.raises(ProtocolError):
        await client.read_snapshot()
    monkeypatch.setattr(sim, "status_data", status)
    assert_matches(await client.read_snapshot(), sim.pack, sim.ambient)


async def test_a_lost_reply_times_out_and_the_next_read_is_whole(
    sim: TianpwrSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    sim.inject(Fault.NO_ANSWER)
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    assert_matches(await client.read_snapshot(), sim.pack, sim.ambient)


async def test_a_damaged_reply_is_not_read(
    sim: TianpwrSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    sim.inject(Fault.BAD_CHECKSUM)
    with pytest.raises(ProtocolError, match="end byte"):
        await client.read_snapshot()
    assert_matches(await client.read_snapshot(), sim.pack, sim.ambient)


async def test_a_silent_pack_times_out(
    sim: TianpwrSimulator, make_client: MakeClient
) -> None:
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(BmsTimeoutError):
        await make_client().read_snapshot()


async def test_a_link_lost_mid_frame_recovers(
    sim: TianpwrSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    sim.inject(Fault.DISCONNECT_MID_FRAME)
    with pytest.raises(BmsConnectionError):
        await client.read_snapshot()
    assert_matches(await client.read_snapshot(), sim.pack, sim.ambient)


def test_the_location_and_owner_texts_are_redacted() -> None:
    driver = TianpwrDriver(
        SimulatorTransport(demo(ADDRESS)), DriverOptions(address=ADDRESS)
    )
    for kind in (0x90, 0x91, 0x94, 0x95):
        assert driver.is_sensitive(bytes((0x55, 0x14, kind)) + bytes(16) + b"\xaa")
        assert driver.is_sensitive(bytes((0x55, 0x04, kind, 0xAA)))
    assert not driver.is_sensitive(bytes.fromhex("550483aa"))
    assert not driver.is_sensitive(demo(ADDRESS).reply(0x82) or b"")


async def test_every_switch_is_refused(make_client: MakeClient) -> None:
    client = make_client()
    for kind in SwitchKind:
        with pytest.raises(UnsupportedError):
            await client.driver.set_switch(kind, True)
