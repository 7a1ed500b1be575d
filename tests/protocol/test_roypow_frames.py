"""RoyPow frames: every captured vector, the requests, checksums, reassembly."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.roypow import demo
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.roypow.frames import (
    CELLS,
    PACK,
    PACK_TAGS,
    STATUS,
    build_request,
    check_frame,
    decode_cells,
    decode_pack,
    decode_status,
)
from custom_components.lithium_bms.protocol.roypow.stream import RoyPowReassembler

from .streams import feed_chunks

DATA = Path(__file__).parent / "data"
VECTORS: list[dict[str, Any]] = json.loads((DATA / "roypow_vectors.json").read_text())
BY_NAME = {vector["name"]: bytes.fromhex(vector["hex"]) for vector in VECTORS}
CELL_REPLY = BY_NAME["cells 4S"]
STATUS_REPLY = BY_NAME["status charging 0.35 A, four probes"]
PACK_REPLY = BY_NAME["pack 13.48 V, 96 %, 2 cycles"]
FRAMES = [CELL_REPLY, STATUS_REPLY, PACK_REPLY]
AT_STAT = b"AT+STAT\r\n"
# The requests of patman15/aiobmsble tests/bms/test_roypow_bms.py (CMDS) and
# vboginskey/bmv ut1300.py (COMMANDS).
REQUESTS = {
    CELLS: "ead10104ff02f9f5",
    STATUS: "ead10104ff03f8f5",
    PACK: "ead10104ff04fff5",
}


def with_bytes(frame: bytes, offset: int, data: bytes) -> bytes:
    """``frame`` with ``data`` at ``offset`` and its XOR made to fit."""
    body = bytearray(frame[:-2])
    body[offset : offset + len(data)] = data
    xor = 0
    for byte in body[3:]:
        xor ^= byte
    return bytes(body) + bytes((xor, 0xF5))


def feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    return feed_chunks(RoyPowReassembler(), chunks)


def test_every_vector_names_its_source_and_a_second_check() -> None:
    assert len(VECTORS) == 3
    for vector in VECTORS:
        assert "@" in vector["source"]
        assert vector["expected"]
        assert "Second check" in vector["note"] or "second decoder" in vector["note"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["hex"])
    check_frame(frame)
    expected = vector["expected"]
    if "cell_voltages" in expected:
        assert list(decode_cells(frame)) == expected["cell_voltages"]
    if "current" in expected:
        status = decode_status(frame)
        assert status.current == expected["current"]
        assert list(status.probes) == expected["temperatures"]
        assert status.problem_code == expected["problem_code"]
        assert status.charge_fet is expected["charge_mosfet"]
        assert status.discharge_fet is expected["discharge_mosfet"]
    if "soc" in expected:
        pack = decode_pack(frame)
        assert pack.voltage == expected["voltage"]
        assert pack.soc == expected["soc"]
        assert pack.cycles == expected["cycles"]
        assert pack.remaining == expected["remaining_capacity"]
        assert pack.design == expected["design_capacity"]
        assert pack.full == expected["full_capacity"]


def test_requests_and_the_simulators_replies() -> None:
    for command, request in REQUESTS.items():
        assert build_request(command).hex() == request
        check_frame(bytes.fromhex(request))
    # The simulator, given the captured pack, sends the captured bytes.
    sim = demo("12:6C:14:00:00:01")
    assert sim.cells_frame() == CELL_REPLY
    assert sim.status_frame() == STATUS_REPLY
    assert len(sim.pack_frame()) == len(PACK_REPLY)


def test_a_discharging_current_and_other_states() -> None:
    # Byte 6: 0x31 discharging (vboginskey/bmv ut1300.py), bit 0 the sign
    # (aiobmsble, whose test sets it in 0x32: 0x33).
    for state, sign in ((0x31, -1), (0x33, -1), (0x30, 1), (0x32, 1)):
        frame = with_bytes(STATUS_REPLY, 6, bytes((state,)))
        assert decode_status(frame).current == sign * 0.35
    big = with_bytes(STATUS_REPLY, 6, b"\x31\xff\xff")
    assert decode_status(big).current == -655.35
    for state in (0x00, 0x22, 0x34, 0xB2):
        with pytest.raises(FrameError, match="state byte"):
            decode_status(with_bytes(STATUS_REPLY, 6, bytes((state,))))


def test_problem_code_bits_are_kept() -> None:
    # aiobmsble's problem frames: byte 11 = 0x01 and byte 9 = 0x80.
    assert decode_status(with_bytes(STATUS_REPLY, 11, b"\x01")).problem_code == 1
    last = decode_status(with_bytes(STATUS_REPLY, 9, b"\x80"))
    assert last.problem_code == 1 << 23


def test_mosfet_bits_probes_and_cold() -> None:
    charge_off = decode_status(with_bytes(STATUS_REPLY, 24, b"\x03"))
    assert (charge_off.charge_fet, charge_off.discharge_fet) == (False, True)
    discharge_off = decode_status(with_bytes(STATUS_REPLY, 24, b"\x05"))
    assert (discharge_off.charge_fet, discharge_off.discharge_fet) == (True, False)
    two = decode_status(with_bytes(STATUS_REPLY, 13, b"\x02\x1e"))
    assert two.probes == (-10, 19)
    assert decode_status(with_bytes(STATUS_REPLY, 13, b"\x00")).probes == ()
    with pytest.raises(FrameError, match="probes"):
        decode_status(with_bytes(STATUS_REPLY, 13, b"\x05"))


def test_sixteen_cells() -> None:
    cells = b"".join((3300 + i).to_bytes(2, "big") for i in range(16))
    frame = bytearray(CELL_REPLY[:9] + cells + b"\x00\xf5")
    frame[3] = len(frame) - 4
    frame = bytearray(with_bytes(bytes(frame), 0, b""))
    check_frame(bytes(frame))
    assert decode_cells(bytes(frame)) == tuple(
        round(3.3 + i / 1000, 3) for i in range(16)
    )


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", FrameError),
        (b"\xea\xd1\x01", FrameError),
        (CELL_REPLY[:-1], FrameError),
        (CELL_REPLY + b"\xf5", FrameError),
        (b"\xee" + CELL_REPLY[1:], FrameError),
        (CELL_REPLY[:-1] + b"\xe5", FrameError),
        (CELL_REPLY[:-2] + b"\x00\xf5", ChecksumError),
    ],
    ids=["empty", "head", "truncated", "long", "sof", "eof", "xor"],
)
def test_check_frame_refuses(raw: bytes, error: type[ProtocolError]) -> None:
    with pytest.raises(error):
        check_frame(raw)


@pytest.mark.parametrize("frame", FRAMES, ids=["cells", "status", "pack"])
def test_any_one_byte_corruption_is_refused(frame: bytes) -> None:
    for index in range(3, len(frame)):
        broken = bytearray(frame)
        broken[index] ^= 0x01
        with pytest.raises(ProtocolError):
            check_frame(bytes(broken))


def test_aiobmsble_wrong_frames_are_refused() -> None:
    # patman15/aiobmsble tests/bms/test_roypow_bms.py wrong_response.
    for raw in (
        "eed1010fff020404040d2f0d2a0d290d2cf6f5",  # wrong SOF
        "ead1010fff020404040d2f0d2a0d290d2cf6e5",  # wrong EOF
        "ead1010eff020404040d2f0d2a0d290d2cf6f5",  # wrong length
        "ead1010fff020404040d2f0d2a0d290d2c00f5",  # wrong CRC
        "000000f5",  # critical length
    ):
        frames, _errors = feed_all([bytes.fromhex(raw)])
        assert frames == []


def test_decoders_refuse_the_wrong_reply() -> None:
    with pytest.raises(FrameError):
        decode_cells(STATUS_REPLY)
    with pytest.raises(FrameError):
        decode_status(PACK_REPLY)
    with pytest.raises(FrameError):
        decode_pack(CELL_REPLY)
    with pytest.raises(FrameError):
        decode_status(with_bytes(STATUS_REPLY, 4, b"\x01"))
    # aiobmsble's missing message: a cell layout answering command 0x08.
    other = bytes.fromhex("ead1010fff080404040d2f0d2a0d290d2cfcf5")
    check_frame(other)
    for decode in (decode_cells, decode_status, decode_pack):
        with pytest.raises(FrameError):
            decode(other)
    with pytest.raises(FrameError, match="cell count"):
        decode_cells(build_request(CELLS)[:5] + b"\x02\x04\x04\x04\x0d\x2f\x00\xf5")


@pytest.mark.parametrize("at", sorted(PACK_TAGS))
def test_a_pack_reply_with_a_wrong_tag_is_refused(at: int) -> None:
    with pytest.raises(FrameError, match="tag"):
        decode_pack(with_bytes(PACK_REPLY, at, bytes((PACK_TAGS[at] ^ 0x10,))))


def test_a_short_pack_or_status_reply_is_refused() -> None:
    short = bytes.fromhex("ead10109ff04016002000200f5")
    short = with_bytes(short, 0, b"")
    check_frame(short)
    with pytest.raises(FrameError, match="short"):
        decode_pack(short)
    with pytest.raises(FrameError, match="short"):
        decode_status(with_bytes(short, 5, b"\x03"))


def test_twenty_byte_notifications_glued_and_the_module_message() -> None:
    stream = AT_STAT + CELL_REPLY + STATUS_REPLY + AT_STAT + PACK_REPLY
    chunks = [stream[i : i + 20] for i in range(0, len(stream), 20)]
    assert feed_all(chunks)[0] == FRAMES
    assert feed_all([stream]) == (FRAMES, [])
    # The module's message as its own notification inside a reply.
    inside = [PACK_REPLY[:20], AT_STAT, PACK_REPLY[20:]]
    assert feed_all(inside) == ([PACK_REPLY], [])


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [
    b"\xea",
    b"\xea\xd1",
    b"\xea\xd1\x01",
    b"\xea\xd1\x01\x30",
    b"AT+ST",
    b"\xf5" * 9,
]


def test_corrupt_frame_then_good_frame() -> None:
    bad = STATUS_REPLY[:-2] + b"\x00\xf5"
    frames, errors = feed_all([bad + CELL_REPLY])
    assert frames == [CELL_REPLY]
    assert any(isinstance(e, ChecksumError) for e in errors)


def foreign_frames() -> dict[str, bytes]:
    """Other families' frames RoyPow's stream must refuse (reassembly contract)."""
    daly = json.loads((DATA / "daly_vectors.json").read_text())[0]["hex"]
    redodo = json.loads((DATA / "redodo_vectors.json").read_text())[0]["hex"]
    return {
        # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply.
        "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
        "daly": bytes.fromhex(daly),
        "redodo": bytes.fromhex(redodo),
    }


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_decoders_raise_only_protocol_errors(raw: bytes) -> None:
    for decode in (decode_cells, decode_status, decode_pack):
        with contextlib.suppress(ProtocolError):
            check_frame(raw)
            decode(raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=22, max_size=22))
def test_forged_status_replies_are_mostly_refused(content: bytes) -> None:
    """Random content with a valid XOR: refused unless state and count fit."""
    frame = with_bytes(STATUS_REPLY, 6, content)
    try:
        status = decode_status(frame)
    except FrameError:
        return
    assert content[0] & 0xFC == 0x30
    assert len(status.probes) <= 4


def test_aiobmsble_reads_the_same_values() -> None:
    """A second decoder on the vectors and on the simulator's frames.

    Runs where aiobmsble is installed (the bleak 3 environment).
    """
    roypow_bms = pytest.importorskip("aiobmsble.bms.roypow_bms")
    reference = roypow_bms.BMS
    sim = demo("12:6C:14:00:00:01")
    sim.pack.current = -12.5
    for frames in (
        {CELLS: CELL_REPLY, STATUS: STATUS_REPLY, PACK: PACK_REPLY},
        {CELLS: sim.cells_frame(), STATUS: sim.status_frame(), PACK: sim.pack_frame()},
    ):
        theirs = reference._decode_data(reference._FIELDS, frames)
        status = decode_status(frames[STATUS])
        pack = decode_pack(frames[PACK])
        assert theirs["voltage"] == pack.voltage
        assert theirs["current"] == status.current
        assert theirs["battery_level"] == pack.soc
        assert theirs["cycles"] == pack.cycles
        assert theirs["problem_code"] == status.problem_code
        assert theirs["chrg_mosfet"] is status.charge_fet
        assert theirs["dischrg_mosfet"] is status.discharge_fet
        # aiobmsble's capacity spans tag 8's byte: within 0.3 Ah of ours.
        assert theirs["cycle_charge"] == pytest.approx(pack.remaining, abs=0.3)
