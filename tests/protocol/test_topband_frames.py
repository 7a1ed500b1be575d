"""Topband frames: every captured vector, the sum, the content checks, reassembly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.topband import demo
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.topband.frames import (
    LENGTH,
    checksum,
    decode_status,
)
from custom_components.lithium_bms.protocol.topband.stream import TopbandReassembler
from custom_components.lithium_bms.protocol.topband.variants import VARIANTS

from .streams import feed_chunks

DATA = Path(__file__).parent / "data"
VECTORS: list[dict[str, Any]] = json.loads((DATA / "topband_vectors.json").read_text())
BY_NAME = {vector["name"]: bytes.fromhex(vector["hex"]) for vector in VECTORS}
ECTIVE = BY_NAME["Ective 4S discharging, head 0x5E"]
KILOVAULT = BY_NAME["KiloVault 4S discharging, head 0xB0"]
FRAMES = list(BY_NAME.values())
RECEIVED = [bytes.fromhex(v["received_hex"]) for v in VECTORS if "received_hex" in v]
# patman15/aiobmsble tests/bms/test_topband_bms.py
# @ b0567331025033d33729385fa89a1198275d6486, ``wrong_response``: each is
# refused there (the update times out).
AIOBMSBLE_WRONG = {
    name: bytes.fromhex(text)
    for name, text in {
        "wrong_CRC": (
            "5e38343335303030303338434446464646324346393032303039373031363230"
            "3045313042303030303030303035453044373130443635304435453044303030"
            "3030303030303030303030303030303030303030303030303030303030303030"
            "30303030303030303030303030303838450000000000000000"
        ),
        "wrong_SOF": (
            "5a38343335303030303338434446464646324346393032303039373031363230"
            "3045313042303030303030303035453044373130443635304435453044303030"
            "3030303030303030303030303030303030303030303030303030303030303030"
            "30303030303030303030303030303838460000000000000000"
        ),
        "wrong_length": (
            "5e34333530303030333843444646464632434639303230303937303136323030"
            "4531304230303030303030303545304437313044363530443545304430303030"
            "3030303030303030303030303030303030303030303030303030303030303030"
            "30303030303030303030303030383846"
        ),
        "wrong_character": (
            "5e5e343335303030303338434446464646324346393032303039373031363230"
            "3045313042303030303030303035453044373130443635304435453044303030"
            "3030303030303030303030303030303030303030303030303030303030303030"
            "3030303030303030303030303030383846"
        ),
    }.items()
}
WRONG_CRC = AIOBMSBLE_WRONG["wrong_CRC"][:LENGTH]
# naugehyde/bt-sensors-plugin-sk sensor_classes/EctiveBMS.js
# @ 203f01da52c9fceb15c9e3f202b3a873888dbf7f, testData[2] ("bad data"): the
# second capture with one digit replaced by "!".
BAD_CHARACTER = bytes.fromhex(
    "5e 35 34 33 37 30 30 30 30 30 30 30 30 30 30 30 30 "
    "34 38 45 38 30 21 30 30 31 30 30 30 36 33 30 30 "
    "43 30 30 42 30 30 38 30 38 37 46 34 "
    "33 41 30 45 30 35 30 45 30 33 30 45 30 46 30 44 "
    "30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 "
    "30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 "
    "30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 "
    "30 35 37 44 00 00 00 00 00 00 00 00"
)


def encode(head: int, data: bytes) -> bytes:
    """A frame of ``data`` (54 bytes) with its sum made to fit."""
    return (
        bytes((head,))
        + (data + checksum(data).to_bytes(2, "big")).hex().upper().encode()
    )


def with_bytes(frame: bytes, offset: int, data: bytes) -> bytes:
    """``frame`` with decoded ``data`` at ``offset``, the sum made to fit."""
    body = bytearray(bytes.fromhex(frame[1:].decode())[:54])
    body[offset : offset + len(data)] = data
    return encode(frame[0], bytes(body))


def feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    return feed_chunks(TopbandReassembler(), chunks)


def test_every_vector_names_its_source_and_a_second_check() -> None:
    assert len(VECTORS) >= 6
    for vector in VECTORS:
        assert vector["source"]
        assert vector["expected"]
        assert "second check" in vector["note"].lower()
    # Each head byte of aiobmsble's captures, and PowerXtreme.
    assert {frame[0] for frame in FRAMES} == {0x5E, 0x83, 0xB0}
    assert any("PowerXtreme" in vector["name"] for vector in VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    variant = VARIANTS[vector.get("variant", "topband")]
    status = decode_status(bytes.fromhex(vector["hex"]), variant.current_unit)
    assert status.voltage == expected["voltage"]
    assert status.current == expected["current"]
    assert list(status.cell_voltages) == expected["cell_voltages"]
    assert status.soc == expected["soc"]
    assert status.cycles == expected["cycles"]
    assert status.remaining == expected["remaining_capacity"]
    assert status.temperature == expected["temperature"]
    assert status.problem_code == expected["problem_code"]


def test_powerxtreme_counts_its_current_in_tenths_of_an_ampere() -> None:
    frame = BY_NAME["PowerXtreme X210 4S discharging, head 0x5E"]
    assert decode_status(frame).current == -0.032
    assert decode_status(frame, VARIANTS["powerxtreme"].current_unit).current == -3.2


@pytest.mark.parametrize("received", RECEIVED, ids=range(len(RECEIVED)))
def test_what_the_source_received_gives_exactly_its_frame(received: bytes) -> None:
    """The noise before and after the frame in the captures is dropped."""
    start = next(i for i, b in enumerate(received) if b in b"\x5e\x83\xb0")
    frame = received[start : start + LENGTH]
    assert frame in FRAMES
    # Notified in 32-byte chunks, as the source's mock does.
    chunks = [received[i : i + 32] for i in range(0, len(received), 32)]
    assert feed_all(chunks) == ([frame], [])


@pytest.mark.parametrize("name", sorted(set(AIOBMSBLE_WRONG) - {"wrong_SOF"}))
def test_aiobmsble_wrong_responses_give_no_frame(name: str) -> None:
    frames, _errors = feed_all([AIOBMSBLE_WRONG[name]])
    assert frames == []


def test_the_wrong_head_of_aiobmsble_is_a_head_since_0_31() -> None:
    """0x5A is no hex digit: aiobmsble 0.31.0 takes it as a head, as we do.

    Its digits and sum are those of the Ective capture with -13.000 A.
    """
    frames, errors = feed_all([AIOBMSBLE_WRONG["wrong_SOF"]])
    assert errors == []
    [frame] = frames
    assert frame[0] == 0x5A
    assert decode_status(frame).current == -13.0


def test_a_wrong_sum_is_a_checksum_error() -> None:
    with pytest.raises(ChecksumError):
        decode_status(WRONG_CRC)
    frames, errors = feed_all([WRONG_CRC])
    assert frames == []
    assert [type(e) for e in errors] == [ChecksumError]


def test_a_character_that_is_no_hex_digit_refuses_the_frame() -> None:
    assert feed_all([BAD_CHARACTER]) == ([], [])
    with pytest.raises(FrameError):
        decode_status(BAD_CHARACTER[:LENGTH])
    # Digits are uppercase (aiobmsble 0.31.0): a lowercase one is refused.
    lower = ECTIVE[:1] + ECTIVE[1:].lower()
    with pytest.raises(FrameError):
        decode_status(lower)
    assert feed_all([lower]) == ([], [])


@pytest.mark.parametrize("head", [0x00, 0x5E, 0x83, 0xB0, 0xE8, 0x47, 0xFF])
def test_any_byte_that_is_no_hex_digit_heads_a_frame(head: int) -> None:
    """aiobmsble 0.31.0 takes any such byte; the captures show 5E, 83 and B0."""
    frame = bytes((head,)) + ECTIVE[1:]
    assert feed_all([b"\x52" * 3 + frame]) == ([frame], [])
    assert decode_status(frame) == decode_status(ECTIVE)


@pytest.mark.parametrize(
    ("offset", "data", "why"),
    [
        # Cell 3 empty, cell 4 not: no pack fills its slots that way.
        (26, b"\x00\x00", "after an empty slot"),
        # Every cell slot empty.
        (22, bytes(32), "without cells"),
        # SOC 101 %.
        (14, (101).to_bytes(2, "little"), "above 100"),
        # 14.900 V over cells summing to 13.714 V.
        (0, (14900).to_bytes(4, "little"), "sum of its cells"),
    ],
)
def test_a_frame_that_contradicts_itself_is_refused(
    offset: int, data: bytes, why: str
) -> None:
    """A valid sum is not enough: it is a byte sum, easy to fit."""
    forged = with_bytes(ECTIVE, offset, data)
    with pytest.raises(FrameError, match=why):
        decode_status(forged)
    frames, errors = feed_all([forged, ECTIVE])
    assert frames == [ECTIVE]
    assert len(errors) == 1


def test_the_cell_sum_tolerance_keeps_the_kilovault_capture() -> None:
    # 61 mV between the pack voltage and the cells of a real capture.
    status = decode_status(KILOVAULT)
    assert round(sum(status.cell_voltages) - status.voltage, 3) == 0.061


def test_foreign_and_truncated_frames_give_nothing() -> None:
    redodo = json.loads((DATA / "redodo_vectors.json").read_text())[0]
    jbd_like = bytes.fromhex("dd0300")
    assert feed_all([bytes.fromhex(redodo["hex"]), jbd_like]) == ([], [])
    # A frame cut short, then a whole one: the next head ends the first.
    assert feed_all([ECTIVE[:60], KILOVAULT]) == ([KILOVAULT], [])
    # Only the start of a frame: it waits, and a reset forgets it.
    reassembler = TopbandReassembler()
    assert reassembler.feed(ECTIVE[:-1]) == ([], [])
    reassembler.reset()
    assert reassembler.feed(ECTIVE[-1:]) == ([], [])


def test_glued_frames_and_garbage_between() -> None:
    stream = b"\x00\xaf" + ECTIVE + b"garbage^\x83" + KILOVAULT + ECTIVE + b"\x52" * 8
    assert feed_all([stream]) == ([ECTIVE, KILOVAULT, ECTIVE], [])


def test_the_simulator_frame_decodes_to_its_pack() -> None:
    sim = demo("30:55:44:00:11:22")
    sim.pack.current = -7.25
    sim.pack.soc = 81
    status = decode_status(sim.status_frame())
    assert status.cell_voltages == tuple(sim.pack.cell_voltages)
    assert status.voltage == round(sim.pack.voltage, 3)
    assert status.current == -7.25
    assert status.soc == 81
    assert status.remaining == round(sim.pack.remaining_capacity, 3)
    assert status.temperature == sim.carried_temperature(sim.pack.temperatures[0])


@settings(max_examples=150, deadline=None)
@given(
    garbage=st.lists(st.binary(max_size=40), min_size=len(FRAMES) + 1),
    frames=st.permutations(FRAMES),
    sizes=st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=30),
)
def test_fuzz_frames_survive_garbage_and_any_chunking(
    garbage: list[bytes], frames: list[bytes], sizes: list[int]
) -> None:
    """Every frame is found, whatever lies between them, however it is cut.

    Garbage that happens to end in a head byte and hex digits may swallow
    the start of the next frame as its candidate: the next frame's own head
    byte (no hex digit) ends that candidate, so the frame is still found.
    """
    stream = garbage[0]
    for frame, noise in zip(frames, garbage[1:], strict=False):
        stream += frame + noise
    chunks: list[bytes] = []
    position = 0
    index = 0
    while position < len(stream):
        size = sizes[index % len(sizes)]
        chunks.append(stream[position : position + size])
        position += size
        index += 1
    found, _errors = feed_all(chunks)
    for frame in frames:
        assert frame in found
    assert all(decode_status(frame) is not None for frame in found)


def test_the_simulator_reports_its_one_probe() -> None:
    sim = demo("30:55:44:00:11:22")
    sim.pack.temperatures = [21.0, 30.0]
    assert sim.probes == [decode_status(sim.status_frame()).temperature] == [21.05]
