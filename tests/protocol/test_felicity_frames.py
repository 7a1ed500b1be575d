"""Felicity frames: every captured vector, the cross-checks, reassembly."""

from __future__ import annotations

import contextlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.felicity import demo
from custom_components.lithium_bms.protocol.errors import FrameError, ProtocolError
from custom_components.lithium_bms.protocol.felicity.frames import (
    BASIC_INFO,
    REAL_INFO,
    decode_basic_info,
    decode_real_info,
    is_basic_info,
    is_real_info,
    parse,
)
from custom_components.lithium_bms.protocol.felicity.stream import (
    MAX_FRAME,
    FelicityReassembler,
)

from .streams import feed_chunks

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "felicity_vectors.json").read_text()
)
BY_NAME = {vector["name"]: bytes.fromhex(vector["hex"]) for vector in VECTORS}
IDLE = BY_NAME["real info 16S idle, LUX-Y-48300LG01"]
BANK = BY_NAME["real info 16S charging, module 3 of a 3-module bank, FLB48314TG1"]
BASIC = BY_NAME["basic info, LUX-Y-48300LG01"]
DATE = BY_NAME["date, LUX-Y-48300LG01"]
REAL = [IDLE, BANK]
FRAMES = [IDLE, BANK, BASIC, DATE]


def edited(frame: bytes, old: bytes, new: bytes) -> bytes:
    """``frame`` with its one occurrence of ``old`` replaced."""
    assert frame.count(old) == 1, old
    return frame.replace(old, new)


def feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    return feed_chunks(FelicityReassembler(), chunks)


def test_every_vector_names_its_source_and_a_second_check() -> None:
    assert len(VECTORS) >= 4
    for vector in VECTORS:
        assert vector["source"]
        assert vector["expected"]
        assert "check" in vector["note"]


@pytest.mark.parametrize("frame", REAL, ids=["idle", "bank"])
def test_every_real_vector_decodes_exactly(frame: bytes) -> None:
    expected = next(v for v in VECTORS if bytes.fromhex(v["hex"]) == frame)["expected"]
    status = decode_real_info(frame)
    assert status.voltage == expected["voltage"]
    assert status.current == expected["current"]
    assert status.soc == expected["battery_level"]
    assert status.remaining == expected["cycle_charge"]
    assert list(status.cell_voltages) == expected["cell_voltages"]
    assert list(status.temperatures) == expected["temp_values"]
    assert status.protection_code == expected["problem_code"]


def test_the_vectors_beyond_what_the_sources_state() -> None:
    assert decode_real_info(IDLE).full == 300.0
    assert decode_real_info(BANK).full == 350.0
    # The module, not the bank: Batt holds 54.1 V and 197.7 A.
    assert decode_real_info(BANK).current == 64.7


def test_basic_info_and_the_date_reply() -> None:
    info = decode_basic_info(BASIC)
    assert (info.version, info.serial_number) == ("2.06", "100011002424470238")
    assert parse(DATE)["dateTime"] == "20210101010459"
    assert [is_real_info(f) for f in FRAMES] == [True, True, False, False]
    assert [is_basic_info(f) for f in FRAMES] == [False, False, True, False]


def test_requests_are_the_sources() -> None:
    # patman15/aiobmsble felicity_bms.py: _CMD_PRE + _CMD_RT / _CMD_BI.
    assert REAL_INFO == b"wifilocalMonitor:get dev real infor"
    assert BASIC_INFO == b"wifilocalMonitor:get dev basice infor"


