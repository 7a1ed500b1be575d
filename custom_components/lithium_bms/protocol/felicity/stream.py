"""Felicity replies rebuilt from notifications (shared scanner).

A reply is one JSON object: it ends where its braces balance, counting none
inside a string. The replies are ASCII text under 1 kB (about 800 bytes for
the real-time one): a candidate ends at a byte that is no text (a control or
8-bit byte), and is refused; one still open after :data:`MAX_FRAME` bytes is
no reply.
"""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner
from .frames import START, parse

MAX_FRAME = 2048
_OPEN, _CLOSE, _QUOTE, _ESCAPE = b"{", b"}", b'"', b"\\"
# Printable ASCII and the whitespace JSON allows.
_TEXT = frozenset({0x09, 0x0A, 0x0D, *range(0x20, 0x7F)})


class FelicityRules(FrameRules):
    """Objects by balanced braces; valid when they parse as version 1."""

    name = "Felicity"
    starts = START

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the object that may start at ``pos``."""
        return _object_length(buf, pos)

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of the complete candidate, None when it is valid."""
        try:
            parse(bytes(buf[pos : pos + length]))
        except ProtocolError as err:
            return err
        return None

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Offset of the first complete valid object after ``pos``.

        A ``{`` in garbage, or a reply cut short, swallows the next reply
        as a nested object; the valid one after it is taken instead.
        """
        offset = buf.find(_OPEN, pos + 1)
        while offset != -1:
            total = _object_length(buf, offset)
            if total and self.check(buf, offset, total) is None:
                return offset
            offset = buf.find(_OPEN, offset + 1)
        return None


def _object_length(buf: bytearray, pos: int) -> int | None:
    """0 when no object starts at ``pos``, NEED_MORE while it is still open."""
    depth = 0
    in_string = escaped = False
    for index in range(pos, min(len(buf), pos + MAX_FRAME)):
        byte = buf[index]
        if byte not in _TEXT:
            # The candidate ends here: :meth:`FelicityRules.check` refuses it.
            return index - pos + 1
        if in_string:
            if escaped:
                escaped = False
            elif byte == _ESCAPE[0]:
                escaped = True
            elif byte == _QUOTE[0]:
                in_string = False
        elif byte == _QUOTE[0]:
            in_string = True
        elif byte == _OPEN[0]:
            depth += 1
        elif byte == _CLOSE[0]:
            depth -= 1
            if depth == 0:
                return index - pos + 1
    if len(buf) - pos >= MAX_FRAME:
        return 0
    return NEED_MORE


class FelicityReassembler(Scanner):
    """The shared scanner with Felicity's rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(FelicityRules())
