"""The serial transport over a real pseudo-terminal and over socket:// (TCP)."""

from __future__ import annotations

import errno
import socket
from collections.abc import AsyncIterator

import pytest

from bms_simulator.serial.bus import BusSimulator
from bms_simulator.serial.endpoints import PtyEndpoint, TcpEndpoint
from custom_components.lithium_bms.protocol.codecs import modbus, ydt1363
from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    InvalidPortError,
    PortBusyError,
    PortNotFoundError,
    PortPermissionError,
    PortUnreachableError,
    SerialPortError,
)
from custom_components.lithium_bms.protocol.serial.bus import SerialBus, frame_gap
from custom_components.lithium_bms.protocol.serial.port import (
    PortSettings,
    port_error,
    redacted,
)
from custom_components.lithium_bms.protocol.serial.transport import SerialTransport

from .serial_fixtures import ProbeDriver, loopback_sockets, modbus_packs, ydt_pack

__all__ = ["loopback_sockets"]


@pytest.fixture
async def pty() -> AsyncIterator[PtyEndpoint]:
    endpoint = PtyEndpoint(BusSimulator(modbus_packs()), lifetime=30)
    await endpoint.start()
    yield endpoint
    endpoint.stop()


@pytest.fixture
async def tcp() -> AsyncIterator[TcpEndpoint]:
    endpoint = TcpEndpoint(BusSimulator(modbus_packs()), lifetime=30)
    await endpoint.start()
    yield endpoint
    await endpoint.close()


def is_reply(frame: bytes) -> bool:
    return modbus.parse_response(frame).function == modbus.READ_HOLDING


async def read_two(driver: ProbeDriver) -> tuple[int, ...]:
    frame = await driver.exchange(modbus.read_request(driver.address, 0, 2), is_reply)
    return modbus.parse_response(frame).registers


async def test_a_driver_reads_over_a_real_pty(pty: PtyEndpoint) -> None:
    bus = SerialBus(PortSettings(pty.path, baudrate=19200))
    driver = ProbeDriver(SerialTransport(bus, hold=0.2), 1)
    await driver.connect()
    assert driver.transport.is_connected
    assert await read_two(driver) == (0x0101, 0x0102)
    await driver.transport.disconnect()
    assert not bus.is_open
    assert not driver.transport.is_connected


async def test_a_driver_reads_over_socket_url(tcp: TcpEndpoint) -> None:
    bus = SerialBus(PortSettings(tcp.url))
    driver = ProbeDriver(SerialTransport(bus, hold=0.2), 2)
    await driver.connect()
    assert await read_two(driver) == (0x0201, 0x0202)
    await driver.transport.disconnect()
    await driver.transport.disconnect()  # safe twice


async def test_a_ydt1363_pack_answers_over_the_pty() -> None:
    endpoint = PtyEndpoint(BusSimulator([ydt_pack(1), ydt_pack(2)]), lifetime=30)
    await endpoint.start()
    try:
        bus = SerialBus(PortSettings(endpoint.path))
        driver = ProbeDriver(SerialTransport(bus, hold=0.5), 2, text=True)
        await driver.connect()
        request = ydt1363.build_frame(0x25, 2, 0x46, 0x42, b"\x02")
        frame = await driver.exchange(request, lambda _: True)
        parsed = ydt1363.parse_frame(frame)
        assert (parsed.adr, parsed.cid2, parsed.info) == (2, 0, b"\x00\x02\x10")
        await driver.transport.disconnect()
    finally:
        endpoint.stop()


async def test_the_port_vanishing_disconnects_and_reopening_works(
    pty: PtyEndpoint,
) -> None:
    bus = SerialBus(PortSettings(pty.path))
    driver = ProbeDriver(SerialTransport(bus, hold=0.2), 1)
    await driver.connect()
    pty.stop()
    for _ in range(50):
        if not bus.is_open:
            break
        await __import__("asyncio").sleep(0.02)
    assert getattr(driver, "disconnects", 0) == 1
    assert not driver.transport.is_connected
    with pytest.raises(BmsConnectionError, match="not connected"):
        await driver.transport.write(b"\x01")
    with pytest.raises(PortNotFoundError):
        await driver.connect()


async def test_a_missing_device_path_is_typed() -> None:
    bus = SerialBus(PortSettings("/dev/serial/by-id/no-such-adapter"))
    with pytest.raises(PortNotFoundError, match="no such device"):
        await SerialTransport(bus).connect(lambda _: None, lambda: None)


async def test_a_refused_url_is_typed() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bus = SerialBus(PortSettings(f"socket://127.0.0.1:{port}", connect_timeout=2))
    with pytest.raises(PortUnreachableError):
        await SerialTransport(bus).connect(lambda _: None, lambda: None)


@pytest.mark.parametrize("url", ["bogus://x", "socket://no-port-here"])
async def test_a_malformed_url_is_typed(url: str) -> None:
    with pytest.raises(InvalidPortError):
        await SerialTransport(SerialBus(PortSettings(url))).connect(
            lambda _: None, lambda: None
        )


async def test_a_port_held_by_another_owner_is_busy(pty: PtyEndpoint) -> None:
    first = SerialTransport(SerialBus(PortSettings(pty.path)))
    await first.connect(lambda _: None, lambda: None)
    with pytest.raises(PortBusyError):
        await SerialTransport(SerialBus(PortSettings(pty.path))).connect(
            lambda _: None, lambda: None
        )
    await first.disconnect()


def test_os_errors_map_to_their_types() -> None:
    settings = PortSettings("/dev/ttyUSB0")
    assert isinstance(
        port_error(settings, PermissionError(13, "")), PortPermissionError
    )
    busy = OSError(errno.EBUSY, "busy")
    assert isinstance(port_error(settings, busy), PortBusyError)
    other = port_error(settings, OSError(errno.EIO, "io"))
    assert type(other) is SerialPortError
    assert isinstance(port_error(settings, TimeoutError()), PortUnreachableError)
    assert str(port_error(settings, TimeoutError())).endswith("TimeoutError")


def test_settings_and_gaps() -> None:
    assert PortSettings("rfc2217://10.0.0.1:4000").is_network
    assert not PortSettings("/dev/ttyUSB0").is_network
    assert frame_gap(9600) == pytest.approx(3.5 * 11 / 9600)
    assert frame_gap(115200) == 0.00175


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("/dev/serial/by-id/usb-FTDI-if00", "/dev/serial/by-id/usb-FTDI-if00"),
        ("socket://10.0.0.7:8899", "socket://10.0.0.7:8899"),
        ("rfc2217://admin:secret@bridge.lan:4001", "rfc2217://bridge.lan:4001"),
        ("socket://token@10.0.0.7:8899", "socket://10.0.0.7:8899"),
    ],
)
def test_a_port_is_named_without_its_credentials(url: str, shown: str) -> None:
    assert redacted(url) == shown
