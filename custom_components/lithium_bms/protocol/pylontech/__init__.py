"""Pylontech RT series batteries over Bluetooth (Modbus RTU, read only)."""

from .driver import PylontechDriver

DRIVER = PylontechDriver

__all__ = ["DRIVER", "PylontechDriver"]
