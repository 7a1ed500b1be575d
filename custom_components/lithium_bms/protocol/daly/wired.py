"""Daly over UART / RS485: the legacy A5 frames per board, and D2 Modbus.

``daly_a5``: the A5 frames at 9600 baud 8N1, from the UART host address 0x40
(Daly's UART/RS485 protocol as used by its PC software: esphome/issues#3452,
jblance/mpp-solar issue #113). On RS485 up to 16 boards share the line, each
asked at 0x3F + its board number and answering from that number
(ai-republic/bms-to-inverter bms-daly-rs485 DalyBmsRS485Processor.java
@7ca7b30; mr-manuel/venus-os_dbus-serialbattery_docs docs/general/connect.md
lists the same 0x40-0x4F range).

``daly_d2``: the D2 Modbus register map of the H/K/M/S series at slave address
0xD2, as over Bluetooth (syssi/esphome-daly-bms issue #9, the requests of
"a new UART protocol for a Daly smart BMS"). 0xD2 does not depend on the board
number, so one pack per line (patagonaa in syssi/esphome-daly-bms issue #41);
the boards of a shared line answer at 0x80 + board from 0x50 + board, with
another register map (patagonaa/esphome-daly-hkms-bms), not supported here.
"""

from __future__ import annotations

from typing import ClassVar

from ..driver import DriverOptions
from ..transport import Transport
from ..wired import WiredProtocol
from . import a5, d2
from .driver import DalyDriver
from .stream import DalyReassembler
from .variants import A5Board, D2Variant, DalyVariant

BAUDRATE = 9600
# A 0x95 reply of 16 frames is 208 bytes: 0.22 s at 9600 baud; the PC software
# answers in well under 0.5 s (dbus-serialbattery daly.py read_sentence).
REPLY_TIMEOUT = 0.5


class DalyWiredDriver(DalyDriver):
    """A Daly driver whose variant is the wired protocol's: nothing is probed.

    Every optional read and acknowledgement waits the protocol's reply
    timeout, not Bluetooth's longer ones, so an absent board costs little.
    """

    connect_delay = 0.0
    variants = ()
    variant_type: ClassVar[type[DalyVariant]]

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Take the protocol's variant and timeouts."""
        super().__init__(transport, options)
        self._variant = self.variant_type(self)
        self.probe_timeout = self.ack_timeout = self.request_timeout


class DalyA5WiredDriver(DalyWiredDriver):
    """Legacy A5 to one board of the line."""

    variant_type = A5Board

    def new_reassembler(self) -> DalyReassembler:
        """A5 replies of this board only."""
        board = self.options.bus_address or a5.BMS_ADDRESS
        return DalyReassembler(a5_address=board, modbus_addresses=())


class DalyD2WiredDriver(DalyWiredDriver):
    """D2 Modbus at 0xD2."""

    variant_type = D2Variant

    def new_reassembler(self) -> DalyReassembler:
        """Modbus replies from 0xD2 only."""
        return DalyReassembler(a5_address=None, modbus_addresses=(d2.D2_ADDRESS,))


WIRED = (
    WiredProtocol(
        key="daly_a5",
        title="Daly A5 (UART / RS485)",
        probe_timeout=0.2,
        driver=DalyA5WiredDriver,
        baudrate=BAUDRATE,
        addresses=a5.BOARDS,
        reply_timeout=REPLY_TIMEOUT,
    ),
    WiredProtocol(
        key="daly_d2",
        title="Daly H/K/M/S (D2 Modbus)",
        driver=DalyD2WiredDriver,
        baudrate=BAUDRATE,
        addresses=(d2.D2_ADDRESS,),
        reply_timeout=REPLY_TIMEOUT,
    ),
)
