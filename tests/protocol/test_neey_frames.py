"""Neey frames: every captured vector, the requests, checks, reassembly."""

from __future__ import annotations

import contextlib
import json
import struct
from functools import reduce
from operator import xor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.neey import demo
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.neey.frames import (
    LAYOUTS,
    MASK_ALARMS,
    STATUS_ALARMS,
    FrameType,
    build_request,
    check_frame,
    decode_cell_info,
    decode_device_info,
)
from custom_components.lithium_bms.protocol.neey.settings import (
    SETTINGS_LAYOUTS,
    build_balancer_command,
    decode_settings,
)
from custom_components.lithium_bms.protocol.neey.stream import NeeyReassembler
from custom_components.lithium_bms.protocol.snapshot import Alarm, TemperatureKind

from .streams import feed_chunks

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "neey_vectors.json").read_text()
)
BY_NAME = {vector["name"]: bytes.fromhex(vector["hex"]) for vector in VECTORS}
CELLS_V1 = BY_NAME["cell info GW-24S4EB (v1), 16 cells balancing"]
CELLS_V2 = BY_NAME["cell info EK-B24S8E200A (v2), charging, 4 probes"]
INFO_V1 = BY_NAME["device info GW-24S4EB (v1)"]
SETTINGS_V2 = BY_NAME["settings EK-B24S8E200A (v2)"]
ACK = BY_NAME["app acknowledgement with AT\\r\\n"]
SETTINGS_ON = BY_NAME["settings GW-24S4EB (v1), balancer on"]
SETTINGS_OFF = BY_NAME["settings GW-24S4EB (v1), balancer off"]
SETTINGS_EK_B = BY_NAME["settings EK-B24S8E200A SW-2.0.0 (v2)"]
WRITE_ACK = BY_NAME["write acknowledgement of register 0x0D"]
FRAMES = [CELLS_V1, INFO_V1, CELLS_V2, SETTINGS_V2, SETTINGS_ON]
SOURCES = ("patman15/aiobmsble ", "syssi/esphome-jk-bms ")


def with_bytes(frame: bytes, offset: int, data: bytes) -> bytes:
    """``frame`` with ``data`` at ``offset`` and its sum made to fit."""
    body = bytearray(frame)
    body[offset : offset + len(data)] = data
    body[-2] = sum(body[:-2]) & 0xFF
    return bytes(body)


def with_float(frame: bytes, offset: int, value: float) -> bytes:
    return with_bytes(frame, offset, struct.pack("<f", value))


def feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    return feed_chunks(NeeyReassembler(), chunks)


def test_every_vector_names_its_source_and_its_cross_check() -> None:
    for vector in VECTORS:
        assert vector["source"].startswith(SOURCES)
        assert " @ " in vector["source"]
        assert vector["expected"]
        assert vector["note"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["hex"])
    expected = vector["expected"]
    if expected["kind"] == "noise":
        assert feed_all([frame]) == ([], [])
        return
    if expected["kind"] == "command":
        ours = build_balancer_command(expected["on"])
        assert ours[:18] == frame[:18]
        # The app's checksum is the XOR of the bytes, the one sent the sum.
        assert frame[18] == reduce(xor, frame[:18])
        assert ours[18:] == bytes((sum(frame[:18]) & 0xFF, 0xFF))
        return
    check_frame(frame)
    if expected["kind"] == "settings":
        layout = SETTINGS_LAYOUTS[expected["layout"] == "v2"]
        assert decode_settings(frame, layout).balancer is expected["balancer"]
        return
    if expected["kind"] == "frame":
        assert frame[4] == expected["type"]
        assert len(frame) == expected["length"]
        return
    if expected["kind"] == "device_info":
        info = decode_device_info(frame)
        assert info.model == expected["model"]
        assert info.hw_version == expected["hw_version"]
        assert info.sw_version == expected["sw_version"]
        assert info.v2 is expected["v2"]
        return
    cells = decode_cell_info(frame, LAYOUTS[expected["layout"] == "v2"])
    assert cells.voltage == expected["voltage"]
    assert list(cells.cell_voltages) == expected["cell_voltages"]
    assert cells.balancing is expected["balancing"]
    assert cells.balance_current == expected["balance_current"]
    assert [t.value for t in cells.temperatures] == expected["temperatures"]
    assert cells.alarms == frozenset()
    assert cells.current == expected["current"]
    for key in ("design_capacity", "remaining_capacity", "soc"):
        assert getattr(cells, key) == expected.get(key)


