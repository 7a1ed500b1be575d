"""Offgridtec frames: every vector, the key, the requests, reassembly."""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.ogt import OgtSimulator, demo, key_of, type_a_demo
from custom_components.lithium_bms.protocol.errors import FrameError, ProtocolError
from custom_components.lithium_bms.protocol.ogt.frames import (
    ERROR,
    TYPE_A,
    TYPE_B,
    Register,
    check_frame,
    decode_value,
    is_reply,
    pack_from_name,
    request,
    scaled,
    scramble_table,
)
from custom_components.lithium_bms.protocol.ogt.stream import OgtReassembler

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "ogt_vectors.json").read_text()
)
REAL = [v for v in VECTORS if "BMS_BLE-HA" in v["source"]]
KEY_A = 0x15  # SmartBat-A42491
PLAIN = [b"+RD,0259\r\n", b"+RD,0478440A\r\n", b"+RD,08EC33\r\n", ERROR]
WIRE = [frame.translate(scramble_table(KEY_A)) for frame in PLAIN]


def plain(vector: dict[str, Any]) -> bytes:
    """The line a vector carries, descrambled with its pack's key."""
    pack = pack_from_name(vector["device"])
    assert pack is not None
    line = bytes.fromhex(vector["hex"]).translate(scramble_table(pack.key))
    return ERROR if line.startswith(ERROR) else line


# Every vector's line as the reassembler publishes it, descrambled.
FRAMES = [*dict.fromkeys(plain(vector) for vector in VECTORS)]
# Descrambled bytes before and between lines: heads cut short, line ends.
GARBAGE = [b"+", b"+RD,", b"+RD,08", b"\r\n", b"x" * 20]
# Received bytes (scrambled) that must yield nothing to a pack of KEY_A.
FOREIGN = {
    # The lines of a pack with another key.
    **{
        f"key 0x10 {line[4:6].decode()}": line.translate(scramble_table(0x10))
        for line in PLAIN
    },
    # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply.
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
    # A Modbus read.
    "modbus": bytes.fromhex("010302000179 84".replace(" ", "")),
}


def feed_all(
    chunks: list[bytes], key: int = KEY_A
) -> tuple[list[bytes], list[ProtocolError]]:
    reassembler = OgtReassembler(key)
    frames: list[bytes] = []
    errors: list[ProtocolError] = []
    for chunk in chunks:
        got, errs = reassembler.feed(chunk)
        frames += got
        errors += errs
    return frames, errors


def register(vector: dict[str, Any]) -> Register | None:
    variant = TYPE_A if vector["device"][9] == "A" else TYPE_B
    number = vector["expected"].get("register")
    return next((r for r in variant.registers if r.number == number), None)


