"""Gobel Power BLE BMS (Modbus RTU over Bluetooth)."""

from .driver import GobelDriver

DRIVER = GobelDriver

__all__ = ["DRIVER", "GobelDriver"]
