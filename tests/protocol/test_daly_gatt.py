"""Daly discovery and GATT layouts: matchers, registry order, profile fallback."""

from __future__ import annotations

from typing import Any

import bleak_retry_connector
import pytest
from bleak import BleakClient
from bleak.backends.device import BLEDevice

from bms_simulator.backend import SimulatedBleakClient
from bms_simulator.families.daly import FF01_HANDLE, FFF1_HANDLE, DalySimulator
from custom_components.lithium_bms.protocol.ble import BleTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.daly import DalyDriver
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.jbd import JbdDriver
from custom_components.lithium_bms.protocol.matching import Advertisement, uuid16
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.transport import GattProfile

ADDRESS = "B4:E8:42:6A:7B:8C"


def test_profile_order_prefers_fff0_then_ff00() -> None:
    assert DalyDriver.gatt == (
        GattProfile(service=0xFFF0, notify=0xFFF1, write=0xFFF2),
        GattProfile(service=0xFF00, notify=0xFF01, write=0xFF02),
    )


@pytest.mark.parametrize(
    "adv",
    [
        Advertisement(ADDRESS, "DL-B4E8426A7B8C"),
        Advertisement(ADDRESS, "JHB-B4E8426A7B8C"),
        Advertisement(ADDRESS, "DL-B4E8426A7B8C", (uuid16(0xFFF0),)),
        # Newer firmware also exposes FF00, which JBD claims: Daly comes first.
        Advertisement(ADDRESS, "DL-B4E8426A7B8C", (uuid16(0xFF00),)),
        *(
            Advertisement(ADDRESS, "BT270-2", (), {mid: b"\x16\x40DL"})
            for mid in (258, 260, 770, 771, 1026)
        ),
    ],
)
def test_daly_advertisements(adv: Advertisement) -> None:
    assert DalyDriver.claims(adv)
    assert driver_for_advertisement(adv) is DalyDriver


def test_other_advertisements_are_not_daly() -> None:
    jbd = Advertisement(ADDRESS, "JBD-SP04S034", (uuid16(0xFF00),))
    assert not DalyDriver.claims(jbd)
    assert driver_for_advertisement(jbd) is JbdDriver
    assert not DalyDriver.claims(Advertisement(ADDRESS, "xDL-1", (), {769: b"DL"}))


def test_matchers_in_manifest_form() -> None:
    entries = [m.as_manifest() for m in DalyDriver.matchers]
    assert {"local_name": "DL-*", "connectable": True} in entries
    ids = sorted(m.manufacturer_id for m in DalyDriver.matchers if m.manufacturer_id)
    assert {"manufacturer_id": 770, "connectable": True} in entries
    assert ids == [258, 260, 770, 771, 1026]
    # "DL-*" alone already claims every DL- name advertising FFF0.
    assert all(
        m.local_name != "DL-*" or m.service_uuid is None for m in DalyDriver.matchers
    )


def test_simulator_advertisement_is_daly() -> None:
    sim = DalySimulator(ADDRESS)
    adv = sim.advertising
    assert adv.name == "DL-B4E8426A7B8C"
    assert adv.manufacturer_data == {770: bytes.fromhex("B4E8426A7B8C") + b"DL"}
    found = Advertisement(
        ADDRESS, adv.name, tuple(adv.service_uuids), adv.manufacturer_data
    )
    assert driver_for_advertisement(found) is DalyDriver


@pytest.fixture
def ble_link(monkeypatch: pytest.MonkeyPatch) -> dict[str, DalySimulator]:
    """Route BleTransport's connections to simulators through bleak's client."""
    devices: dict[str, DalySimulator] = {}

    async def establish(
        _client_class: type, device: BLEDevice, _name: str, **kwargs: Any
    ) -> BleakClient:
        client = BleakClient(
            device,
            disconnected_callback=kwargs.get("disconnected_callback"),
            backend=SimulatedBleakClient,
            devices=devices,
        )
        await client.connect()
        return client

    monkeypatch.setattr(bleak_retry_connector, "establish_connection", establish)
    monkeypatch.setattr(DalyDriver, "connect_delay", 0.0)
    return devices


@pytest.mark.parametrize(
    ("newer_gatt", "refuse", "notify_handle"),
    [
        (False, False, FFF1_HANDLE),
        (True, False, FFF1_HANDLE),
        (True, True, FF01_HANDLE),
    ],
)
async def test_notify_falls_back_to_ff01(
    ble_link: dict[str, DalySimulator],
    newer_gatt: bool,
    refuse: bool,
    notify_handle: int,
) -> None:
    sim = DalySimulator(ADDRESS, newer_gatt=newer_gatt, refuse_fff1_notify=refuse)
    ble_link[ADDRESS] = sim
    device = BLEDevice(ADDRESS, sim.advertising.name, None)
    transport = BleTransport(lambda: device, DalyDriver.gatt)
    client = BmsClient(DalyDriver(transport, DriverOptions(variant="d2")))
    snap = await client.read_snapshot()
    assert snap.voltage == pytest.approx(sim.pack.voltage, abs=0.05)
    assert sim.notify_handle == notify_handle
    await client.close()
    assert not sim.connected
