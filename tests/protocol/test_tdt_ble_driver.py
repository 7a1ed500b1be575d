"""The TDT driver over Bluetooth (FFF0), against the simulator."""

from __future__ import annotations

from typing import Any

import bleak_retry_connector
import pytest
from bleak import BleakClient
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError

from bms_simulator.backend import SimulatedBleakClient
from bms_simulator.device import Fault, SimService
from bms_simulator.families.tdt import ALARM_BITS, TdtSimulator, demo
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.ble import BleTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.codecs.modbus import crc16
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    FrameError,
)
from custom_components.lithium_bms.protocol.matching import Advertisement, uuid16
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    Alarm,
    BatterySnapshot,
    TemperatureKind,
)
from custom_components.lithium_bms.protocol.tdt import TdtDriver
from custom_components.lithium_bms.protocol.tdt.frames import build_request

from .sim_clients import MakeClient, SimClients

ADDRESS = "C0:D6:3C:12:34:56"


def with_crc(body: bytes) -> bytes:
    """``body`` with its CRC (high byte first) and the tail."""
    return body + crc16(body).to_bytes(2, "big") + b"\x0d"


def assert_matches(snapshot: BatterySnapshot, pack: PackModel) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.006)
    assert snapshot.current == pytest.approx(pack.current, abs=0.05)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.remaining_capacity == pytest.approx(
        pack.remaining_capacity, abs=0.05
    )
    assert snapshot.full_capacity == pytest.approx(pack.full_capacity)
    assert snapshot.design_capacity == pytest.approx(pack.design_capacity)
    assert snapshot.cycles == pack.cycles
    probes = [pack.temperatures[0], pack.mosfet_temperature, *pack.temperatures[1:]]
    assert [t.value for t in snapshot.temperatures] == [round(t, 1) for t in probes]
    assert snapshot.mosfet_temperature == round(pack.mosfet_temperature, 1)
    assert snapshot.charge_mosfet is pack.charge_fet
    assert snapshot.discharge_mosfet is pack.discharge_fet
    assert snapshot.balancing_cells == pack.balancing_cells
    assert snapshot.balancing is bool(pack.balancing_cells)
    assert snapshot.heater is None
    assert snapshot.alarms == {Alarm(a) for a in pack.alarms}


@pytest.fixture(autouse=True)
def fast_tdt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(TdtDriver, "request_timeout", 0.2)


@pytest.fixture
def sim() -> TdtSimulator:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: TdtSimulator) -> MakeClient:
    return sim_clients.maker(TdtDriver, sim, address=ADDRESS)


def test_the_demo_and_the_wattcycle_names_are_claimed(sim: TdtSimulator) -> None:
    adv = Advertisement(
        address=ADDRESS,
        name=sim.advertising.name,
        service_uuids=tuple(sim.advertising.service_uuids),
        manufacturer_data=sim.advertising.manufacturer_data,
    )
    assert driver_for_advertisement(adv) is TdtDriver
    # Without the company ID the XDZN name alone is not ours.
    assert not TdtDriver.claims(Advertisement(ADDRESS, "XDZN_001_E4D9"))
    named = Advertisement(ADDRESS, "WTaHdAZ2603301982", (uuid16(0xFFF0),))
    assert driver_for_advertisement(named) is TdtDriver
    assert not TdtDriver.claims(Advertisement(ADDRESS, "WTaHdAZ2603301982"))


