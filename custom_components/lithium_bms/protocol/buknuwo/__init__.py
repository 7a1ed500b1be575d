"""Buknuwo BMS (Modbus RTU over Bluetooth)."""

from .driver import BuknuwoDriver

DRIVER = BuknuwoDriver

__all__ = ["DRIVER", "BuknuwoDriver"]
