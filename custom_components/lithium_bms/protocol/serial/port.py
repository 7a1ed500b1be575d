"""Opening one serial port through serialx, with typed errors.

A port is a device path (``/dev/serial/by-id/...``) or a serialx URL
(``socket://host:port``, ``tcp://``, ``rfc2217://``). Failures become the
:class:`SerialPortError` subclasses of ``protocol/errors.py``.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import serialx

from ..errors import (
    InvalidPortError,
    PortBusyError,
    PortNotFoundError,
    PortPermissionError,
    PortUnreachableError,
    SerialPortError,
)

NETWORK_SCHEMES = ("socket://", "tcp://", "rfc2217://")

type DataHandler = Callable[[bytes], None]
type LostHandler = Callable[[Exception | None], None]


@dataclass(frozen=True, slots=True)
class PortSettings:
    """Where the port is and how its line is set (8N1 at 9600 by default)."""

    url: str
    baudrate: int = 9600
    parity: str = "N"
    stopbits: float = 1
    byte_size: int = 8
    connect_timeout: float = 5.0

    @property
    def is_network(self) -> bool:
        """Whether the port is reached over the network."""
        return self.url.startswith(NETWORK_SCHEMES)


class _Protocol(asyncio.Protocol):
    """Hands serialx's callbacks to the port's owner."""

    def __init__(self, on_data: DataHandler, on_lost: LostHandler) -> None:
        self._on_data = on_data
        self._on_lost = on_lost

    def data_received(self, data: bytes) -> None:
        self._on_data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._on_lost(exc)


def redacted(url: str) -> str:
    """``url`` without a user name or password, fit for a message or a log."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    port = f":{parts.port}" if parts.port is not None else ""
    return urlunsplit(parts._replace(netloc=f"{parts.hostname or ''}{port}"))


def port_error(settings: PortSettings, err: BaseException) -> SerialPortError:
    """The typed error for a failure to open ``settings.url``."""
    where = redacted(settings.url)
    if isinstance(err, FileNotFoundError):
        return PortNotFoundError(f"{where}: no such device")
    if isinstance(err, PermissionError):
        return PortPermissionError(f"{where}: permission denied")
    if isinstance(err, (ValueError, serialx.SerialException)):
        return InvalidPortError(f"{where}: {err}")
    if isinstance(err, (ConnectionError, TimeoutError, socket.gaierror)):
        return PortUnreachableError(f"{where}: {str(err) or type(err).__name__}")
    if isinstance(err, OSError) and err.errno == errno.EBUSY:
        return PortBusyError(f"{where}: in use by another program")
    return SerialPortError(f"{where}: {str(err) or type(err).__name__}")


async def open_port(
    settings: PortSettings, on_data: DataHandler, on_lost: LostHandler
) -> asyncio.WriteTransport:
    """Open the port; received bytes go to ``on_data``, its loss to ``on_lost``."""
    loop = asyncio.get_running_loop()
    extra: dict[str, Any] = {}
    if settings.is_network:
        extra["connect_timeout"] = settings.connect_timeout
    try:
        async with asyncio.timeout(settings.connect_timeout + 1):
            transport, _ = await serialx.create_serial_connection(
                loop,
                lambda: _Protocol(on_data, on_lost),
                settings.url,
                baudrate=settings.baudrate,
                parity=serialx.Parity(settings.parity),
                stopbits=serialx.StopBits(settings.stopbits),
                byte_size=settings.byte_size,
                exclusive=True,
                **extra,
            )
    except (OSError, ValueError, serialx.SerialException) as err:
        raise port_error(settings, err) from err
    return transport
