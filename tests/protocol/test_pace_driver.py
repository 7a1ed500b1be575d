"""The PACE driver on a simulated RS485 bus, over a real pty and over socket://."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from bms_simulator.families.pace import PaceResponder, wired_demo
from bms_simulator.serial.bus import BusSimulator
from bms_simulator.serial.endpoints import PtyEndpoint, TcpEndpoint
from bms_simulator.serial.responders import Responder, ydt_frame
from custom_components.lithium_bms.protocol.errors import (
    BmsTimeoutError,
    BusOwnedError,
    CommandNotConfirmedError,
    CommandUnverifiableError,
    FrameError,
)
from custom_components.lithium_bms.protocol.pace import WIRED
from custom_components.lithium_bms.protocol.registry import wired_protocol
from custom_components.lithium_bms.protocol.serial.bus import SerialBus
from custom_components.lithium_bms.protocol.serial.port import PortSettings
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    SwitchKind,
    TemperatureKind,
)
from custom_components.lithium_bms.protocol.wired import (
    WiredProtocol,
    scan_bus,
    wired_client,
)

from .serial_fixtures import loopback_sockets

__all__ = ["loopback_sockets"]

FAST = dataclasses.replace(
    WIRED[0], reply_timeout=0.4, probe_timeout=0.4, listen_window=0.05
)


def packs(*addresses: int) -> list[PaceResponder]:
    responders = [wired_demo(a) for a in addresses]
    for i, responder in enumerate(responders):
        responder.pack.soc = 40.0 + 10 * i
        responder.pack.cycles = 7 + i
    return responders


def assert_equals_pack(snapshot: BatterySnapshot, responder: PaceResponder) -> None:
    pack = responder.pack
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.001)
    assert snapshot.current == pack.current
    assert [t.value for t in snapshot.temperatures] == [
        *pack.temperatures,
        pack.mosfet_temperature,
        responder.ambient,
    ]
    assert snapshot.mosfet_temperature == pack.mosfet_temperature
    assert snapshot.temperatures[-1].kind is TemperatureKind.AMBIENT
    assert snapshot.state_of_charge == pack.soc
    assert snapshot.remaining_capacity == pack.remaining_capacity
    assert snapshot.full_capacity == pack.full_capacity
    assert snapshot.design_capacity == pack.design_capacity
    assert snapshot.state_of_health == 100.0
    assert snapshot.cycles == pack.cycles
    assert snapshot.charge_mosfet is pack.charge_fet
    assert snapshot.discharge_mosfet is pack.discharge_fet
    assert {a.value for a in snapshot.alarms} == pack.alarms
    assert snapshot.balancing_cells == frozenset(pack.balancing_cells)


@pytest.fixture(params=["pty", "tcp"])
async def line(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[BusSimulator, SerialBus]]:
    sim = BusSimulator(packs(1, 2, 3))
    if request.param == "pty":
        pty = PtyEndpoint(sim, lifetime=30)
        bus = SerialBus(PortSettings(await pty.start(), FAST.baudrate))
        yield sim, bus
        await bus.close()
        pty.stop()
    else:
        tcp = TcpEndpoint(sim, lifetime=30)
        bus = SerialBus(PortSettings(await tcp.start(), FAST.baudrate))
        yield sim, bus
        await bus.close()
        await tcp.close()


def responder(sim: BusSimulator, address: int) -> PaceResponder:
    found = next(r for r in sim.responders if r.address == address)
    assert isinstance(found, PaceResponder)
    return found


async def test_scan_finds_the_three_packs_and_not_the_absent_ones(
    line: tuple[BusSimulator, SerialBus],
) -> None:
    sim, bus = line
    result = await scan_bus(bus, FAST, range(6))
    assert not result.listening
    assert [p.address for p in result.packs] == [1, 2, 3]
    for found in result.packs:
        assert_equals_pack(found.snapshot, responder(sim, found.address))
        assert found.cells == 16
        assert found.info.model == "P16S100A"
        assert found.info.serial_number == f"SIM-PACE-{found.address:02d}"
    assert not bus.is_open


async def test_a_silent_address_costs_the_scan_one_request(
    line: tuple[BusSimulator, SerialBus],
) -> None:
    sim, bus = line
    result = await scan_bus(bus, FAST, range(16))
    assert [p.address for p in result.packs] == [1, 2, 3]
    # The scan's time is in the benchmark; here: one request per absent pack.
    asked = [int(frame[3:5], 16) for frame in bytes(sim.received).split(b"\r") if frame]
    for address in set(range(16)) - {1, 2, 3}:
        assert asked.count(address) == 1


async def test_alarms_and_balancing_reach_the_snapshot(
    line: tuple[BusSimulator, SerialBus],
) -> None:
    sim, bus = line
    pack = responder(sim, 2)
    pack.pack.alarms = {"charge_overtemperature", "hardware_fault", "soc_low"}
    pack.pack.balancing_cells = {2, 10}
    client = wired_client(bus, FAST, 2, listen=False)
    try:
        snapshot = await client.read_snapshot()
    finally:
        await client.close()
    assert_equals_pack(snapshot, pack)
    assert snapshot.problem
    assert snapshot.charge_mosfet is False  # held off by the protection
    assert snapshot.switches == {SwitchKind.CHARGE: False, SwitchKind.DISCHARGE: True}


class Impostor(Responder):
    """Answers requests to ``address`` from ``other`` or for another pack."""

    def __init__(self, address: int, frame: bytes) -> None:
        self.address = address
        self.frame = frame

    def request_length(self, buf: bytes) -> int | None:
        end = buf.find(b"\r")
        return 0 if buf[:1] != b"~" else (None if end < 0 else end + 1)

    def answer(self, request: bytes) -> bytes | None:
        return self.frame if int(request[3:5], 16) == self.address else None


@pytest.mark.parametrize(
    "frame",
    [
        # A good reply of pack 4 to a request for pack 5.
        lambda: ydt_frame(0x25, 4, 0x46, 0, wired_demo(4).analog()),
        # ADR 5, but the INFO says pack 4.
        lambda: ydt_frame(0x25, 5, 0x46, 0, wired_demo(4).analog()),
    ],
    ids=["another ADR", "another pack number"],
)
async def test_a_reply_for_another_pack_is_never_published(
    line: tuple[BusSimulator, SerialBus], frame: object
) -> None:
    sim, bus = line
    assert callable(frame)
    sim.responders.insert(0, Impostor(5, frame()))
    client = wired_client(bus, FAST, 5, listen=False)
    try:
        with pytest.raises((BmsTimeoutError, FrameError)):
            await client.read_snapshot()
    finally:
        await client.close()


@pytest.mark.parametrize("knobs", [{"echo": True}, {"noise": b"\x00\xff~25\r"}])
async def test_echo_and_noise_are_dropped(knobs: dict[str, object]) -> None:
    sim = BusSimulator(packs(1), **knobs)  # type: ignore[arg-type]
    pty = PtyEndpoint(sim, lifetime=30)
    bus = SerialBus(PortSettings(await pty.start(), FAST.baudrate))
    client = wired_client(bus, FAST, 1, listen=False)
    try:
        assert_equals_pack(await client.read_snapshot(), responder(sim, 1))
    finally:
        await client.close()
        pty.stop()


async def test_a_collision_is_refused_and_the_next_read_works() -> None:
    sim = BusSimulator(packs(1), collide_every=1)
    pty = PtyEndpoint(sim, lifetime=30)
    bus = SerialBus(PortSettings(await pty.start(), FAST.baudrate))
    client = wired_client(bus, FAST, 1, listen=False)
    try:
        with pytest.raises(FrameError):  # the garbled reply, never a value
            await client.read_snapshot()
        assert sim.collisions
        sim.collide_every = 0
        assert_equals_pack(await client.read_snapshot(), responder(sim, 1))
    finally:
        await client.close()
        pty.stop()


async def test_a_master_on_the_bus_stops_the_scan() -> None:
    sim = BusSimulator(packs(1))
    pty = PtyEndpoint(sim, lifetime=30)
    bus = SerialBus(PortSettings(await pty.start(), FAST.baudrate))
    poll = ydt_frame(0x25, 1, 0x46, 0x42, b"\x01")
    task = asyncio.ensure_future(sim.master(poll, interval=0.01, count=30))
    try:
        with pytest.raises(BusOwnedError):
            await scan_bus(bus, FAST, [1])
    finally:
        task.cancel()
        pty.stop()


async def test_switching_is_confirmed_by_the_read_back(
    line: tuple[BusSimulator, SerialBus],
) -> None:
    sim, bus = line
    pack = responder(sim, 3).pack
    client = wired_client(bus, FAST, 3, listen=False)
    try:
        off = await client.set_switch(SwitchKind.CHARGE, False)
        assert off.charge_mosfet is False
        assert pack.charge_enabled is False
        # PACE keeps one MOSFET on: the BMS refuses the second "off".
        with pytest.raises(CommandNotConfirmedError, match="RTN 0x09"):
            await client.set_switch(SwitchKind.DISCHARGE, False)
        assert pack.discharge_enabled is True
        on = await client.set_switch(SwitchKind.CHARGE, True)
        assert on.charge_mosfet is True
        pack.alarms = {"charge_overcurrent"}
        await client.set_switch(SwitchKind.CHARGE, False)
        with pytest.raises(CommandUnverifiableError):
            await client.set_switch(SwitchKind.CHARGE, True)
    finally:
        await client.close()


async def test_a_listening_driver_never_switches() -> None:
    bus = SerialBus(PortSettings("/dev/null-never-opened"))
    client = wired_client(bus, FAST, 1, listen=True)
    with pytest.raises(BusOwnedError):
        await client.driver.set_switch(SwitchKind.CHARGE, True)
    assert not bus.is_open


def test_the_protocol_is_registered() -> None:
    protocol = wired_protocol("pace")
    assert isinstance(protocol, WiredProtocol)
    assert protocol.family == "pace"
    assert protocol.baudrate == 9600
    assert protocol.addresses == tuple(range(17))
    assert not protocol.listens
