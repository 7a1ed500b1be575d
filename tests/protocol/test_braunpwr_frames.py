"""Braun Power frames: every captured vector, the requests, reassembly, forgery."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.braunpwr import demo
from custom_components.lithium_bms.protocol.braunpwr.frames import (
    CELLS,
    STATUS,
    TEMPERATURES,
    build_request,
    check_frame,
    check_reading,
    decode_cells,
    decode_status,
    decode_temperatures,
    decode_version,
)
from custom_components.lithium_bms.protocol.braunpwr.stream import BraunReassembler
from custom_components.lithium_bms.protocol.errors import FrameError, ProtocolError

from .streams import feed_chunks

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "braunpwr_vectors.json").read_text()
)
BY_NAME = {vector["name"]: bytes.fromhex(vector["hex"]) for vector in VECTORS}
STATUS_16S = BY_NAME["status 16S discharging"]
CELLS_16S = BY_NAME["cells 16S"]
TEMPS_4 = BY_NAME["temperatures 4 probes"]
TEMPS_7D = BY_NAME["temperatures issue 303, 7D inside the data"]
FRAMES = [STATUS_16S, CELLS_16S, TEMPS_4, TEMPS_7D, BY_NAME["program version"]]


def with_bytes(frame: bytes, offset: int, data: bytes) -> bytes:
    """``frame`` with ``data`` at ``offset``."""
    out = bytearray(frame)
    out[offset : offset + len(data)] = data
    return bytes(out)


def feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    return feed_chunks(BraunReassembler(), chunks)


def test_every_vector_names_its_source_and_a_cross_check() -> None:
    assert len(VECTORS) >= 8
    for vector in VECTORS:
        assert "github" in vector["source"] or "@" in vector["source"]
        assert vector["expected"]
        assert vector["note"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["hex"])
    expected = vector["expected"]
    check_frame(frame)
    if frame[1] == STATUS:
        status = decode_status(frame)
        assert status.voltage == expected["voltage"]
        assert status.current == expected["current"]
        assert status.soc == expected["battery_level"]
        assert status.problem_code == expected["problem_code"]
        assert status.balancing_mask == expected["balancer"]
        for key, attr in (
            ("battery_health", "soh"),
            ("cycle_charge", "remaining"),
            ("design_capacity", "design"),
            ("cycles", "cycles"),
        ):
            if key in expected:
                assert getattr(status, attr) == expected[key]
    elif frame[1] == CELLS:
        cells = decode_cells(frame)
        assert list(cells) == expected["cell_voltages"]
        assert len(cells) == expected["cell_count"]
    elif frame[1] == TEMPERATURES:
        assert list(decode_temperatures(frame)) == expected["temp_values"]
    else:
        assert decode_version(frame) == next(iter(expected.values()))


def test_a_reading_from_the_captured_replies() -> None:
    reading = check_reading(
        decode_status(STATUS_16S), decode_cells(CELLS_16S), decode_temperatures(TEMPS_4)
    )
    assert reading.balancing_cells == {1, 8, 10, 11, 12, 13, 14, 15}
    assert reading.temperatures == (23.0, 23.0, 23.0, 23.0)


def test_requests() -> None:
    # patman15/aiobmsble braunpwr_bms.py ``_cmd``: 7B <cmd> <len> <data> 7D.
    assert build_request(STATUS) == bytes.fromhex("7b01007d")
    assert build_request(0x74) == b"{t\x00}"


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        # patman15/aiobmsble test_invalid_response.
        (b"!\x03\x09\x04\x0b\x91\x0b\x91\x0b\x91\x0b\x91", "wrong_EOF"),
        (b"{\x04\x09\x04\x0b\x91\x0b\x91\x0b\x91\x0b\x91}", "unknown_CMD"),
        (b"{\x03\x08\x04\x0b\x91\x0b\x91\x0b\x91\x0b\x91}", "wrong_length"),
        (TEMPS_4[:-1] + b"\x00", "no tail"),
    ],
)
def test_check_frame_refuses(frame: bytes, why: str) -> None:
    with pytest.raises(FrameError):
        check_frame(frame)


def test_an_empty_reply_holds_no_probe() -> None:
    check_frame(b"{\x03\x00}")
    with pytest.raises(FrameError):
        decode_temperatures(b"{\x03\x00}")


def test_aiobmsble_wrong_command_is_not_a_temperature_reply() -> None:
    frame = b"{\x02\x09\x04\x0b\x91\x0b\x91\x0b\x91\x0b\x91}"
    check_frame(frame)
    with pytest.raises(FrameError):
        decode_temperatures(frame)
    # As the cells reply it is: it answers the 0x02 request only.
    assert decode_cells(frame) == (2.961,) * 4


@pytest.mark.parametrize(
    ("offset", "data"),
    [
        (3, b"\x01"),  # SOC word above 100
        (4, b"\x65"),
        (34, b"\x65"),  # SOH 101
        (15, b"\x75\x31"),  # remaining above the design
        (17, b"\x00\x00"),  # no design capacity
    ],
)
def test_status_cross_checks(offset: int, data: bytes) -> None:
    with pytest.raises(FrameError):
        decode_status(with_bytes(STATUS_16S, offset, data))


def test_pack_voltage_must_be_the_sum_of_the_cells() -> None:
    cells = decode_cells(CELLS_16S)
    for voltage in (b"\x14\x8c", b"\x15\x22"):  # 52.60 V, 54.10 V
        status = decode_status(with_bytes(STATUS_16S, 5, voltage))
        with pytest.raises(FrameError):
            check_reading(status, cells, ())
    four = decode_cells(bytes.fromhex("7b0209040cff0d060d050d077d"))
    with pytest.raises(FrameError):
        check_reading(decode_status(STATUS_16S), four, ())


def test_balancing_a_cell_the_pack_lacks_is_refused() -> None:
    status = decode_status(with_bytes(STATUS_16S, 5, b"\x05\x35"))  # 13.33 V
    four = decode_cells(bytes.fromhex("7b0209040cff0d060d050d077d"))
    with pytest.raises(FrameError):
        check_reading(status, four, ())
    fine = decode_status(
        with_bytes(with_bytes(STATUS_16S, 5, b"\x05\x35"), 25, b"\x00\x0f")
    )
    assert check_reading(fine, four, ()).balancing_cells == {1, 2, 3, 4}


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [b"{", b"{\x01", b"{\x01\x20", b"}", b"\x7d\x7b\x7d", b"\xff" * 9]


def test_frame_without_its_tail_then_good_frame() -> None:
    frames, errors = feed_all([STATUS_16S[:-1] + b"\x00" + TEMPS_4])
    assert frames == [TEMPS_4]
    assert errors


# Other families' frames this one's stream must refuse (test_reassembly_contract).
FOREIGN = {
    # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply
    # (same service FF00).
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
    # patman15/BMS_BLE-HA issue #303: replies the driver never asks for.
    "0x08": bytes.fromhex("7b0816000000020000003300010001000100000000000000007d"),
    "0x09": bytes.fromhex("7b0903ffffff7d"),
}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60))
def test_decoders_raise_only_protocol_errors(raw: bytes) -> None:
    for decode in (decode_status, decode_cells, decode_temperatures, decode_version):
        with contextlib.suppress(ProtocolError):
            check_frame(raw)
            decode(raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_a_forged_status_is_refused(data: bytes) -> None:
    """Random data in a valid 0x01 frame: refused unless it agrees with the cells."""
    forged = bytes((0x7B, STATUS, 0x20)) + data + b"\x7d"
    cells = decode_cells(CELLS_16S)
    with contextlib.suppress(FrameError):
        reading = check_reading(decode_status(forged), cells, ())
        assert abs(reading.status.voltage - sum(cells)) < 0.64
        assert forged[3] == 0


def test_the_simulator_speaks_the_captured_layout() -> None:
    sim = demo("24:19:72:00:00:01")
    status = decode_status(sim.reply(STATUS) or b"")
    assert status.voltage == round(sim.pack.voltage, 2)
    assert status.design == sim.pack.design_capacity
    assert decode_cells(sim.reply(CELLS) or b"") == tuple(sim.pack.cell_voltages)
    assert list(decode_temperatures(sim.reply(TEMPERATURES) or b"")) == (
        sim.pack.temperatures
    )


def test_aiobmsble_reads_the_same_values() -> None:
    """A second decoder on the vectors and on the simulator's frames.

    Runs where aiobmsble is installed (the bleak 3 environment).
    """
    braunpwr_bms = pytest.importorskip("aiobmsble.bms.braunpwr_bms")
    reference = braunpwr_bms.BMS
    sim = demo("24:19:72:00:00:01")
    sim.pack.balancing_cells = {2, 3}
    sim.problem_code = 0x0102
    for replies in (
        {1: STATUS_16S, 2: CELLS_16S, 3: TEMPS_4},
        {c: sim.reply(c) or b"" for c in (STATUS, CELLS, TEMPERATURES)},
    ):
        theirs = reference._decode_data(reference._FIELDS, replies)
        ours = decode_status(replies[1])
        assert theirs["voltage"] == ours.voltage
        assert theirs["current"] == ours.current
        assert theirs["battery_level"] == ours.soc
        assert theirs["battery_health"] == ours.soh
        assert theirs["cycle_charge"] == ours.remaining
        assert theirs["design_capacity"] == ours.design
        assert theirs["cycles"] == ours.cycles
        assert theirs["problem_code"] == ours.problem_code
        assert theirs["balancer"] == ours.balancing_mask
        cells = reference._cell_voltages(
            replies[2], cells=theirs["cell_count"], start=4
        )
        assert tuple(cells) == decode_cells(replies[2])
