"""CBT Power frames: every captured vector, the requests, checks, reassembly."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.cbtpwr import demo, vb_demo
from custom_components.lithium_bms.protocol.cbtpwr import frames, vb
from custom_components.lithium_bms.protocol.cbtpwr.stream import (
    CbtPowerReassembler,
    CbtPowerVbReassembler,
)
from custom_components.lithium_bms.protocol.codecs import ydt1363
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)

from .streams import feed_chunks

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "cbtpwr_vectors.json").read_text()
)
BY_NAME = {vector["name"]: bytes.fromhex(vector["hex"]) for vector in VECTORS}
CLASSIC = [bytes.fromhex(v["hex"]) for v in VECTORS if v["name"].startswith("classic")]
VB = [bytes.fromhex(v["hex"]) for v in VECTORS if v["name"].startswith("vb")]
VOLTAGE = BY_NAME["classic 0x0B voltage and current, discharging"]
CELLS = BY_NAME["classic 0x05 cells 1-5"]
ANALOG = BY_NAME["vb 0x42 analog, 4 cells, 2 probes"]
CAPACITY = BY_NAME["vb 0x81 design capacity"]
# The requests of patman15/aiobmsble's tests (test_cbtpwr_bms.py checks the
# sum byte, test_cbtpwr_vb_bms.py answers these exact bytes).
VB_ANALOG_REQUEST = b"~11014642E00201FD35\r"
VB_CAPACITY_REQUEST = b"~11014681A006010001FC71\r"


def _decode_classic(frame: bytes) -> dict[str, Any]:
    frames.check_frame(frame)
    command = frames.command_of(frame)
    values: dict[str, Any] = {"command": command}
    if command in frames.CELL_COMMANDS:
        values["cell_voltages"] = list(frames.cells_of(frame))
    elif command == frames.VOLTAGE_CURRENT:
        values["voltage"] = frames.VOLTAGE.read(frame)
        values["current"] = frames.CURRENT.read(frame)
    elif command == frames.TEMPERATURES:
        values["temperature"] = frames.TEMPERATURE.read(frame)
    elif command == frames.SOC:
        values["soc"] = frames.STATE_OF_CHARGE.read(frame)
    elif command == frames.CAPACITY:
        values["design_capacity"] = frames.DESIGN_CAPACITY.read(frame)
        values["cycles"] = frames.CYCLES.read(frame)
    else:
        values["problem_code"] = frames.PROBLEM.read(frame)
    return values


def _decode_vb(frame: bytes) -> dict[str, Any]:
    info = vb.reply_info(frame)
    if vb.is_capacity(info):
        return {"kind": "capacity", "design_capacity": vb.decode_capacity(info)}
    status = vb.decode_analog(info)
    return {
        "kind": "analog",
        "voltage": status.voltage,
        "current": status.current,
        "cell_voltages": list(status.cell_voltages),
        "temperatures": list(status.temperatures),
        "soc": status.soc,
        "cycles": status.cycles,
        "problem_code": status.problem_code,
    }


def test_every_vector_names_its_source() -> None:
    for vector in VECTORS:
        assert "b0567331025033d33729385fa89a1198275d6486" in vector["source"]
        assert vector["expected"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["hex"])
    decode = _decode_classic if vector["name"].startswith("classic") else _decode_vb
    assert decode(frame) == vector["expected"]


def test_a_whole_classic_read_decodes() -> None:
    status = frames.decode(
        frames.ClassicReplies(
            voltage_current=VOLTAGE,
            temperatures=BY_NAME["classic 0x09 temperature below zero"],
            soc=BY_NAME["classic 0x0A state of charge"],
            capacity=BY_NAME["classic 0x15 design capacity and cycles"],
            warnings=BY_NAME["classic 0x21 last warning bit"],
            cells=(CELLS, BY_NAME["classic 0x06 no further cells"]),
        )
    )
    assert status == frames.ClassicStatus(
        voltage=13.4,
        current=-3.14,
        cell_voltages=(3.339, 3.339, 3.338, 3.338, 2.317),
        temperature=-2,
        soc=100,
        design_capacity=40,
        cycles=3,
        problem_code=1 << 31,
    )


def test_a_reply_in_the_wrong_place_is_refused() -> None:
    replies = frames.ClassicReplies(
        voltage_current=BY_NAME["classic 0x15 design capacity and cycles"],
        temperatures=BY_NAME["classic 0x09 temperature below zero"],
        soc=BY_NAME["classic 0x0A state of charge"],
        capacity=BY_NAME["classic 0x15 design capacity and cycles"],
        warnings=BY_NAME["classic 0x21 no warning"],
        cells=(CELLS,),
    )
    with pytest.raises(FrameError):
        frames.decode(replies)


def test_a_state_of_charge_above_100_is_refused() -> None:
    soc = with_sum(BY_NAME["classic 0x0A state of charge"], 4, b"\x65")
    replies = frames.ClassicReplies(
        voltage_current=VOLTAGE,
        temperatures=BY_NAME["classic 0x09 temperature 21"],
        soc=soc,
        capacity=BY_NAME["classic 0x15 design capacity and cycles"],
        warnings=BY_NAME["classic 0x21 no warning"],
        cells=(CELLS,),
    )
    with pytest.raises(FrameError):
        frames.decode(replies)


def test_requests() -> None:
    assert frames.build_request(0x0B).hex() == "aa550b000b0a0d"
    assert frames.build_request(0x21).hex() == "aa552100210a0d"
    assert vb.build_request(vb.ANALOG) == VB_ANALOG_REQUEST
    assert vb.build_request(vb.CAPACITY, vb.CAPACITY_INFO) == VB_CAPACITY_REQUEST


def with_sum(frame: bytes, offset: int, data: bytes) -> bytes:
    """A classic ``frame`` with ``data`` at ``offset`` and its sum made to fit."""
    body = bytearray(frame[:-3])
    body[offset : offset + len(data)] = data
    return bytes(body) + bytes((sum(body[2:]) & 0xFF,)) + frame[-2:]


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        # aiobmsble's test_invalid_response frames.
        (b"\x12\x34\x00\x00\x00\x56\x78", FrameError),
        (b"invalid_len", FrameError),
        (b"\xaa\x55\x15\x04\x00\x00\x00\x00\x00\x0d\x0a", ChecksumError),
        (b"", FrameError),
        (VOLTAGE[:-1] + b"\x0d", FrameError),
        (VOLTAGE[:-2], FrameError),
        # A known command with another length than the source's frames.
        (b"\xaa\x55\x0b\x04\x58\x34\x00\x00\x90\x0d\x0a", FrameError),
        # The runtime reply 0x0C is not read (the runtime follows from the pack).
        (
            bytes.fromhex("aa550c0c000000005b06000003007402f20d0a"),
            FrameError,
        ),
    ],
)
def test_check_frame_refuses(raw: bytes, error: type[ProtocolError]) -> None:
    with pytest.raises(error):
        frames.check_frame(raw)


@pytest.mark.parametrize("index", range(2, len(VOLTAGE)))
def test_any_one_byte_corruption_is_refused(index: int) -> None:
    damaged = bytearray(VOLTAGE)
    damaged[index] ^= 0x01
    with pytest.raises(ProtocolError):
        frames.check_frame(bytes(damaged))


@pytest.mark.parametrize("index", range(1, len(ANALOG)))
def test_any_vb_character_corruption_is_refused(index: int) -> None:
    damaged = bytearray(ANALOG)
    damaged[index] = ord("7") if damaged[index] != ord("7") else ord("8")
    with pytest.raises(ProtocolError):
        vb.reply_info(bytes(damaged))


def test_vb_refuses_other_versions_and_return_codes() -> None:
    with pytest.raises(FrameError):
        vb.reply_info(vb.build_request(vb.ANALOG))  # VER 0x11: a request
    refused = ydt1363.build_frame(vb.REPLY_VER, vb.DEVICE, vb.CID1, 0x02)
    with pytest.raises(FrameError, match="return code"):
        vb.reply_info(refused)


def test_vb_analog_info_must_end_where_its_counts_say() -> None:
    info = vb.reply_info(ANALOG)
    for bad in (info[:-1], info + b"\x00", b"\x00" + info[1:], b""):
        assert not vb.is_analog(bad)
        with pytest.raises(FrameError):
            vb.decode_analog(bad)
    with pytest.raises(FrameError):
        vb.decode_capacity(info)


SCANNERS = {
    "classic": (CbtPowerReassembler, CLASSIC),
    "vb": (CbtPowerVbReassembler, VB),
}


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [b"\x00", b"\xaa", b"\xaa\x55", b"~", b"~22", b"\r\n", b"\xff" * 9]


def test_corrupt_then_good_and_truncated_then_good() -> None:
    bad = with_sum(VOLTAGE, 4, b"\x00")[:-3] + b"\x00\x0d\x0a"
    found, errors = feed_chunks(CbtPowerReassembler(), [bad + CELLS])
    assert found == [CELLS]
    assert any(isinstance(e, ChecksumError) for e in errors)
    found, errors = feed_chunks(CbtPowerReassembler(), [VOLTAGE[:9], CELLS])
    assert found == [CELLS]
    assert errors
    found, _ = feed_chunks(CbtPowerVbReassembler(), [ANALOG[:40], CAPACITY])
    assert found == [CAPACITY]


def test_a_yd_t1363_frame_that_is_no_vb_reply_is_not_delivered() -> None:
    # Found by test_random_bytes_never_raise: device 1, a valid checksum, but
    # the request version and another CID1, so no reply of the VB module.
    foreign = b"~11011468A006000011FC71\r"
    found, errors = feed_chunks(CbtPowerVbReassembler(), [foreign + ANALOG])
    assert found == [ANALOG]
    assert errors


# Other families' frames this one's stream must refuse (test_reassembly_contract).
FOREIGN = {
    # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply.
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
    # A Pylontech-style YD/T1363 frame of device 2.
    "ydt_device_2": b"~200246000000FDB2\r",
    "redodo_request": bytes.fromhex("000004011355aa17"),
}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120))
def test_decoders_raise_only_protocol_errors(raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        frames.check_frame(raw)
    with contextlib.suppress(ProtocolError):
        vb.decode_analog(raw)
    with contextlib.suppress(ProtocolError):
        vb.decode_capacity(raw)
    with contextlib.suppress(ProtocolError):
        vb.reply_info(raw)


def test_simulator_frames_are_what_the_source_reads() -> None:
    """The simulators encode the vectors' values as the captured frames."""
    classic = demo("38:AB:41:00:00:01")
    classic.pack.cell_voltages = [3.339, 3.339, 3.338, 3.338, 2.317]
    classic.pack.temperatures = [-2.0]
    classic.pack.current = -3.14
    classic.pack.soc = 100
    classic.pack.design_capacity = 40
    classic.pack.cycles = 3
    assert classic.reply(0x05) == CELLS
    assert classic.reply(0x09) == BY_NAME["classic 0x09 temperature below zero"]
    assert classic.reply(0x15) == BY_NAME["classic 0x15 design capacity and cycles"]
    assert classic.reply(0x21) == BY_NAME["classic 0x21 no warning"]
    device = vb_demo("F8:2E:0C:00:00:01")
    device.pack.soc = 96
    device.pack.cycles = 0
    device.pack.current = 0.0
    assert vb.decode_analog(vb.reply_info(device.analog())) == vb.decode_analog(
        vb.reply_info(ANALOG)
    )


