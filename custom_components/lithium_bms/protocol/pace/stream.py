"""PACE replies rebuilt from the line: the shared YD/T1363 scanner, one address."""

from __future__ import annotations

from ..codecs.ydt1363 import Ydt1363Reassembler


class PaceReassembler(Ydt1363Reassembler):
    """YD/T1363 frames from the pack at ``address`` only.

    A frame of another address (another pack's reply, or a request to it) is
    never a candidate; the driver's matcher then keeps only PACE replies
    (:func:`.frames.is_reply`), so the echo of a request is not one either.
    """

    def __init__(self, address: int) -> None:
        """Accept frames whose ADR is ``address``."""
        super().__init__((address,))
