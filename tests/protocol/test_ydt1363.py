"""YD/T1363 codec: captured Pace and Seplos frames, checksums, reassembly."""

from __future__ import annotations

from random import Random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.lithium_bms.protocol.codecs import ydt1363
from custom_components.lithium_bms.protocol.codecs.ydt1363 import (
    Ydt1363Reassembler,
    build_frame,
    parse_frame,
)
from custom_components.lithium_bms.protocol.errors import ChecksumError, FrameError

from .serial_vectors import ids, vectors

REQUESTS = vectors("ydt1363", "request")
RESPONSES = vectors("ydt1363", "response")
FRAMES = REQUESTS + RESPONSES
(LENGTH,) = vectors("ydt1363", "length")
(BODY,) = vectors("ydt1363", "body")


def frame_of(vector: dict[str, Any]) -> bytes:
    return str(vector["text"]).encode("ascii")


def header(vector: dict[str, Any]) -> tuple[int, int, int, int]:
    e = vector["expected"]
    return e["ver"], e["adr"], e["cid1"], e["cid2"]


def u16(info: bytes, at: int, *, signed: bool = False) -> int:
    return int.from_bytes(info[at : at + 2], "big", signed=signed)


def pace_analog(info: bytes) -> dict[str, Any]:
    """The analog reply's INFO as the source's comment lays it out."""
    cells = info[2]
    at = 3 + 2 * cells
    temps = info[at]
    at += 1
    out: dict[str, Any] = {
        "cell_count": cells,
        "cell_mV": [u16(info, 3 + 2 * i) for i in range(cells)],
        "temperature_count": temps,
        "temperature_tenths_C": [u16(info, at + 2 * i) - 2730 for i in range(temps)],
    }
    at += 2 * temps
    out["current_mA"] = u16(info, at, signed=True) * 10
    out["total_mV"] = u16(info, at + 2)
    out["remaining_mAh"] = u16(info, at + 4) * 10
    out["full_mAh"] = u16(info, at + 7) * 10
    out["cycles"] = u16(info, at + 9)
    out["design_mAh"] = u16(info, at + 11) * 10
    return out


@pytest.mark.parametrize("vector", FRAMES, ids=ids(FRAMES))
def test_captured_frames_decode_exactly(vector: dict[str, Any]) -> None:
    frame = parse_frame(frame_of(vector))
    e = vector["expected"]
    assert (frame.ver, frame.adr, frame.cid1, frame.cid2) == header(vector)
    if "info" in e:
        assert frame.info.hex() == e["info"]
    if "text" in e:
        assert frame.info.rstrip(b"\x00 ").decode("ascii") == e["text"]
    if "analog" in e:
        assert pace_analog(frame.info) == e["analog"]


@pytest.mark.parametrize("vector", FRAMES, ids=ids(FRAMES))
def test_build_gives_the_captured_frame_back(vector: dict[str, Any]) -> None:
    frame = parse_frame(frame_of(vector))
    assert build_frame(*header(vector), frame.info) == frame_of(vector)


def test_the_length_example_of_the_spec() -> None:
    assert ydt1363.length_field(LENGTH["expected"]["lenid"]) == 0xD012
    assert ydt1363.lchksum(0) == 0


def test_the_seplos_telemetry_body_has_its_length_and_values() -> None:
    body = bytes.fromhex(BODY["hex"])
    e = BODY["expected"]
    assert tuple(body[:4]) == (e["ver"], e["adr"], e["cid1"], e["cid2"])
    assert int.from_bytes(body[4:6], "big") == e["length"]
    info = body[6:]
    assert ydt1363.length_field(2 * len(info)) == e["length"]
    frame = parse_frame(build_frame(*body[:4], info))
    assert frame.info == info
    cells = info[2]
    assert [u16(info, 3 + 2 * i) / 1000 for i in range(cells)] == e["cell_V"]
    at = 3 + 2 * cells
    temps = [round((u16(info, at + 1 + 2 * i) - 2731) / 10, 1) for i in range(6)]
    assert temps == e["temperature_C"]
    at += 1 + 2 * info[at]
    assert u16(info, at, signed=True) / 100 == e["current_A"]
    assert u16(info, at + 2) / 100 == e["voltage_V"]
    assert u16(info, at + 4) / 100 == e["residual_Ah"]
    assert u16(info, at + 9) / 10 == e["soc_pct"]
    assert u16(info, at + 13) == e["cycles"]
    assert u16(info, at + 15) / 10 == e["soh_pct"]
    assert u16(info, at + 17) / 100 == e["port_voltage_V"]


