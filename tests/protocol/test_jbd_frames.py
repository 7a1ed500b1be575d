"""JBD frames: reference vectors, request bytes, reassembly and fuzzing."""

from __future__ import annotations

import contextlib
import json
import struct
from collections.abc import Callable
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
from custom_components.lithium_bms.protocol.jbd.frames import (
    PROTECTION_BITS,
    auth_frame,
    build_mosfet,
    build_read,
    build_write,
    checksum,
    decode_alarms,
    decode_basic,
    decode_cells,
    decode_model,
    parse_frame,
)
from custom_components.lithium_bms.protocol.jbd.stream import JbdReassembler
from custom_components.lithium_bms.protocol.jbd.variants import DAREN, STANDARD
from custom_components.lithium_bms.protocol.snapshot import Alarm, BatterySnapshot

from .streams import chunked, feed_chunks

REFERENCE_FILE = (
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "test_vectors.json"
)

DATA_FILE = Path(__file__).parent / "data" / "jbd_vectors.json"
# The "jbd" section of the shared reference vectors: (name, hex, expected).
VECTORS: list[tuple[str, str, dict[str, Any]]] = [
    (v["name"], v["hex"], v["expected"])
    for v in json.loads(DATA_FILE.read_text())
    if "variant" not in v
]
# Daren's captures: its own 0x03 layout and register 0x08.
DAREN_VECTORS: list[tuple[str, str, dict[str, Any]]] = [
    (v["name"], v["hex"], v["expected"])
    for v in json.loads(DATA_FILE.read_text())
    if v.get("variant") == "daren"
]

# aiobmsble's discharging capture (protocols.md 4.7), not in the JSON file.
AIOBMSBLE_BASIC = (
    "dd03001d0618fee101f201f4002a2c7c00000000000080640304030b8b0b8a0b84f88477"
)
AIOBMSBLE_CELLS = "dd0400080d660d610d680d59fe3c77"

BASIC_4S = bytes.fromhex(VECTORS[0][1])
CELLS_4S = bytes.fromhex(VECTORS[1][1])
MODEL = bytes.fromhex(VECTORS[2][1])
COUNTERS = bytes.fromhex(VECTORS[3][1])
BASIC_17S = bytes.fromhex(VECTORS[4][1])
ACK = bytes.fromhex(VECTORS[7][1])
AUTH_OK = bytes.fromhex("ffaa15010016")

COUNTER_NAMES = (
    "short_circuit",
    "chg_oc",
    "dsg_oc",
    "cell_ov",
    "cell_uv",
    "chg_ot",
    "chg_ut",
    "dsg_ot",
    "dsg_ut",
    "pack_ov",
    "pack_uv",
)


def reply(register: int, payload: bytes, status: int = 0) -> bytes:
    """A reply frame, with the checksum computed independently of the driver."""
    body = bytes((status, len(payload))) + payload
    chk = (-sum(body)) % 0x10000
    return bytes((0xDD, register)) + body + struct.pack(">H", chk) + b"\x77"


def feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    """Feed chunks into one reassembler, collecting every output."""
    return feed_chunks(JbdReassembler(), chunks)


def vectors_for(register: int) -> list[tuple[str, str, dict[str, Any]]]:
    return [v for v in VECTORS if bytes.fromhex(v[1])[1] == register]


