"""The Pylontech RT driver over Bluetooth, against the simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import bleak_retry_connector
import pytest
from bleak import BleakClient
from bleak.backends.device import BLEDevice

from bms_simulator.backend import SimulatedBleakClient
from bms_simulator.device import Fault
from bms_simulator.families.pylontech import PylontechRt, demo
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.ble import BleTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.matching import Advertisement
from custom_components.lithium_bms.protocol.plausibility import ImplausibleDataError
from custom_components.lithium_bms.protocol.pylontech import PylontechDriver
from custom_components.lithium_bms.protocol.pylontech.frames import (
    MAIN_REQUEST,
    SERIAL_REQUEST,
)
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    Temperature,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "A4:C1:38:00:11:22"
CORPUS = Path(__file__).parent / "data" / "advertisements.json"


def assert_matches(snap: BatterySnapshot, pack: PackModel) -> None:
    """What the RT reports of the pack; everything else stays empty."""
    assert snap.voltage == pytest.approx(pack.voltage, abs=0.006)
    assert snap.current == pytest.approx(pack.current, abs=0.051)
    assert snap.state_of_charge == round(pack.soc)
    assert snap.state_of_health == round(pack.state_of_health)
    assert snap.design_capacity == pack.design_capacity
    assert snap.temperatures == (
        Temperature(TemperatureKind.CELL, max(pack.temperatures)),
        Temperature(TemperatureKind.CELL, min(pack.temperatures)),
    )
    assert snap.cell_voltages == ()
    assert snap.remaining_capacity is None
    assert snap.full_capacity is None
    assert snap.cycles is None
    assert snap.charge_mosfet is None
    assert snap.discharge_mosfet is None
    assert snap.balancing is None
    assert snap.alarms == frozenset()
    assert snap.supported_alarms == frozenset()
    assert snap.switches == {}


@pytest.fixture(autouse=True)
def fast_pylontech(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(PylontechDriver, "request_timeout", 0.2)


@pytest.fixture
def sim() -> PylontechRt:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: PylontechRt) -> MakeClient:
    return sim_clients.maker(PylontechDriver, sim, address=ADDRESS)


def test_the_demo_and_the_captured_advertisement_are_pylontech(
    sim: PylontechRt,
) -> None:
    adv = sim.advertising
    found = Advertisement(ADDRESS, adv.name, tuple(adv.service_uuids))
    assert driver_for_advertisement(found) is PylontechDriver
    records = json.loads(CORPUS.read_text())["records"]
    captured = next(r for r in records if r["family"] == "pylontech")
    assert captured["name"] == "RT12100-710003"
    assert sorted(captured["service_uuids"]) == sorted(adv.service_uuids)


@pytest.mark.parametrize(
    ("name", "claimed"),
    [
        ("RT12100-710003", True),
        ("RT12200-000001", True),
        ("RT24100-000001", True),
        ("RT36050-000001", True),
        ("RT48100-000001", True),
        ("RT52100-000001", False),  # no 52 V model
        ("RT13100-000001", False),
        ("RT-fake", False),
        ("GModule", False),  # the Telink default name: any Telink device
    ],
)
def test_the_names_claimed(sim: PylontechRt, name: str, claimed: bool) -> None:
    uuids = tuple(sim.advertising.service_uuids)
    assert PylontechDriver.claims(Advertisement(ADDRESS, name, uuids)) is claimed
    # Never on the name alone: the Battery Service comes with it.
    assert not PylontechDriver.claims(Advertisement(ADDRESS, name, uuids[:1]))


async def test_snapshot_equals_the_pack(
    sim: PylontechRt, make_client: MakeClient
) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim.pack)
    sim.pack.current = 12.5  # charging
    sim.pack.temperatures = [-3.5, -1.0]
    sim.pack.soc = 40.0
    assert_matches(await client.read_snapshot(), sim.pack)


async def test_one_request_per_snapshot(
    sim: PylontechRt, make_client: MakeClient
) -> None:
    await make_client().read_snapshot()
    assert sim.writes == [MAIN_REQUEST]


async def test_device_info_and_redacted_serial(
    sim: PylontechRt, make_client: MakeClient
) -> None:
    client = make_client()
    info = await client.read_device_info()
    assert info.manufacturer == "Pylontech"
    assert info.serial_number == "SIM0000000000001"
    assert sim.writes == [SERIAL_REQUEST]
    assert list(client.frame_log) == [
        ("tx", SERIAL_REQUEST.hex()),
        ("rx", "redacted (21 bytes)"),
    ]
    await client.read_snapshot()
    assert not client.frame_log[-1][1].startswith("redacted")


@pytest.mark.parametrize("how", ["refused", "silent"])
async def test_device_info_without_a_serial(
    sim: PylontechRt, make_client: MakeClient, how: str
) -> None:
    if how == "refused":
        sim.refused.add(0x2000)
    else:
        sim.inject(Fault.NO_ANSWER)
    info = await make_client().read_device_info()
    assert info.manufacturer == "Pylontech"
    assert info.serial_number is None


async def test_a_refused_main_block_is_unsupported(
    sim: PylontechRt, make_client: MakeClient
) -> None:
    sim.refused.add(0x1016)
    with pytest.raises(UnsupportedError, match="code 2"):
        await make_client().read_snapshot()


async def test_an_impossible_state_of_charge_never_becomes_a_value(
    sim: PylontechRt, make_client: MakeClient
) -> None:
    sim.pack.soc = 250.0
    with pytest.raises(ImplausibleDataError):
        await make_client().read_snapshot()


async def test_the_ble_transport_finds_the_128_bit_characteristics(
    monkeypatch: pytest.MonkeyPatch, sim: PylontechRt
) -> None:
    """Through bleak's client: the vendor service and its two characteristics."""

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
    transport = BleTransport(lambda: device, PylontechDriver.gatt)
    client = BmsClient(PylontechDriver(transport, DriverOptions(address=ADDRESS)))
    try:
        assert_matches(await client.read_snapshot(), sim.pack)
        assert sim.writes == [MAIN_REQUEST]
    finally:
        await client.close()
    assert not sim.connected
