"""MyVolta frames: the captured cycle, the source's edits, the byte stuffing."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.myvolta import demo
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.myvolta.frames import (
    MAX_WIRE,
    check_frame,
    decode_cells,
    decode_info,
    decode_metrics,
    decode_temperatures,
    message_type,
    unstuff,
)
from custom_components.lithium_bms.protocol.myvolta.stream import MyvoltaReassembler

from .streams import feed_chunks

DATA = Path(__file__).parent / "data"
VECTORS: list[dict[str, Any]] = json.loads((DATA / "myvolta_vectors.json").read_text())
BY_NAME = {
    v["name"].split(":")[0]: [bytes.fromhex(h) for h in v["hex"].split()]
    for v in VECTORS
}
FRAMES = [
    frame for v in VECTORS for frame in (bytes.fromhex(h) for h in v["hex"].split())
]
METRICS = BY_NAME["metrics 0x00"][0]
# aiobmsble 0.31.0 (PyPI sdist) tests/bms/test_myvolta_bms.py
# (test_invalid_response): the metrics frame with its checksum set to 0xFF,
# with the DLC set to 0x0A (checksum fixed up) and cut to nine bytes.
WRONG_CRC = bytes.fromhex("55550100020000000801e0c8ff14e0ae03ff0404")
WRONG_LEN = bytes.fromhex("55550100020000000a01e0c8ff14e0ae03a60404")
TOO_SHORT = bytes.fromhex("5555010002000000000404")


def frames_of(vector: dict[str, Any]) -> list[bytes]:
    """The vector's frames, unstuffed and checked."""
    return [check_frame(bytes.fromhex(h)) for h in vector["hex"].split()]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    frames = frames_of(vector)
    if "command" in expected:
        assert (frames[0][0], len(frames[0])) == (
            expected["command"],
            expected["length"],
        )
        assert message_type(frames[0]) is None
        return
    kinds = expected["message"]
    assert [message_type(f) for f in frames] == (
        kinds if isinstance(kinds, list) else [kinds]
    )
    if "voltage" in expected:
        assert decode_metrics(frames[0]) == (
            expected["voltage"],
            expected["current"],
            expected["soc"],
        )
    if "problem_code" in expected:
        assert decode_info(frames[0]) == (expected["problem_code"], expected["heater"])
    if "cells" in expected:
        assert decode_cells(frames) == tuple(expected["cells"])
    if "temperatures" in expected:
        assert decode_temperatures(frames) == tuple(expected["temperatures"])


def test_the_captured_cycle_reassembles_from_any_chunks() -> None:
    stream = b"".join(FRAMES)
    for size in (1, 3, 7, 19, 20, 64):
        chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
        assert feed_chunks(MyvoltaReassembler(), chunks) == (FRAMES, [])


def test_the_sources_wrong_checksum_is_refused() -> None:
    with pytest.raises(ChecksumError):
        check_frame(WRONG_CRC)
    assert feed_chunks(MyvoltaReassembler(), [WRONG_CRC, METRICS])[0] == [METRICS]


def test_the_sources_short_frames_are_refused() -> None:
    for raw in (TOO_SHORT, WRONG_LEN):
        with pytest.raises(FrameError):
            check_frame(raw)


def test_a_foreign_dlc_is_refused() -> None:
    inner = bytearray(unstuff(METRICS))
    inner[6] = 0x07
    inner[-1] = (inner[-1] + 1) % 256
    with pytest.raises(FrameError, match="DLC"):
        check_frame(b"\x55\x55" + bytes(inner) + b"\x04\x04")


def test_an_escaped_byte_is_read_behind_its_escape() -> None:
    # Our reading, not a capture: 05 escapes the byte after it.
    sim = demo("E8:EB:1B:00:00:01")
    sim.pack.cell_voltages = [4.100, 4.101, 4.085] + [4.104] * 11
    wire = next(w for w in sim.cycle() if unstuff(w)[1] == 0x11)
    assert b"\x05\x04\x10\x05\x05\x10" in wire
    frame = check_frame(wire)
    assert len(frame) == 16
    assert decode_cells([frame, frame, frame, frame])[:3] == (4.1, 4.101, 4.085)


def test_a_lone_end_byte_is_data() -> None:
    # Our reading: 04 ends a frame only when a second 04 follows.
    inner = bytearray(unstuff(METRICS))
    inner[7] = 0x04
    inner[-1] = (-sum(inner[:-1])) % 256
    wire = b"\x55\x55" + bytes(inner) + b"\x04\x04"
    assert decode_metrics(check_frame(wire)).voltage == 57.348


def test_an_unterminated_frame_gives_way_to_the_next() -> None:
    frames, _ = feed_chunks(MyvoltaReassembler(), [METRICS[:12], *FRAMES[1:3]])
    assert frames == FRAMES[1:3]


def test_a_runaway_frame_is_dropped() -> None:
    runaway = b"\x55\x55" + b"\x01" * MAX_WIRE
    assert feed_chunks(MyvoltaReassembler(), [runaway, METRICS]) == ([METRICS], [])


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [b"\x55", b"\x55\x55", b"\x55\x55\x01", b"\x04\x04", b"\x05", b"\xff" * 9]
# Other families' frames this one's stream must refuse (test_reassembly_contract).
FOREIGN = {
    # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply.
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
    # Redodo's status request (tests/protocol/test_redodo_frames.py).
    "redodo": bytes.fromhex("000004011355aa17"),
}


def test_foreign_frames_are_not_read() -> None:
    frames, _ = feed_chunks(MyvoltaReassembler(), list(FOREIGN.values()))
    assert frames == []


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_decoder_raises_only_protocol_errors(raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        check_frame(b"\x55\x55" + raw + b"\x04\x04")


def test_aiobmsble_reads_the_same_values() -> None:
    """A second decoder on the simulator's cycle.

    Runs where aiobmsble is installed (the bleak 3 environment).
    """
    myvolta_bms = pytest.importorskip("aiobmsble.bms.myvolta_bms")
    reference = myvolta_bms.BMS
    sim = demo("E8:EB:1B:00:00:02")
    messages = {}
    for wire in sim.cycle():
        frame = check_frame(wire)
        if message_type(frame) is not None:
            messages[frame[1]] = frame
    theirs = reference._decode_data(
        reference._FIELDS, messages, byteorder="little", start=7
    )
    ours = decode_metrics(messages[0])
    assert (theirs["voltage"], theirs["current"], theirs["battery_level"]) == tuple(
        ours
    )
    assert theirs["problem_code"] == decode_info(messages[1]).problem_code