def ids(vectors: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    return [v[0] for v in vectors]


# --- reference vectors -------------------------------------------------------


@pytest.mark.skipif(not REFERENCE_FILE.exists(), reason="reference file absent")
def test_embedded_vectors_start_with_the_reference_set() -> None:
    # The reference vectors, unchanged and first; captures added after them.
    reference = json.loads(REFERENCE_FILE.read_text())["jbd"]
    assert json.loads(DATA_FILE.read_text())[: len(reference)] == reference


def _daren(register: int) -> list[tuple[str, str, dict[str, Any]]]:
    return [v for v in DAREN_VECTORS if bytes.fromhex(v[1])[1] == register]


DAREN_BASIC = _daren(0x03)
DAREN_CELLS = _daren(0x04)
DAREN_INFO = bytes.fromhex(_daren(0x08)[0][1])


@pytest.mark.parametrize(
    ("name", "hex_frame", "expected"), DAREN_BASIC, ids=ids(DAREN_BASIC)
)
def test_daren_basic_vectors(
    name: str, hex_frame: str, expected: dict[str, Any]
) -> None:
    info = DAREN.decode_basic(parse_frame(bytes.fromhex(hex_frame)).payload)
    decoded = {
        "voltage_V": info.voltage,
        "current_A": info.current,
        "remaining_Ah": info.remaining_capacity,
        "design_Ah_floored": int(info.nominal_capacity),
        "cycles": info.cycles,
        "balance": sum(1 << (cell - 1) for cell in info.balancing_cells),
        "protection": info.protection,
        "soc_pct": info.soc,
        "fet": info.charge_fet | info.discharge_fet << 1,
        "cells": info.cell_count,
        "temps_C": list(info.temperatures),
        "mosfet_C": info.mosfet_temperature,
        "ambient_C": info.ambient_temperature,
        "health_pct": info.state_of_health,
    }
    assert decoded == expected


def test_the_standard_layout_misreads_the_extended_daren_reply() -> None:
    """Why Daren is a variant: its extended reply fills the fixed part with FFFF."""
    payload = parse_frame(bytes.fromhex(DAREN_BASIC[1][1])).payload
    assert STANDARD.decode_basic(payload).remaining_capacity == 655.35
    assert DAREN.decode_basic(payload).remaining_capacity == 142.4


@pytest.mark.parametrize(
    ("name", "hex_frame", "expected"), DAREN_CELLS, ids=ids(DAREN_CELLS)
)
def test_daren_cell_vectors(
    name: str, hex_frame: str, expected: dict[str, Any]
) -> None:
    cells = decode_cells(parse_frame(bytes.fromhex(hex_frame)).payload)
    snapshot = BatterySnapshot(voltage=0.0, current=0.0, cell_voltages=cells)
    assert list(cells) == expected["cells_V"]
    assert snapshot.cell_voltage_delta == expected["delta_V"]


def test_daren_device_info_vector() -> None:
    expected = _daren(0x08)[0][2]
    info = DAREN.decode_info(parse_frame(DAREN_INFO).payload)
    assert (info.model, info.hw_version, info.sw_version) == (
        expected["model"],
        expected["hw_version"],
        expected["sw_version"],
    )
    assert DAREN.info_register == 0x08


def test_daren_basic_info_shorter_than_its_probes_is_refused() -> None:
    payload = parse_frame(bytes.fromhex(DAREN_BASIC[0][1])).payload
    with pytest.raises(FrameError):
        DAREN.decode_basic(payload[:34])


def test_every_vector_names_its_source() -> None:
    assert all(v["source"] for v in json.loads(DATA_FILE.read_text()))


@pytest.mark.parametrize(
    ("name", "hex_frame", "expected"),
    VECTORS + DAREN_VECTORS,
    ids=ids(VECTORS + DAREN_VECTORS),
)
def test_every_vector_is_a_valid_frame(
    name: str, hex_frame: str, expected: dict[str, Any]
) -> None:
    raw = bytes.fromhex(hex_frame)
    frame = parse_frame(raw)
    assert frame.register == raw[1]
    assert frame.status == 0
    assert len(frame.payload) == raw[3]
    assert feed_all([raw]) == ([raw], [])


BASIC_VECTORS = vectors_for(0x03)


@pytest.mark.parametrize(
    ("name", "hex_frame", "expected"), BASIC_VECTORS, ids=ids(BASIC_VECTORS)
)
def test_basic_vectors(name: str, hex_frame: str, expected: dict[str, Any]) -> None:
    payload = parse_frame(bytes.fromhex(hex_frame)).payload
    info = decode_basic(payload)
    checks: dict[str, Callable[[Any], bool]] = {
        "total_voltage_V": lambda v: info.voltage == v,
        "voltage_V": lambda v: info.voltage == v,
        "current_A": lambda v: info.current == v,
        "remaining_Ah": lambda v: info.remaining_capacity == v,
        "nominal_Ah": lambda v: info.nominal_capacity == v,
        "cycles": lambda v: info.cycles == v,
        "production_date": lambda v: info.production_date == v,
        "balance": lambda v: (
            info.balancing_cells == {i + 1 for i in range(32) if v >> i & 1}
        ),
        "protection": lambda v: (
            info.protection == v and decode_alarms(info.protection) == frozenset()
        ),
        "sw_version": lambda v: (
            info.software_version == f"{int(v, 16) >> 4}.{int(v, 16) & 0xF}"
        ),
        "version": lambda v: (
            info.software_version == f"{int(v, 16) >> 4}.{int(v, 16) & 0xF}"
        ),
        "soc_pct": lambda v: info.soc == v,
        "fet": lambda v: (
            (info.charge_fet, info.discharge_fet)
            == (bool(_fet(v) & 1), bool(_fet(v) & 2))
        ),
        "cells": lambda v: info.cell_count == v,
        "ntc": lambda v: len(info.temperatures) == v,
        "temps_C": lambda v: list(info.temperatures) == v,
        "trailing": lambda v: (
            payload[23 + 2 * len(info.temperatures) :] == bytes.fromhex(v.split("(")[0])
        ),
    }
    assert set(expected) <= set(checks), "a vector field is not checked"
    failed = {key: value for key, value in expected.items() if not checks[key](value)}
    assert failed == {}, info


def _fet(value: int | str) -> int:
    return value if isinstance(value, int) else int(value.split()[0], 16)


def test_basic_vector_exact_values() -> None:
    info = decode_basic(parse_frame(BASIC_4S).payload)
    assert info.voltage == 15.6
    assert info.software_version == "8.0"
    assert info.production_date == "2022-03-28"
    assert info.temperatures == (22.4, 22.3, 21.7)
    discharging = decode_basic(parse_frame(BASIC_17S).payload)
    assert discharging.current == -20.12
    assert discharging.software_version == "1.2"
    assert discharging.temperatures == (23.7, 25.4, 23.5, 23.6)
    aio = decode_basic(parse_frame(bytes.fromhex(AIOBMSBLE_BASIC)).payload)
    assert (aio.current, aio.cycles, aio.soc) == (-2.87, 42, 100)
    assert aio.charge_fet
    assert aio.discharge_fet


CELL_VECTORS = vectors_for(0x04)


@pytest.mark.parametrize(
    ("name", "hex_frame", "expected"), CELL_VECTORS, ids=ids(CELL_VECTORS)
)
def test_cell_vectors(name: str, hex_frame: str, expected: dict[str, Any]) -> None:
    cells = decode_cells(parse_frame(bytes.fromhex(hex_frame)).payload)
    snapshot = BatterySnapshot(voltage=0.0, current=0.0, cell_voltages=cells)
    checks: dict[str, Callable[[Any], bool]] = {
        "cells_V": lambda v: list(cells) == v,
        "cells_mV": lambda v: (
            [round(c * 1000) for c in cells] == v
            and list(cells) == [mv / 1000 for mv in v]
        ),
        "min_cell": lambda v: (
            cells.index(min(cells)) + 1 == v
            and snapshot.cell_voltage_min == cells[v - 1]
        ),
        "max_cell": lambda v: (
            cells.index(max(cells)) + 1 == v
            and snapshot.cell_voltage_max == cells[v - 1]
        ),
        "delta_V": lambda v: snapshot.cell_voltage_delta == v,
    }
    assert set(expected) <= set(checks), "a vector field is not checked"
    failed = {key: value for key, value in expected.items() if not checks[key](value)}
    assert failed == {}, cells


def test_aiobmsble_cells() -> None:
    payload = parse_frame(bytes.fromhex(AIOBMSBLE_CELLS)).payload
    assert decode_cells(payload) == (3.430, 3.425, 3.432, 3.417)


def test_model_vector() -> None:
    assert decode_model(parse_frame(MODEL).payload) == VECTORS[2][2]["model"]


def test_error_counter_vector() -> None:
    frame = parse_frame(COUNTERS)
    assert frame.register == 0xAA
    assert len(frame.payload) == 2 * len(COUNTER_NAMES) + 2
    values = struct.unpack_from(f">{len(COUNTER_NAMES)}H", frame.payload)
    assert dict(zip(COUNTER_NAMES, values, strict=True)) == VECTORS[3][2]


def test_write_ack_vector() -> None:
    expected = VECTORS[7][2]
    frame = parse_frame(ACK)
    assert frame.register == expected["register"]
    assert frame.status == expected["status"]
    assert len(frame.payload) == expected["length"]
    assert ACK[4:6] == int(expected["checksum"], 16).to_bytes(2, "big")
    assert checksum(b"\x00\x00") == 0


# --- request frames ----------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (build_read(0x03), "DD A5 03 00 FF FD 77"),
        (build_read(0x04), "DD A5 04 00 FF FC 77"),
        (build_read(0x05), "DD A5 05 00 FF FB 77"),
        (build_read(0xAA), "DD A5 AA 00 FF 56 77"),
        (build_read(0x2D), "DD A5 2D 00 FF D3 77"),
        (build_mosfet(charge_on=True, discharge_on=True), "DD 5A E1 02 00 00 FF 1D 77"),
        (
            build_mosfet(charge_on=False, discharge_on=True),
            "DD 5A E1 02 00 01 FF 1C 77",
        ),
        (
            build_mosfet(charge_on=True, discharge_on=False),
            "DD 5A E1 02 00 02 FF 1B 77",
        ),
        (
            build_mosfet(charge_on=False, discharge_on=False),
            "DD 5A E1 02 00 03 FF 1A 77",
        ),
        (build_write(0x2D, b"\x00\x06"), "DD 5A 2D 02 00 06 FF CB 77"),
        (build_write(0x01, b"\x00\x00"), "DD 5A 01 02 00 00 FF FD 77"),
        (
            build_write(0x09, b"\x06J1B2D4"),
            "DD 5A 09 07 06 4A 31 42 32 44 34 FE 83 77",
        ),
        (auth_frame(0x15, b"000000"), "FF AA 15 06 30 30 30 30 30 30 3B"),
        (auth_frame(0x17, b""), "FF AA 17 00 17"),
    ],
)
def test_request_bytes(frame: bytes, expected: str) -> None:
    assert frame == bytes.fromhex(expected)


