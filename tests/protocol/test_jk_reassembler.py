"""JK reassembly: split, glued and noisy notifications."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.jk import JkSimulator
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import ChecksumError, FrameError
from custom_components.lithium_bms.protocol.jk import JkDriver
from custom_components.lithium_bms.protocol.jk_frames import (
    FRAME_HEADER,
    JkReassembler,
    check_frame,
)

FRAMES = [
    bytes.fromhex(v["hex"])
    for v in json.loads(
        (Path(__file__).parent / "data" / "jk_vectors.json").read_text()
    )
]
CELLS, SETTINGS = FRAMES[2], FRAMES[7]
ACK = bytes.fromhex("aa5590ebc8010100000000000000000000000044")
NOISE = b"AT\r\n"


def _feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[Exception]]:
    reassembler = JkReassembler()
    frames: list[bytes] = []
    errors: list[Exception] = []
    for chunk in chunks:
        got, errs = reassembler.feed(chunk)
        frames += got
        errors += errs
    return frames, errors


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 20, 128, 300, 1000])
def test_split_frames_are_rebuilt(size: int) -> None:
    stream = b"".join(FRAMES)
    frames, errors = _feed_all(_chunks(stream, size))
    assert frames == FRAMES
    assert errors == []


def test_real_module_split_128_128_44() -> None:
    frames, errors = _feed_all([CELLS[:128], CELLS[128:256], CELLS[256:]])
    assert frames == [CELLS]
    assert errors == []


def test_glued_frame_and_head_of_the_next() -> None:
    glued = SETTINGS + CELLS[:84]
    frames, _ = _feed_all([glued, CELLS[84:]])
    assert frames == [SETTINGS, CELLS]


def test_noise_notifications_inside_a_frame_are_dropped() -> None:
    chunks = [CELLS[:100], NOISE, CELLS[100:200], ACK, NOISE + CELLS[200:]]
    frames, errors = _feed_all(chunks)
    assert frames == [CELLS]
    assert errors == []


def test_noise_and_ack_between_frames_are_skipped() -> None:
    stream = NOISE + SETTINGS + ACK + NOISE + NOISE + CELLS + ACK
    frames, errors = _feed_all(_chunks(stream, 20))
    assert frames == [SETTINGS, CELLS]
    assert errors == []


def test_320_byte_frame_with_appended_ack() -> None:
    frames, errors = _feed_all([FRAMES[4] + ACK, CELLS])
    assert frames == [FRAMES[4], CELLS]
    assert errors == []


def test_header_split_across_notifications() -> None:
    frames, _ = _feed_all([b"junk\x55", b"\xaa", b"\xeb\x90" + CELLS[4:]])
    assert frames == [CELLS]


def test_false_header_does_not_swallow_the_frame_behind_it() -> None:
    fake = FRAME_HEADER + bytes(60)
    frames, errors = _feed_all([fake + CELLS[:200], CELLS[200:]])
    assert frames == [CELLS]
    assert len(errors) == 1


def test_bad_checksum_is_reported_and_the_next_frame_survives() -> None:
    broken = CELLS[:299] + bytes(((CELLS[299] + 1) & 0xFF,))
    frames, errors = _feed_all(_chunks(broken + SETTINGS, 128))
    assert frames == [SETTINGS]
    assert errors
    assert isinstance(errors[0], ChecksumError)


def test_truncated_frame_is_dropped_at_the_next_header() -> None:
    frames, errors = _feed_all([CELLS[:150], SETTINGS, CELLS])
    assert frames == [SETTINGS, CELLS]
    assert errors


def test_unknown_type_is_a_frame_error() -> None:
    odd = bytearray(CELLS)
    odd[4] = 0x09
    odd[299] = sum(odd[:299]) & 0xFF
    frames, errors = _feed_all([bytes(odd)])
    assert frames == []
    assert isinstance(errors[0], FrameError)


def test_reset_drops_a_partial_frame() -> None:
    reassembler = JkReassembler()
    reassembler.feed(CELLS[:200])
    reassembler.reset()
    frames, _ = reassembler.feed(CELLS[200:] + SETTINGS)
    assert frames == [SETTINGS]


@st.composite
def noisy_streams(draw: st.DrawFn) -> tuple[list[bytes], list[bytes]]:
    """Frames cut at random points, with noise notifications anywhere."""
    frames = draw(st.lists(st.sampled_from(FRAMES), min_size=1, max_size=6))
    stream = bytearray()
    for frame in frames:
        gap = draw(
            st.binary(max_size=40).filter(lambda b: b"\x55" not in b)
            | st.sampled_from([b"", NOISE, ACK])
        )
        stream += gap + frame
    cuts = sorted(draw(st.sets(st.integers(1, len(stream) - 1), max_size=40)))
    chunks = [
        bytes(stream[a:b])
        for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)
    ]
    notes: list[bytes] = []
    for chunk in chunks:
        notes += draw(st.lists(st.sampled_from([NOISE, ACK]), max_size=2))
        notes.append(chunk)
    return frames, notes


@settings(max_examples=200, deadline=None)
@given(case=noisy_streams())
def test_any_split_with_noise_yields_every_frame(
    case: tuple[list[bytes], list[bytes]],
) -> None:
    expected, notifications = case
    frames, errors = _feed_all(notifications)
    assert frames == expected
    assert errors == []


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.binary(max_size=350), max_size=12))
def test_feed_never_raises_and_emits_only_valid_frames(chunks: list[bytes]) -> None:
    reassembler = JkReassembler()
    for chunk in chunks:
        frames, _ = reassembler.feed(chunk)
        for frame in frames:
            check_frame(frame)
    frames, _ = reassembler.feed(CELLS + CELLS)
    assert CELLS in frames


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.binary(max_size=350), max_size=12))
def test_driver_feed_never_raises(chunks: list[bytes]) -> None:
    driver = JkDriver(
        SimulatorTransport(JkSimulator("C8:47:8C:00:00:01", "x")), DriverOptions()
    )
    for chunk in [*chunks, SETTINGS]:
        driver.feed(chunk)
    assert driver.inbox.take(lambda frame: frame == SETTINGS) == SETTINGS
