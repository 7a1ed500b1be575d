"""Humsienk frames: every captured vector, requests, checksums, reassembly."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.humsienk import demo
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.humsienk.frames import (
    BATTERY,
    CELLS,
    PROTECTION_BITS,
    STATUS,
    build_request,
    check_frame,
    decode_battery,
    decode_cells,
    decode_status,
    decode_text,
)
from custom_components.lithium_bms.protocol.humsienk.stream import (
    HumsienkReassembler,
)
from custom_components.lithium_bms.protocol.snapshot import Alarm

from .streams import feed_chunks

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "humsienk_vectors.json").read_text()
)
BY_NAME = {vector["name"]: bytes.fromhex(vector["hex"]) for vector in VECTORS}
STATUS_OK = BY_NAME["status both FETs on, no alarm"]
BATTERY_4S = BY_NAME["battery 4S 13.130 V discharging"]
CELLS_4S = BY_NAME["cells 4S of 24 slots"]
FRAMES = [STATUS_OK, BATTERY_4S, CELLS_4S, BY_NAME["model BMC-04S001"]]


def with_bytes(frame: bytes, offset: int, data: bytes) -> bytes:
    """``frame`` with ``data`` at ``offset`` and its sum made to fit."""
    body = bytearray(frame[:-2])
    body[offset : offset + len(data)] = data
    return bytes(body) + (sum(body[1:]) & 0xFFFF).to_bytes(2, "little")


def feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    return feed_chunks(HumsienkReassembler(), chunks)


def test_every_vector_names_its_source() -> None:
    for vector in VECTORS:
        assert "@ b0567331025033d33729385fa89a1198275d6486" in vector["source"]
        assert vector["expected"], vector
        assert vector["note"], vector


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["hex"])
    check_frame(frame)
    expected = vector["expected"]
    if frame[1] == STATUS:
        status = decode_status(frame)
        assert status.protection_code & 0xFFFFFFFF == expected["problem_code"]
        # aiobmsble's problem: a code or a disconnected cell; bit 31 has no
        # name, so it shows in the code alone.
        assert bool(status.alarms or status.protection_code) is expected["problem"]
        if "chrg_mosfet" in expected:
            assert status.charge_fet is expected["chrg_mosfet"]
            assert status.discharge_fet is expected["dischrg_mosfet"]
            assert bool(status.balancing_cells) is expected["balancer"]
        disconnected = set(expected.get("disconnected_cells", ()))
        assert status.disconnected_cells == disconnected
        assert (Alarm.HARDWARE_FAULT in status.alarms) is bool(disconnected)
        named = {Alarm(a) for a in expected.get("alarms", ())}
        assert status.alarms - {Alarm.HARDWARE_FAULT} == named
    elif frame[1] == BATTERY:
        battery = decode_battery(frame)
        assert battery.voltage == expected["voltage"]
        assert battery.current == expected["current"]
        assert battery.soc == expected["battery_level"]
        assert battery.soh == expected["battery_health"]
        assert battery.remaining == expected["cycle_charge"]
        assert battery.full == expected["design_capacity"]
        assert battery.cycles == expected["cycles"]
        assert list(battery.probes) == expected["temperatures"]
    elif frame[1] == CELLS:
        cells = decode_cells(frame)
        assert list(cells) == expected["cell_voltages"]
        assert len(cells) == expected["cell_count"]
    elif "model" in expected:
        assert decode_text(frame) == expected["model"]
    elif "hw_version" in expected:
        assert decode_text(frame) == expected["hw_version"]
    else:
        assert frame[1] == expected["command"]
        assert frame[2] == expected["data_length"]


def test_requests_are_aiobmsble_s() -> None:
    # MockHumsienkBleakClient._RESP keys (test_humsienk_bms.py).
    assert build_request(0x00).hex() == "aa00000000"
    assert build_request(0x21).hex() == "aa21002100"
    assert build_request(0xF5).hex() == "aaf500f500"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        # aiobmsble test_invalid_response: wrong SOF, CRC, length, only SOF.
        (bytes.fromhex("bb00000000"), FrameError),
        (bytes.fromhex("aa00000001"), ChecksumError),
        (bytes.fromhex("aa0000000000"), FrameError),
        (bytes.fromhex("aa"), FrameError),
        (b"", FrameError),
    ],
    ids=["sof", "crc", "length", "only_sof", "empty"],
)
def test_check_frame_refuses(raw: bytes, error: type[ProtocolError]) -> None:
    with pytest.raises(error):
        check_frame(raw)


@pytest.mark.parametrize("index", range(1, len(BATTERY_4S)))
def test_any_one_byte_corruption_is_refused(index: int) -> None:
    corrupt = bytearray(BATTERY_4S)
    corrupt[index] ^= 0x01
    with pytest.raises(ProtocolError):
        check_frame(bytes(corrupt))


def test_decoders_refuse_another_reply_or_length() -> None:
    with pytest.raises(FrameError):
        decode_battery(STATUS_OK)
    with pytest.raises(FrameError):
        decode_status(BATTERY_4S)
    with pytest.raises(FrameError):
        decode_cells(BATTERY_4S)
    short = b"\xaa\x21\x19" + BATTERY_4S[3:-3]
    short += (sum(short[1:]) & 0xFFFF).to_bytes(2, "little")
    check_frame(short)
    with pytest.raises(FrameError):
        decode_battery(short)


@pytest.mark.parametrize(("bit", "alarm"), PROTECTION_BITS.items())
def test_each_protection_bit(bit: int, alarm: Alarm) -> None:
    frame = with_bytes(STATUS_OK, 7, (bit | 0x800080).to_bytes(4, "little"))
    status = decode_status(frame)
    assert status.alarms == {alarm}
    assert status.protection_code == bit


def test_warnings_stay_in_the_code_only() -> None:
    warnings = (1 << 8) | (1 << 12) | (1 << 24) | (1 << 29)
    status = decode_status(with_bytes(STATUS_OK, 7, warnings.to_bytes(4, "little")))
    assert status.alarms == frozenset()
    assert status.protection_code == warnings
    assert status.charge_fet is False
    assert status.discharge_fet is False


def test_balancing_cells_are_numbered_from_one() -> None:
    frame = with_bytes(STATUS_OK, 8, b"\x80")
    frame = with_bytes(frame, 11, b"\x05\x00\x80")
    status = decode_status(frame)
    assert status.balancing_cells == {1, 3, 24}
    assert status.protection_code == 0


def test_impossible_uptime_is_refused() -> None:
    with pytest.raises(FrameError):
        decode_status(with_bytes(STATUS_OK, 5, b"\x18"))
    with pytest.raises(FrameError):
        decode_status(with_bytes(STATUS_OK, 6, b"\x3c"))


def test_charging_current_and_24_cells() -> None:
    frame = with_bytes(BATTERY_4S, 7, (25_500).to_bytes(4, "little", signed=True))
    assert decode_battery(frame).current == 25.5
    cells = with_bytes(
        CELLS_4S, 3, b"".join((3300 + i).to_bytes(2, "little") for i in range(24))
    )
    assert decode_cells(cells) == tuple((3300 + i) / 1000 for i in range(24))


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [b"\x00", b"\xaa", b"\xaa\x21", b"\xaa\x21\xff", b"\x13\x37\xaa\xaa"]


def test_corrupt_frame_then_good_frame() -> None:
    corrupt = bytearray(BATTERY_4S)
    corrupt[10] ^= 0xFF
    frames, errors = feed_all([bytes(corrupt) + CELLS_4S])
    assert frames == [CELLS_4S]
    assert errors


# Other families' frames this one's stream must refuse (test_reassembly_contract).
FOREIGN = {
    # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply.
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
    # A Redodo status request (redodo_vectors.json sources).
    "redodo": bytes.fromhex("000004011355aa17"),
    "at": b"AT\r\n",
}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_decoders_raise_only_protocol_errors(raw: bytes) -> None:
    for decode in (decode_status, decode_battery, decode_cells, decode_text):
        with contextlib.suppress(ProtocolError):
            check_frame(raw)
            decode(raw)


def test_simulator_frames_decode() -> None:
    sim = demo("13:C2:A7:00:00:01")
    battery = decode_battery(sim.battery_frame())
    assert battery.voltage == round(sum(sim.pack.cell_voltages), 3)
    assert decode_cells(sim.cells_frame()) == tuple(sim.pack.cell_voltages)
    assert decode_status(sim.status_frame()).protection_code == 0


def test_aiobmsble_reads_the_same_values() -> None:
    """A second decoder on the vectors and on the simulator's frames.

    Runs where aiobmsble is installed (the bleak 3 environment).
    """
    humsienk_bms = pytest.importorskip("aiobmsble.bms.humsienk_bms")
    reference = humsienk_bms.BMS
    sim = demo("13:C2:A7:00:00:01")
    sim.pack.alarms = {"short_circuit"}
    for status, battery, cells in (
        (STATUS_OK, BATTERY_4S, CELLS_4S),
        (sim.status_frame(), sim.battery_frame(), sim.cells_frame()),
    ):
        msgs = {STATUS: status, BATTERY: battery, CELLS: cells}
        theirs = reference._decode_data(reference._FIELDS, msgs, byteorder="little")
        ours = decode_battery(battery)
        flags = decode_status(status)
        assert theirs["voltage"] == ours.voltage
        assert theirs["current"] == ours.current
        assert theirs["battery_level"] == ours.soc
        assert theirs["cycle_charge"] == ours.remaining
        assert theirs["cycles"] == ours.cycles
        assert theirs["problem_code"] == flags.protection_code
        assert theirs["chrg_mosfet"] is flags.charge_fet