# --- parse_frame -------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        BASIC_4S[:6],
        b"\xdc" + BASIC_4S[1:],
        BASIC_4S[:-1],
        BASIC_4S + b"\x77",
        BASIC_4S[:-1] + b"\x78",
    ],
    ids=["empty", "short", "header", "too-short", "too-long", "terminator"],
)
def test_parse_frame_rejects_malformed(raw: bytes) -> None:
    with pytest.raises(FrameError):
        parse_frame(raw)


@pytest.mark.parametrize("index", [2, 3 + 5, -3, -2])
def test_parse_frame_rejects_any_corruption(index: int) -> None:
    raw = bytearray(CELLS_4S)
    raw[index] ^= 0x01
    with pytest.raises(ProtocolError):
        parse_frame(bytes(raw))


def test_parse_frame_checksum_error_is_specific() -> None:
    raw = bytearray(CELLS_4S)
    raw[-2] ^= 0x40
    with pytest.raises(ChecksumError):
        parse_frame(bytes(raw))


def test_parse_frame_keeps_error_status() -> None:
    frame = parse_frame(reply(0xE1, b"", status=0x80))
    assert (frame.register, frame.status, frame.payload) == (0xE1, 0x80, b"")


# --- decoders ----------------------------------------------------------------


def test_decode_basic_length_checks() -> None:
    payload = parse_frame(BASIC_4S).payload
    with pytest.raises(FrameError):
        decode_basic(payload[:22])
    with pytest.raises(FrameError):
        decode_basic(payload[:-1])  # three NTCs announced, 2.5 present
    assert decode_basic(payload[:22] + b"\x00").temperatures == ()


