"""JK frames rebuilt from notifications (the shared scanner, with JK's hooks).

A notification that starts with ``AT CR LF`` noise or a command-header frame
(the C8 ack) loses that prefix, even in the middle of a frame. A lost
notification cannot go unnoticed: the 1-byte sum passes 1 in 256 splices, so a
candidate is also refused when a header, ack or noise starts inside it, when the
bytes after it are not a frame boundary, or when the next frame's counter does
not follow. A cell or settings frame that nothing follows yet waits for the next
bytes or for :meth:`JkReassembler.settle` (the stream paused): no frame is glued
from bytes sent before and after a pause.
"""

from __future__ import annotations

from enum import IntEnum

from ..errors import FrameError, ProtocolError
from ..scanner import NEED_MORE, Feed, FrameRules, Scanner, refusal
from . import pb, rs485
from .frames import (
    COMMAND_HEADER,
    COMMAND_LENGTH,
    FRAME_HEADER,
    FRAME_LENGTH,
    NOISE,
    FrameType,
    check_frame,
    checksum,
)


def _strip_noise(data: bytes) -> bytes:
    """Drop ``AT CR LF`` and whole command-header frames (ack, echo) in front."""
    while True:
        if data.startswith(NOISE):
            data = data[len(NOISE) :]
        elif (
            data.startswith(COMMAND_HEADER)
            and len(data) >= COMMAND_LENGTH
            and checksum(data[: COMMAND_LENGTH - 1]) == data[COMMAND_LENGTH - 1]
        ):
            data = data[COMMAND_LENGTH:]
        else:
            return data


# What the BMS sends between frames. In the public captures (syssi/esphome-jk-bms
# docs/btsnoop*.log, docs/btsnoops/*: JK04, JK02_24S and JK02_32S firmware) a
# frame is followed only by the next frame, the C8 ack / a command echo (the
# 320-byte frames), ``AT CR LF`` or the end of the notification.
BOUNDARIES = (FRAME_HEADER, COMMAND_HEADER, NOISE)

# The counter (byte 5) of the frame that follows, relative to this one, by
# (this type, next type). 2,690 consecutive frame pairs in those captures:
# cell→cell and cell→settings +1, settings→cell and settings→settings +0; the
# device-info counter is unrelated on JK-PB firmware (0xA5), so it is not checked.
COUNTER_STEP: dict[tuple[int, int], int] = {
    (FrameType.CELL_INFO, FrameType.CELL_INFO): 1,
    (FrameType.CELL_INFO, FrameType.SETTINGS): 1,
    (FrameType.SETTINGS, FrameType.CELL_INFO): 0,
    (FrameType.SETTINGS, FrameType.SETTINGS): 0,
}


def _counted(kind: int) -> bool:
    """Whether the counter of a frame type is checked against the next frame."""
    return any(kind in pair for pair in COUNTER_STEP)


def _interruption(candidate: bytes) -> int:
    """Where a header, ack or noise starts inside a frame candidate, else 0.

    Inside a frame such a pattern means bytes of the frame were lost and the
    stream went on with what the BMS sent after it.
    """
    hits = [candidate.find(mark, 1) for mark in BOUNDARIES]
    return min((hit for hit in hits if hit > 0), default=0)


class _Next(IntEnum):
    """What the bytes after a complete candidate say about it."""

    FITS = 0
    WAIT = 1
    GAP = 2


def _continuation(candidate: bytes, after: bytes) -> _Next:
    """Judge a candidate by the bytes that follow it.

    A frame that ends where the BMS stops is followed by nothing or by a
    boundary (see ``BOUNDARIES``); anything else is the rest of a frame whose
    head was lost, glued to the tail of this one.
    """
    if not after:
        # A cell or settings frame waits for the next frame's counter: only
        # that shows a frame glued from two frames at the same offset.
        return _Next.WAIT if _counted(candidate[4]) else _Next.FITS
    head = after[: len(FRAME_HEADER)]
    if not any(mark.startswith(head) for mark in BOUNDARIES):
        return _Next.GAP
    if len(head) < len(FRAME_HEADER):
        return _Next.WAIT
    if head != FRAME_HEADER:
        return _Next.FITS
    if len(after) < 6:
        return _Next.WAIT
    step = COUNTER_STEP.get((candidate[4], after[4]))
    if step is not None and (after[5] - candidate[5]) & 0xFF != step:
        return _Next.GAP
    return _Next.FITS


def _after(buf: bytearray, end: int) -> bytes:
    """The bytes after a candidate that :func:`_continuation` looks at."""
    return bytes(buf[end : end + 6])


