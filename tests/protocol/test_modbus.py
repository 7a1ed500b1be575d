"""Modbus RTU codec: captured frames, builders, exceptions and reassembly."""

from __future__ import annotations

from random import Random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.lithium_bms.protocol.codecs import modbus
from custom_components.lithium_bms.protocol.codecs.modbus import (
    ModbusReassembler,
    crc16,
    parse_response,
)
from custom_components.lithium_bms.protocol.errors import ChecksumError, FrameError

from .serial_vectors import ids, vectors

REQUESTS = vectors("modbus", "request")
RESPONSES = vectors("modbus", "response")


def frame_of(vector: dict[str, Any]) -> bytes:
    return bytes.fromhex(vector["hex"])


@pytest.mark.parametrize("vector", REQUESTS, ids=ids(REQUESTS))
def test_captured_requests_are_built_exactly(vector: dict[str, Any]) -> None:
    e = vector["expected"]
    built = modbus.read_request(e["address"], e["start"], e["count"], e["function"])
    assert built == frame_of(vector)


@pytest.mark.parametrize("vector", RESPONSES, ids=ids(RESPONSES))
def test_captured_responses_decode_exactly(vector: dict[str, Any]) -> None:
    e = vector["expected"]
    reply = parse_response(frame_of(vector))
    assert (reply.address, reply.function) == (e["address"], e["function"])
    if "exception_code" in e:
        assert reply.is_exception
        assert reply.exception_code == e["exception_code"]
        return
    assert reply.exception_code is None
    if "byte_count" in e:
        assert len(reply.data) == e["byte_count"]
    if "registers" in e:
        assert list(reply.registers) == e["registers"]
    if "ascii" in e:
        assert reply.data.decode("ascii") == e["ascii"]
    if "text_contains" in e:
        assert e["text_contains"] in reply.data.decode("ascii", errors="replace")


def test_the_whole_capture_reassembles_from_one_stream() -> None:
    """The Seplos V3 bus capture as the line carried it: requests and replies."""
    stream = b"".join(
        frame_of(v) for v in REQUESTS + RESPONSES if v["source"].startswith("syssi")
    )
    replies = [frame_of(v) for v in RESPONSES if v["source"].startswith("syssi")]
    found, _ = ModbusReassembler((0x00, 0x01, 0xE0)).feed(stream)
    assert sorted(found) == sorted(replies)


def test_write_builders_and_their_replies() -> None:
    single = modbus.write_single_request(0x01, 0x1234, 0xABCD)
    assert single[:6] == bytes.fromhex("01061234abcd")
    assert modbus.crc_ok(single)
    assert parse_response(single).registers == (0x1234, 0xABCD)
    multiple = modbus.write_multiple_request(0x02, 0x0010, [1, 2])
    assert multiple[:-2] == bytes.fromhex("0210001000020400010002")
    reply = modbus.with_crc(bytes.fromhex("021000100002"))
    assert parse_response(reply).registers == (0x0010, 2)


def test_coil_reads_carry_bits() -> None:
    reply = parse_response(modbus.with_crc(bytes.fromhex("0101020501")))
    assert [int(b) for b in reply.bits[:9]] == [1, 0, 1, 0, 0, 0, 0, 0, 1]
    assert modbus.read_request(1, 0, 16, modbus.READ_COILS)[:2] == b"\x01\x01"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: modbus.read_request(1, 0, 0), "read of 0"),
        (lambda: modbus.read_request(1, 0, 126), "read of 126"),
        (lambda: modbus.read_request(1, 0, 1, modbus.WRITE_SINGLE), "not a read"),
        (lambda: modbus.read_request(248, 0, 1), "outside"),
        (lambda: modbus.write_single_request(1, 0x10000, 0), "not a u16"),
        (lambda: modbus.write_multiple_request(1, 0, []), "write of 0"),
    ],
)
def test_builders_refuse_what_the_spec_does_not_allow(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_parse_refuses_bad_frames() -> None:
    good = modbus.with_crc(bytes.fromhex("0103020001"))
    with pytest.raises(ChecksumError):
        parse_response(good[:-1] + bytes((good[-1] ^ 1,)))
    with pytest.raises(FrameError):
        parse_response(good[:-1])
    with pytest.raises(FrameError):
        parse_response(modbus.with_crc(bytes.fromhex("0107020001")))
    with pytest.raises(FrameError):
        parse_response(modbus.with_crc(bytes.fromhex("010303000102")))


def test_crc_matches_the_spec_example() -> None:
    # Modbus over Serial Line V1.02, 6.2.2: "02 07" has CRC 0x1241 (41 12 sent).
    assert crc16(b"\x02\x07") == 0x1241


def test_a_foreign_address_is_never_a_frame() -> None:
    ours = modbus.with_crc(bytes.fromhex("0103020001"))
    theirs = modbus.with_crc(bytes.fromhex("0203020001"))
    assert ModbusReassembler((1,)).feed(theirs + ours) == ([ours], [])


def test_a_partial_frame_does_not_hide_the_next() -> None:
    long = next(frame_of(v) for v in RESPONSES if v["name"].endswith("2000 reply"))
    short = next(frame_of(v) for v in RESPONSES if v["name"].endswith("2100 reply"))
    frames, errors = ModbusReassembler((0,)).feed(long[:20] + short)
    assert frames == [short]
    assert [str(e) for e in errors] == ["incomplete Modbus frame"]


REPLIES = [frame_of(v) for v in RESPONSES]
INVERTER = [f for f in REPLIES if f[0] == 4]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_fuzz_split_garbage_truncated_spliced(data: st.DataObject) -> None:
    rng = Random(data.draw(st.integers(0, 2**32 - 1)))
    picked = [rng.choice(INVERTER) for _ in range(3)]
    stream = bytearray()
    for frame in picked:
        stream += bytes(rng.randrange(256) for _ in range(rng.randrange(6)))
        stream += frame
    cuts = sorted(rng.sample(range(1, len(stream)), 5))
    scanner = ModbusReassembler((4,))
    found: list[bytes] = []
    last = 0
    for cut in [*cuts, len(stream)]:
        found += scanner.feed(bytes(stream[last:cut]))[0]
        last = cut
    # Garbage may forge a frame only by a CRC collision: every real one survives.
    assert [f for f in found if f in picked] == picked
    assert all(modbus.crc_ok(f) for f in found)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, len(REPLIES) - 1), st.integers(1, 60))
def test_fuzz_truncated_and_spliced_frames_are_never_published(
    index: int, keep: int
) -> None:
    frame = REPLIES[index]
    keep = min(keep, len(frame) - 1)
    spliced = frame[:keep] + REPLIES[(index + 1) % len(REPLIES)][keep:]
    found, _ = ModbusReassembler(range(256)).feed(frame[:keep] + spliced[keep:])
    assert frame not in found or frame == spliced
    truncated, _ = ModbusReassembler(range(256)).feed(frame[:keep])
    assert truncated == []
