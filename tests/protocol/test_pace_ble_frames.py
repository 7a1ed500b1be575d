"""PACE over Bluetooth: captured frames, requests, reassembly and fuzzing."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.pace.ble_frames import (
    OWN_PACK,
    BleCommand,
    ble_request,
    check_frame,
    decode_cells,
    decode_pack,
    decode_serial,
    decode_versions,
    frame_data,
    is_reply,
)
from custom_components.lithium_bms.protocol.pace.stream import PaceBleReassembler

from .streams import feed_chunks

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "pace_ble_vectors.json").read_text()
)
FRAMES = [bytes.fromhex(v["hex"]) for v in VECTORS]
PACK, CELLS, VERSIONS, SERIAL, SYSTEM, SLAVE_SYSTEM = FRAMES


def _of(kind: str) -> list[dict[str, Any]]:
    return [v for v in VECTORS if v["kind"] == kind]


def test_every_vector_is_sourced_and_a_valid_frame() -> None:
    for vector, frame in zip(VECTORS, FRAMES, strict=True):
        assert vector["source"], vector["name"]
        assert vector["note"], vector["name"]
        check_frame(frame)


@pytest.mark.parametrize("vector", _of("pack"), ids=lambda v: v["name"])
def test_pack_vectors_decode_exactly(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["hex"])
    assert is_reply(frame, BleCommand.PACK)
    values = decode_pack(frame_data(frame))
    assert {k: getattr(values, k) for k in vector["expected"]} == vector["expected"]


@pytest.mark.parametrize("vector", _of("cells"), ids=lambda v: v["name"])
def test_cell_vectors_decode_exactly(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["hex"])
    assert is_reply(frame, BleCommand.CELLS)
    cells = decode_cells(frame_data(frame))
    assert list(cells.cells) == vector["expected"]["cells"]
    assert [[t.kind.value, t.value] for t in cells.temperatures] == vector["expected"][
        "temperatures"
    ]


def test_text_vectors_decode_exactly() -> None:
    versions = decode_versions(frame_data(VERSIONS))
    expected = _of("versions")[0]["expected"]
    assert list(versions) == expected["texts"]
    assert (versions[0], versions[2]) == (
        expected["sw_version"],
        expected["hw_version"],
    )
    assert decode_serial(frame_data(SERIAL)) == "123456789012Z"


def test_requests_are_the_ones_aiobmsble_sends() -> None:
    # The keys of MockPaceBleakClient._RESP in aiobmsble's test.
    assert ble_request(BleCommand.PACK, OWN_PACK).hex() == "9a00000a0100000201011b9c9d"
    assert ble_request(BleCommand.CELLS, OWN_PACK).hex() == "9a00000a020000020101289c9d"
    assert ble_request(BleCommand.SERIAL).hex() == "9a00000002000000a0c89d"
    assert ble_request(BleCommand.VERSIONS).hex() == "9a00000001000000e4c89d"
    assert ble_request(BleCommand.SYSTEM).hex() == "9a00000a0000000019519d"


def test_a_system_frame_answers_no_pack_or_cell_request() -> None:
    for frame in (SYSTEM, SLAVE_SYSTEM):
        check_frame(frame)
        assert is_reply(frame, BleCommand.SYSTEM)
        assert not is_reply(frame, BleCommand.PACK)
        assert not is_reply(frame, BleCommand.CELLS)
    assert frame_data(SLAVE_SYSTEM) == bytes(51)


def test_the_system_vectors_state_what_their_sources_say() -> None:
    """Read here, in the test, by aiobmsble's 32-bit layout: the driver never does."""
    for vector in _of("system"):
        data = frame_data(bytes.fromhex(vector["hex"]))
        read = {
            "pack_count": data[0],
            "current": int.from_bytes(data[1:5], "big", signed=True) / 100,
            "voltage": int.from_bytes(data[5:9], "big") / 100,
            "state_of_charge": data[21],
            "cycles": int.from_bytes(data[23:27], "big"),
        }
        assert {k: read[k] for k in vector["expected"]} == vector["expected"]


