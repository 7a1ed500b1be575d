"""ECO-WORTHY frames: every captured vector, the commands, CRCs, reassembly."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.ecoworthy import EcoworthySimulator
from custom_components.lithium_bms.protocol.codecs.modbus import crc16
from custom_components.lithium_bms.protocol.ecoworthy.frames import (
    CELLS,
    STATUS,
    UNLOCK,
    check_frame,
    decode_cells,
    decode_status,
    kind,
    mac_bytes,
)
from custom_components.lithium_bms.protocol.ecoworthy.stream import (
    EcoworthyReassembler,
)
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)

from .streams import feed_chunks

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "ecoworthy_vectors.json").read_text()
)
BY_NAME = {vector["name"]: bytes.fromhex(vector["hex"]) for vector in VECTORS}
V1_STATUS = BY_NAME["V1 status (A1), 4S discharging"]
V1_CELLS = BY_NAME["V1 cells (A2), 4 cells, 3 probes"]
V2_STATUS = BY_NAME["V2 status (A1), MAC in front, 4S discharging"]
V2_CELLS = BY_NAME["V2 cells (A2), MAC in front, 4 cells, 2 probes"]
FRAMES = [V1_STATUS, V1_CELLS, V2_STATUS, V2_CELLS]
# The address of aiobmsble's test device, in front of its V2 frames.
ADDRESS = "E2:E7:79:00:00:00"
MAC = mac_bytes(ADDRESS)


def with_bytes(frame: bytes, offset: int, data: bytes) -> bytes:
    """``frame`` with ``data`` at ``offset`` and its CRC made to fit."""
    body = bytearray(frame[:-2])
    body[offset : offset + len(data)] = data
    return bytes(body) + crc16(body).to_bytes(2, "little")


def feed_all(
    chunks: list[bytes], mac: bytes | None = MAC
) -> tuple[list[bytes], list[ProtocolError]]:
    return feed_chunks(EcoworthyReassembler(mac), chunks)


def test_every_vector_names_its_source_and_its_cross_check() -> None:
    assert len(VECTORS) == 4
    for vector in VECTORS:
        assert "patman15/aiobmsble" in vector["source"]
        assert "@ b0567331025033d33729385fa89a1198275d6486" in vector["source"]
        assert vector["expected"]
        assert vector["note"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["hex"])
    expected = vector["expected"]
    check_frame(frame, MAC)
    if kind(frame, MAC) == STATUS:
        status = decode_status(frame, MAC)
        assert status.voltage == expected["voltage"]
        assert status.current == expected["current"]
        assert status.soc == expected["soc"]
        assert status.soh == expected["soh"]
        assert status.design_capacity == expected["design_capacity"]
        assert status.problem_code == expected["problem_code"]
    else:
        cells = decode_cells(frame, MAC)
        assert list(cells.cell_voltages) == expected["cell_voltages"]
        assert list(cells.temperatures) == expected["temperatures"]


def test_the_pack_voltage_is_the_sum_of_the_cells() -> None:
    """The cross-check the vectors' notes state (one public decoder only)."""
    for status, cells in ((V1_STATUS, V1_CELLS), (V2_STATUS, V2_CELLS)):
        total = sum(decode_cells(cells, MAC).cell_voltages)
        assert abs(decode_status(status, MAC).voltage - total) < 0.01


def test_v1_frames_need_no_address() -> None:
    assert decode_status(V1_STATUS, None).voltage == 13.29
    assert feed_all([V1_STATUS, V2_STATUS, V1_CELLS], mac=None)[0] == [
        V1_STATUS,
        V1_CELLS,
    ]


def test_v2_frames_of_another_module_are_not_taken() -> None:
    other = mac_bytes("E2:E7:79:00:00:01")
    assert feed_all([V2_STATUS, V2_CELLS], mac=other)[0] == []


def test_the_commands_carry_their_crc() -> None:
    # patman15/aiobmsble ecoworthy_bms.py _INIT_CMDS, CRC-16/MODBUS low first.
    for command in UNLOCK:
        assert crc16(command[:-2]).to_bytes(2, "little") == command[-2:]


@pytest.mark.parametrize(
    "address", ["", "E2:E7:79", "not:an:address:at:all:xx", "E2-E7-79-00-00-0G"]
)
def test_an_address_that_is_no_mac_gives_none(address: str) -> None:
    assert mac_bytes(address) is None


# aiobmsble's own bad frames (tests/bms/test_ecoworthy_bms.py wrong_response).
WRONG_TYPE = with_bytes(V1_STATUS, 0, b"\xa3")
WRONG_CRC = V1_STATUS[:-1] + b"\x87"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", FrameError),
        (V1_STATUS[:13], FrameError),
        (V1_STATUS[:-1], FrameError),
        (V1_STATUS + b"\x00", FrameError),
        (WRONG_TYPE, FrameError),
        (with_bytes(V1_STATUS, 12, b"\x04"), FrameError),
        (with_bytes(V1_STATUS, 13, b"\x56"), FrameError),
        (WRONG_CRC, ChecksumError),
        (V2_CELLS[:-2] + b"\x00\x00", ChecksumError),
    ],
    ids=[
        "empty",
        "head",
        "truncated",
        "long",
        "type",
        "function",
        "count",
        "crc",
        "v2 crc",
    ],
)
def test_check_frame_refuses(raw: bytes, error: type[ProtocolError]) -> None:
    with pytest.raises(error):
        check_frame(raw, MAC)


