"""Renogy replies from the notifications: Modbus reads of device 0x30.

The shared Modbus rules do the work: a candidate must start with the device
address and the read function (or its exception), carry an even byte count
and end in its CRC; one waiting for bytes is dropped as soon as a complete
valid reply follows it.
"""

from __future__ import annotations

from ..codecs import modbus
from .frames import DEVICE


class RenogyReassembler(modbus.ModbusReassembler):
    """Holding-register replies (and exceptions) of device 0x30 only."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__((DEVICE,), (modbus.READ_HOLDING,))
