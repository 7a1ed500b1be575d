"""The shared serial bus: turns, gaps, echo, noise, collisions, recovery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bms_simulator.serial.bus import BusSimulator
from bms_simulator.serial.endpoints import PtyEndpoint, TcpEndpoint
from bms_simulator.serial.responders import modbus_crc
from custom_components.lithium_bms.protocol.codecs import modbus
from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    BmsError,
    BmsTimeoutError,
    ChecksumError,
    PortBusyError,
    PortUnreachableError,
)
from custom_components.lithium_bms.protocol.serial.bus import (
    SerialBus,
    forget_bus,
    shared_bus,
)
from custom_components.lithium_bms.protocol.serial.echo import EchoFilter
from custom_components.lithium_bms.protocol.serial.port import PortSettings
from custom_components.lithium_bms.protocol.serial.transport import SerialTransport

from .serial_fixtures import ProbeDriver, loopback_sockets, modbus_packs

__all__ = ["loopback_sockets"]
HOLD = 0.15


def is_reply(frame: bytes) -> bool:
    return not modbus.parse_response(frame).is_exception


async def read(driver: ProbeDriver, start: int = 0) -> tuple[int, ...]:
    request = modbus.read_request(driver.address, start, 1)
    return modbus.parse_response(await driver.exchange(request, is_reply)).registers


async def pty_bus(
    sim: BusSimulator, *, echo: bool | None = None
) -> tuple[PtyEndpoint, SerialBus]:
    endpoint = PtyEndpoint(sim, lifetime=30)
    await endpoint.start()
    return endpoint, SerialBus(PortSettings(endpoint.path, baudrate=19200), echo=echo)


async def drivers(bus: SerialBus, *addresses: int) -> list[ProbeDriver]:
    found = [ProbeDriver(SerialTransport(bus, hold=HOLD), a) for a in addresses]
    for driver in found:
        await driver.connect()
    return found


@pytest.fixture
async def line() -> AsyncIterator[tuple[BusSimulator, PtyEndpoint, SerialBus]]:
    sim = BusSimulator(modbus_packs())
    endpoint, bus = await pty_bus(sim)
    yield sim, endpoint, bus
    await bus.close()
    endpoint.stop()


async def test_two_addresses_are_serialised(
    line: tuple[BusSimulator, PtyEndpoint, SerialBus],
) -> None:
    sim, _, bus = line
    one, two = await drivers(bus, 1, 2)

    async def loop(driver: ProbeDriver) -> list[tuple[int, ...]]:
        return [await read(driver, i % 2) for i in range(4)]

    first, second = await asyncio.gather(loop(one), loop(two))
    assert first == [(0x0101,), (0x0102,)] * 2
    assert second == [(0x0201,), (0x0202,)] * 2
    # The line carried whole requests one after another, never interleaved.
    sent = bytes(sim.received)
    assert len(sent) == 8 * 8
    for at in range(0, len(sent), 8):
        assert modbus.crc_ok(sent[at : at + 8])
    assert all(f[0] == 1 for f in one.published)
    assert all(f[0] == 2 for f in two.published)


async def test_a_turn_released_early_lets_the_next_go_at_once(
    line: tuple[BusSimulator, PtyEndpoint, SerialBus],
) -> None:
    _, _, bus = line
    one, two = await drivers(bus, 1, 2)
    transport = one.transport
    assert isinstance(transport, SerialTransport)
    transport.hold = 30.0
    await read(one)
    transport.release()
    assert await asyncio.wait_for(read(two), 2) == (0x0201,)


@pytest.mark.parametrize("echo", [True, None])
async def test_the_echo_is_dropped(echo: bool | None) -> None:
    sim = BusSimulator(modbus_packs(), echo=True)
    endpoint, bus = await pty_bus(sim, echo=echo)
    try:
        (one,) = await drivers(bus, 1)
        assert await read(one) == (0x0101,)
        assert await read(one, 1) == (0x0102,)
        assert bus.echo is True
        assert bus.stats.echo_bytes == 16
    finally:
        await bus.close()
        endpoint.stop()


async def test_noise_before_a_reply_is_resynced_never_decoded() -> None:
    reply = modbus.with_crc(bytes.fromhex("01030201ff"))
    sim = BusSimulator(modbus_packs(), noise=b"\x01\x03\x02\xff" + reply[:5])
    endpoint, bus = await pty_bus(sim, echo=False)
    try:
        (one,) = await drivers(bus, 1)
        for _ in range(3):
            assert await read(one) == (0x0101,)
        assert one.published == [one.published[0]] * 3
        assert modbus.parse_response(one.published[0]).registers == (0x0101,)
    finally:
        await bus.close()
        endpoint.stop()


async def test_a_collision_is_never_published_and_the_retry_works() -> None:
    sim = BusSimulator(modbus_packs(), collide_every=2)
    endpoint, bus = await pty_bus(sim)
    try:
        (one,) = await drivers(bus, 1)
        outcomes: list[object] = []
        for _ in range(4):
            try:
                outcomes.append(await read(one))
            except BmsError as err:
                outcomes.append(type(err))
        assert sim.collisions == 2
        assert outcomes.count((0x0101,)) == 2
        assert set(outcomes) <= {(0x0101,), BmsTimeoutError, ChecksumError}
        assert all(modbus.crc_ok(f) for f in one.published)
        assert len(one.published) == 2
    finally:
        await bus.close()
        endpoint.stop()


async def test_another_master_owns_the_bus_and_its_frames_are_not_ours(
    line: tuple[BusSimulator, PtyEndpoint, SerialBus],
) -> None:
    sim, _, bus = line
    one, two = await drivers(bus, 1, 2)
    master = asyncio.ensure_future(
        sim.master(modbus.read_request(5, 0, 1), interval=0.01, count=40)
    )
    results = []
    for _ in range(4):
        try:
            results.append(await read(one))
        except BmsError:
            results.append(None)  # a collision with the master
        await asyncio.sleep(0.02)
    await master
    assert (0x0101,) in results
    assert all(f[0] == 1 for f in one.published)
    assert two.published == []


async def test_bytes_outside_a_turn_are_dropped(
    line: tuple[BusSimulator, PtyEndpoint, SerialBus],
) -> None:
    sim, _, bus = line
    (one,) = await drivers(bus, 1)
    with pytest.raises(BmsConnectionError, match="still open"):
        forget_bus(bus)
    await sim.master(modbus.read_request(5, 0, 1), interval=0.01, count=2)
    await asyncio.sleep(0.05)
    assert bus.stats.stray_bytes == 2 * (8 + 7)
    assert one.published == []


async def test_the_tcp_server_going_away_and_coming_back() -> None:
    endpoint = TcpEndpoint(BusSimulator(modbus_packs()), lifetime=30)
    await endpoint.start()
    bus = SerialBus(PortSettings(endpoint.url, connect_timeout=2))
    try:
        (one,) = await drivers(bus, 1)
        # This test is about the server going away, not reply timing: a CI
        # machine running three test runs on two cores once missed 1 s.
        one.request_timeout = 3.0
        assert await read(one) == (0x0101,)
        await endpoint.stop()
        for _ in range(100):
            if getattr(one, "disconnects", 0):
                break
            await asyncio.sleep(0.02)
        assert one.disconnects == 1
        with pytest.raises(PortUnreachableError):
            await one.connect()
        await endpoint.start()
        await one.connect()
        assert await read(one) == (0x0101,)
        assert (bus.stats.opens, bus.stats.losses, endpoint.connections) == (2, 1, 2)
    finally:
        await bus.close()
        await endpoint.close()


async def test_one_bus_per_port() -> None:
    settings = PortSettings("socket://127.0.0.1:9")
    bus = shared_bus(settings)
    assert shared_bus(settings) is bus
    with pytest.raises(PortBusyError, match="other settings"):
        shared_bus(PortSettings(settings.url, baudrate=19200))
    forget_bus(bus)
    assert shared_bus(settings) is not bus
    forget_bus(shared_bus(settings))


async def test_a_failed_open_gives_the_turn_back() -> None:
    opened: list[int] = []

    async def refuse(*_: object) -> asyncio.WriteTransport:
        opened.append(1)
        raise PortUnreachableError("down")

    bus = SerialBus(PortSettings("socket://127.0.0.1:9"), opener=refuse)
    transport = SerialTransport(bus)
    with pytest.raises(PortUnreachableError):
        await bus.send(transport, b"x")
    with pytest.raises(PortUnreachableError):
        await asyncio.wait_for(bus.send(transport, b"x"), 1)
    assert opened == [1, 1]
    with pytest.raises(BmsConnectionError, match="not connected"):
        await transport.write(b"x")


def test_the_echo_filter() -> None:
    learning = EchoFilter()
    learning.wrote(b"\x01\x03\x00\x00")
    assert learning.filter(b"\x01\x03") == b""
    assert learning.filter(b"\x02\x00") == b"\x01\x03\x02\x00"  # no echo: handed on
    assert learning.mode is False
    learning.wrote(b"abc")
    assert learning.filter(b"abc") == b"abc"
    echoing = EchoFilter(True)
    echoing.wrote(b"abcd")
    assert echoing.filter(b"abXYZ") == b"XYZ"  # our bytes, garbled: a collision
    echoing.wrote(b"ab")
    assert echoing.filter(b"abreply") == b"reply"
    echoing.wrote(b"ab")
    echoing.reset()
    assert echoing.filter(b"ab") == b"ab"


def test_the_simulator_crc_agrees_with_the_codec() -> None:
    assert modbus_crc(b"\x02\x07") == modbus.crc16(b"\x02\x07")
