"""Seplos frames from the byte stream: V2 YD/T1363, V3 Modbus, V3 listened.

V2 and V3 use the shared scanners of ``codecs`` for one pack address. A
listened V3 line carries the master pack's requests and the packs' replies:
:class:`HeardExchanges` pairs each read request to our pack with the reply that
follows it and hands on the pair, ``request + reply``, as one frame (a reply
alone does not say which registers it holds).
"""

from __future__ import annotations

from ..codecs import modbus
from ..codecs.ydt1363 import Ydt1363Reassembler
from ..errors import ProtocolError
from ..scanner import Feed

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