def test_parse_refuses_bad_frames() -> None:
    good = frame_of(RESPONSES[0])
    with pytest.raises(ChecksumError):
        parse_frame(good[:20] + (b"1" if good[20:21] != b"1" else b"2") + good[21:])
    with pytest.raises(FrameError):
        parse_frame(good[:-1] + b"\n")
    with pytest.raises(FrameError):
        parse_frame(good[:-2])
    with pytest.raises(FrameError):
        parse_frame(b"")
    with pytest.raises(FrameError, match="odd"):
        parse_frame(b"~20014642F0011FD00\r")
    with pytest.raises(FrameError, match="hexadecimal"):
        parse_frame(b"~20014642E002G1FD34\r")
    with pytest.raises(ValueError, match="not a byte"):
        build_frame(0x20, 256, 0x46, 0x42)
    with pytest.raises(ValueError, match="LENID"):
        ydt1363.length_field(0x1000)


def test_a_wrong_lchksum_is_no_frame() -> None:
    good = frame_of(REQUESTS[0])
    bad = good[:9] + b"F" + good[10:]
    assert Ydt1363Reassembler().feed(bad) == ([], [])


def test_a_foreign_address_is_never_a_frame() -> None:
    pace = [frame_of(v) for v in FRAMES if v["name"].startswith("Pace")]
    found, _ = Ydt1363Reassembler((1,)).feed(b"".join(pace))
    assert found == [f for f in pace if parse_frame(f).adr == 1]


def test_a_cut_frame_resyncs_at_the_next_start() -> None:
    long = frame_of(RESPONSES[0])
    short = frame_of(REQUESTS[0])
    frames, errors = Ydt1363Reassembler().feed(long[:40] + short)
    assert frames == [short]
    assert [str(e) for e in errors] == ["incomplete YD/T1363 frame"]
    frames, errors = Ydt1363Reassembler().feed(long[:40] + b"\r")
    assert frames == []
    assert [str(e) for e in errors] == ["incomplete YD/T1363 frame"]


ALL = [frame_of(v) for v in FRAMES]
NOISE = b"~\r0123456789ABCDEF\x00\xff xyz"


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_fuzz_split_garbage_truncated_spliced(data: st.DataObject) -> None:
    rng = Random(data.draw(st.integers(0, 2**32 - 1)))
    picked = [rng.choice(ALL) for _ in range(4)]
    stream = bytearray()
    expected: list[bytes] = []
    for frame in picked:
        stream += bytes(rng.choice(NOISE) for _ in range(rng.randrange(8)))
        if rng.random() < 0.3:  # a truncated frame
            stream += frame[: rng.randrange(1, len(frame) - 1)]
            stream += b"\r"
        stream += frame
        expected.append(frame)
    scanner = Ydt1363Reassembler()
    found: list[bytes] = []
    last = 0
    for cut in [*sorted(rng.sample(range(1, len(stream)), 6)), len(stream)]:
        found += scanner.feed(bytes(stream[last:cut]))[0]
        last = cut
    assert found == expected


@settings(max_examples=40, deadline=None)
@given(st.integers(0, len(ALL) - 1), st.integers(0, len(ALL) - 1), st.integers(2, 90))
def test_fuzz_a_spliced_frame_is_never_published(a: int, b: int, cut: int) -> None:
    first, second = ALL[a], ALL[b]
    cut = min(cut, len(first) - 1, len(second) - 1)
    spliced = first[:cut] + second[cut:]
    found, _ = Ydt1363Reassembler().feed(spliced)
    assert found in ([], [spliced])
    if spliced not in (first, second):
        assert found == [] or parse_frame(spliced)


def test_the_header_length_of_what_is_no_frame() -> None:
    assert ydt1363.header_length(b"x20014642") == 0
    assert ydt1363.header_length(b"~2001") is None
