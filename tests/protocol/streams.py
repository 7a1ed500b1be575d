"""Reassembly test helpers: feeding chunks, and cut and damaged byte streams."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from hypothesis import strategies as st

from custom_components.lithium_bms.protocol.errors import ProtocolError
from custom_components.lithium_bms.protocol.scanner import Feed, Scanner

# What a damaged stream gains where bytes are inserted.
NOISE = st.binary(min_size=1, max_size=5)


def feed_chunks(reassembler: Scanner, chunks: Sequence[bytes]) -> Feed:
    """Every frame and error of ``chunks`` fed one by one to ``reassembler``."""
    frames: list[bytes] = []
    errors: list[ProtocolError] = []
    for chunk in chunks:
        got, errs = reassembler.feed(chunk)
        frames += got
        errors += errs
    return frames, errors


@st.composite
def chunked(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut at random points."""
    cuts = sorted(
        draw(st.sets(st.integers(1, max(1, len(data) - 1)), max_size=len(data)))
    )
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]


@st.composite
def mutated_stream(
    draw: st.DrawFn,
    frames: Sequence[bytes],
    max_frames: int = 4,
    inserts: st.SearchStrategy[bytes] = NOISE,
) -> bytes:
    """Some of ``frames`` back to back, with bytes flipped, inserted or deleted."""
    chosen = draw(st.lists(st.sampled_from(frames), min_size=1, max_size=max_frames))
    stream = bytearray(b"".join(chosen))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(stream) - 1))
        action = draw(st.sampled_from(["flip", "insert", "delete"]))
        if action == "flip":
            stream[position] ^= draw(st.integers(1, 255))
        elif action == "insert":
            stream[position:position] = draw(inserts)
        elif len(stream) > 1:
            del stream[position]
    return bytes(stream)
