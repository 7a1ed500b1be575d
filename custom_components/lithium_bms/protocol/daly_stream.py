"""Splits Daly notifications into frames of either protocol.

Modbus replies (D2, P81) are delimited by their byte count, legacy A5 frames
are 13 bytes long; a notification may hold part of a frame or several frames.
"""

from __future__ import annotations

from . import daly_a5, daly_d2
from .errors import ProtocolError

MODBUS_STARTS = (daly_d2.D2_ADDRESS, daly_d2.P81_REPLY_ADDRESS)
STARTS = (daly_a5.START, *MODBUS_STARTS)


def _candidate_length(buf: bytearray) -> int | None:
    """Length of the frame that would start ``buf``: None = need more, 0 = none."""
    if buf[0] == daly_a5.START:
        if len(buf) < 4:
            return None
        return daly_a5.FRAME_LENGTH if buf[3] == daly_a5.DATA_LENGTH else 0
    return daly_d2.frame_length(bytes(buf[:3]))


def _validate(frame: bytes) -> None:
    if frame[0] == daly_a5.START:
        daly_a5.parse_frame(frame)
    else:
        daly_d2.parse_reply(frame)


class DalyReassembler:
    """Rebuilds frames by length and checksum.

    An invalid candidate is reported and the search resumes one byte later, so
    garbage never hides a frame that follows it.
    """

    def __init__(self) -> None:
        """Start with an empty buffer."""
        self._buf = bytearray()

    def reset(self) -> None:
        """Drop any partial frame."""
        self._buf.clear()

    def feed(self, data: bytes) -> tuple[list[bytes], list[ProtocolError]]:
        """Add bytes; return the complete valid frames and the errors met."""
        self._buf += data
        buf = self._buf
        frames: list[bytes] = []
        errors: list[ProtocolError] = []
        while buf:
            if buf[0] not in STARTS:
                cut = min(
                    (i for s in STARTS if (i := buf.find(s)) > 0), default=len(buf)
                )
                del buf[:cut]
                continue
            length = _candidate_length(buf)
            if length is None:
                break
            if length == 0:
                del buf[:1]
                continue
            if len(buf) < length:
                break
            frame = bytes(buf[:length])
            try:
                _validate(frame)
            except ProtocolError as err:
                errors.append(err)
                del buf[:1]
                continue
            frames.append(frame)
            del buf[:length]
        return frames, errors
