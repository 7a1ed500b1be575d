"""E&J frames: every captured vector, the requests, checks, reassembly, forgeries."""

from __future__ import annotations

import contextlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.ej import EjSimulator, Variant, demo
from custom_components.lithium_bms.protocol.ej.frames import (
    CAPACITY,
    CAPACITY_REQUEST,
    REALTIME,
    REALTIME_REQUEST,
    EjCapacity,
    build_request,
    check_frame,
    checksum,
    decode_capacity,
    decode_realtime,
    is_reply,
)
from custom_components.lithium_bms.protocol.ej.stream import EjReassembler
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)

from .streams import feed_chunks

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "ej_vectors.json").read_text()
)
BY_NAME = {vector["name"]: bytes.fromhex(vector["hex"]) for vector in VECTORS}
RT_10S = BY_NAME["two-frame real-time, 10S E&J"]
CAP_10S = BY_NAME["two-frame capacity, 10S E&J"]
SINGLE = BY_NAME["single-frame real-time, 4S Chins / Metrisun"]
NO_CHECKSUM = BY_NAME["single-frame real-time, libattU (checksum 00)"]
AG_RT = BY_NAME["two-frame real-time, AG Automotive 4S 100 Ah"]
AG_CAP = BY_NAME["two-frame capacity, AG Automotive 4S 100 Ah"]
ELECTRONICX = BY_NAME["single-frame real-time, Electronicx LT-12V 200 Ah"]
FRAMES = [RT_10S, CAP_10S, SINGLE, AG_RT, AG_CAP, ELECTRONICX]
# PowerBoozt's reply (patman15/BMS_BLE-HA #792): an E&J relative whose
# checksum is a sum of the decoded bytes, not of the characters.
POWERBOOZT = (
    b":01540100EC000102030405060D450D480D430D41000000000000000000000000000000000"
    b"000000000000000F00000004646464610EE000000007FFFFFFF3511000704000163000249F"
    b"0000262B7000249F0000105F000060001000000000000000000000000000000000000000000"
    b"00000000009F~"
)


def fitted(frame: bytes, at: int, chars: bytes) -> bytes:
    """``frame`` with ``chars`` at character ``at`` and its checksum made to fit."""
    body = bytearray(frame[:-3])
    body[at : at + len(chars)] = chars
    return bytes(body) + f"{checksum(bytes(body[1:])):02X}".encode() + b"~"


def feed_all(
    chunks: list[bytes], *, verify_checksum: bool = True
) -> tuple[list[bytes], list[ProtocolError]]:
    return feed_chunks(EjReassembler(verify_checksum=verify_checksum), chunks)


def test_every_vector_names_its_source_and_a_second_check() -> None:
    assert len(VECTORS) >= 8
    for vector in VECTORS:
        assert vector["source"]
        assert vector["expected"]
        assert "Second check" in vector["note"] or "README" in vector["note"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["hex"])
    expected = vector["expected"]
    check_frame(frame, verify_checksum="libattU" not in vector["name"])
    if is_reply(frame, CAPACITY):
        assert decode_capacity(frame).remaining == expected["cycle_charge"]
        return
    rt = decode_realtime(frame)
    for key, value in {
        "cell_voltages": list(rt.cell_voltages),
        "cycles": rt.cycles,
        "voltage": round(sum(rt.cell_voltages), 3),
        "current": rt.current,
        "battery_level": rt.soc,
        "temperature": rt.temperature,
        "problem_code": rt.protection_code,
        "problem": bool(rt.protection_code),
        "balancer": rt.balancing,
        "chrg_mosfet": rt.charge_fet,
        "dischrg_mosfet": rt.discharge_fet,
        "heater": rt.heater,
        "cycle_charge": rt.capacity and rt.capacity.remaining,
        "design_capacity": rt.capacity and rt.capacity.design,
    }.items():
        if key in expected:
            assert value == expected[key], key
    if "checksum" in expected:
        assert checksum(frame[1:-3]) == int(expected["checksum"], 16)


def test_the_vectors_beyond_what_the_sources_state() -> None:
    assert decode_capacity(CAP_10S) == EjCapacity(
        remaining=0.2, capacity_9=1.0, design=1.0
    )
    assert decode_capacity(AG_CAP) == EjCapacity(
        remaining=59.0, capacity_9=100.0, design=100.0
    )
    electronicx = decode_realtime(ELECTRONICX)
    assert (electronicx.current, electronicx.temperature) == (1.8, 21)
    assert (electronicx.soc, electronicx.balancing) == (17, True)
    assert electronicx.capacity == EjCapacity(
        remaining=32.0, capacity_9=200.0, design=200.0
    )
    assert decode_realtime(RT_10S).capacity is None


