"""ABC-BMS frames: every captured vector, the requests, reassembly, fuzz."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.abc import demo
from custom_components.lithium_bms.protocol.abc.frames import (
    CELLS,
    DETAIL,
    INFO,
    MODEL,
    NAME,
    PROBES,
    STATES,
    STATUS,
    CellCollector,
    build_request,
    check_frame,
    crc8,
    decode_cells,
    decode_model,
    decode_probes,
    decode_states,
    decode_status,
)
from custom_components.lithium_bms.protocol.abc.stream import AbcReassembler
from custom_components.lithium_bms.protocol.errors import FrameError, ProtocolError

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "abc_vectors.json").read_text()
)
BY_NAME = {vector["name"]: bytes.fromhex(vector["hex"]) for vector in VECTORS}
STATUS_8S = BY_NAME["status F0"]
PROBES_1 = BY_NAME["probes F2"]
CELLS_1 = BY_NAME["cells 1-4 F4"]
CELLS_5 = BY_NAME["cells 5-8 F4"]
FRAMES = [bytes.fromhex(vector["hex"]) for vector in VECTORS]
# Bytes before and between frames: heads cut short, a request's head, fill.
GARBAGE = [b"\xcc", b"\xcc\xf0", b"\xcc\xf0\x00", b"\xee", b"\xff" * 9]
FOREIGN = {
    # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply.
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
    # A Redodo status request and a Modbus read.
    "redodo": bytes.fromhex("000004011355aa17"),
    "modbus": bytes.fromhex("0103020001 79 84".replace(" ", "")),
    # The pack's own request (abc_bms.py ``_cmd``), echoed.
    "request": bytes.fromhex("eec1000000ce"),
}
# aiobmsble 0.31.0 (PyPI sdist) tests/bms/test_abc_bms.py: the replies to the
# settings command (F5-F8, FA), valid frames the driver never asks for.
SETTINGS = [
    bytes.fromhex(h)
    for h in (
        "ccf5420e100ec409f609a08601a0860100000055",
        "ccf6107200807000370032000000050000000023",
        "ccf7204e004051004b004600ecfff1ff0000008f",
        "ccf800640080570080700010270000000000003e",
        "ccfa480d14000f270000000000000000000000d6",
    )
]


def with_bytes(frame: bytes, offset: int, data: bytes) -> bytes:
    """``frame`` with ``data`` at ``offset`` and its CRC made to fit."""
    out = bytearray(frame)
    out[offset : offset + len(data)] = data
    out[-1] = crc8(bytes(out[:-1]))
    return bytes(out)


def feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    reassembler = AbcReassembler()
    frames: list[bytes] = []
    errors: list[ProtocolError] = []
    for chunk in chunks:
        got, errs = reassembler.feed(chunk)
        frames += got
        errors += errs
    return frames, errors


def test_every_vector_names_its_source_and_values() -> None:
    assert len(VECTORS) == 6
    for vector in VECTORS:
        assert vector["source"].startswith("aiobmsble 0.31.0 (PyPI sdist) ")
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
        assert status.design == expected["design_capacity"]
        assert status.remaining == expected["cycle_charge"]
        assert status.cycles == expected["cycles"]
        assert status.soc == expected["battery_level"]
    elif frame[1] == MODEL:
        assert decode_model(frame) == expected["model"]
    elif frame[1] == PROBES:
        probes = decode_probes(frame)
        assert probes.charge_mosfet is expected["chrg_mosfet"]
        assert probes.discharge_mosfet is expected["dischrg_mosfet"]
        assert len(probes.temperatures) == expected["temp_sensors"]
        assert list(probes.temperatures) == expected["temp_values"]
    elif frame[1] == STATES:
        states = decode_states(frame)
        assert states.heater is expected["heater"]
        assert states.balancing is expected["balancer"]
    else:
        first, cells = decode_cells(frame)
        assert first == expected["first_cell"]
        assert list(cells) == expected["cell_voltages"]


def test_the_captured_cells_add_up_to_the_captured_pack() -> None:
    collector = CellCollector(decode_status(STATUS_8S).voltage)
    collector.add(CELLS_1)
    after_one_part = collector.complete
    assert not after_one_part
    # A repeated or out-of-sequence part is ignored (aiobmsble
    # test_repeated_cell_parts).
    collector.add(CELLS_1)
    assert collector.cells == decode_cells(CELLS_1)[1]
    collector.add(CELLS_5)
    assert collector.complete
    assert len(collector.cells) == 8
    assert round(max(collector.cells) - min(collector.cells), 3) == 0.137


def test_a_part_that_does_not_start_the_cells_is_ignored() -> None:
    collector = CellCollector(27.554)
    collector.add(CELLS_5)
    assert collector.cells == ()


def test_cells_that_end_short_of_the_pack_voltage_are_refused() -> None:
    # Cells 1-3, then a group numbered 0: three cells cannot be 27.554 V.
    ending = with_bytes(CELLS_1, 14, bytes(4))
    collector = CellCollector(27.554)
    with pytest.raises(FrameError):
        collector.add(ending)
    collector = CellCollector(10.281)  # the sum of the three cells left
    collector.add(ending)
    assert collector.complete
    assert collector.cells == (3.442, 3.496, 3.375)


@pytest.mark.parametrize(
    ("offset", "data"),
    [
        (2, b"\x00"),  # no first cell
        (2, b"\x02"),  # a part starts at cell 1, 5, 9, ...
        (2, b"\x21"),  # beyond 32 cells
        (6, b"\x03"),  # numbers out of sequence
        (6, b"\x00"),  # a cell after an empty group
    ],
)
def test_cell_numbering_is_checked(offset: int, data: bytes) -> None:
    with pytest.raises(FrameError):
        decode_cells(with_bytes(CELLS_1, offset, data))


def test_status_checks() -> None:
    with pytest.raises(FrameError):
        decode_status(with_bytes(STATUS_8S, 16, b"\x65"))  # SOC 101
    with pytest.raises(FrameError):
        decode_status(with_bytes(STATUS_8S, 8, bytes(3)))  # no design capacity
    charging = decode_status(with_bytes(STATUS_8S, 5, b"\x10\x27\x00"))
    assert charging.current == 10.0
    discharging = decode_status(with_bytes(STATUS_8S, 5, b"\xf0\xd8\xff"))
    assert discharging.current == -10.0


def test_probes_are_signed_and_counted() -> None:
    cold = decode_probes(with_bytes(PROBES_1, 4, b"\x02\xfb\xff\x03\x00"))
    assert cold.temperatures == (-5.0, 3.0)
    assert decode_probes(with_bytes(PROBES_1, 4, b"\x00")).temperatures == ()
    with pytest.raises(FrameError):
        decode_probes(with_bytes(PROBES_1, 4, b"\x08"))


def test_a_reply_decodes_only_as_its_type() -> None:
    for decode in (decode_status, decode_probes, decode_states, decode_model):
        with pytest.raises(FrameError):
            decode(CELLS_1)
    with pytest.raises(FrameError):
        decode_cells(STATUS_8S)


def test_requests() -> None:
    # aiobmsble abc_bms.py ``_cmd``: EE <cmd> 00 00 00 <crc8>.
    assert build_request(NAME) == bytes.fromhex("eec000000041")
    assert build_request(INFO) == bytes.fromhex("eec1000000ce")
    assert build_request(DETAIL) == bytes.fromhex("eec200000046")


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        # aiobmsble 0.31.0 tests/bms/test_abc_bms.py test_invalid_response.
        (bytes.fromhex("ccf0a26b00000000a08601409e01070063000020"), "wrong_CRC"),
        (bytes.fromhex("c0f0a26b00000000a08601409e01070063000021"), "wrong_SOF"),
        (bytes.fromhex("ccfea26b00000000a08601409e0107006300004f"), "wrong_CMD"),
        (bytes.fromhex("ccf0a26b00000000a08601409e010700630021"), "wrong_length"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_check_frame_refuses(frame: bytes, why: str) -> None:
    with pytest.raises(FrameError):
        check_frame(frame)
    assert feed_all([frame])[0] == []


def test_glued_frames() -> None:
    stream = b"".join(FRAMES + SETTINGS)
    assert feed_all([stream]) == ([*FRAMES, *SETTINGS], [])
    chunks = [stream[i : i + 7] for i in range(0, len(stream), 7)]
    assert feed_all(chunks) == ([*FRAMES, *SETTINGS], [])


def test_a_damaged_frame_never_hides_the_next() -> None:
    frames, errors = feed_all([STATUS_8S[:-1] + b"\x00" + CELLS_1])
    assert frames == [CELLS_1]
    assert errors
    assert feed_all([STATUS_8S[:10], CELLS_1])[0] == [CELLS_1]
    assert feed_all([STATUS_8S[:10], CELLS_1[:5], CELLS_1[5:]])[0] == [CELLS_1]


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=17, max_size=17), st.integers(0xF0, 0xFA))
def test_decoders_raise_only_protocol_errors(data: bytes, kind: int) -> None:
    frame = bytes((0xCC, kind)) + data
    frame += bytes((crc8(frame),))
    check_frame(frame)
    for decode in (decode_status, decode_model, decode_probes, decode_states):
        with contextlib.suppress(ProtocolError):
            decode(frame)
    with contextlib.suppress(ProtocolError):
        CellCollector(27.5).add(frame)


def test_the_simulator_speaks_the_captured_layout() -> None:
    sim = demo("C0:FF:EE:00:00:01")
    sim.pack.cell_voltages = [round(3.3 + 0.001 * i, 3) for i in range(10)]
    sim.pack.temperatures = [-3.0, 21.0]
    (status,) = sim.replies(STATUS)
    assert decode_status(status).voltage == round(sim.pack.voltage, 3)
    assert decode_status(status).current == sim.pack.current
    (model,) = sim.replies(MODEL)
    assert model == BY_NAME["model F1"]
    (probes,) = sim.replies(PROBES)
    assert decode_probes(probes).temperatures == (-3.0, 21.0)
    collector = CellCollector(decode_status(status).voltage)
    for frame in sim.replies(CELLS):
        collector.add(frame)
    assert collector.complete
    assert collector.cells == tuple(sim.pack.cell_voltages)


def test_aiobmsble_reads_the_same_values() -> None:
    """A second decoder on the vectors and on the simulator's frames.

    Runs where aiobmsble is installed.
    """
    abc_bms = pytest.importorskip("aiobmsble.bms.abc_bms")
    reference = abc_bms.BMS
    sim = demo("C0:FF:EE:00:00:01")
    sim.pack.temperatures = [-4.0, 25.0]
    sim.heater = True
    captured = {STATUS: STATUS_8S, PROBES: PROBES_1, STATES: BY_NAME["states F3"]}
    simulated = {kind: sim.replies(kind)[0] for kind in (STATUS, PROBES, STATES)}
    for replies in (captured, simulated):
        theirs = reference._decode_data(reference._FIELDS, replies, byteorder="little")
        status = decode_status(replies[STATUS])
        probes = decode_probes(replies[PROBES])
        states = decode_states(replies[STATES])
        assert theirs["voltage"] == status.voltage
        assert theirs["current"] == status.current
        assert theirs["cycle_charge"] == status.remaining
        assert theirs["design_capacity"] == status.design
        assert theirs["cycles"] == status.cycles
        assert theirs["battery_level"] == status.soc
        assert theirs["chrg_mosfet"] is probes.charge_mosfet
        assert theirs["dischrg_mosfet"] is probes.discharge_mosfet
        assert theirs["temp_sensors"] == len(probes.temperatures)
        assert theirs["heater"] is states.heater
        assert bool(theirs["balancer"]) is states.balancing
