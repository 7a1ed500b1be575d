"""Translation keys for what can go wrong with a serial port."""

from __future__ import annotations

from ..protocol.errors import (
    InvalidPortError,
    PortBusyError,
    PortNotFoundError,
    PortPermissionError,
    PortUnreachableError,
    SerialPortError,
)

PORT_ERROR_KEYS: tuple[tuple[type[SerialPortError], str], ...] = (
    (PortNotFoundError, "port_not_found"),
    (PortBusyError, "port_busy"),
    (PortPermissionError, "port_permission"),
    (PortUnreachableError, "port_unreachable"),
    (InvalidPortError, "invalid_port"),
)


def port_error_key(err: SerialPortError) -> str:
    """The translation key that explains ``err`` (config errors and exceptions)."""
    for kind, key in PORT_ERROR_KEYS:
        if isinstance(err, kind):
            return key
    return "cannot_open_port"
