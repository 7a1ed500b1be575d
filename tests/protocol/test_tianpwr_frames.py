"""TianPower frames: every captured vector, the requests, reassembly, fuzz."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.tianpwr import demo
from custom_components.lithium_bms.protocol.errors import FrameError, ProtocolError
from custom_components.lithium_bms.protocol.snapshot import Alarm
from custom_components.lithium_bms.protocol.tianpwr.frames import (
    CELLS,
    HARDWARE,
    INFO,
    MOSFETS,
    SOFTWARE,
    STATUS,
    SUPPORTED_ALARMS,
    TEMPERATURES,
    build_request,
    cell_frames,
    check_frame,
    decode_cells,
    decode_info,
    decode_mosfets,
    decode_status,
    decode_temperatures,
    decode_text,
)
from custom_components.lithium_bms.protocol.tianpwr.stream import (
    TianpwrReassembler,
)

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "tianpwr_vectors.json").read_text()
)
BY_NAME = {vector["name"]: bytes.fromhex(vector["hex"]) for vector in VECTORS}
STATUS_16S = BY_NAME["status 83"]
INFO_16S = BY_NAME["info 84"]
MOSFETS_16S = BY_NAME["mosfets 85"]
PROBES_4 = BY_NAME["temperatures 87"]
CELLS_1 = BY_NAME["cells 1-8 88"]
FRAMES = [bytes.fromhex(vector["hex"]) for vector in VECTORS]
# Bytes before and between frames: heads cut short, a request, fill.
GARBAGE = [b"\x55", b"\x55\x14", b"\x55\x04\x83\xaa", b"\xaa", b"\xff" * 9]
FOREIGN = {
    # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply.
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
    # A Redodo status request and a Modbus read.
    "redodo": bytes.fromhex("000004011355aa17"),
    "modbus": bytes.fromhex("010302000179 84".replace(" ", "")),
    # The pack's own request (tianpwr_bms.py ``_cmd``), echoed.
    "request": bytes.fromhex("550483aa"),
}
# aiobmsble 0.31.0 (PyPI sdist) tests/bms/test_tianpwr_bms.py: the empty cell
# reply of a 16-cell pack and a location reply, valid frames never asked for.
UNASKED = [
    bytes.fromhex("55148a00000000000000000000000000000000aa"),
    bytes.fromhex("55149000000000000000000000000000000000aa"),
]


def with_bytes(frame: bytes, offset: int, data: bytes) -> bytes:
    """``frame`` with ``data`` at ``offset``."""
    out = bytearray(frame)
    out[offset : offset + len(data)] = data
    return bytes(out)


def feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    reassembler = TianpwrReassembler()
    frames: list[bytes] = []
    errors: list[ProtocolError] = []
    for chunk in chunks:
        got, errs = reassembler.feed(chunk)
        frames += got
        errors += errs
    return frames, errors


def test_every_vector_names_its_source_and_values() -> None:
    assert len(VECTORS) == 11
    for vector in VECTORS:
        assert vector["source"].startswith(
            ("aiobmsble 0.31.0 (PyPI sdist) ", "syssi/esphome-tianpower-bms ")
        )
        assert vector["expected"]
        assert vector["note"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["hex"])
    expected = vector["expected"]
    check_frame(frame)
    kind = frame[2]
    if kind == SOFTWARE:
        assert decode_text(frame) == expected["sw_version"]
    elif kind == HARDWARE:
        assert decode_text(frame) == expected["hw_version"]
    elif kind == STATUS:
        status = decode_status(frame)
        assert status.soc == expected["battery_level"]
        assert status.voltage == expected["voltage"]
        assert status.current == expected["current"]
        assert status.soh == expected["battery_health"]
        assert status.ambient == expected["ambient"]
        assert status.mosfet == expected["mosfet"]
    elif kind == INFO:
        info = decode_info(frame)
        assert info.cells == expected["cell_count"]
        assert info.probes == expected["temp_sensors"]
        assert info.design == expected["design_capacity"]
        assert info.remaining == expected["cycle_charge"]
        assert info.cycles == expected["cycles"]
        assert info.alarms == frozenset()
        assert expected["problem_code"] == 0
    elif kind == MOSFETS:
        mosfets = decode_mosfets(frame, 16)
        assert mosfets.charge is expected["chrg_mosfet"]
        assert mosfets.discharge is expected["dischrg_mosfet"]
        assert mosfets.balancing is expected["balancer"]
        assert mosfets.balancing_cells == frozenset()
    elif kind == TEMPERATURES:
        temps = expected["temp_values"]
        assert list(decode_temperatures(frame, len(temps))) == temps
    else:
        assert list(decode_cells(frame, 8)) == expected["cell_voltages"]


def test_the_captured_cells_add_up_to_the_captured_packs() -> None:
    for status, first, second in (
        ("status 83", "cells 1-8 88", "cells 9-16 89"),
        ("esphome status 83", "esphome cells 1-8 88", "esphome cells 9-16 89"),
    ):
        voltage = decode_status(BY_NAME[status]).voltage
        cells = decode_cells(BY_NAME[first], 8) + decode_cells(BY_NAME[second], 8)
        assert abs(sum(cells) - voltage) < 0.06


def test_the_cell_count_decides_the_cell_replies() -> None:
    assert list(cell_frames(16)) == [CELLS, CELLS + 1]
    assert list(cell_frames(4)) == [CELLS]
    assert list(cell_frames(17)) == [CELLS, CELLS + 1, CELLS + 2]
    assert list(cell_frames(24)) == [CELLS, CELLS + 1, CELLS + 2]
    assert decode_cells(CELLS_1, 3) == (3.415, 3.419, 3.419)


def test_status_is_signed_and_checked() -> None:
    charging = decode_status(with_bytes(STATUS_16S, 13, b"\x03\xe8"))
    assert charging.current == 10.0
    discharging = decode_status(with_bytes(STATUS_16S, 13, b"\xfc\x18"))
    assert discharging.current == -10.0
    cold = decode_status(with_bytes(STATUS_16S, 9, b"\xff\xce\xff\xff"))
    assert (cold.ambient, cold.mosfet) == (-5.0, -0.1)
    with pytest.raises(FrameError):
        decode_status(with_bytes(STATUS_16S, 3, b"\x00\x65"))  # SOC 101
    with pytest.raises(FrameError):
        decode_status(with_bytes(STATUS_16S, 17, b"\x00\x65"))  # SOH 101


def test_info_counts_are_checked() -> None:
    with pytest.raises(FrameError):
        decode_info(with_bytes(INFO_16S, 3, b"\x00"))
    with pytest.raises(FrameError):
        decode_info(with_bytes(INFO_16S, 3, b"\x19"))  # 25 cells
    with pytest.raises(FrameError):
        decode_info(with_bytes(INFO_16S, 4, b"\x09"))  # 9 probes
    assert decode_info(with_bytes(INFO_16S, 3, b"\x18\x08")).cells == 24


@pytest.mark.parametrize(
    ("offset", "word", "alarms"),
    [
        (11, 0x0001, {Alarm.CELL_OVERVOLTAGE}),
        (11, 0x000A, {Alarm.CELL_UNDERVOLTAGE, Alarm.PACK_UNDERVOLTAGE}),
        # Warnings and the sleep state name no alarm.
        (11, 0xC1F0, set()),
        (13, 0x0004, {Alarm.DISCHARGE_OVERCURRENT}),
        (13, 0x0008, {Alarm.DISCHARGE_OVERCURRENT}),
        # Overcurrent and short circuit in esphome, MOSFET bits in aiobmsble.
        (13, 0x0003, set()),
        (15, 0x0005, {Alarm.CHARGE_OVERTEMPERATURE, Alarm.DISCHARGE_OVERTEMPERATURE}),
        (
            15,
            0x004A,
            {
                Alarm.CHARGE_UNDERTEMPERATURE,
                Alarm.DISCHARGE_UNDERTEMPERATURE,
                Alarm.MOSFET_OVERTEMPERATURE,
            },
        ),
        (15, 0xFF30, set()),
        (17, 0x0100, {Alarm.MOSFET_OVERTEMPERATURE}),
        (17, 0xE000, {Alarm.TEMPERATURE_SENSOR_FAULT, Alarm.MOSFET_FAULT}),
        (17, 0x0060, set()),  # LED and buzzer enabled
    ],
)
def test_protection_words(offset: int, word: int, alarms: set[Alarm]) -> None:
    info = decode_info(with_bytes(INFO_16S, offset, word.to_bytes(2)))
    assert info.alarms == alarms
    assert info.alarms <= SUPPORTED_ALARMS


@pytest.mark.parametrize(
    ("bits", "state"),
    [(0x23, True), (0x20, False), (0x00, False), (0x21, None), (0x22, None)],
)
def test_a_mosfet_is_known_only_where_the_sources_agree(
    bits: int, state: bool | None
) -> None:
    mosfets = decode_mosfets(with_bytes(MOSFETS_16S, 4, bytes((bits,))), 16)
    assert mosfets.charge is state
    assert mosfets.discharge is state


def test_the_balancing_word() -> None:
    mosfets = decode_mosfets(with_bytes(MOSFETS_16S, 13, b"\x80\x03"), 16)
    assert mosfets.balancing is True
    assert mosfets.balancing_cells == {1, 2, 16}
    # A bit beyond the pack's cells still says the balancer works.
    four = decode_mosfets(with_bytes(MOSFETS_16S, 13, b"\x00\x10"), 4)
    assert (four.balancing, four.balancing_cells) == (True, frozenset())


def test_probes_are_signed_and_counted() -> None:
    cold = with_bytes(PROBES_4, 3, b"\xff\xce\x00\x1e")
    assert decode_temperatures(cold, 2) == (-5.0, 3.0)
    assert decode_temperatures(PROBES_4, 0) == ()
    assert decode_temperatures(PROBES_4, 8) == (23.0,) * 4 + (0.0,) * 4


def test_a_reply_decodes_only_as_its_type() -> None:
    for decode in (decode_status, decode_info):
        with pytest.raises(FrameError):
            decode(CELLS_1)
    with pytest.raises(FrameError):
        decode_mosfets(STATUS_16S, 16)
    with pytest.raises(FrameError):
        decode_temperatures(STATUS_16S, 4)
    with pytest.raises(FrameError):
        decode_cells(STATUS_16S, 8)


def test_requests() -> None:
    # aiobmsble tianpwr_bms.py ``_cmd``: 55 04 <type> AA.
    assert build_request(STATUS) == bytes.fromhex("550483aa")
    assert build_request(SOFTWARE) == bytes.fromhex("550481aa")
    assert build_request(CELLS + 1) == bytes.fromhex("550489aa")


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        # aiobmsble 0.31.0 tests/bms/test_tianpwr_bms.py test_invalid_response.
        (b"\x51\x14\x83" + bytes(16) + b"\xaa", "wrong_SOF"),
        (b"\x55\x14\x83" + bytes(16) + b"\xa1", "wrong_EOF"),
        (b"\x55\x14\x83" + bytes(15) + b"\xaa", "wrong_length_min"),
        (b"\x55\x04\x83" + bytes(16) + b"\xaa", "request_byte"),
        (b"\x55\x14\x80" + bytes(16) + b"\xaa", "unknown_type"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_check_frame_refuses(frame: bytes, why: str) -> None:
    with pytest.raises(FrameError):
        check_frame(frame)
    assert feed_all([frame])[0] == []


def test_glued_frames() -> None:
    stream = b"".join(FRAMES + UNASKED)
    assert feed_all([stream]) == ([*FRAMES, *UNASKED], [])
    chunks = [stream[i : i + 7] for i in range(0, len(stream), 7)]
    assert feed_all(chunks) == ([*FRAMES, *UNASKED], [])


def test_a_damaged_frame_never_hides_the_next() -> None:
    frames, errors = feed_all([STATUS_16S[:-1] + b"\x00" + CELLS_1])
    assert frames == [CELLS_1]
    assert errors
    assert feed_all([STATUS_16S[:10], CELLS_1])[0] == [CELLS_1]
    assert feed_all([STATUS_16S[:10], CELLS_1[:5], CELLS_1[5:]])[0] == [CELLS_1]


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.sampled_from(range(0x81, 0x8B)))
def test_decoders_raise_only_protocol_errors(data: bytes, kind: int) -> None:
    frame = bytes((0x55, 0x14, kind)) + data + b"\xaa"
    check_frame(frame)
    for decode in (decode_status, decode_info):
        with contextlib.suppress(ProtocolError):
            decode(frame)
    with contextlib.suppress(ProtocolError):
        decode_mosfets(frame, data[0])
    with contextlib.suppress(ProtocolError):
        decode_temperatures(frame, data[1])
    with contextlib.suppress(ProtocolError):
        decode_cells(frame, data[2])
    decode_text(frame)


def test_the_simulator_speaks_the_captured_layout() -> None:
    sim = demo("90:A6:BF:00:00:01")
    assert sim.reply(SOFTWARE) == BY_NAME["software 81"]
    assert sim.reply(HARDWARE) == BY_NAME["hardware 82"]
    assert sim.reply(TEMPERATURES) == PROBES_4
    assert sim.reply(MOSFETS) == MOSFETS_16S
    assert sim.reply(CELLS) == CELLS_1
    assert sim.reply(CELLS + 1) == BY_NAME["cells 9-16 89"]
    sim.pack.current = 0.0
    sim.pack.cycles = 0
    status = sim.reply(STATUS)
    assert status is not None
    # The captured frame but for the voltage (the cells' sum, 54.75 V) and
    # the average byte pair, which the captured pack held at 28.0 °C.
    assert status[9:] == STATUS_16S[9:]
    assert decode_status(status).voltage == 54.75
    info = sim.reply(INFO)
    assert info is not None
    # The captured remaining charge is not 60 % of 230 Ah.
    assert decode_info(info)._replace(remaining=138.96) == decode_info(INFO_16S)


def test_aiobmsble_reads_the_same_values() -> None:
    """A second decoder on the vectors and on the simulator's frames.

    Runs where aiobmsble is installed.
    """
    tianpwr_bms = pytest.importorskip("aiobmsble.bms.tianpwr_bms")
    reference = tianpwr_bms.BMS
    sim = demo("90:A6:BF:00:00:01")
    sim.pack.current = -12.34
    sim.pack.mosfet_temperature = -3.5
    sim.pack.balancing_cells = {2, 9}
    kinds = (STATUS, INFO, MOSFETS)
    captured = {STATUS: STATUS_16S, INFO: INFO_16S, MOSFETS: MOSFETS_16S}
    simulated = {kind: sim.reply(kind) or b"" for kind in kinds}
    for replies in (captured, simulated):
        theirs = reference._decode_data(reference._FIELDS, replies)
        status = decode_status(replies[STATUS])
        info = decode_info(replies[INFO])
        mosfets = decode_mosfets(replies[MOSFETS], info.cells)
        assert theirs["battery_level"] == status.soc
        assert theirs["voltage"] == status.voltage
        assert theirs["current"] == status.current
        assert theirs["battery_health"] == status.soh
        assert theirs["cell_count"] == info.cells
        assert theirs["temp_sensors"] == info.probes
        assert theirs["design_capacity"] == int(info.design)
        assert theirs["cycle_charge"] == info.remaining
        assert theirs["cycles"] == info.cycles
        assert theirs["chrg_mosfet"] is mosfets.charge
        assert theirs["dischrg_mosfet"] is mosfets.discharge
        assert bool(theirs["balancer"]) is mosfets.balancing
        ambient, mosfet = reference._temp_values(
            replies[STATUS], start=9, values=2, divider=10
        )
        assert (ambient.value, mosfet.value) == (status.ambient, status.mosfet)
