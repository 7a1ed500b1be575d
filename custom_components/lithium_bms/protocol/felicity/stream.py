"""Felicity replies rebuilt from notifications (shared scanner).

A reply is one JSON object: it ends where its braces balance, counting none
inside a string. The replies are ASCII text under 1 kB (about 800 bytes for
the real-time one): a candidate ends at a byte that is no text (a control or
8-bit byte), and is refused; one still open after :data:`MAX_FRAME` bytes is
no reply.
"""

from __future__ import annotations

import re

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner, refusal
from .frames import START, parse

MAX_FRAME = 2048
_OPEN, _CLOSE, _QUOTE = b"{"[0], b"}"[0], b'"'[0]
# What the scan stops at: a whole string (skipped), a brace, a string still
# open, or a byte that is no text (printable ASCII or JSON whitespace).
_TOKEN = re.compile(
    rb'"[^"\\\x00-\x1f\x7f-\xff]*(?:\\[\x20-\x7e][^"\\\x00-\x1f\x7f-\xff]*)*"'
    rb'|[{}"]|[^\t\n\r\x20-\x7e]'
)
_NOT_TEXT = re.compile(rb"[^\t\n\r\x20-\x7e]")
# What no JSON string holds (raw whitespace included).
_NOT_IN_STRING = re.compile(rb"[^\x20-\x7e]")


class FelicityRules(FrameRules):
    """Objects by balanced braces; valid when they parse as version 1."""

    name = "Felicity"
    starts = START

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the object that may start at ``pos``."""
        return _object_length(buf, pos)

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of the complete candidate, None when it is valid."""
        return refusal(parse, bytes(buf[pos : pos + length]))

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Offset of the first complete valid object after ``pos``.

        A ``{`` in garbage, or a reply cut short, swallows the next reply
        as a nested object; the valid one after it is taken instead.
        """
        offset = buf.find(START, pos + 1)
        while offset != -1:
            total = _object_length(buf, offset)
            if total and self.check(buf, offset, total) is None:
                return offset
            offset = buf.find(START, offset + 1)
        return None


def _object_length(buf: bytearray, pos: int) -> int | None:
    """0 when no object starts at ``pos``, NEED_MORE while it is still open."""
    end = min(len(buf), pos + MAX_FRAME)
    if buf.find(b"}", pos, end) == -1 and not _NOT_TEXT.search(buf, pos, end):
        # Nothing can close it yet (the usual case between notifications).
        return 0 if end - pos >= MAX_FRAME else NEED_MORE
    depth = 0
    for token in _TOKEN.finditer(buf, pos, end):
        byte = token[0][0]
        if byte == _OPEN:
            depth += 1
        elif byte == _CLOSE:
            depth -= 1
            if depth == 0:
                return token.end() - pos
        elif token[0] == b'"':
            # A string still open, or ended by a byte no string holds.
            bad = _NOT_IN_STRING.search(buf, token.end(), end)
            if bad is not None:
                return bad.end() - pos
            break
        elif byte != _QUOTE:
            # The candidate ends here: :meth:`FelicityRules.check` refuses it.
            return token.end() - pos
    if len(buf) - pos >= MAX_FRAME:
        return 0
    return NEED_MORE


class FelicityReassembler(Scanner):
    """The shared scanner with Felicity's rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(FelicityRules())