def test_aiobmsble_reads_the_same_values() -> None:
    """The source's decoders on the vectors and on the simulators' frames.

    Runs where aiobmsble is installed (the bleak 3 environment).
    """
    classic_bms = pytest.importorskip("aiobmsble.bms.cbtpwr_bms").BMS
    vb_bms = pytest.importorskip("aiobmsble.bms.cbtpwr_vb_bms").BMS
    device = demo("38:AB:41:00:00:01")
    device.pack.cell_voltages = [round(3.3 + 0.001 * i, 3) for i in range(7)]
    device.pack.current = -4.2
    device.problem_word = 0x80000001
    sim_replies = {c: device.reply(c) for c in (0x05, 0x06, 0x09, 0x0A, 0x0B, 0x15)}
    sim_replies[0x21] = device.reply(0x21)
    for replies in (
        {frames.command_of(f): f for f in CLASSIC if f[2] in (0x09, 0x0A, 0x15)}
        | {0x0B: VOLTAGE, 0x21: BY_NAME["classic 0x21 last warning bit"]},
        sim_replies,
    ):
        theirs = classic_bms._decode_data(
            classic_bms._FIELDS, replies, byteorder="little"
        )
        ours = {
            k: v for f in replies.values() if f for k, v in _decode_classic(f).items()
        }
        assert theirs["voltage"] == ours["voltage"]
        assert theirs["current"] == ours["current"]
        assert theirs["battery_level"] == ours["soc"]
        assert theirs["design_capacity"] == ours["design_capacity"]
        assert theirs["cycles"] == ours["cycles"]
        assert theirs["problem_code"] == ours["problem_code"]
        assert theirs["temp_values"][0] == ours["temperature"]
    cells = [device.reply(c) for c in (0x05, 0x06)]
    theirs_cells = [
        v
        for f in cells
        for v in classic_bms._cell_voltages(f, cells=5, start=4, byteorder="little")
    ]
    assert theirs_cells == [v for f in cells for v in frames.cells_of(f or b"")]
    vb_device = vb_demo("F8:2E:0C:00:00:01")
    vb_device.pack.current = -12.3
    for frame in (ANALOG, vb_device.analog()):
        msg = bytes.fromhex(frame[1:-1].decode())
        cells_count = msg[6]
        temp_pos = 6 + 2 * cells_count + 1
        start = temp_pos + 2 * msg[temp_pos] + 1
        theirs = vb_bms._decode_data(vb_bms._FIELDS, msg, start=start)
        status = vb.decode_analog(vb.reply_info(frame))
        assert theirs["voltage"] == status.voltage
        assert theirs["current"] == status.current
        assert theirs["battery_level"] == status.soc
        assert theirs["cycles"] == status.cycles
        assert theirs["problem_code"] == status.problem_code
        assert vb_bms._cell_voltages(msg, cells=cells_count, start=7) == list(
            status.cell_voltages
        )
