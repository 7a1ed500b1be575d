"""Buknuwo: the captured vectors, the layout's bounds, reassembly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bms_simulator.families.buknuwo import demo
from custom_components.lithium_bms.protocol.buknuwo.frames import (
    decode_mosfet_probe,
    decode_probes,
    decode_status,
    mosfet_probe_request,
    probes_request,
    status_request,
)
from custom_components.lithium_bms.protocol.buknuwo.stream import BuknuwoReassembler
from custom_components.lithium_bms.protocol.codecs import modbus
from custom_components.lithium_bms.protocol.errors import ChecksumError, FrameError

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "buknuwo_vectors.json").read_text()
)


def vector(kind: str) -> dict[str, Any]:
    return next(v for v in VECTORS if v["kind"] == kind)


def frame(kind: str) -> bytes:
    return bytes.fromhex(vector(kind)["hex"])


STATUS = frame("status")
MOSFET_PROBE = frame("mosfet_probe")
PROBES = frame("probes")


def data(reply: bytes) -> bytes:
    return modbus.parse_response(reply).data


def edited(reply: bytes, **registers: int) -> bytes:
    """A captured reply with some registers replaced, CRC redone (our edit)."""
    body = bytearray(data(reply))
    for name, value in registers.items():
        offset = 2 * int(name.removeprefix("r"))
        body[offset : offset + 2] = (value & 0xFFFF).to_bytes(2, "big")
    return modbus.with_crc(reply[:3] + bytes(body))


def test_every_vector_is_sourced() -> None:
    for v in VECTORS:
        for key in ("name", "hex", "source", "note", "expected"):
            assert v[key], (key, v)


def test_the_requests_are_built_as_the_source_builds_them() -> None:
    requests = [v for v in VECTORS if v["kind"] == "request"]
    built = [status_request(), mosfet_probe_request(), probes_request()]
    assert [r.hex() for r in built] == [v["hex"] for v in requests]
    for v in requests:
        request = modbus.parse_request(bytes.fromhex(v["hex"]))
        expected = v["expected"]
        assert (request.address, request.function) == (
            expected["device"],
            expected["function"],
        )
        assert (request.start, request.count) == (expected["start"], expected["count"])


def test_the_status_vector_decodes_exactly() -> None:
    expected = vector("status")["expected"]
    status = decode_status(data(STATUS))
    values = status.values
    assert values["current"] == expected["current_A"]
    assert values["voltage"] == expected["voltage_V"]
    assert values["state_of_charge"] == expected["soc_pct"]
    assert values["state_of_health"] == expected["soh_pct"]
    assert values["remaining_capacity"] == expected["remaining_Ah"]
    assert values["full_capacity"] == expected["full_Ah"]
    assert values["design_capacity"] == expected["design_Ah"]
    assert values["cycles"] == expected["cycles"]
    assert status.charge_mosfet is expected["charge_mosfet"]
    assert status.discharge_mosfet is expected["discharge_mosfet"]
    assert status.problem_code == expected["problem_code"]


def test_the_probe_vectors_decode_exactly() -> None:
    assert (
        decode_mosfet_probe(data(MOSFET_PROBE))
        == vector("mosfet_probe")["expected"]["mosfet_C"]
    )
    assert (
        list(decode_probes(data(PROBES)))
        == vector("probes")["expected"]["cell_temperature_C"]
    )


def test_negative_current_and_probes_our_edits() -> None:
    status = decode_status(data(edited(STATUS, r0=-8584)))
    assert status.values["current"] == -85.84
    assert decode_mosfet_probe(data(edited(MOSFET_PROBE, r0=-35))) == -3.5
    probes = decode_probes(data(edited(PROBES, r0=3, r1=-105, r2=0, r3=452)))
    assert probes == (-10.5, 0.0, 45.2)


@pytest.mark.parametrize(
    ("r11", "charge", "discharge"),
    [(0x0400, True, False), (0x0800, False, True), (0x007F, False, False)],
)
def test_the_mosfet_bits(r11: int, charge: bool, discharge: bool) -> None:
    status = decode_status(data(edited(STATUS, r9=0, r10=0, r11=r11)))
    assert (status.charge_mosfet, status.discharge_mosfet) == (charge, discharge)


def test_the_problem_mask_is_the_sources() -> None:
    # Bits aiobmsble masks off: no problem; the MOSFET byte is no problem.
    quiet = decode_status(data(edited(STATUS, r9=0x00C0, r10=0x0080, r11=0x2D80)))
    assert quiet.problem_code == 0
    loud = decode_status(data(edited(STATUS, r9=0x0100, r10=0x0001, r11=0x0001)))
    assert loud.problem_code == 0x0100_0001_0001


def test_a_probe_count_beyond_the_block_is_refused() -> None:
    with pytest.raises(FrameError):
        decode_probes(data(edited(PROBES, r0=11)))


def test_blocks_of_another_size_are_refused() -> None:
    with pytest.raises(FrameError):
        decode_status(bytes(24))
    with pytest.raises(FrameError):
        decode_mosfet_probe(bytes(4))
    with pytest.raises(FrameError):
        decode_probes(bytes(20))


@pytest.mark.parametrize("split", range(1, 32))
def test_reassembly_split_anywhere(split: int) -> None:
    stream = STATUS + MOSFET_PROBE + PROBES
    reassembler = BuknuwoReassembler()
    found: list[bytes] = []
    for start in range(0, len(stream), split):
        found += reassembler.feed(stream[start : start + split])[0]
    assert found == [STATUS, MOSFET_PROBE, PROBES]


def test_foreign_frames_and_a_wrong_checksum() -> None:
    foreign = modbus.with_crc(bytes((0x02, 0x03, 0x02, 0x00, 0x01)))
    bad = bytearray(STATUS)
    bad[-1] ^= 0xFF
    frames, errors = BuknuwoReassembler().feed(
        b"\xff" + foreign + bytes(bad) + STATUS + PROBES
    )
    assert frames == [STATUS, PROBES]
    assert any(isinstance(e, ChecksumError) for e in errors)


def test_a_truncated_reply_never_hides_the_next() -> None:
    reassembler = BuknuwoReassembler()
    assert reassembler.feed(STATUS[:20])[0] == []
    assert reassembler.feed(MOSFET_PROBE)[0] == [MOSFET_PROBE]


def test_the_simulator_encodes_the_capture_layout() -> None:
    """The demo pack reproduces the captured registers (its own encoder)."""
    sim = demo("B4:69:00:00:00:01")
    sim.status_words = (0x0004, 0x8000, 0x0000)
    regs = sim.registers()
    status = data(STATUS)
    for register in (0, 2, 3, 6, 7, 9, 10):
        assert regs[register] == int.from_bytes(
            status[2 * register : 2 * register + 2], "big"
        ), register
    assert regs[11] & 0x0C00 == 0x0C00
    assert regs[0x39] == int.from_bytes(data(MOSFET_PROBE), "big")
    probes = data(PROBES)
    assert regs[0x2E : 0x2E + 11] == [
        int.from_bytes(probes[i : i + 2], "big") for i in range(0, 22, 2)
    ]
