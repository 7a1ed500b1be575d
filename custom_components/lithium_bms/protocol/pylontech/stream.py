"""Pylontech RT frames from the notifications: Modbus replies of device 0x01.

The shared Modbus scanner with one address and one function (0x03 and its
exception reply); a candidate refused by its CRC never hides the next reply.
"""

from __future__ import annotations

from ..codecs import modbus
from .frames import DEVICE


class PylontechReassembler(modbus.ModbusReassembler):
    """Holding-register replies (and exceptions) of the pack's module."""

    def __init__(self) -> None:
        """Accept replies of device 0x01 to function 0x03 only."""
        super().__init__((DEVICE,), (modbus.READ_HOLDING,))