@pytest.mark.parametrize("index", range(len(V2_STATUS)))
def test_any_one_byte_corruption_is_refused(index: int) -> None:
    broken = bytearray(V2_STATUS)
    broken[index] ^= 0x01
    with pytest.raises(ProtocolError):
        decode_status(bytes(broken), MAC)


def test_a_status_is_no_cell_frame_and_back() -> None:
    with pytest.raises(FrameError):
        decode_cells(V1_STATUS, MAC)
    with pytest.raises(FrameError):
        decode_status(V2_CELLS, MAC)


def test_problem_bits_are_kept_in_the_code() -> None:
    # aiobmsble's problem frames: byte 52 = 0x01 (first bit), byte 51 = 0x80.
    assert decode_status(with_bytes(V1_STATUS, 52, b"\x01"), MAC).problem_code == 1
    last = decode_status(with_bytes(V1_STATUS, 51, b"\x80"), MAC)
    assert last.problem_code == 1 << 15


def test_a_percentage_above_100_refuses_the_frame() -> None:
    with pytest.raises(FrameError, match="percentage"):
        decode_status(with_bytes(V1_STATUS, 16, b"\x00\x65"), MAC)
    with pytest.raises(FrameError, match="percentage"):
        decode_status(with_bytes(V1_STATUS, 18, b"\x00\x65"), MAC)


def test_charging_current_in_both_framings() -> None:
    assert decode_status(with_bytes(V1_STATUS, 22, b"\x04\xd2"), MAC).current == 12.34
    assert decode_status(with_bytes(V2_STATUS, 20, b"\x04\xd2"), MAC).current == 123.4


@pytest.mark.parametrize(
    ("offset", "data"),
    [
        (14, b"\x00\x00"),  # no cell
        (14, b"\x00\x21"),  # 33 cells
        (14, b"\x00\x05"),  # a fifth cell that holds FFFF
        (14, b"\x00\x03"),  # a fourth cell beyond the count
        (80, b"\x00\x0a"),  # ten probes
        (80, b"\x00\x02"),  # a third probe beyond the count
        (90, b"\x00\x00"),  # an unused probe slot that is not FC18
    ],
)
def test_cell_frames_that_contradict_their_counts(offset: int, data: bytes) -> None:
    with pytest.raises(FrameError):
        decode_cells(with_bytes(V1_CELLS, offset, data), MAC)


def test_thirty_two_cells_and_nine_probes() -> None:
    sim = EcoworthySimulator(ADDRESS, "ECO-WORTHY 0B_0000", mac_in_front=False)
    sim.pack.cell_voltages = [round(3.2 + 0.001 * i, 3) for i in range(32)]
    sim.pack.temperatures = [-12.5, *range(8)]
    cells = decode_cells(sim.cell_frame(), MAC)
    assert cells.cell_voltages == tuple(sim.pack.cell_voltages)
    assert cells.temperatures == (-12.5, *(float(t) for t in range(8)))


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [
    *(b"\xa1", b"\xa2\x00", b"\xe2", b"\xe2\xe7\x79"),
    *(b"\xe2\xe7\x79\x00\x00\x00\xa1", b"\xff" * 9, V1_STATUS[:14], V2_CELLS[:12]),
]


def test_corrupt_frame_then_good_frame() -> None:
    frames, errors = feed_all([WRONG_CRC + V2_STATUS])
    assert frames == [V2_STATUS]
    assert any(isinstance(e, ChecksumError) for e in errors)


# Other families' frames this one's stream must refuse (test_reassembly_contract).
FOREIGN = {
    # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply.
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
    # aiobmsble's MockECOWBleakClient.CMDS: Modbus reads, not frames.
    "modbus": bytes.fromhex("000103008c00009942"),
    "command": UNLOCK[0],
}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120))
def test_decoders_raise_only_protocol_errors(raw: bytes) -> None:
    for decode in (decode_status, decode_cells):
        with contextlib.suppress(ProtocolError):
            decode(raw, MAC)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=68, max_size=68), st.binary(min_size=86, max_size=86))
def test_random_content_with_a_valid_crc_is_refused(
    status: bytes, cells: bytes
) -> None:
    """What the soak forges: the head kept, random data, a matching CRC."""
    forged_status = with_bytes(V2_STATUS, 12, status)
    forged_cells = with_bytes(V2_CELLS, 12, cells)
    with contextlib.suppress(ProtocolError):
        decode_status(forged_status, MAC)
        decode_cells(forged_cells, MAC)
        pytest.fail("both random frames were taken")


def test_aiobmsble_reads_the_same_values() -> None:
    """A second run of the reference decoder on the vectors and the simulator.

    Runs where aiobmsble is installed (the bleak 3 environment).
    """
    ecoworthy_bms = pytest.importorskip("aiobmsble.bms.ecoworthy_bms")
    reference = ecoworthy_bms.BMS
    for v2, (status, cells) in (
        (False, (V1_STATUS, V1_CELLS)),
        (True, (V2_STATUS, V2_CELLS)),
    ):
        shift = bytes(2) if v2 else b""
        msgs = {STATUS: shift + status, CELLS: shift + cells}
        fields = reference._FIELDS_V2 if v2 else reference._FIELDS_V1
        theirs = reference._decode_data(fields, msgs)
        ours = decode_status(status, MAC)
        assert theirs["voltage"] == ours.voltage
        assert theirs["current"] == ours.current
        assert theirs["battery_level"] == ours.soc
        assert theirs["problem_code"] == ours.problem_code
