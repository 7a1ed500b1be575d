"""JBD reply frames rebuilt from notifications."""

from __future__ import annotations

from ..errors import ChecksumError, FrameError, ProtocolError
from .frames import (
    AUTH_HEADER,
    MAX_PAYLOAD,
    START,
    STATUS_ERROR,
    STATUS_OK,
    parse_frame,
)


class JbdReassembler:
    """Rebuilds reply frames from notifications, by length and checksum.

    Invalid candidates are reported and the search resumes one byte later, so
    garbage never hides a frame. A candidate still short of bytes is dropped as
    soon as a complete valid ``DD`` frame follows it, so a truncated reply or a
    fake header cannot hide the next reply.
    """

    def __init__(self) -> None:
        """Start with an empty buffer."""
        self._buf = bytearray()

    def reset(self) -> None:
        """Drop any partial frame."""
        self._buf.clear()

    def feed(self, data: bytes) -> tuple[list[bytes], list[ProtocolError]]:
        """Add bytes; return complete valid frames and the errors met."""
        self._buf += data
        frames: list[bytes] = []
        errors: list[ProtocolError] = []
        buf = self._buf
        while buf:
            if buf[0] not in (START, AUTH_HEADER[0]):
                start = buf.find(START)
                auth = buf.find(AUTH_HEADER[0])
                cut = min(i for i in (start, auth, len(buf)) if i >= 0)
                del buf[:cut]
                continue
            total = _candidate_length(buf)
            if total == 0:
                del buf[:1]
                continue
            if total < 0 or len(buf) < total:
                later = _next_complete_frame(buf)
                if later is None:
                    break
                errors.append(FrameError("incomplete JBD frame"))
                del buf[:later]
                continue
            frame = bytes(buf[:total])
            try:
                _validate(frame)
            except ProtocolError as err:
                errors.append(err)
                del buf[:1]
                continue
            frames.append(frame)
            del buf[:total]
        return frames, errors


def _candidate_length(buf: bytearray) -> int:
    """Length of the frame that may start at ``buf[0]``.

    0 when it cannot be a frame start, -1 when more bytes are needed to tell.
    """
    if buf[0] == AUTH_HEADER[0]:
        if len(buf) < 2:
            return -1
        if buf[1] != AUTH_HEADER[1]:
            return 0
        return 5 + buf[3] if len(buf) >= 4 else -1
    if len(buf) < 4:
        return -1
    if buf[2] not in (STATUS_OK, STATUS_ERROR) or buf[3] > MAX_PAYLOAD:
        return 0
    return 7 + buf[3]


def _validate(frame: bytes) -> None:
    """Raise unless ``frame`` is a valid ``DD`` reply or ``FF AA`` frame."""
    if frame[:2] == AUTH_HEADER:
        if sum(frame[2:-1]) & 0xFF != frame[-1]:
            raise ChecksumError("JBD auth checksum mismatch")
        return
    parse_frame(frame)


def _next_complete_frame(buf: bytearray) -> int | None:
    """Offset of the first complete valid ``DD`` frame after ``buf[0]``."""
    offset = buf.find(START, 1)
    while offset >= 0 and not _is_reply_at(buf, offset):
        offset = buf.find(START, offset + 1)
    return offset if offset >= 0 else None


def _is_reply_at(buf: bytearray, offset: int) -> bool:
    """Whether a complete valid ``DD`` reply starts at ``offset``."""
    rest = buf[offset:]
    total = _candidate_length(rest)
    if total <= 0 or len(rest) < total:
        return False
    try:
        parse_frame(bytes(rest[:total]))
    except ProtocolError:
        return False
    return True