@pytest.mark.parametrize(
    "raw",
    [
        # patman15/aiobmsble test_invalid_response: version 2 is refused.
        b'{"CommVer":2,"wifiSN":"F100011002424470238"}',
        b'{"wifiSN":"F100011002424470238"}',
        b'{"CommVer":true}',
        b'{"CommVer":1.0}',
        b"[1]",
        b"",
        b'{"CommVer":1,"x":NaN}',
        b'{"CommVer":1,"x":"\xff"}',
        IDLE[:-1],
    ],
    ids=["v2", "no-version", "bool", "float", "list", "empty", "nan", "8bit", "cut"],
)
def test_parse_refuses(raw: bytes) -> None:
    with pytest.raises(FrameError):
        parse(raw)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"BMaxMin":[[3297,3296]', b'"BMaxMin":[[3298,3296]'),
        (b'"BMaxMin":[[3297,3296]', b'"BMaxMin":[[3297,3295]'),
        (b'"BMaxMin":[[3297,3296],', b'"BMaxMin":[[3297],'),
        (b"[[3296,3296,3297", b"[[3296,65535,3297"),  # an unused slot between
        (b"[[3296,3296,3297", b"[[65535,3296,3297"),
        (b"[[3296,3296,3297", b"[[3296,3296.0,3297"),
        (b"[[3296,3296,3297", b'[[3296,"3296",3297'),
        (b"[[3296,3296,3297", b"[[3296,3296,3296,3297"),  # 17 slots
        (b'"BattList":[[52750,', b'"BattList":[[null,'),
        (b'"BattList":[[52750,65535],[-1,-1]]', b'"BattList":[[52750,65535]]'),
        (b'"BatsocList":[[3300,', b'"BatsocList":[[10001,'),
        (b'"BatsocList":[[3300,', b'"BatsocList":[[-1,'),
        (b'1000,300000]],"BatcelList', b'1000,0]],"BatcelList'),
        (b'"Bfault":0', b'"Bfault":-1'),
        (b'"Bwarn":0', b'"Bwarn":null'),
        (b'"BtemList":[[130,', b'"BtemList":[["130",'),
        (b'"BtemList":[[130,', b'"BtemList":[130,[130,'),
    ],
    ids=[
        "max",
        "min",
        "extremes-short",
        "slot-between",
        "first-unused",
        "float-cell",
        "string-cell",
        "17-slots",
        "null-voltage",
        "no-current",
        "soc-over",
        "soc-negative",
        "no-capacity",
        "fault-negative",
        "warning-null",
        "string-probe",
        "probe-row",
    ],
)
def test_decode_refuses_a_reply_that_disagrees(old: bytes, new: bytes) -> None:
    with pytest.raises(FrameError):
        decode_real_info(edited(IDLE, old, new))


def test_decode_refuses_replies_that_are_no_real_info() -> None:
    for frame in (BASIC, DATE):
        with pytest.raises(FrameError):
            decode_real_info(frame)


def test_an_eight_cell_pack_padded_with_32767() -> None:
    # felicity-cyd docs/protocol.md: an 8S pack fills 8 slots, pads 8 with 32767.
    sim = demo("A8:17:10:00:00:01")
    sim.pack.cell_voltages = [3.3, 3.301, 3.302, 3.303, 3.304, 3.305, 3.306, 3.307]
    sim.pack.temperatures = [-5.5, 21.0]
    frame = sim.real_info()
    assert b"3307,32767," in frame
    status = decode_real_info(frame)
    assert status.cell_voltages == tuple(sim.pack.cell_voltages)
    assert status.temperatures == (-5.5, 21.0)


def test_fault_and_warning_words_are_the_code() -> None:
    frame = edited(IDLE, b'"Bfault":0,"Bwarn":0', b'"Bfault":1,"Bwarn":10')
    assert decode_real_info(frame).protection_code == 1 << 32 | 10


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [b"{", b"{{", b'{"', b"}", b"\x00\xff", b'{"CommVer":1', b"AT\r\n", b"[]"]


def test_a_cut_reply_never_hides_the_next() -> None:
    frames, errors = feed_all([IDLE[:300], BANK])
    assert frames == [BANK]
    assert errors
    assert feed_all([IDLE[:300], BANK[:400], BANK[400:]])[0] == [BANK]