def test_the_pack_frame_is_not_the_system_frame() -> None:
    # The bank's values (53.01 V, -4.23 A) differ from the pack's own.
    values = decode_pack(frame_data(PACK))
    assert (values.voltage, values.current) == (53.02, -3.84)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"\x90" + PACK[1:], FrameError),  # wrong head
        (PACK[:-3] + b"\x99\x99\x9d", ChecksumError),
        (PACK[:-1] + b"\x00", FrameError),  # wrong tail
        (PACK[:-4] + PACK[-3:], FrameError),  # a byte short
        (PACK[:10], FrameError),
        (b"", FrameError),
    ],
    ids=["head", "crc", "tail", "short", "truncated", "empty"],
)
def test_malformed_frames_are_refused(raw: bytes, error: type[ProtocolError]) -> None:
    with pytest.raises(error):
        check_frame(raw)


@pytest.mark.parametrize("size", [0, 3, 14])
def test_short_pack_data_is_a_frame_error(size: int) -> None:
    with pytest.raises(FrameError):
        decode_pack(frame_data(PACK)[:size])


@pytest.mark.parametrize("cut", [0, 3, 4, 20, 67])
def test_short_cell_data_is_a_frame_error(cut: int) -> None:
    with pytest.raises(FrameError):
        decode_cells(frame_data(CELLS)[:cut])


def test_a_version_text_cut_short_is_a_frame_error() -> None:
    with pytest.raises(FrameError):
        decode_versions(frame_data(VERSIONS)[:40])


def test_probe_kinds_follow_the_cell_slots() -> None:
    # Six probe words: four cells, MOSFET, ambient (aiobmsble's types); 0 is none.
    data = bytearray(frame_data(CELLS))
    data[4 + 4 * 4 + 2 : 4 + 4 * 4 + 4] = (2731 + 305).to_bytes(2, "big")
    data[4 + 4 * 6 + 2 : 4 + 4 * 6 + 4] = (2731 + 500).to_bytes(2, "big")
    temps = decode_cells(bytes(data)).temperatures
    assert [(t.kind.value, t.value) for t in temps][4:] == [("mosfet", 30.5)]


def _feed(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    return feed_chunks(PaceBleReassembler(), chunks)


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [b"\x00", b"\x9a", b"\x9a\x00\x00\x0a", b"\x9d\x9a"]


def test_a_refused_candidate_never_hides_the_next_frame() -> None:
    damaged = PACK[:20] + bytes((PACK[20] ^ 0xFF,)) + PACK[21:]
    frames, errors = _feed([damaged + CELLS])
    assert frames == [CELLS]
    assert any(isinstance(e, ChecksumError) for e in errors)


def test_a_truncated_reply_is_dropped_for_the_next_one() -> None:
    frames, errors = _feed([PACK[:30], CELLS])
    assert frames == [CELLS]
    assert errors


def test_a_stray_head_with_a_long_length_waits_then_yields() -> None:
    scanner = PaceBleReassembler()
    assert scanner.feed(b"\x9a\x00\x00\x0a\x01\x00\x00\xff") == ([], [])
    frames, errors = scanner.feed(PACK)
    assert frames == [PACK]
    assert errors


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_frames_give_valid_frames_or_nothing(data: st.DataObject) -> None:
    frame = data.draw(st.sampled_from([PACK, CELLS]))
    index = data.draw(st.integers(0, len(frame) - 1))
    flip = data.draw(st.integers(1, 255))
    mutated = frame[:index] + bytes((frame[index] ^ flip,)) + frame[index + 1 :]
    frames, _ = _feed([mutated + frame])
    assert frames[-1:] == [frame]
    assert all(f == frame for f in frames)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=40))
def test_valid_frames_survive_any_chunking(sizes: list[int]) -> None:
    stream = PACK + CELLS + SERIAL
    chunks, pos = [], 0
    for size in sizes:
        chunks.append(stream[pos : pos + size])
        pos += size
    chunks.append(stream[pos:])
    assert _feed(chunks) == ([PACK, CELLS, SERIAL], [])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_decoders_raise_only_frame_errors(raw: bytes) -> None:
    for decode in (decode_pack, decode_cells, decode_versions, decode_serial):
        with contextlib.suppress(FrameError):
            decode(raw)
