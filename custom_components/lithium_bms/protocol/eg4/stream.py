"""EG4 replies from the notification stream: Modbus 0x03 replies of device 0x01.

The shared Modbus scanner does the work (length from the byte count, CRC,
recovery when a complete reply follows a stalled candidate); only device
0x01's holding-register replies and their exceptions are candidates.
"""

from __future__ import annotations

from ..codecs import modbus
from .frames import DEVICE


class Eg4Reassembler(modbus.ModbusReassembler):
    """Holding-register replies (and exceptions) of the pack's device 0x01."""

    def __init__(self) -> None:
        """Accept replies of device 0x01 only."""
        super().__init__((DEVICE,), (modbus.READ_HOLDING,))