def test_decode_basic_balancing_and_flags() -> None:
    payload = bytearray(parse_frame(BASIC_4S).payload)
    payload[12:16] = struct.pack(">HH", 0b1000_0000_0000_0101, 0b0000_0000_0000_0010)
    payload[16:18] = struct.pack(">H", (1 << 12) | (1 << 1))
    payload[20] = 0x02
    payload[2:4] = struct.pack(">h", -1)
    info = decode_basic(bytes(payload))
    assert info.balancing_cells == {1, 3, 16, 18}
    assert info.protection == 0x1002
    assert decode_alarms(info.protection) == {
        Alarm.CELL_UNDERVOLTAGE,
        Alarm.MOSFET_LOCK,
    }
    assert (info.charge_fet, info.discharge_fet) == (False, True)
    assert info.current == -0.01


def test_decode_temperature_below_zero() -> None:
    payload = bytearray(parse_frame(BASIC_4S).payload)
    payload[23:25] = (2731 - 105).to_bytes(2, "big")
    assert decode_basic(bytes(payload)).temperatures[0] == -10.5


def test_decode_cells_rejects_odd_length() -> None:
    with pytest.raises(FrameError):
        decode_cells(b"\x0f\x45\x0f")
    assert decode_cells(b"") == ()


def test_decode_model_strips_padding_and_survives_binary() -> None:
    assert decode_model(b" SP17S005\x00\x00") == "SP17S005"
    assert decode_model(b"") == ""
    assert decode_model(b"A\xffB") == "A\ufffdB"