def test_the_vectors_beyond_what_the_source_states() -> None:
    """Wire resistances and probe kinds, after syssi's layout comments."""
    v1 = decode_cell_info(CELLS_V1, LAYOUTS[False])
    assert v1.cell_resistances[:3] == (0.1607, 0.1627, 0.1515)
    assert len(v1.cell_resistances) == 16
    assert {t.kind for t in v1.temperatures} == {TemperatureKind.CELL}
    v2 = decode_cell_info(CELLS_V2, LAYOUTS[True])
    assert [t.kind for t in v2.temperatures] == [
        TemperatureKind.CELL,
        TemperatureKind.CELL,
        TemperatureKind.MOSFET,
        TemperatureKind.AMBIENT,
    ]


def test_request_bytes() -> None:
    # syssi's heltec_balancer_ble.cpp comment: the settings request (0x04)
    # ends "29 FF"; the same sum for the cell-info and device-info requests.
    assert build_request(FrameType.CELL_INFO).hex() == (
        "aa551101020014000000000000000000000027ff"
    )
    assert build_request(FrameType.DEVICE_INFO).hex() == (
        "aa551101010014000000000000000000000026ff"
    )


def test_the_settings_request_and_the_balancer_command() -> None:
    """syssi's write_command_test: the settings request's sum is 0x29."""
    assert build_request(FrameType.SETTINGS).hex() == (
        "aa551101040014000000000000000000000029ff"
    )
    assert build_balancer_command(True).hex() == (
        "aa551100050d14000100000000000000000037ff"
    )
    assert build_balancer_command(False).hex() == (
        "aa551100050d14000000000000000000000036ff"
    )


def test_the_aiobmsble_settings_reply_reads_as_its_layout() -> None:
    """Beyond what aiobmsble states: byte 126 of its v2 capture is 1."""
    assert decode_settings(SETTINGS_V2, SETTINGS_LAYOUTS[True]).balancer is True


@pytest.mark.parametrize(
    ("frame", "v2"),
    [(SETTINGS_ON, True), (SETTINGS_EK_B, False), (CELLS_V1, False), (INFO_V1, True)],
    ids=["v1 as v2", "v2 as v1", "cells", "device info"],
)
def test_a_settings_reply_of_another_layout_or_kind_is_refused(
    frame: bytes, v2: bool
) -> None:
    with pytest.raises(FrameError):
        decode_settings(frame, SETTINGS_LAYOUTS[v2])


@pytest.mark.parametrize(
    ("frame", "offset", "data"),
    [
        (SETTINGS_ON, 21, b"\x02"),  # a balancer state that is neither
        (SETTINGS_EK_B, 126, b"\xff"),
        (SETTINGS_ON, 8, b"\x00"),  # no cell
        (SETTINGS_ON, 8, b"\x19"),  # 25 cells
        (SETTINGS_EK_B, 9, b"\x00"),
        (SETTINGS_ON, 9, struct.pack("<f", float("nan"))),  # trigger voltage
        (SETTINGS_ON, 13, struct.pack("<f", -1.0)),  # max balance current
        (SETTINGS_ON, 17, struct.pack("<f", 40.0)),  # stop voltage
        (SETTINGS_EK_B, 10, struct.pack("<f", float("inf"))),  # capacity
        (SETTINGS_EK_B, 30, struct.pack("<f", 1e6)),  # max balance current
    ],
)
def test_a_settings_reply_out_of_range_is_refused(
    frame: bytes, offset: int, data: bytes
) -> None:
    layout = SETTINGS_LAYOUTS[len(frame) == 150]
    with pytest.raises(FrameError):
        decode_settings(with_bytes(frame, offset, data), layout)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=150, max_size=150), st.booleans())