def test_capacities_agree_with_the_soc_of_every_capture_but_one() -> None:
    single = decode_realtime(SINGLE)
    assert single.capacity is not None
    assert single.capacity.agrees_with(single.soc)
    assert decode_capacity(AG_CAP).agrees_with(decode_realtime(AG_RT).soc)
    assert electronicx_agrees()
    # 0.2 of 1.0 Ah is 20 %, the real-time reply says 1 %.
    assert not decode_capacity(CAP_10S).agrees_with(decode_realtime(RT_10S).soc)
    assert not EjCapacity(remaining=60.0, capacity_9=50.0, design=100.0).agrees_with(
        100
    )
    assert not EjCapacity(remaining=0.0, capacity_9=0.0, design=100.0).agrees_with(0)


def electronicx_agrees() -> bool:
    rt = decode_realtime(ELECTRONICX)
    return rt.capacity is not None and rt.capacity.agrees_with(rt.soc)


def test_request_bytes() -> None:
    # The requests of patman15/aiobmsble ej_bms.py; agcyl's README sends the first.
    assert build_request(REALTIME, 0x50) == REALTIME_REQUEST == b":000250000E03~"
    assert build_request(CAPACITY, 0x31) == CAPACITY_REQUEST == b":001031000E05~"
    check_frame(REALTIME_REQUEST)
    check_frame(CAPACITY_REQUEST)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        # patman15/aiobmsble tests/bms/test_ej_bms.py wrong_response.
        (b"x009031001E0000001400080016F4~", FrameError),
        (b":009031001E0000001400080016F4x", FrameError),
        (b":009031001D0000001400080016F4~", FrameError),
        (b":009031001E00000002000A000AD9~", ChecksumError),
        (b":009031001E000X001400080016F4~", FrameError),
        (b"", FrameError),
        (b":", FrameError),
        (RT_10S[:-1], FrameError),
        (RT_10S + b"~", FrameError),
        (POWERBOOZT, ChecksumError),
    ],
    ids=[
        *("soi", "eoi", "length", "crc", "encoding"),
        *("empty", "colon", "short", "long", "powerboozt"),
    ],
)
def test_check_frame_refuses(raw: bytes, error: type[ProtocolError]) -> None:
    with pytest.raises(error):
        check_frame(raw)


@pytest.mark.parametrize("index", range(1, len(AG_RT) - 1))
def test_any_one_character_change_is_refused(index: int) -> None:
    broken = bytearray(AG_RT)
    broken[index] = ord("0") if broken[index] != ord("0") else ord("1")
    with pytest.raises(ProtocolError):
        check_frame(bytes(broken))


def test_without_the_checksum_check_a_libattu_frame_passes() -> None:
    with pytest.raises(ChecksumError):
        check_frame(NO_CHECKSUM)
    check_frame(NO_CHECKSUM, verify_checksum=False)
    assert decode_realtime(NO_CHECKSUM) == decode_realtime(SINGLE)
    assert feed_all([NO_CHECKSUM], verify_checksum=False) == ([NO_CHECKSUM], [])
    frames, errors = feed_all([NO_CHECKSUM])
    assert frames == []
    assert any(isinstance(e, ChecksumError) for e in errors)


def test_decode_refuses_what_is_no_reply_of_its_kind() -> None:
    with pytest.raises(FrameError):
        decode_realtime(CAP_10S)
    with pytest.raises(FrameError):
        decode_capacity(RT_10S)
    with pytest.raises(FrameError):
        decode_realtime(REALTIME_REQUEST)
    # A real-time reply of a length no source shows (132 characters).
    longer = bytearray(RT_10S[:-3] + b"0000" + RT_10S[-3:])
    longer[7:11] = b"0084"
    longer_frame = fitted(bytes(longer), 0, b"")
    check_frame(longer_frame)
    with pytest.raises(FrameError):
        decode_realtime(longer_frame)


def test_cells_must_fill_the_first_slots() -> None:
    # Cell 2 of the AG capture emptied: cells 3 and 4 follow a gap.
    with pytest.raises(FrameError, match="cell slots"):
        decode_realtime(fitted(AG_RT, 29, b"0000"))
    no_cells = fitted(AG_RT, 25, b"0" * 16)
    with pytest.raises(FrameError, match="cell slots"):
        decode_realtime(no_cells)
    sixteen = fitted(AG_RT, 25, b"0CE4" * 16)
    assert decode_realtime(sixteen).cell_voltages == (3.3,) * 16


def test_soc_above_100_is_refused() -> None:
    with pytest.raises(FrameError, match="state of charge"):
        decode_realtime(fitted(AG_RT, 123, b"65"))


def test_charge_and_discharge_words_and_the_status_bits() -> None:
    charging = decode_realtime(fitted(AG_RT, 89, b"04D20000"))
    assert charging.current == 12.34
    status = decode_realtime(fitted(AG_RT, 105, b"C0"))
    assert (status.charge_fet, status.discharge_fet) == (False, False)
    status = decode_realtime(fitted(AG_RT, 105, b"E0"))
    assert (status.charge_fet, status.discharge_fet) == (True, False)
    heater = decode_realtime(fitted(AG_RT, 109, b"01"))
    assert heater.heater is True
    frosty = decode_realtime(fitted(AG_RT, 97, b"14"))
    assert frosty.temperature == -20


