"""The Seplos driver over Bluetooth (V3 Modbus through FFF0), against the simulator."""

from __future__ import annotations

import pytest

from bms_simulator.families.seplos import V3_ALARM_BITS, SeplosV3Ble, demo
from custom_components.lithium_bms.protocol.codecs import modbus
from custom_components.lithium_bms.protocol.seplos import SeplosDriver

from .sim_clients import MakeClient, SimClients
from .test_seplos_driver import assert_matches

ADDRESS = "C0:D6:3C:00:11:22"


@pytest.fixture(autouse=True)
def fast_seplos(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(SeplosDriver, "request_timeout", 0.2)
    monkeypatch.setattr(SeplosDriver, "connect_delay", 0.0)


@pytest.fixture
def sim() -> SeplosV3Ble:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: SeplosV3Ble) -> MakeClient:
    # The variant as stored for a known pack.
    return sim_clients.maker(SeplosDriver, sim, address=ADDRESS, variant="v3")


async def test_snapshot_equals_the_pack(
    sim: SeplosV3Ble, make_client: MakeClient
) -> None:
    client = make_client()
    assert client.driver.variant == "v3"
    assert_matches(await client.read_snapshot(), sim.pack)
    sim.pack.current = 7.25
    sim.pack.balancing_cells = {2, 11}
    sim.pack.charge_enabled = False
    assert_matches(await client.read_snapshot(), sim.pack)


async def test_device_info_and_redacted_serial(make_client: MakeClient) -> None:
    client = make_client()
    info = await client.read_device_info()
    assert info.manufacturer == "Seplos"
    assert info.model == "SG16S200A-SP57B-A"
    assert info.serial_number == "SIM0001"
    received = [f for d, f in client.frame_log if d == "rx"]
    assert received == ["redacted (107 bytes)"]


@pytest.mark.parametrize("alarm", sorted(V3_ALARM_BITS))
async def test_each_alarm(
    sim: SeplosV3Ble, make_client: MakeClient, alarm: str
) -> None:
    sim.pack.alarms = {alarm}
    snap = await make_client().read_snapshot()
    assert_matches(snap, sim.pack)


async def test_the_requests_are_the_ble_readers_own(
    sim: SeplosV3Ble, make_client: MakeClient
) -> None:
    """PIA (0x11 registers), PIB and PIC of device 0x01, then EIA of device 0x00.

    A single pack's master reports one pack: nothing else is asked.
    """
    await make_client().read_snapshot()
    assert [w.hex() for w in sim.writes] == [
        "01041000001134c6",  # the captured request (seplos_vectors.json)
        modbus.read_request(1, 0x1100, 0x1A, modbus.READ_INPUT).hex(),
        modbus.read_request(1, 0x1200, 0x90, modbus.READ_COILS).hex(),
        "00042000001a7bd0",  # the captured EIA request (seplos_vectors.json)
    ]