class JkRules(FrameRules):
    """300-byte frames by header, checksum, boundaries and counter."""

    name = "JK"
    starts = FRAME_HEADER[:1]

    def clean(self, data: bytes) -> bytes:
        """The notification without noise or acks in front."""
        return _strip_noise(data)

    def length(self, buf: bytearray, pos: int) -> int | None:
        """300 at a header; NEED_MORE at the start of one; else 0."""
        head = buf[pos : pos + len(FRAME_HEADER)]
        if head == FRAME_HEADER:
            return FRAME_LENGTH
        return NEED_MORE if FRAME_HEADER.startswith(head) else 0

    def __init__(self) -> None:
        """No candidate judged yet."""
        # The newest candidate that passed the checks of its own bytes: the
        # scanner judges a waiting frame again with every notification.
        self._sound = b""
        self._waits = False

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error that refuses the candidate, None when it fits."""
        candidate = bytes(buf[pos : pos + length])
        if candidate != self._sound:
            if inner := _interruption(candidate):
                return FrameError(f"JK frame cut at byte {inner}: bytes were lost")
            try:
                check_frame(candidate)
            except ProtocolError as err:
                return err
            self._sound = candidate
        follows = _continuation(candidate, _after(buf, pos + length))
        if follows is _Next.GAP:
            return FrameError("JK frame not followed by a frame boundary")
        self._waits = follows is _Next.WAIT
        return None

    def waits(self, buf: bytearray, pos: int, length: int) -> bool:
        """Whether the frame just accepted waits for the next bytes (the counter)."""
        return self._waits


class JkReassembler(Scanner):
    """The shared scanner with JK's rules, and the stream pause."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(JkRules())

    def settle(self) -> Feed:
        """The stream paused: release a waiting frame, drop a partial one.

        The notifications of one frame follow each other closely; a frame
        that stops half-way lost its other notifications, and the bytes that
        arrive after the pause belong to a later frame.
        """
        rest = self.pending
        self.reset()
        if len(rest) >= FRAME_LENGTH:
            return [rest[:FRAME_LENGTH]], []
        if rest.startswith(FRAME_HEADER):
            return [], [FrameError("JK frame stopped half-way: bytes were lost")]
        return [], []


class Rs485Rules(FrameRules):
    """``4E 57`` frames by length, end mark and 16-bit sum (``rs485.py``)."""

    name = "JK 4E 57"
    starts = rs485.START[:1]

    def length(self, buf: bytearray, pos: int) -> int | None:
        """The length field's total at ``4E 57``; NEED_MORE at a lone ``4E``."""
        if len(buf) - pos < 2:
            return NEED_MORE
        return rs485.frame_length(buf, pos)

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of the candidate's end mark or sum, None when it is valid."""
        return refusal(rs485.check_frame, bytes(buf[pos : pos + length]))

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Give way to the first complete valid frame after ``pos``."""
        return self.next_valid(buf, pos)


class Rs485Reassembler(Scanner):
    """The shared scanner with the ``4E 57`` rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(Rs485Rules())


class PbRules(FrameRules):
    """The JK-PB line: 300-byte frames and the Modbus 0x10 writes around them.

    A frame is refused when another frame header starts inside it (bytes were
    lost and the next frame went on); a frame that waits for its bytes is
    dropped once a complete valid piece starts after its header.
    """

    name = "JK-PB"
    starts = FRAME_HEADER[:1] + bytes(range(pb.MAX_ADDRESS + 1))

    def length(self, buf: bytearray, pos: int) -> int | None:
        """300 at a frame header, a Modbus piece's length at an address byte."""
        if buf[pos] == FRAME_HEADER[0]:
            head = buf[pos : pos + len(FRAME_HEADER)]
            if head == FRAME_HEADER:
                return FRAME_LENGTH
            return NEED_MORE if FRAME_HEADER.startswith(head) else 0
        return pb.modbus_length(buf, pos)

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """A frame's header, sum and type (a Modbus piece's CRC held already)."""
        if buf[pos] != FRAME_HEADER[0]:
            return None
        candidate = bytes(buf[pos : pos + length])
        if candidate.find(FRAME_HEADER, 1) > 0:
            return FrameError("JK-PB frame cut by the next header: bytes were lost")
        try:
            check_frame(candidate)
        except ProtocolError as err:
            return err
        return None

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Where the next header or complete Modbus piece starts, if one does."""
        for later in range(pos + 1, len(buf)):
            if buf[later : later + len(FRAME_HEADER)] == FRAME_HEADER:
                return later
            if buf[later] <= pb.MAX_ADDRESS and pb.modbus_length(buf, later):
                return later
        return None


class PbReassembler(Scanner):
    """The shared scanner with the JK-PB line rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(PbRules())