async def test_snapshot_equals_the_pack(
    sim: TdtSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    snap = await client.read_snapshot()
    assert_matches(snap, sim.pack)
    kinds = [t.kind for t in snap.temperatures]
    assert kinds == [
        TemperatureKind.AMBIENT,
        TemperatureKind.MOSFET,
        TemperatureKind.CELL,
        TemperatureKind.CELL,
    ]
    assert snap.state_of_health is None
    assert snap.balance_current is None
    # A pack of another size, on a new connection.
    await client.close()
    client = make_client()
    sim.pack.cell_voltages = [round(3.3 + 0.002 * i, 3) for i in range(16)]
    sim.pack.temperatures = [-5.3, -4.0, -3.9, -4.1, -4.2]
    sim.pack.current = 37.2
    sim.pack.full_capacity = 280.0
    sim.pack.soc = 73
    sim.pack.balancing_cells = {3, 16}
    sim.pack.charge_enabled = False
    assert_matches(await client.read_snapshot(), sim.pack)
    sim.pack.current = -120.5
    assert_matches(await client.read_snapshot(), sim.pack)


async def test_the_newer_analog_reply_reports_health(
    sim: TdtSimulator, make_client: MakeClient
) -> None:
    sim.extended = True
    sim.pack.state_of_health = 96
    snap = await make_client().read_snapshot()
    assert_matches(snap, sim.pack)
    assert snap.state_of_health == 96
    assert snap.balance_current == 0.0


async def test_device_info_and_the_requests(
    sim: TdtSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    info = await client.read_device_info()
    assert info.manufacturer == "TDT"
    assert info.sw_version == "WT12_20004SW10_L447"
    assert info.serial_number == "60016016207270001"
    await client.read_snapshot()
    assert [w.hex() for w in sim.writes] == [
        build_request(0x92).hex(),
        "7e000103008c000099420d",
        build_request(0x8D).hex(),
    ]


async def test_product_info_is_sensitive(
    sim: TdtSimulator, make_client: MakeClient
) -> None:
    driver = make_client().driver
    assert driver.is_sensitive(sim.product_frame())
    assert not driver.is_sensitive(sim.analog_frame())
    assert not driver.is_sensitive(build_request(0x92))


async def test_a_module_without_product_info(
    sim: TdtSimulator, make_client: MakeClient
) -> None:
    sim.inject(Fault.IGNORE_COMMAND, 2)
    info = await make_client().read_device_info()
    assert info.manufacturer == "TDT"
    assert info.serial_number is None


async def test_a_product_info_of_another_length_is_no_device_info(
    sim: TdtSimulator, make_client: MakeClient
) -> None:
    product = sim.product_frame()
    body = product[:6] + (40).to_bytes(2) + product[8:48]
    sim.product_frame = lambda: with_crc(body)  # type: ignore[method-assign]
    info = await make_client().read_device_info()
    assert info.sw_version is None
    assert info.manufacturer == "TDT"


async def test_a_module_that_answers_only_the_0x1e_head(
    sim: TdtSimulator, make_client: MakeClient
) -> None:
    sim.head = 0x1E
    client = make_client()
    assert_matches(await client.read_snapshot(), sim.pack)
    assert_matches(await client.read_snapshot(), sim.pack)
    heads = [w[0] for w in sim.writes]
    # 0x7E once, unanswered; then only 0x1E.
    assert heads == [0x7E, 0x1E, 0x1E, 0x1E, 0x1E]


@pytest.mark.parametrize("alarm", sorted(ALARM_BITS))
async def test_each_alarm(
    sim: TdtSimulator, make_client: MakeClient, alarm: str
) -> None:
    sim.pack.alarms = {alarm}
    snap = await make_client().read_snapshot()
    assert_matches(snap, sim.pack)
    assert snap.problem is True
    assert Alarm(alarm) in snap.supported_alarms


async def test_replies_that_disagree_on_the_counts_are_refused(
    sim: TdtSimulator, make_client: MakeClient
) -> None:
    warning = sim.warning_frame

    def _one_cell_more() -> bytes:
        cells = sim.pack.cell_voltages
        sim.pack.cell_voltages = [*cells, 3.3]
        try:
            return warning()
        finally:
            sim.pack.cell_voltages = cells

    sim.warning_frame = _one_cell_more  # type: ignore[method-assign]
    with pytest.raises(FrameError):
        await make_client().read_snapshot()


def test_the_profile_asks_for_the_unlock() -> None:
    (profile,) = TdtDriver.gatt
    assert (profile.service, profile.notify, profile.write) == (0xFFF0, 0xFFF1, 0xFFF2)
    assert profile.unlock == (0xFFFA, b"HiLink")


def _through_bleak(monkeypatch: pytest.MonkeyPatch, sim: TdtSimulator) -> BmsClient:
    """A client on the real BLE transport, bleak's client on the simulator."""

    async def establish(
        _client_class: type, device: BLEDevice, _name: str, **kwargs: Any
    ) -> BleakClient:
        client = BleakClient(
            device,
            disconnected_callback=kwargs.get("disconnected_callback"),
            backend=SimulatedBleakClient,
            devices={ADDRESS: sim},
        )
        await client.connect()
        return client

    monkeypatch.setattr(bleak_retry_connector, "establish_connection", establish)
    device = BLEDevice(ADDRESS, sim.advertising.name, None)
    transport = BleTransport(lambda: device, TdtDriver.gatt)
    return BmsClient(TdtDriver(transport, DriverOptions(address=ADDRESS)))


async def test_the_ble_transport_unlocks_a_module_that_waits_for_it(
    monkeypatch: pytest.MonkeyPatch, sim: TdtSimulator
) -> None:
    sim.needs_unlock = True
    client = _through_bleak(monkeypatch, sim)
    try:
        assert_matches(await client.read_snapshot(), sim.pack)
        assert sim.writes[0] == b"HiLink"
        assert sim.unlocked
    finally:
        await client.close()


async def test_a_module_without_the_unlock_characteristic_is_read(
    monkeypatch: pytest.MonkeyPatch, sim: TdtSimulator
) -> None:
    (service,) = sim.services
    sim.services = (
        SimService(
            service.handle,
            service.uuid,
            tuple(c for c in service.characteristics if c.uuid != 0xFFFA),
        ),
    )
    client = _through_bleak(monkeypatch, sim)
    try:
        assert_matches(await client.read_snapshot(), sim.pack)
        assert b"HiLink" not in sim.writes
    finally:
        await client.close()


async def test_a_refused_unlock_is_not_fatal(
    monkeypatch: pytest.MonkeyPatch, sim: TdtSimulator
) -> None:
    receive = sim.receive

    def _refuse_unlock(handle: int, data: bytes) -> None:
        if handle == sim.unlock_handle:
            raise BleakError("write not permitted")
        receive(handle, data)

    monkeypatch.setattr(sim, "receive", _refuse_unlock)
    client = _through_bleak(monkeypatch, sim)
    try:
        assert_matches(await client.read_snapshot(), sim.pack)
    finally:
        await client.close()