@pytest.mark.parametrize(("bit", "alarm"), sorted(PROTECTION_BITS.items()))
def test_each_protection_bit(bit: int, alarm: Alarm) -> None:
    assert decode_alarms(1 << bit) == {alarm}


def test_reserved_protection_bits_are_not_alarms() -> None:
    assert decode_alarms(0xE000) == frozenset()
    assert len(decode_alarms(0x1FFF)) == 13


# --- reassembly --------------------------------------------------------------


def test_twenty_byte_notifications() -> None:
    stream = BASIC_17S + bytes.fromhex(VECTORS[5][1])
    chunks = [stream[i : i + 20] for i in range(0, len(stream), 20)]
    frames, errors = feed_all(chunks)
    assert frames == [BASIC_17S, bytes.fromhex(VECTORS[5][1])]
    assert errors == []


def test_frame_containing_0x77_in_its_data() -> None:
    frame = reply(0x04, b"\x0f\x77\x77\x0f")
    assert feed_all([frame[:5], frame[5:]]) == ([frame], [])


def test_checksum_error_emits_nothing() -> None:
    bad = CELLS_4S[:-2] + bytes((CELLS_4S[-2] ^ 0x5A,)) + CELLS_4S[-1:]
    frames, errors = feed_all([bad])
    assert frames == []
    assert errors
    assert isinstance(errors[0], ChecksumError)
    assert all(isinstance(e, ProtocolError) for e in errors)


def test_bad_frame_then_good_frame() -> None:
    bad = bytearray(BASIC_4S)
    bad[10] ^= 0xFF
    frames, errors = feed_all([bytes(bad) + CELLS_4S])
    assert frames == [CELLS_4S]
    assert isinstance(errors[0], ChecksumError)


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [
    b"\x00\x01\x02",
    b"\xdd",
    b"\xdd\xdd\xdd",
    b"\xdd\x03",
    b"\xdd\x03\x00",
    b"\xdd\x03\x00\x05",  # fake header, length shorter than the real frame
    b"\xdd\x03\x00\x7f",  # fake header, length longer than everything after it
    b"\xdd\x03\x01\x04",  # impossible status
    b"\xdd\x03\x00\xfe",  # impossible length
    b"\xff",
    b"\xff\x00",
    b"\xff\xaa",
    b"\xff\xaa\x15\x7f",  # fake auth header with a long length
    b"\x77\x77",
]