def test_random_settings_with_a_valid_sum_are_refused(raw: bytes, v2: bool) -> None:
    """A forged settings reply must not set the balancer switch."""
    head = (SETTINGS_EK_B if v2 else SETTINGS_ON)[:8]
    length = 150 if v2 else 100
    frame = with_bytes(head + raw[8 : length - 1] + b"\xff", 0, b"")
    with contextlib.suppress(ProtocolError):
        check_frame(frame)
        decode_settings(frame, SETTINGS_LAYOUTS[v2])
        pytest.fail("a random settings reply passed every check")


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (CELLS_V1[:-2] + b"\x00\xff", ChecksumError),  # aiobmsble's wrong_CRC
        (INFO_V1[:-1] + b"\x00", FrameError),  # aiobmsble's wrong_EOF
        (CELLS_V1[:100], FrameError),
        (b"\x55\xaa\xeb\x90\x05" + bytes(295), FrameError),  # a JK frame
        (b"", FrameError),
    ],
)
def test_check_frame_refuses(raw: bytes, error: type[ProtocolError]) -> None:
    with pytest.raises(error):
        check_frame(raw)


@pytest.mark.parametrize("index", range(8, len(CELLS_V1) - 2))
def test_any_one_byte_corruption_is_refused(index: int) -> None:
    corrupt = bytearray(CELLS_V1)
    corrupt[index] ^= 0x01
    with pytest.raises(ChecksumError):
        check_frame(bytes(corrupt))


@pytest.mark.parametrize(
    ("offset", "value"),
    [
        (201, 53.0),  # the pack voltage is not the cells' sum
        (205, 3.5),  # the average disagrees
        (209, 0.1),  # the spread disagrees
        (9, float("nan")),  # a cell that is no number
        (9, 7.0),  # a cell out of range
        (105, -1.0),  # a negative wire resistance
        (217, 500.0),  # a balance current no balancer has
        (221, 900.0),  # a probe out of range
    ],
)
def test_a_self_contradicting_frame_is_refused(offset: int, value: float) -> None:
    with pytest.raises(FrameError):
        decode_cell_info(with_float(CELLS_V1, offset, value), LAYOUTS[False])


def test_cells_must_be_one_block_and_indices_must_point_at_them() -> None:
    gap = with_float(CELLS_V1, 9 + 4 * 20, 3.3)
    with pytest.raises(FrameError, match="contiguous"):
        decode_cell_info(gap, LAYOUTS[False])
    with pytest.raises(FrameError, match="highest"):
        decode_cell_info(with_bytes(CELLS_V1, 213, b"\x01"), LAYOUTS[False])
    with pytest.raises(FrameError, match="out of range"):
        decode_cell_info(with_bytes(CELLS_V1, 214, b"\x10"), LAYOUTS[False])
    with pytest.raises(FrameError, match="status"):
        decode_cell_info(with_bytes(CELLS_V1, 216, b"\x0d"), LAYOUTS[False])


@pytest.mark.parametrize(
    ("offset", "value"),
    [(250, 90.0), (246, 400.0), (242, 0.0), (222, 1e6)],
    ids=["soc", "remaining", "total", "current"],
)
def test_v2_capacities_must_agree(offset: int, value: float) -> None:
    with pytest.raises(FrameError):
        decode_cell_info(with_float(CELLS_V2, offset, value), LAYOUTS[True])


def test_decoders_refuse_the_other_frame_kind() -> None:
    with pytest.raises(FrameError):
        decode_cell_info(INFO_V1, LAYOUTS[False])
    with pytest.raises(FrameError):
        decode_device_info(CELLS_V1)


@pytest.mark.parametrize(
    ("offset", "text"),
    [
        (8, b"\x00" * 16),
        (8, b"GW-24S4\xebB"),
        (24, b"HW\x01.8.0"),
        (32, b"ZH-1.\xff.3"),
    ],
    ids=["no model", "model", "hardware", "software"],
)
def test_a_garbled_device_info_is_refused(offset: int, text: bytes) -> None:
    """The model picks the cell layout: a garbled one must not pick v1."""
    with pytest.raises(FrameError):
        decode_device_info(with_bytes(INFO_V1, offset, text))


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=100, max_size=100))
def test_random_device_info_with_a_valid_sum_is_refused(raw: bytes) -> None:
    """A forged reply, the head kept: the soak found one read as a v1 model."""
    frame = with_bytes(INFO_V1[:8] + raw[8:-1] + b"\xff", 0, b"")
    with contextlib.suppress(ProtocolError):
        check_frame(frame)
        decode_device_info(frame)
        pytest.fail("a random device-info reply passed every check")


@pytest.mark.parametrize(("status", "alarm"), STATUS_ALARMS.items())
def test_each_operation_status_fault(status: int, alarm: Alarm) -> None:
    """aiobmsble's test_problem_response codes, named after syssi's table."""
    cells = decode_cell_info(
        with_bytes(CELLS_V1, 216, bytes((status,))), LAYOUTS[False]
    )
    assert cells.alarms == {alarm}
    assert cells.balancing is False


