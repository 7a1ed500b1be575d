"""Errors raised by the protocol package.

Every failure a driver can meet is a :class:`BmsError`; callers never need to
catch anything else.
"""

from __future__ import annotations


class BmsError(Exception):
    """Base class of every error of this package."""


class ProtocolError(BmsError):
    """Bytes that do not form a valid frame of the family's protocol."""


class ChecksumError(ProtocolError):
    """A frame whose checksum or CRC does not match its content."""


class FrameError(ProtocolError):
    """A frame with a wrong length, header, terminator or field."""


class BmsTimeoutError(BmsError):
    """The BMS did not answer in time."""


class BmsConnectionError(BmsError):
    """The link to the BMS could not be made or was lost."""


class AuthenticationError(BmsError):
    """The BMS refused the password, or needs one that was not given."""


class PairingRequiredError(BmsError):
    """The BMS needs Bluetooth pairing (bonding), which must be done on the host."""


class CommandNotConfirmedError(BmsError):
    """A control command was sent but the read-back does not show its effect."""


class UnsupportedError(BmsError):
    """The BMS or its protocol variant does not support the request."""


class BusOwnedError(UnsupportedError):
    """Another master owns the wired bus: we only listen, so we may not send."""


class CommandUnverifiableError(CommandNotConfirmedError):
    """A command was sent, but the BMS shows nothing that confirms it.

    For example an "off" while a protection already holds that MOSFET off, on a
    BMS that reports no setting apart from the MOSFET state.
    """


class SerialPortError(BmsConnectionError):
    """A serial port (local device or network URL) that could not be opened."""


class PortNotFoundError(SerialPortError):
    """The device path does not exist (adapter unplugged or a wrong path)."""


class PortBusyError(SerialPortError):
    """Another process, or another bus of this one, holds the port."""


class PortPermissionError(SerialPortError):
    """The process may not open the device (group ``dialout`` missing)."""


class PortUnreachableError(SerialPortError):
    """A ``socket://``, ``tcp://`` or ``rfc2217://`` URL that does not connect."""


class InvalidPortError(SerialPortError):
    """A URL of an unknown scheme or without its host and port."""
