"""JBD reply and ``FF AA`` frames rebuilt from notifications (shared scanner)."""

from __future__ import annotations

from ..errors import ChecksumError, ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner
from .frames import (
    AUTH_HEADER,
    START,
    STATUS_ERROR,
    STATUS_OK,
    max_payload,
    parse_frame,
)


class JbdRules(FrameRules):
    """Frames by header, length and checksum.

    Recovery: a candidate still short of bytes is dropped as soon as a complete
    valid ``DD`` frame follows it, so a truncated reply or a fake header cannot
    hide the next reply.
    """

    name = "JBD"
    starts = bytes((START, AUTH_HEADER[0]))

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the ``DD`` or ``FF AA`` frame that may start at ``pos``."""
        return _candidate_length(buf, pos)

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of a ``DD`` reply or ``FF AA`` frame, None when valid."""
        frame = bytes(buf[pos : pos + length])
        if frame[:2] == AUTH_HEADER:
            if sum(frame[2:-1]) & 0xFF != frame[-1]:
                return ChecksumError("JBD auth checksum mismatch")
            return None
        try:
            parse_frame(frame)
        except ProtocolError as err:
            return err
        return None

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Offset of the first complete valid ``DD`` frame after ``pos``."""
        offset = buf.find(START, pos + 1)
        while offset >= 0 and not _is_reply_at(buf, offset):
            offset = buf.find(START, offset + 1)
        return offset if offset >= 0 else None


def _candidate_length(buf: bytearray, pos: int) -> int | None:
    """Length of the frame at ``pos``: 0 when none starts there, NEED_MORE."""
    have = len(buf) - pos
    if buf[pos] == AUTH_HEADER[0]:
        if have < 2:
            return NEED_MORE
        if buf[pos + 1] != AUTH_HEADER[1]:
            return 0
        return 5 + buf[pos + 3] if have >= 4 else NEED_MORE
    if have < 4:
        return NEED_MORE
    if buf[pos + 2] not in (STATUS_OK, STATUS_ERROR) or buf[pos + 3] > max_payload(
        buf[pos + 1]
    ):
        return 0
    return 7 + buf[pos + 3]


def _is_reply_at(buf: bytearray, offset: int) -> bool:
    """Whether a complete valid ``DD`` reply starts at ``offset``."""
    total = _candidate_length(buf, offset)
    if not total or len(buf) - offset < total:
        return False
    try:
        parse_frame(bytes(buf[offset : offset + total]))
    except ProtocolError:
        return False
    return True


class JbdReassembler(Scanner):
    """The shared scanner with JBD's rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(JbdRules())
