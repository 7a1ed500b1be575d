"""JBD over its UART / RS485 port: the same ``DD A5 … 77`` frames as over BLE.

The BMS's UART speaks the frames of the vendor protocol at 9600 baud 8N1
(syssi/esphome-jbd-bms components/jbd_bms/ and its README "UART" wiring;
Louisvdw/dbus-serialbattery etc/dbus-serialbattery/bms/lltjbd.py, baud 9600).
The frames carry no bus address: one pack per port, at address 0. The ``FF AA``
authentication belongs to the Bluetooth module, not the BMS: over the wire it
never runs (a password set for Bluetooth does not apply here).
"""

from __future__ import annotations

from ..wired import WiredProtocol
from .driver import JbdDriver

BAUDRATE = 9600
# The whole 0x03 reply of a 32-cell pack with 8 NTCs is under 80 bytes: 83 ms
# at 9600 baud; dbus-serialbattery waits up to 0.5 s for a reply.
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
        driver=JbdWiredDriver,
        baudrate=BAUDRATE,
        addresses=(0,),
        reply_timeout=REPLY_TIMEOUT,
    ),
)
