"""Seplos frames from the byte stream: V2 YD/T1363, V3 Modbus, V3 listened, V2 BLE.

V2 and V3 use the shared scanners of ``codecs`` for one pack address. A
listened V3 line carries the master pack's requests and the packs' replies:
:class:`HeardExchanges` pairs each read request to our pack with the reply that
follows it and hands on the pair, ``request + reply``, as one frame (a reply
alone does not say which registers it holds).
"""

from __future__ import annotations

import re

from ..codecs import modbus
from ..codecs.ydt1363 import Ydt1363Reassembler
from ..errors import ProtocolError
from ..scanner import Feed, FrameRules, Scanner
from . import v2ble

V3_FUNCTIONS = frozenset({modbus.READ_INPUT, modbus.READ_COILS})


class SeplosV2Reassembler(Ydt1363Reassembler):
    """YD/T1363 frames from one pack address only."""

    def __init__(self, address: int) -> None:
        """Accept frames of ``address``."""
        super().__init__((address,))


class SeplosV3Reassembler(modbus.ModbusReassembler):
    """Modbus replies (input registers, coils) from one pack address only."""

    def __init__(self, address: int) -> None:
        """Accept replies of ``address``."""
        super().__init__((address,), V3_FUNCTIONS)


class SeplosV3BankReassembler(modbus.ModbusReassembler):
    """Modbus replies of a master pack (``master``) and of packs 1 to ``packs``."""

    def __init__(self, master: int, packs: int) -> None:
        """Accept replies of the master and of every pack of its bank."""
        super().__init__((master, *range(1, packs + 1)), V3_FUNCTIONS)


def split_exchange(frame: bytes) -> tuple[modbus.ModbusRequest, modbus.ModbusResponse]:
    """The request and the reply of a heard exchange."""
    head = frame[: modbus.REQUEST_LENGTH]
    return modbus.parse_request(head), modbus.parse_response(
        frame[modbus.REQUEST_LENGTH :]
    )


class HeardExchanges:
    """Pairs of (read request, reply) about one pack, heard on the line.

    Only frames that start with the pack's address are candidates, so the
    requests to other packs and their replies never are. A reply that follows
    no request of ours is dropped, and so is a request nobody answered.
    """

    def __init__(self, address: int) -> None:
        """Listen for ``address``."""
        self._scanner = modbus.ModbusReassembler(
            (address,), V3_FUNCTIONS, requests=True
        )
        self._pending: bytes | None = None

    def feed(self, data: bytes) -> Feed:
        """Add heard bytes; return the complete exchanges and the errors."""
        frames, errors = self._scanner.feed(data)
        exchanges: list[bytes] = []
        for frame in frames:
            pending, self._pending = self._pending, None
            if pending is not None and self._answers(pending, frame):
                exchanges.append(pending + frame)
            elif self._is_request(frame):
                self._pending = frame
        return exchanges, errors

    def reset(self) -> None:
        """Forget a partial frame and an unanswered request."""
        self._scanner.reset()
        self._pending = None

    @staticmethod
    def _answers(request: bytes, frame: bytes) -> bool:
        try:
            reply = modbus.parse_response(frame)
        except ProtocolError:
            return False
        return modbus.parse_request(request).answered_by(reply)

    @staticmethod
    def _is_request(frame: bytes) -> bool:
        try:
            modbus.parse_request(frame)
        except ProtocolError:
            return False
        return True


# The V2 Bluetooth module writes its own AT text into the notifications
# (``T+NAME=BP00`` CR LF in the middle of a 0x61 reply of syssi/esphome-seplos-bms
# ``docs/pdus/v2/btsnoop_hci_1101-10E-SP76-16S.log``
# @ dedb6bb404330241f34a744bae1a128c14eb2e24; BMS_BLE-HA's known issues).
AT_TEXT = re.compile(rb"(?:A?T)?\+[A-Z]+(?:=[\x20-\x7e]*)?\r\n|AT\r\n|OK\r\n")


class SeplosV2BleRules(FrameRules):
    """Binary V2 replies by LEN, 0x0D end and CRC-16/XMODEM.

    Recovery: the module's AT text is cut out of each notification, and a
    candidate that waits for bytes is dropped once a complete valid reply
    follows it (the AT text can replace a reply's tail). Text cut from inside
    a reply by mistake only fails its CRC: the reply is lost, never misread.
    """

    name = "Seplos V2 BLE"
    starts = bytes((v2ble.SOI,))

    def clean(self, data: bytes) -> bytes:
        """The notification without the module's AT text."""
        return AT_TEXT.sub(b"", data)

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the reply that would start at ``pos``."""
        return v2ble.frame_length(buf, pos)

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error that refuses the complete candidate."""
        return v2ble.check_frame(buf, pos, length)

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Give way to the first complete valid frame after ``pos``."""
        return self.next_valid(buf, pos)


class SeplosV2BleReassembler(Scanner):
    """The shared scanner with the V2 BLE rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(SeplosV2BleRules())


class SeplosBleProbe:
    """Both Bluetooth forms at once, until the probe knows which one speaks."""

    def __init__(self, device: int) -> None:
        """V2 replies, and V3 replies of Modbus ``device``."""
        self._scanners = (SeplosV2BleReassembler(), SeplosV3Reassembler(device))

    def feed(self, data: bytes) -> Feed:
        """Add bytes; return the frames and errors of both."""
        frames: list[bytes] = []
        errors: list[ProtocolError] = []
        for scanner in self._scanners:
            found, failed = scanner.feed(data)
            frames += found
            errors += failed
        return frames, errors

    def reset(self) -> None:
        """Forget partial frames."""
        for scanner in self._scanners:
            scanner.reset()