def test_fake_header_reported_when_dropped() -> None:
    frames, errors = feed_all([b"\xdd\x03\x00\x40", CELLS_4S])
    assert frames == [CELLS_4S]
    assert [type(e) for e in errors] == [FrameError]


def test_rescue_skips_a_corrupt_frame() -> None:
    bad = CELLS_4S[:-2] + b"\x00\x77"
    frames, errors = feed_all([b"\xdd\x03\x00\x40" + bad + CELLS_4S])
    assert frames == [CELLS_4S]
    assert isinstance(errors[0], FrameError)


def test_incomplete_frame_waits_for_its_bytes() -> None:
    reassembler = JbdReassembler()
    assert reassembler.feed(BASIC_4S[:20]) == ([], [])
    assert reassembler.feed(BASIC_4S[20:]) == ([BASIC_4S], [])


def test_auth_frames() -> None:
    random_reply = auth_frame(0x17, b"\x42")
    assert feed_all([AUTH_OK + random_reply]) == ([AUTH_OK, random_reply], [])
    assert feed_all([AUTH_OK[:1], AUTH_OK[1:3], AUTH_OK[3:]]) == ([AUTH_OK], [])
    bad = AUTH_OK[:-1] + b"\x17"
    frames, errors = feed_all([bad + CELLS_4S])
    assert frames == [CELLS_4S]
    assert isinstance(errors[0], ChecksumError)


def test_error_status_frame_is_delivered() -> None:
    refused = reply(0xE1, b"", status=0x80)
    assert feed_all([refused]) == ([refused], [])


# --- property-based ----------------------------------------------------------


# The real frames the reassembly contract fuzzes (test_reassembly_contract).
VALID_FRAMES = [
    *(BASIC_4S, CELLS_4S, MODEL, COUNTERS, BASIC_17S, ACK, AUTH_OK),
    *(bytes.fromhex(DAREN_BASIC[1][1]), DAREN_INFO),
]


cell_payloads = st.lists(st.integers(2500, 4200), max_size=32).map(
    lambda mv: b"".join(v.to_bytes(2, "big") for v in mv)
)
model_payloads = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=31
).map(str.encode)
clean_garbage = st.binary(max_size=8).map(
    lambda b: bytes(x for x in b if x not in (0xDD, 0xFF))
)


@settings(max_examples=200, deadline=None)
@given(
    st.data(),
    st.lists(
        st.tuples(st.sampled_from([0x04, 0x05]), cell_payloads | model_payloads),
        min_size=1,
        max_size=4,
    ),
    clean_garbage,
)
def test_valid_frames_survive_any_chunking(
    data: st.DataObject, replies: list[tuple[int, bytes]], garbage: bytes
) -> None:
    frames = [reply(register, payload) for register, payload in replies]
    stream = garbage + garbage.join(frames) + garbage
    got, _errors = feed_all(data.draw(chunked(stream)))
    assert got == frames


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120))
def test_decoders_raise_only_protocol_errors(raw: bytes) -> None:
    for decode in (decode_basic, decode_cells, decode_model, parse_frame):
        with contextlib.suppress(ProtocolError):
            decode(raw)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 0xFFFF),
    st.integers(-0x8000, 0x7FFF),
    st.integers(0, 0xFFFF),
    st.lists(st.integers(0, 0xFFFF), max_size=8),
)
def test_decode_basic_round_trip(
    volt: int, cur: int, date: int, temps: list[int]
) -> None:
    payload = (
        struct.pack(">HhHHHHHHH", volt, cur, 0, 0, 0, date, 0, 0, 0)
        + bytes((0x21, 50, 3, 4, len(temps)))
        + b"".join(t.to_bytes(2, "big") for t in temps)
    )
    info = decode_basic(payload)
    assert info.voltage == round(volt / 100, 2)
    assert info.current == round(cur / 100, 2)
    assert info.temperatures == tuple(round((t - 2731) / 10, 1) for t in temps)
    year, month, day = info.production_date.split("-")
    assert (int(year) - 2000, int(month), int(day)) == (
        date >> 9,
        (date >> 5) & 0xF,
        date & 0x1F,
    )
