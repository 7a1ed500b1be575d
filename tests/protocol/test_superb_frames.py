"""Super-B frames: the captured vector, the source's edits, the content checks."""

from __future__ import annotations

import contextlib
import json
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.superb import demo
from custom_components.lithium_bms.protocol.errors import FrameError, ProtocolError
from custom_components.lithium_bms.protocol.superb.frames import (
    LENGTH,
    decode_status,
)
from custom_components.lithium_bms.protocol.superb.stream import SuperbReassembler

from .streams import feed_chunks

DATA = Path(__file__).parent / "data"
VECTORS: list[dict[str, Any]] = json.loads((DATA / "superb_vectors.json").read_text())
STATUS = bytes.fromhex(VECTORS[0]["hex"])
FRAMES = [STATUS]
# aiobmsble 0.31.0 (PyPI sdist) tests/bms/test_superb_bms.py: the capture
# with the current's sign bit cleared (test_update_chrg), and with flags bit
# 0 cleared (test_problem_response, "chrg_warning" and "dischrg_warning").
CHARGING = bytes.fromhex("00755e64000001a43ecccccd416289c500000000")
PROBLEMS = {
    "chrg_warning": bytes.fromhex("00745e64000001a4becccccd416289c500000000"),
    "dischrg_warning": bytes.fromhex("00725e64000001a4becccccd416289c500000000"),
}


def with_bytes(frame: bytes, offset: int, data: bytes) -> bytes:
    """``frame`` with ``data`` at ``offset``."""
    out = bytearray(frame)
    out[offset : offset + len(data)] = data
    return bytes(out)


def with_floats(current: float, voltage: float) -> bytes:
    """The capture with another current and voltage."""
    return with_bytes(STATUS, 8, struct.pack(">ff", current, voltage))


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    status = decode_status(bytes.fromhex(vector["hex"]))
    assert status.voltage == expected["voltage"]
    assert status.current == expected["current"]
    assert status.soc == expected["soc"]
    assert status.soh == expected["soh"]
    assert status.runtime == expected["runtime"]
    assert status.problem_code == expected["problem_code"]
    assert status.balancing is expected["balancer"]


def test_the_sources_charging_frame() -> None:
    status = decode_status(CHARGING)
    assert (status.current, status.voltage) == (0.4, 14.159)


@pytest.mark.parametrize("frame", PROBLEMS.values(), ids=PROBLEMS.keys())
def test_the_sources_problem_frames(frame: bytes) -> None:
    status = decode_status(frame)
    assert status.problem_code == 1
    assert status.balancing is False
    assert (status.voltage, status.soc) == (14.159, 94)


def test_flags_bit_7_is_balancing() -> None:
    status = decode_status(with_bytes(STATUS, 1, b"\xf5"))
    assert (status.balancing, status.problem_code) == (True, 0)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        STATUS[:-1],
        STATUS + b"\x00",
        with_bytes(STATUS, 0, b"\x01"),
        with_bytes(STATUS, 19, b"\x01"),
        with_bytes(STATUS, 2, b"\x65"),
        with_bytes(STATUS, 3, b"\x65"),
        with_floats(-0.4, 0.0),
        with_floats(-0.4, 0.999),
        with_floats(-0.4, -14.0),
        with_floats(-0.4, 100.5),
        with_floats(-0.4, float("nan")),
        with_floats(float("inf"), 14.0),
        with_floats(-2000.5, 14.0),
    ],
    ids=[
        "empty",
        "short",
        "long",
        "start",
        "reserved",
        "soc",
        "soh",
        "no voltage",
        "voltage too low",
        "negative voltage",
        "voltage too high",
        "voltage nan",
        "current inf",
        "current too high",
    ],
)
def test_what_cannot_be_a_frame_is_refused(raw: bytes) -> None:
    with pytest.raises(FrameError):
        decode_status(raw)


def test_the_bounds_are_frames() -> None:
    status = decode_status(with_bytes(with_floats(-2000.0, 100.0), 2, b"\x64\x00"))
    assert (status.current, status.voltage, status.soc, status.soh) == (
        -2000.0,
        100.0,
        100,
        0,
    )
    assert decode_status(with_floats(2000.0, 1.0)).voltage == 1.0


def test_the_aiobmsble_short_frame_waits() -> None:
    # tests/bms/test_superb_bms.py "too_short": 19 bytes, refused there.
    short = bytes.fromhex("00725e64000001a4becccccd416289c5000000")
    assert len(short) == LENGTH - 1
    assert SuperbReassembler().feed(short) == ([], [])


def test_a_lost_tail_is_skipped_and_the_next_frame_read() -> None:
    frames, errors = feed_chunks(SuperbReassembler(), [STATUS[:10], STATUS])
    assert (frames, errors) == ([STATUS], [])


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [
    b"\x00",
    b"\x00\x75",
    b"\x00\x75\x5e",
    b"\x00\x75\x5e\x64",
    b"\x00\x00\x00\x00",
    b"\xff" * 9,
]
# Other families' frames this one's stream must refuse (test_reassembly_contract).
FOREIGN = {
    # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply.
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
    # Redodo's status request (tests/protocol/test_redodo_frames.py).
    "redodo": bytes.fromhex("000004011355aa17"),
    # aiobmsble 0.31.0 tests/bms/test_superb_v2_bms.py: the second
    # generation's two 24-byte frames.
    "v2_info": bytes.fromhex("00230413ffff81e300000000000000000000126400012f29"),
    "v2_measure": bytes.fromhex("020d00000000fffff65f3397000009640000000000000000"),
}


def test_the_second_generation_is_not_read() -> None:
    frames, _ = feed_chunks(SuperbReassembler(), list(FOREIGN.values()))
    assert frames == []


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_decoder_raises_only_protocol_errors(raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_status(raw)


def test_aiobmsble_reads_the_same_values() -> None:
    """A second decoder on the vector and on the simulator's frames.

    Runs where aiobmsble is installed (the bleak 3 environment).
    """
    superb_bms = pytest.importorskip("aiobmsble.bms.superb_bms")
    reference = superb_bms.BMS
    sim = demo("60:8A:10:00:00:01")
    sim.pack.balancing_cells = {1}
    sim.problem = True
    for frame in [*FRAMES, CHARGING, sim.status_frame()]:
        theirs = reference._decode_data(reference._FIELDS, frame)
        ours = decode_status(frame)
        assert theirs["battery_level"] == ours.soc
        assert theirs["battery_health"] == ours.soh
        assert theirs["problem_code"] == ours.problem_code
        assert theirs["balancer"] is ours.balancing
        assert theirs["runtime"] == ours.runtime
        assert round(struct.unpack_from(">f", frame, 8)[0], 3) == ours.current
        assert round(struct.unpack_from(">f", frame, 12)[0], 3) == ours.voltage
