"""Seplos V2 and V3 drivers on a real pty and on socket://: scan, read, listen."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Sequence

import pytest

from bms_simulator.families.seplos import (
    SeplosV2Pack,
    SeplosV3Pack,
    demo_pack,
    v3_master_polls,
)
from bms_simulator.pack import PackModel
from bms_simulator.serial.bus import BusSimulator
from bms_simulator.serial.endpoints import PtyEndpoint, TcpEndpoint
from bms_simulator.serial.responders import Responder
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    BmsTimeoutError,
    BusOwnedError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.registry import wired_protocol
from custom_components.lithium_bms.protocol.seplos import SeplosDriver
from custom_components.lithium_bms.protocol.serial.bus import SerialBus
from custom_components.lithium_bms.protocol.serial.port import PortSettings
from custom_components.lithium_bms.protocol.serial.transport import SerialTransport
from custom_components.lithium_bms.protocol.snapshot import (
    Alarm,
    BatterySnapshot,
    SwitchKind,
)
from custom_components.lithium_bms.protocol.wired import (
    WiredProtocol,
    scan_bus,
    wired_client,
)

from .serial_fixtures import loopback_sockets

__all__ = ["loopback_sockets"]

# Short, for silent addresses; long enough for an answer on a loaded machine.
V2 = dataclasses.replace(wired_protocol("seplos_v2"), reply_timeout=0.6)
V3 = dataclasses.replace(
    wired_protocol("seplos_v3"), reply_timeout=0.6, listen_window=0.6
)
POLL_INTERVAL = 0.01


def assert_matches(snapshot: BatterySnapshot, pack: PackModel) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.006)
    assert snapshot.current == pytest.approx(pack.current)
    assert snapshot.state_of_charge == pytest.approx(pack.soc)
    assert snapshot.state_of_health == pytest.approx(pack.state_of_health)
    assert snapshot.remaining_capacity == pytest.approx(
        pack.remaining_capacity, abs=0.006
    )
    assert snapshot.full_capacity == pytest.approx(pack.full_capacity)
    assert snapshot.cycles == pack.cycles
    probes = [*pack.temperatures[:5], pack.mosfet_temperature]
    assert [t.value for t in snapshot.temperatures] == pytest.approx(probes)
    assert snapshot.charge_mosfet is pack.charge_fet
    assert snapshot.discharge_mosfet is pack.discharge_fet
    assert snapshot.balancing_cells == frozenset(pack.balancing_cells)
    assert snapshot.alarms == {Alarm(a) for a in pack.alarms}


async def on_pty(sim: BusSimulator) -> AsyncIterator[tuple[BusSimulator, SerialBus]]:
    endpoint = PtyEndpoint(sim, lifetime=30)
    await endpoint.start()
    bus = SerialBus(PortSettings(endpoint.path, baudrate=19200))
    yield sim, bus
    await bus.close()
    endpoint.stop()


async def on_tcp(sim: BusSimulator) -> AsyncIterator[tuple[BusSimulator, SerialBus]]:
    endpoint = TcpEndpoint(sim, lifetime=30)
    await endpoint.start()
    bus = SerialBus(PortSettings(endpoint.url, baudrate=19200))
    yield sim, bus
    await bus.close()
    await endpoint.close()


@pytest.fixture(params=["pty", "tcp"])
def endpoint(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def line(
    endpoint: str, packs: Sequence[Responder]
) -> AsyncIterator[tuple[BusSimulator, SerialBus]]:
    sim = BusSimulator(packs)
    return on_pty(sim) if endpoint == "pty" else on_tcp(sim)


async def test_v2_scan_finds_the_packs_at_adr_1_and_2(endpoint: str) -> None:
    packs = [SeplosV2Pack(a, demo_pack(a)) for a in (1, 2)]
    async for sim, bus in line(endpoint, packs):
        result = await scan_bus(bus, V2, (0, 1, 2, 3))
        assert not result.listening
        assert [p.address for p in result.packs] == [1, 2]
        for found, pack in zip(result.packs, packs, strict=True):
            assert found.info.model == "1101-SP15"
            assert found.info.sw_version == "2.7"
            assert found.cells == 16
            assert_matches(found.snapshot, pack.pack)
        assert sim.received  # asked as master


async def test_v3_scan_as_master_finds_the_packs_at_1_2_3(endpoint: str) -> None:
    packs = [SeplosV3Pack(a, demo_pack(a)) for a in (1, 2, 3)]
    async for _, bus in line(endpoint, packs):
        result = await scan_bus(bus, V3, (1, 2, 3, 4))
        assert not result.listening
        assert [p.address for p in result.packs] == [1, 2, 3]
        for found, pack in zip(result.packs, packs, strict=True):
            assert found.info.model == "SG16S200A-SP57B-A"
            assert found.info.sw_version == "1.5"
            assert found.info.serial_number == f"SIM{pack.address:04d}"
            assert_matches(found.snapshot, pack.pack)


async def master_polls(sim: BusSimulator, addresses: tuple[int, ...]) -> None:
    await sim.master(*v3_master_polls(addresses), interval=POLL_INTERVAL, count=60)


async def test_v3_scan_hears_the_master_and_reads_by_listening(endpoint: str) -> None:
    packs = [SeplosV3Pack(a, demo_pack(a)) for a in (1, 2, 3)]
    packs[1].pack.alarms = {"cell_overvoltage"}
    packs[2].pack.balancing_cells = {3, 4}
    async for sim, bus in line(endpoint, packs):
        master = asyncio.ensure_future(master_polls(sim, (1, 2, 3)))
        try:
            result = await scan_bus(bus, V3, (1, 2, 3, 4))
        finally:
            master.cancel()
        assert result.listening
        assert [p.address for p in result.packs] == [1, 2, 3]
        for found, pack in zip(result.packs, packs, strict=True):
            assert found.info.manufacturer == "Seplos"
            assert_matches(found.snapshot, pack.pack)
        assert sim.received == b""  # not one byte sent


async def test_v3_a_listener_publishes_only_its_own_pack(endpoint: str) -> None:
    packs = [SeplosV3Pack(a, demo_pack(a)) for a in (1, 2, 3)]
    async for sim, bus in line(endpoint, packs):
        master = asyncio.ensure_future(master_polls(sim, (1, 2, 3)))
        two = wired_client(bus, V3, 2, listen=True)
        absent = wired_client(bus, V3, 4, listen=True)
        try:
            snapshot = await two.read_snapshot()
            with pytest.raises(BmsTimeoutError):
                await absent.read_snapshot()
        finally:
            master.cancel()
            await two.close()
            await absent.close()
        assert_matches(snapshot, packs[1].pack)
        heard = [bytes.fromhex(f) for d, f in two.frame_log if d == "rx"]
        assert heard
        assert all(f[0] == 2 and f[8] == 2 for f in heard)
        assert not [f for d, f in absent.frame_log if d == "rx"]
        assert not [f for d, f in two.frame_log if d == "tx"]
        assert sim.received == b""


async def test_switching_while_listening_raises_bus_owned() -> None:
    packs = [SeplosV3Pack(1, demo_pack(1))]
    async for sim, bus in line("pty", packs):
        client = wired_client(bus, V3, 1, listen=True)
        for kind in SwitchKind:
            with pytest.raises(BusOwnedError):
                await client.set_switch(kind, False)
        await client.close()
        assert sim.received == b""


async def test_as_master_seplos_is_read_only() -> None:
    packs = [SeplosV2Pack(1, demo_pack(1))]
    async for sim, bus in line("pty", packs):
        client = wired_client(bus, V2, 1, listen=False)
        with pytest.raises(UnsupportedError):
            await client.set_switch(SwitchKind.CHARGE, False)
        await client.close()
        assert sim.received == b""


@pytest.mark.parametrize("protocol", [V2, V3], ids=["v2", "v3"])
async def test_a_pack_that_does_not_answer_times_out(protocol: WiredProtocol) -> None:
    packs: list[Responder] = [
        SeplosV2Pack(1, demo_pack(1)),
        SeplosV3Pack(1, demo_pack(1)),
    ]
    async for _, bus in line("pty", packs):
        client = wired_client(bus, protocol, 5, listen=False)
        with pytest.raises(BmsTimeoutError):
            await client.read_snapshot()
        await client.close()


@pytest.mark.parametrize("name", ["cell_undervoltage", "short_circuit", "soc_low"])
async def test_v2_alarms_and_fets_over_the_wire(name: str) -> None:
    pack = SeplosV2Pack(3, demo_pack(3))
    pack.pack.alarms = {name}
    pack.pack.balancing_cells = {16}
    async for _, bus in line("tcp", [pack]):
        client = wired_client(bus, V2, 3, listen=False)
        snapshot = await client.read_snapshot()
        await client.close()
    assert_matches(snapshot, pack.pack)
    assert snapshot.problem
    assert Alarm(name) in snapshot.supported_alarms


async def test_the_via_reply_is_redacted_from_the_frame_log() -> None:
    async for _, bus in line("pty", [SeplosV3Pack(1, demo_pack(1))]):
        client = wired_client(bus, V3, 1, listen=False)
        info = await client.read_device_info()
        await client.close()
    assert info.serial_number == "SIM0001"
    received = [f for d, f in client.frame_log if d == "rx"]
    assert received == ["redacted (107 bytes)"]


def test_a_wired_seplos_driver_needs_its_variant() -> None:
    transport = SerialTransport(SerialBus(PortSettings("/dev/null")))
    with pytest.raises(UnsupportedError):
        SeplosDriver(transport, DriverOptions(bus_address=1))
    # Without a bus address the pack is on Bluetooth: its stored variant,
    # or none until the probe tells.
    assert SeplosDriver(transport, DriverOptions(variant="v2")).variant == "v2"
    assert SeplosDriver(transport, DriverOptions()).variant is None
    driver = SeplosDriver(transport, DriverOptions(variant="v3", bus_address=1))
    assert driver.variant == "v3"
    assert driver.limits.max_cells == 16