@pytest.mark.parametrize("layout", [False, True], ids=["v1", "v2"])
@pytest.mark.parametrize("slot", range(len(MASK_ALARMS)))
def test_each_cell_mask(layout: bool, slot: int) -> None:
    frame = CELLS_V2 if layout else CELLS_V1
    at = LAYOUTS[layout].masks_at + 3 * slot
    cells = decode_cell_info(with_bytes(frame, at, b"\x00\x80\x00"), LAYOUTS[layout])
    assert cells.alarms == {MASK_ALARMS[slot]}


@pytest.mark.parametrize(("layout", "at"), [(False, 244), (True, 281)])
def test_system_overheating(layout: bool, at: int) -> None:
    """syssi's byte 244 (v1), 37 bytes later on v2."""
    frame = CELLS_V2 if layout else CELLS_V1
    cells = decode_cell_info(with_bytes(frame, at, b"\x02"), LAYOUTS[layout])
    assert cells.alarms == {Alarm.MOSFET_OVERTEMPERATURE}


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [
    b"\x55",
    b"\x55\xaa",
    b"\x55\xaa\x11\x01\x02",
    b"AT\r\n",
    ACK,
    WRITE_ACK,
    b"\xff" * 9,
]


def test_corrupt_frame_then_good_frame() -> None:
    bad = CELLS_V1[:-2] + b"\x00\xff"
    frames, errors = feed_all([bad + CELLS_V2])
    assert frames == [CELLS_V2]
    assert any(isinstance(e, ChecksumError) for e in errors)


def test_truncated_frame_never_hides_the_next() -> None:
    frames, errors = feed_all([CELLS_V1[:60], INFO_V1, CELLS_V2])
    assert CELLS_V2 in frames
    assert feed_all([CELLS_V1[:60]]) == ([], [])
    reassembler = NeeyReassembler()
    reassembler.feed(CELLS_V1[:60])
    reassembler.reset()
    assert reassembler.feed(CELLS_V2) == ([CELLS_V2], [])
    del errors


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
    "ack": ACK,
    "write ack": WRITE_ACK,
}


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=300, max_size=300), st.booleans())
def test_random_cell_info_with_a_valid_sum_is_refused(raw: bytes, v2: bool) -> None:
    """What a forged frame looks like: the head kept, the rest random."""
    frame = with_bytes(CELLS_V1[:8] + raw[8:-1] + b"\xff", 0, b"")
    with contextlib.suppress(ProtocolError):
        check_frame(frame)
        decode_cell_info(frame, LAYOUTS[v2])
        pytest.fail("a random frame passed every check")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=320), st.booleans())
def test_decoders_raise_only_protocol_errors(raw: bytes, v2: bool) -> None:
    with contextlib.suppress(ProtocolError):
        check_frame(raw)
        decode_device_info(raw)
    with contextlib.suppress(ProtocolError):
        decode_cell_info(raw, LAYOUTS[v2])
    with contextlib.suppress(ProtocolError):
        decode_settings(raw, SETTINGS_LAYOUTS[v2])


@pytest.mark.parametrize("model", ["GW-24S4EB", "EK-B24S8E200A"])
def test_aiobmsble_reads_the_same_values(model: str) -> None:
    """A second decoder on the vectors and on the simulator's frames.

    Runs where aiobmsble is installed (the bleak 3 environment).
    """
    neey_bms = pytest.importorskip("aiobmsble.bms.neey_bms")
    reference = neey_bms.BMS
    sim = demo("A4:C1:38:00:00:01")
    sim.model = model
    v2 = model.startswith("EK-B")
    fields = reference._FIELDS if v2 else reference._FIELDS_v1
    for frame in [CELLS_V2 if v2 else CELLS_V1, sim.cell_info_frame()]:
        theirs = reference._conv_data(fields, frame)
        ours = decode_cell_info(frame, LAYOUTS[v2])
        assert theirs["voltage"] == ours.voltage
        assert theirs["balance_current"] == ours.balance_current
        assert theirs["balancer"] is ours.balancing
        cells = reference._cell_voltages(frame, cells=24, start=9)
        assert tuple(cells) == ours.cell_voltages
