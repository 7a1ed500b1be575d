"""JBD over its UART / RS485 port: the same ``DD A5 … 77`` frames as over BLE.

The BMS's UART speaks the frames of the vendor protocol at 9600 baud 8N1: a
jbdtool session over a USB-UART adapter reads 0x03, 0x04 and 0x05 with the
Bluetooth requests and gets the same replies (syssi/esphome-jbd-bms
docs/debug.txt @0cb0834, the vectors in tests/protocol/data/
jbd_wired_vectors.json). The frames carry no bus address: one pack per port,
at address 0. The ``FF AA``
authentication belongs to the Bluetooth module, not the BMS: over the wire it
never runs (a password set for Bluetooth does not apply here).
"""

from __future__ import annotations

from ..wired import WiredProtocol
from .driver import JbdDriver

BAUDRATE = 9600
# The 0x04 reply of a 32-cell pack is 71 bytes: 81 ms at 9600 baud.
REPLY_TIMEOUT = 0.5


class JbdWiredDriver(JbdDriver):
    """The JBD driver on a wire: no connect delay, no ``FF AA`` exchange."""

    connect_delay = 0.0

    async def initialize(self) -> None:
        """Nothing to set up: the UART has no authentication."""

    async def _explain_silence(self) -> None:
        """A silent pack on a wire is absent or unpowered, never locked."""


WIRED = (
    WiredProtocol(
        key="jbd",
        title="JBD (UART / RS485)",
        driver=JbdWiredDriver,
        baudrate=BAUDRATE,
        addresses=(0,),
        reply_timeout=REPLY_TIMEOUT,
    ),
)
