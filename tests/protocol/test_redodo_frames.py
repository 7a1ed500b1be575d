"""Redodo frames: every captured vector, the request, checksums, reassembly."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.redodo import demo
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.redodo.frames import (
    PROTECTION_BITS,
    STATUS,
    SUPPORTED_ALARMS,
    build_request,
    check_frame,
    decode_status,
)
from custom_components.lithium_bms.protocol.redodo.stream import RedodoReassembler
from custom_components.lithium_bms.protocol.snapshot import Alarm

from .streams import feed_chunks

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "redodo_vectors.json").read_text()
)
BY_NAME = {vector["name"]: bytes.fromhex(vector["hex"]) for vector in VECTORS}
STATUS_8S = BY_NAME["status 8S discharging, three probes"]
STATUS_4S = BY_NAME["status 4S idle, Redodo 12 V 100 Ah"]
FRAMES = [STATUS_8S, STATUS_4S]
# The status request every public decoder sends (patman15/aiobmsble
# redodo_bms.py, calledit/LiTime_BMS_bluetooth index.html,
# Raphinity/esphome-redodo-bms redodo_bms.h).
STATUS_REQUEST = bytes.fromhex("000004011355aa17")


def with_bytes(frame: bytes, offset: int, data: bytes) -> bytes:
    """``frame`` with ``data`` at ``offset`` and its sum made to fit."""
    body = bytearray(frame[:-1])
    body[offset : offset + len(data)] = data
    return bytes(body) + bytes((sum(body) & 0xFF,))


def feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    return feed_chunks(RedodoReassembler(), chunks)


def test_every_vector_names_its_source_and_a_second_check() -> None:
    assert len(VECTORS) >= 2
    for vector in VECTORS:
        assert vector["source"]
        assert vector["expected"]
        assert "second" in vector["note"] or "app" in vector["note"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    status = decode_status(bytes.fromhex(vector["hex"]))
    assert status.voltage == expected["voltage"]
    assert status.current == expected["current"]
    assert list(status.cell_voltages) == expected["cell_voltages"]
    assert status.soc == expected["soc"]
    assert status.remaining == expected["remaining_capacity"]
    assert status.full == expected["full_capacity"]
    assert status.cycles == expected["cycles"]
    if "temperatures" in expected:
        count = len(expected["temperatures"])
        assert list(status.probes[:count]) == expected["temperatures"]
    if "temperature" in expected:
        assert status.probes[0] == expected["temperature"]
    if "soh" in expected:
        assert status.soh == expected["soh"]
    if "problem_code" in expected:
        assert status.protection_code == expected["problem_code"]
    if "balancer" in expected:
        assert status.balancing is bool(expected["balancer"])


def test_the_vectors_beyond_what_the_sources_state() -> None:
    eight = decode_status(STATUS_8S)
    assert eight.probes == (23, 22, -2, 0, 0)
    assert (eight.charge_enabled, eight.discharge_enabled) == (True, True)
    assert eight.alarms == frozenset()
    four = decode_status(STATUS_4S)
    assert four.probes == (21, 21, 0, 0, 0)
    assert four.soh == 100
    assert four.protection_code == 0


def test_status_request_bytes() -> None:
    assert build_request(STATUS) == STATUS_REQUEST
    # calledit/LiTime_BMS_bluetooth index.html lists 0x16 "get version" so.
    assert build_request(0x16) == bytes.fromhex("000004011655aa1a")
    check_frame(STATUS_REQUEST)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", FrameError),
        (b"\x00", FrameError),
        (STATUS_8S[:-1], FrameError),
        (STATUS_8S + b"\x00", FrameError),
        (b"\x00\x01" + STATUS_8S[2:], FrameError),
        (with_bytes(STATUS_8S, 3, b"\x02"), FrameError),
        (with_bytes(STATUS_8S, 5, b"\xaa\x55"), FrameError),
        (STATUS_8S[:-1] + b"\xff", ChecksumError),
    ],
    ids=["empty", "short", "truncated", "long", "sof", "kind", "magic", "sum"],
)
def test_check_frame_refuses(raw: bytes, error: type[ProtocolError]) -> None:
    with pytest.raises(error):
        check_frame(raw)


@pytest.mark.parametrize("index", range(2, len(STATUS_8S)))
def test_any_one_byte_corruption_is_refused(index: int) -> None:
    broken = bytearray(STATUS_8S)
    broken[index] ^= 0x01
    with pytest.raises(ProtocolError):
        check_frame(bytes(broken))


def test_aiobmsble_wrong_length_frame_is_refused() -> None:
    # patman15/aiobmsble tests/bms/test_redodo_bms.py "wrong length": one
    # byte short of its length byte.
    with pytest.raises(FrameError):
        check_frame(STATUS_8S[:-2] + STATUS_8S[-1:])


def test_decode_refuses_what_is_no_status_reply() -> None:
    with pytest.raises(FrameError):
        decode_status(STATUS_REQUEST)
    with pytest.raises(FrameError):
        decode_status(with_bytes(STATUS_8S, 4, b"\x96"))
    with pytest.raises(FrameError, match="error"):
        decode_status(with_bytes(STATUS_8S, 7, b"\x01"))


@pytest.mark.parametrize(("bit", "alarm"), PROTECTION_BITS.items())
def test_each_protection_bit(bit: int, alarm: Alarm) -> None:
    status = decode_status(with_bytes(STATUS_8S, 76, bit.to_bytes(4, "little")))
    assert status.alarms == {alarm}
    assert status.protection_code == bit
    assert alarm in SUPPORTED_ALARMS


def test_undocumented_bits_are_kept_in_the_code_only() -> None:
    # aiobmsble's problem frames: byte 76 = 0x01 and byte 83 = 0x80.
    first = decode_status(with_bytes(STATUS_8S, 76, b"\x01"))
    assert (first.alarms, first.protection_code) == (frozenset(), 1)
    last = decode_status(with_bytes(STATUS_8S, 83, b"\x80"))
    assert (last.alarms, last.protection_code) == (frozenset(), 1 << 63)


def test_bms_error_digit_is_a_hardware_fault() -> None:
    status = decode_status(with_bytes(STATUS_8S, 80, b"\x02"))
    assert status.alarms == {Alarm.HARDWARE_FAULT}
    assert status.protection_code == 2 << 32
    cell_error = decode_status(with_bytes(STATUS_8S, 80, b"\x10"))
    assert cell_error.alarms == frozenset()


def test_disabled_mosfets_and_balancing() -> None:
    charge_off = decode_status(with_bytes(STATUS_8S, 88, b"\x04\x00"))
    assert (charge_off.charge_enabled, charge_off.discharge_enabled) == (False, True)
    discharge_off = decode_status(with_bytes(STATUS_8S, 68, b"\x80"))
    assert discharge_off.discharge_enabled is False
    heater_error = decode_status(with_bytes(STATUS_8S, 68, b"\x02"))
    assert heater_error.discharge_enabled is True
    assert decode_status(with_bytes(STATUS_8S, 84, b"\x01")).balancing is True


def test_sixteen_cells_and_a_charging_current() -> None:
    cells = b"".join((3300 + i).to_bytes(2, "little") for i in range(16))
    frame = with_bytes(
        with_bytes(STATUS_8S, 16, cells), 48, (12345).to_bytes(4, "little")
    )
    status = decode_status(frame)
    assert status.cell_voltages == tuple(round(3.3 + i / 1000, 3) for i in range(16))
    assert status.current == 12.345


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [
    b"\x00",
    b"\x00\x00",
    b"\x00\x00\x65",
    b"\x00\x00\x65\x01\x93\x55",
    b"+ER",
    b"\xff" * 9,
]


def test_corrupt_frame_then_good_frame() -> None:
    bad = STATUS_8S[:-1] + b"\x00"
    frames, errors = feed_all([bad + STATUS_4S])
    assert frames == [STATUS_4S]
    assert any(isinstance(e, ChecksumError) for e in errors)


DALY_STATUS = bytes.fromhex(
    json.loads((Path(__file__).parent / "data" / "daly_vectors.json").read_text())[0][
        "hex"
    ]
)
# Other families' frames this one's stream must refuse (test_reassembly_contract).
FOREIGN = {
    # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply.
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
    "daly": DALY_STATUS,
    # Glenn-Dandy/BoatSpeedy RedodoParserTest.kt: what the AT channel answers.
    "at": b"+ER",
}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120))
def test_decoders_raise_only_protocol_errors(raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        check_frame(raw)
        decode_status(raw)


def test_aiobmsble_reads_the_same_values() -> None:
    """A second decoder on the vectors and on the simulator's frames.

    Runs where aiobmsble is installed (the bleak 3 environment).
    """
    redodo_bms = pytest.importorskip("aiobmsble.bms.redodo_bms")
    reference = redodo_bms.BMS
    sim = demo("C8:47:80:00:00:01")
    sim.pack.cell_voltages = [round(3.3 + 0.001 * i, 3) for i in range(16)]
    sim.pack.alarms = {"short_circuit"}
    for frame in [*FRAMES, sim.status_frame()]:
        theirs = reference._decode_data(reference._FIELDS, frame, byteorder="little")
        cells = reference._cell_voltages(frame, cells=16, start=16, byteorder="little")
        ours = decode_status(frame)
        assert theirs["voltage"] == ours.voltage
        assert theirs["current"] == ours.current
        assert theirs["battery_level"] == ours.soc
        assert theirs["battery_health"] == ours.soh
        assert theirs["cycle_charge"] == ours.remaining
        assert theirs["cycles"] == ours.cycles
        assert theirs["problem_code"] == ours.protection_code
        assert bool(theirs["balancer"]) is ours.balancing
        assert tuple(cells) == ours.cell_voltages
