"""Buknuwo replies from the notifications: the shared Modbus scanner.

Only replies of device 0x01 to function 0x03 (and its exception) are
candidates; a candidate that waits for bytes is dropped once a complete valid
reply follows it (``ModbusRules.stalled``, the scanner's ``next_valid``).
"""

from __future__ import annotations

from ..codecs import modbus
from .frames import DEVICE, FUNCTION


class BuknuwoReassembler(modbus.ModbusReassembler):
    """Holding-register replies of device 0x01."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__((DEVICE,), (FUNCTION,))