def test_every_vector_names_its_source() -> None:
    assert len(REAL) == 7
    for vector in VECTORS:
        assert vector["source"]
        assert vector["expected"]
        assert vector["note"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    pack = pack_from_name(vector["device"])
    assert pack is not None
    frames, errors = feed_all([bytes.fromhex(vector["hex"])], pack.key)
    assert len(frames) == 1
    assert not errors
    expected = vector["expected"]
    value = decode_value(frames[0])
    if expected.get("error"):
        assert frames == [ERROR]
        assert value is None
        return
    assert value is not None
    assert frames[0][4:6] == f"{expected['register']:02X}".encode()
    if "raw" in expected:
        assert value == expected["raw"]
    if "cell" in expected:
        assert round(value * 0.001, 3) == expected["cell"]
        return
    found = register(vector)
    targets = [k for k in expected if k not in {"register", "raw"}]
    if found is None:  # the runtime: read by no driver table
        assert not targets
        return
    assert targets == [found.target]
    assert is_reply(frames[0], found.number)
    assert scaled(found, value) == expected[found.target]


@pytest.mark.parametrize(
    ("name", "key", "letter"),
    [
        ("SmartBat-A42491", 0x15, "A"),  # the real log
        ("SmartBat-A12345", 0x10, "A"),  # aiobmsble's test names
        ("SmartBat-B12294", 0x10, "B"),
        ("SmartBat-B15051", 0x19, "B"),  # the advertisement record
    ],
)
def test_the_key_and_type_come_from_the_name(name: str, key: int, letter: str) -> None:
    pack = pack_from_name(name)
    assert pack is not None
    assert (pack.key, pack.variant.letter, pack.number) == (key, letter, name[10:])
    assert key_of(name) == key


@pytest.mark.parametrize(
    "name",
    [None, "", "SmartBat-C12294", "SmartBat-A", "SmartBat-B12x4", "XSmartBat-A1"],
)
def test_other_names_give_no_pack(name: str | None) -> None:
    assert pack_from_name(name) is None


def test_the_requests_of_the_log_and_the_test() -> None:
    # BMS_BLE-HA #2: "+RAA0201" sent as b">GTT%'%$" (key 0x15).
    assert request(TYPE_A, 0x02, 1) == b"+RAA0201"
    assert request(TYPE_A, 0x02, 1).translate(scramble_table(0x15)) == b">GTT%'%$"
    assert request(TYPE_A, 0x10, 3) == b"+RAA1003"
    # aiobmsble's test checks the scrambled heads (key 0x10).
    table = scramble_table(0x10)
    assert request(TYPE_A, 0x08, 2).translate(table)[:4] == b"\x3b\x42\x51\x51"
    assert request(TYPE_B, 0x3F, 2).translate(table)[:4] == b"\x3b\x42\x21\x26"


def test_three_byte_values_are_a_signed_word_times_a_byte() -> None:
    assert decode_value(b"+RD,108BFF00\r\n") == -117  # multiplier 0 counts as 1
    assert decode_value(b"+RD,0A7B000A\r\n") == 1230
    assert decode_value(b"+RD,04FFFF02\r\n") == -2
    assert decode_value(b"+RD,09FFFF\r\n") == 0xFFFF  # two bytes: unsigned


def test_is_reply_wants_the_register() -> None:
    assert is_reply(b"+RD,08EC33\r\n", 0x08)
    assert not is_reply(b"+RD,08EC33\r\n", 0x09)
    assert is_reply(ERROR, 0x3B)


# aiobmsble 0.31.0 tests/bms/test_ogt_bms.py wrong_response, descrambled
# (key 0x10), and the other ways a line can be wrong.
@pytest.mark.parametrize(
    "frame",
    [
        b"+RD,0A1\r\n",  # odd_length
        b"+RD,#BE>C\r\n",  # invalid_character
        b"+RD,0259",  # wrong_EOP
        b"+QD,0259\r\n",  # wrong_SOP
        b"+RD,02\r\n",  # no value
        b"+RD,0201020304\r\n",  # four bytes
        b"+RD,0259\n",
        b"",
    ],
)
def test_check_frame_refuses(frame: bytes) -> None:
    with pytest.raises(FrameError):
        check_frame(frame)


def test_wrong_responses_of_aiobmsble_yield_no_frame() -> None:
    for raw in (
        bytes(7),  # critical_length
        b";AT< )'!R\"\x1d\x1a",  # wrong_SOP
        b";BT< )'!R\"",  # wrong_EOP (waits: no end yet)
        b";BT<#RUN S\x1d\x1a",  # invalid_character
        b"invalid\xf0value",
        b";BT< Q!\x1d\x1a",  # odd_length
    ):
        assert feed_all([raw], 0x10)[0] == [], raw


def test_a_reply_to_another_register_is_no_answer() -> None:
    # aiobmsble's wrong_reg: a cell reply (register 0x3F) to the temperature.
    frames, _ = feed_all([b";BT<UQ S\x1d\x1a"], 0x10)
    assert frames == [b"+RD,EA0C\r\n"]
    assert not is_reply(frames[0], 0x08)


def test_the_error_reply_ends_after_err() -> None:
    wire = b"+RD,Erro\x00".translate(scramble_table(0x10)) + WIRE[0].translate(
        scramble_table(0x10 ^ KEY_A)
    )
    assert feed_all([wire], 0x10) == ([ERROR, PLAIN[0]], [])


def test_another_key_yields_nothing() -> None:
    assert feed_all(WIRE, 0x10)[0] == []


@pytest.mark.parametrize(
    "sim", [demo("C8:47:8C:00:00:01"), type_a_demo("C8:47:8C:00:00:02")]
)
def test_the_simulator_replies_decode_to_its_pack(sim: OgtSimulator) -> None:
    pack = pack_from_name(sim.advertising.name)
    assert pack is not None
    sim.pack.current = -3.5
    truth = {
        "voltage": round(sim.pack.voltage, 3),
        "current": -3.5,
        "soc": 50,
        "remaining": 50.0,
        "design": 100.0,
        "cycles": sim.pack.cycles,
        "temperature": sim.carried_temperature(sim.pack.temperatures[0]),
    }
    for reg in pack.variant.registers:
        reply = sim.reply(reg.number, reg.size)
        assert is_reply(reply, reg.number)
        check_frame(reply)
        value = decode_value(reply)
        assert value is not None
        assert scaled(reg, value) == truth[reg.target], reg
    cells = [sim.reply(n, 2) for n in pack.variant.cells]
    values = [decode_value(c[:7] if c.startswith(ERROR) else c) for c in cells]
    assert [v / 1000 for v in values if v is not None] == (
        sim.pack.cell_voltages if pack.variant.cells else []
    )


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_decoders_raise_only_protocol_errors(raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        check_frame(raw)
        decode_value(raw)


def test_aiobmsble_reads_the_same_values() -> None:
    """A second decoder on every vector and on the simulator's replies.

    Runs where aiobmsble is installed (the bleak 3 environment).
    """
    ogt_bms = pytest.importorskip("aiobmsble.bms.ogt_bms")
    wires = [(v["device"], bytes.fromhex(v["hex"])) for v in VECTORS]
    for sim in (demo("C8:47:8C:00:00:01"), type_a_demo("C8:47:8C:00:00:02")):
        pack = pack_from_name(sim.advertising.name)
        assert pack is not None
        asked = [(r.number, r.size) for r in pack.variant.registers] + [(0x3F, 2)]
        asked.append((0x18 if sim.kind == "A" else 0x12, 2))  # the runtime
        wires += [
            (sim.advertising.name, sim.scramble(sim.reply(number, size)))
            for number, size in asked
        ]
    for name, wire in wires:
        pack = pack_from_name(name)
        assert pack is not None
        # Its decoder on its own: an instance would open a Bluetooth client.
        bms = SimpleNamespace(_key=pack.key, _log=logging.getLogger(__name__))
        theirs = ogt_bms.BMS._ogt_response(bms, bytearray(wire))
        frames, _ = feed_all([wire], pack.key)
        value = decode_value(frames[0])
        if value is None:  # type A's cell request, and the Err vector
            assert theirs.reg == 0
        else:
            assert theirs.reg == int(frames[0][4:6], 16)
            assert theirs.value == value
