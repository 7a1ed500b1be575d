"""Vatrer and C4S100 replies from the notifications: Modbus reads of slave 0x02.

The shared Modbus rules do the work: a candidate must start with the slave
address and the read function (or its exception), carry an even byte count
and end in its CRC; one waiting for bytes gives way to the next complete
valid reply.
"""

from __future__ import annotations

from ..codecs import modbus
from .frames import DEVICE


class VatrerReassembler(modbus.ModbusReassembler):
    """Holding-register replies (and exceptions) of slave 0x02 only."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__((DEVICE,), (modbus.READ_HOLDING,))