def test_a_corrupt_reply_is_reported_and_the_next_taken() -> None:
    bad = IDLE[:-2] + bytes((IDLE[-2] ^ 0x5A,)) + IDLE[-1:]
    frames, errors = feed_all([bad + BANK])
    assert frames == [BANK]
    assert any(isinstance(e, FrameError) for e in errors)
    wrong_version = edited(IDLE, b'"CommVer":1', b'"CommVer":2')
    frames, errors = feed_all([wrong_version, BASIC])
    assert (frames, len(errors)) == ([BASIC], 1)


def test_an_object_that_never_closes_is_dropped() -> None:
    frames, _errors = feed_all([b'{"a":"' + b"x" * MAX_FRAME, IDLE])
    assert frames == [IDLE]


def test_an_object_whose_braces_never_balance_is_dropped() -> None:
    reassembler = FelicityReassembler()
    frames, _errors = reassembler.feed(b'{{"a":1}' + b" " * MAX_FRAME)
    assert frames == []
    assert not reassembler.waiting
    assert reassembler.feed(IDLE) == ([IDLE], [])


def test_braces_inside_strings_are_not_counted() -> None:
    frame = b'{"CommVer":1,"note":"}{\\"}","M1SwVer":1}'
    assert feed_all([frame[:9], frame[9:]]) == ([frame], [])
    # An escape cut between two notifications.
    cut = frame.index(b"\\") + 1
    assert feed_all([frame[:cut], frame[cut:]]) == ([frame], [])


@pytest.mark.parametrize(
    "bad",
    [b'{"CommVer":1,"a":"x\x01', b'{"CommVer":1,"a":"x\t"', b'{"CommVer":1,\x80'],
    ids=["control-in-string", "tab-in-string", "8bit"],
)
def test_a_byte_no_reply_holds_ends_the_candidate(bad: bytes) -> None:
    frames, errors = feed_all([bad + IDLE])
    assert frames == [IDLE]
    assert errors


# Other families' frames this one's stream must refuse (test_reassembly_contract).
FOREIGN = {
    # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply.
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
    # A Redodo status request (00 00 04 01 13 55 AA 17).
    "redodo": bytes.fromhex("000004011355aa17"),
    # Our own request echoed.
    "request": REAL_INFO,
}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_decoders_raise_only_protocol_errors(raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_real_info(raw)
    with contextlib.suppress(ProtocolError):
        decode_basic_info(raw)


def test_aiobmsble_reads_the_same_values() -> None:
    """A second decoder on the vectors and on the simulator's replies.

    Runs where aiobmsble is installed (the bleak 3 environment). aiobmsble
    reads voltage and current from ``Batt``, the bank's: on the idle capture
    that is 52.8 V beside the module's 52.75 V, so only the rest is compared.
    """
    felicity_bms = pytest.importorskip("aiobmsble.bms.felicity_bms")
    reference = felicity_bms.BMS
    sim = demo("A8:17:10:00:00:01")
    for frame in [*REAL, sim.real_info()]:
        message = json.loads(frame)
        theirs = reference._conv_data(message)
        ours = decode_real_info(frame)
        assert theirs["battery_level"] == ours.soc
        assert theirs["cycle_charge"] == ours.remaining
        assert tuple(reference._conv_cells(message)) == ours.cell_voltages
        assert tuple(float(t) for t in reference._conv_temp(message)) == (
            ours.temperatures
        )


def test_forged_replies_are_well_formed_and_refused() -> None:
    """The soak's forgery rule: random integers, the same keys and length."""
    forgery = pytest.importorskip("bench.ha.forgery")
    rng = random.Random(16)
    sim = demo("A8:17:10:00:00:01")
    for frame in [*REAL, sim.real_info()]:
        for _ in range(300):
            forged = forgery.forge(frame, rng)
            assert forged is not None
            assert len(forged) == len(frame)
            assert parse(forged).keys() == parse(frame).keys()
            with pytest.raises(FrameError):
                decode_real_info(forged)