SIM_FRAMES = [
    demo("02:00:07:00:00:01").realtime_frame(),
    demo("02:00:07:00:00:01").capacity_frame(),
    EjSimulator(
        "02:00:07:00:00:02", "G-12V300Ah-0345", variant=Variant.SINGLE_FRAME
    ).realtime_frame(),
]
# Every frame the reassembly contract fuzzes (test_reassembly_contract).
ALL_FRAMES = FRAMES + SIM_FRAMES


def test_the_simulator_speaks_what_the_codec_reads() -> None:
    sim = demo("02:00:07:00:00:01")
    sim.pack.current = -7.25
    rt = decode_realtime(sim.realtime_frame())
    assert rt.cell_voltages == tuple(sim.pack.cell_voltages)
    assert rt.current == -7.25
    assert rt.soc == round(sim.pack.soc)
    capacity = decode_capacity(sim.capacity_frame())
    assert capacity.remaining == sim.pack.remaining_capacity
    assert capacity.design == sim.pack.design_capacity


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [
    b"AT\r\n",
    b"AT\r\nillegal",
    b":",
    b":0082",
    b"~",
    b"\x00" * 4,
    b"\r\n",
    b"::~",
]


def test_the_ble_module_message_in_front_of_a_notification() -> None:
    # patman15/aiobmsble test_ej_bms.py: "AT\r\n", then "AT\r\nillegal".
    chunks = [b"AT\r\n", b"AT\r\nillegal"]
    chunks += [SINGLE[i : i + 20] for i in range(0, len(SINGLE), 20)]
    assert feed_all(chunks)[0] == [SINGLE]


def test_corrupt_frame_then_good_frame() -> None:
    bad = RT_10S[:-3] + b"00~"
    frames, errors = feed_all([bad + CAP_10S])
    assert frames == [CAP_10S]
    assert any(isinstance(e, ChecksumError) for e in errors)


# Other families' frames this one's stream must refuse (test_reassembly_contract).
FOREIGN = {
    # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply.
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
    "redodo": bytes.fromhex(
        json.loads(
            (Path(__file__).parent / "data" / "redodo_vectors.json").read_text()
        )[0]["hex"]
    ),
    "powerboozt": POWERBOOZT,
    "modbus_ascii": b":010300000002FA\r\n",
}


def _forged(frame: bytes, rng: random.Random) -> bytes:
    """Head kept, random hex content, a fitting checksum (as the soak forges)."""
    content = bytes(rng.choice(b"0123456789ABCDEF") for _ in range(len(frame) - 14))
    return fitted(frame[:11] + content + b"00~", 11, content)


def test_forged_realtime_frames_are_refused() -> None:
    """Random content with a valid checksum: the cell slots refuse it."""
    rng = random.Random(15)
    for frame in (RT_10S, SINGLE):
        for _ in range(2000):
            forged = _forged(frame, rng)
            check_frame(forged)
            with contextlib.suppress(FrameError):
                cells = decode_realtime(forged).cell_voltages
                # What passes the slots the plausibility gate refuses (> 5 V).
                assert max(cells) > 5.0


def test_forged_capacity_frames_rarely_agree_with_a_soc() -> None:
    rng = random.Random(15)
    agreeing = 0
    for _ in range(5000):
        forged = _forged(CAP_10S, rng)
        if decode_capacity(forged).agrees_with(rng.randrange(5, 100)):
            agreeing += 1
    assert agreeing < 5000 / 50


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=160)
    | st.text("0123456789ABCDEF:~", max_size=160).map(str.encode)
)
def test_decoders_raise_only_protocol_errors(raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        check_frame(raw, verify_checksum=False)
        if is_reply(raw, REALTIME):
            decode_realtime(raw)
        if is_reply(raw, CAPACITY):
            decode_capacity(raw)


def test_aiobmsble_reads_the_same_values() -> None:
    """A second decoder on the vectors and on the simulator's frames.

    Runs where aiobmsble is installed (the bleak 3 environment).
    """
    ej_bms = pytest.importorskip("aiobmsble.bms.ej_bms")
    reference = ej_bms.BMS
    for frame in [RT_10S, SINGLE, AG_RT, ELECTRONICX, SIM_FRAMES[0], SIM_FRAMES[2]]:
        msg = bytes.fromhex(frame[1:-1].decode())
        theirs = reference._decode_data(reference._FIELDS, {0x02: msg, 0x10: msg})
        cells = reference._cell_voltages(msg, cells=16, start=12)
        ours = decode_realtime(frame)
        assert theirs["current"] == ours.current
        assert theirs["battery_level"] == ours.soc
        assert theirs["cycles"] == ours.cycles
        assert theirs["problem_code"] == ours.protection_code
        assert theirs["chrg_mosfet"] is ours.charge_fet
        assert theirs["dischrg_mosfet"] is ours.discharge_fet
        assert tuple(cells) == ours.cell_voltages
