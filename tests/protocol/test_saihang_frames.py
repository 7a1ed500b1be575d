"""Saihang frames: the vector, the source's field values, checks, reassembly."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.saihang import demo
from custom_components.lithium_bms.protocol.codecs.modbus import with_crc
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.saihang.frames import (
    REQUEST,
    check_frame,
    decode_status,
)
from custom_components.lithium_bms.protocol.saihang.stream import SaihangReassembler

from .streams import feed_chunks

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "saihang_vectors.json").read_text()
)
IDLE = bytes.fromhex(VECTORS[0]["hex"])
FRAMES = [IDLE]


def with_bytes(frame: bytes, offset: int, data: bytes) -> bytes:
    """``frame`` with ``data`` at ``offset`` and its CRC made to fit."""
    body = bytearray(frame[:-2])
    body[offset : offset + len(data)] = data
    return bytes(body[:2]) + with_crc(bytes(body[2:]))


def feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    return feed_chunks(SaihangReassembler(), chunks)


def test_every_vector_names_its_source_and_a_second_check() -> None:
    for vector in VECTORS:
        assert vector["source"]
        assert vector["expected"]
        assert "second check" in vector["note"].lower()


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    decoded = vector["decoded"]
    status = decode_status(bytes.fromhex(vector["hex"]))
    assert status.voltage == expected["voltage"]
    assert status.current == expected["current"]
    assert status.soc == expected["battery_level"]
    assert status.soh == expected["battery_health"]
    assert status.remaining == expected["cycle_charge"]
    assert status.design == expected["design_capacity"]
    assert status.cycles == expected["cycles"]
    assert list(status.cell_voltages) == expected["cell_voltages"]
    temps = [
        *status.temperatures,
        status.mosfet_temperature,
        status.ambient_temperature,
    ]
    assert temps == expected["temp_values"]
    assert status.charge_fet is expected["chrg_mosfet"]
    assert status.discharge_fet is expected["dischrg_mosfet"]
    assert status.balancing is bool(expected["balancer"])
    assert status.problem_code == expected["problem_code"]
    assert status.full == decoded["full_capacity"]
    assert status.mosfet_temperature == decoded["mosfet_temperature"]
    assert status.ambient_temperature == decoded["ambient_temperature"]
    assert round(sum(status.cell_voltages), 2) == status.voltage


def test_the_request_is_the_sources() -> None:
    # aiobmsble 0.31.0 (PyPI sdist) tests/bms/test_saihang_bms.py answers this.
    assert bytes.fromhex("a5a5000300000048442d") == REQUEST


def test_the_documented_field_values() -> None:
    """Fields of a second pack, as docs/saihang_bms.md states them.

    The document gives each field's bytes and value, not the whole frame:
    they are set into the captured reply (the source's edit, not a vector).
    """
    frame = IDLE
    for offset, data in (
        (5, "fffffe54"),
        (9, "000014d6"),
        (13, "00630064"),
        (17, "00007b5500007c1100007530003effff"),
    ):
        frame = with_bytes(frame, offset, bytes.fromhex(data))
    status = decode_status(frame)
    assert status.current == -4.28
    assert status.voltage == 53.34
    assert (status.soc, status.soh) == (99, 100)
    assert (status.remaining, status.full, status.design) == (315.73, 317.61, 300.0)
    assert status.cycles == 62
    assert status.problem_code == 0


def test_mosfets_balancing_and_the_problem_word() -> None:
    charge_only = decode_status(with_bytes(IDLE, 37, b"\x22\x00"))
    assert (charge_only.charge_fet, charge_only.discharge_fet) == (True, False)
    off = decode_status(with_bytes(IDLE, 37, b"\x00\x00"))
    assert (off.charge_fet, off.discharge_fet) == (False, False)
    assert decode_status(with_bytes(IDLE, 41, b"\x00\x01")).balancing is True
    assert decode_status(with_bytes(IDLE, 31, b"\xff\xfe")).problem_code == 1


def test_negative_and_missing_temperatures() -> None:
    cold = decode_status(with_bytes(IDLE, 87, (2730 - 105).to_bytes(2, "big")))
    assert cold.temperatures == (-10.5, 15.6)
    none = decode_status(with_bytes(IDLE, 107, b"\xff\xff\xff\xff"))
    assert (none.mosfet_temperature, none.ambient_temperature) == (None, None)
    no_probe = decode_status(with_bytes(IDLE, 85, b"\x00\x00"))
    assert no_probe.temperatures == ()


def test_twenty_cells_and_ten_probes() -> None:
    cells = b"".join((3300 + i).to_bytes(2, "big") for i in range(20))
    probes = b"".join((2980 + i).to_bytes(2, "big") for i in range(10))
    frame = with_bytes(IDLE, 43, b"\x00\x14" + cells + b"\x00\x0a" + probes)
    status = decode_status(frame)
    assert status.cell_voltages == tuple((3300 + i) / 1000 for i in range(20))
    assert status.temperatures == tuple(round(25 + i / 10, 1) for i in range(10))
    assert status.mosfet_temperature == 17.2


@pytest.mark.parametrize(
    ("offset", "data"),
    [
        (43, b"\x00\x00"),  # no cell
        (43, b"\x00\x15"),  # 21 cells: more than the slots
        (43, b"\x00\x09"),  # an unused slot within the cell count
        (85, b"\x00\x0b"),  # 11 probes
        (85, b"\x00\x03"),  # an unused probe slot within the count
        (13, b"\x00\x65"),  # SOC 101 %
        (15, b"\x00\x65"),  # SOH 101 %
    ],
)
def test_decode_refuses_a_frame_that_contradicts_its_counts(
    offset: int, data: bytes
) -> None:
    with pytest.raises(FrameError):
        decode_status(with_bytes(IDLE, offset, data))


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", FrameError),
        (REQUEST, FrameError),
        (IDLE[:-1], FrameError),
        (IDLE[:-2] + b"\x00\x00", ChecksumError),
        (b"\xa5\xa6" + IDLE[2:], FrameError),
        (with_bytes(IDLE, 3, b"\x04"), FrameError),
        (
            IDLE[:4] + b"\x8e" + with_crc(IDLE[2:4] + b"\x8e" + IDLE[5:-4])[3:],
            FrameError,
        ),
    ],
    ids=["empty", "request", "truncated", "crc", "head", "function", "count"],
)
def test_check_frame_refuses(raw: bytes, error: type[ProtocolError]) -> None:
    with pytest.raises(error):
        check_frame(raw)


@pytest.mark.parametrize("index", range(2, len(IDLE)))
def test_any_one_byte_corruption_is_refused(index: int) -> None:
    broken = bytearray(IDLE)
    broken[index] ^= 0x01
    with pytest.raises(ProtocolError):
        check_frame(bytes(broken))


def test_the_reply_in_notifications_of_any_size() -> None:
    for size in (20, 64, 151, 244):
        chunks = [IDLE[i : i + size] for i in range(0, len(IDLE), size)]
        assert feed_all(chunks) == ([IDLE], [])


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [b"\xa5", b"\xa5\xa5", b"\xa5\xa5\x00\x03", b"\xa5\xa5\x00\x03\x90", REQUEST]


def test_corrupt_frame_then_good_frame() -> None:
    frames, errors = feed_all([IDLE[:-2] + b"\x00\x00" + IDLE])
    assert frames == [IDLE]
    assert any(isinstance(e, ChecksumError) for e in errors)


def test_a_truncated_frame_gives_way_to_the_next() -> None:
    frames, _ = feed_all([IDLE[:60], IDLE])
    assert frames == [IDLE]


# Other families' frames this one's stream must refuse (test_reassembly_contract).
FOREIGN = {
    # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply.
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
    # A bare Modbus read and its reply head, without A5 A5.
    "modbus": IDLE[2:],
    "request": REQUEST,
}


def test_the_simulator_reply_decodes_to_its_pack() -> None:
    sim = demo("A2:51:22:00:00:01")
    sim.pack.current = -12.34
    sim.pack.temperatures = [-5.5]
    sim.pack.charge_enabled = False
    sim.problem_code = 0x0010
    status = decode_status(sim.status_frame())
    assert status.current == -12.34
    assert status.cell_voltages == tuple(sim.pack.cell_voltages)
    assert status.temperatures == (-5.5,)
    assert status.charge_fet is False
    assert status.problem_code == 0x0010


def test_the_simulator_sends_the_capture() -> None:
    sim = demo("A2:51:22:00:00:01")
    sim.pack.soc = 96.38
    assert sim.status_frame() == IDLE


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_decoders_raise_only_protocol_errors(raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_status(raw)


def test_aiobmsble_reads_the_same_values() -> None:
    """A second decoder on the vector and on the simulator's frames.

    Runs where aiobmsble is installed (the bleak 3 environment).
    """
    saihang_bms = pytest.importorskip("aiobmsble.bms.saihang_bms")
    reference = saihang_bms.BMS
    sim = demo("A2:51:22:00:00:01")
    sim.pack.current = -4.28
    for frame in [*FRAMES, sim.status_frame()]:
        theirs = reference._decode_data(reference._FIELDS, frame)
        ours = decode_status(frame)
        assert theirs["voltage"] == ours.voltage
        assert theirs["current"] == ours.current
        assert theirs["battery_level"] == ours.soc
        assert theirs["battery_health"] == ours.soh
        assert theirs["cycle_charge"] == ours.remaining
        assert theirs["cycles"] == ours.cycles
        assert theirs["problem_code"] == ours.problem_code
