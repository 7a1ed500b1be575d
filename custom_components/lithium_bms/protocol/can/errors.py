"""What can go wrong on a CAN bus: the adapter, or a bus that stays silent."""

from __future__ import annotations

from ..errors import BmsConnectionError, BmsTimeoutError


class CanAdapterError(BmsConnectionError):
    """The CAN interface could not be opened, or failed while open."""


class CanNotFoundError(CanAdapterError):
    """No such interface or channel (not plugged in, wrong name)."""


class CanBusyError(CanAdapterError):
    """Another program holds the adapter."""


class CanPermissionError(CanAdapterError):
    """The adapter exists but may not be opened."""


class CanUnavailableError(CanAdapterError):
    """python-can has no such interface, or its driver library is missing."""


class CanSilenceError(BmsTimeoutError):
    """No complete Pylontech CAN reading was heard in time."""
