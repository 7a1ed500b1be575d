"""Gobel Power: the captured vectors, the layout's bounds, reassembly."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bms_simulator.families.gobel import demo
from custom_components.lithium_bms.protocol.codecs import modbus
from custom_components.lithium_bms.protocol.errors import ChecksumError, FrameError
from custom_components.lithium_bms.protocol.gobel.frames import (
    STATUS_BYTES,
    decode_info,
    decode_status,
    info_request,
    status_request,
)
from custom_components.lithium_bms.protocol.gobel.stream import GobelReassembler
from custom_components.lithium_bms.protocol.snapshot import TemperatureKind

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "gobel_vectors.json").read_text()
)


def vector(kind: str) -> dict[str, Any]:
    return next(v for v in VECTORS if v["kind"] == kind)


def frame(kind: str) -> bytes:
    return bytes.fromhex(vector(kind)["hex"])


STATUS = frame("status")
INFO = frame("info")


def status_with(**registers: int) -> bytes:
    """The captured status reply with some registers replaced, CRC redone."""
    data = bytearray(STATUS[3:-2])
    for name, value in registers.items():
        offset = 2 * int(name.removeprefix("r"))
        data[offset : offset + 2] = (value & 0xFFFF).to_bytes(2, "big")
    return modbus.with_crc(STATUS[:3] + bytes(data))


def test_every_vector_is_sourced() -> None:
    for v in VECTORS:
        for key in ("name", "hex", "source", "note", "expected"):
            assert v[key], (key, v)


def test_the_requests_are_built_as_the_source_builds_them() -> None:
    requests = [v for v in VECTORS if v["kind"] == "request"]
    assert [status_request().hex(), info_request().hex()] == [
        v["hex"] for v in requests
    ]
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
    snap = decode_status(modbus.parse_response(STATUS).data).snapshot()
    assert snap.current == expected["current_A"]
    assert snap.voltage == expected["voltage_V"]
    assert snap.state_of_charge == expected["soc_pct"]
    assert snap.state_of_health == expected["soh_pct"]
    assert snap.remaining_capacity == expected["remaining_Ah"]
    assert snap.full_capacity == expected["full_Ah"]
    assert snap.design_capacity == expected["design_Ah"]
    assert snap.cycles == expected["cycles"]
    assert snap.cell_voltages == tuple(expected["cell_V"])
    assert snap.reported_cell_count == len(expected["cell_V"])
    assert [t.value for t in snap.probe_temperatures] == expected["cell_temperature_C"]
    assert {t.kind for t in snap.probe_temperatures} == {TemperatureKind.CELL}
    assert snap.mosfet_temperature == expected["mosfet_C"]
    assert snap.charge_mosfet is expected["charge_mosfet"]
    assert snap.discharge_mosfet is expected["discharge_mosfet"]
    assert snap.protection_code == expected["status_code"]
    assert snap.alarms == frozenset()
    assert snap.balancing is None
    assert snap.heater is None


def test_the_info_vector_decodes_exactly() -> None:
    expected = vector("info")["expected"]
    info = decode_info(modbus.parse_response(INFO).data, "Gobel Power")
    assert info.sw_version == expected["sw_version"]
    assert info.serial_number == expected["serial_number"]
    assert info.model == expected["model"]


def test_signed_current_and_temperatures_and_status_words() -> None:
    raw = status_with(r0=-1250, r8=0x0001, r9=0x0002, r10=0x0003, r47=-55, r57=-3)
    snap = decode_status(modbus.parse_response(raw).data).snapshot()
    assert snap.current == -12.5
    assert [t.value for t in snap.temperatures] == [-5.5, -0.3]
    assert snap.protection_code == 0x000100020003
    # No public bit table, so no named alarm; a word that is not zero flags one.
    assert snap.problem is True


def test_the_mosfet_bits_and_a_missing_mosfet_probe() -> None:
    raw = status_with(r14=0x4000, r57=0xFFFF)
    snap = decode_status(modbus.parse_response(raw).data).snapshot()
    assert (snap.charge_mosfet, snap.discharge_mosfet) == (True, False)
    assert snap.mosfet_temperature is None
    assert len(snap.temperatures) == 1


@pytest.mark.parametrize(
    "registers", [{"r15": 31}, {"r46": 11}, {"r15": 0x0120}], ids=str
)
def test_counts_beyond_the_layout_are_refused(registers: dict[str, int]) -> None:
    # 0x0120: only the low byte is the count, 32 cells.
    data = modbus.parse_response(status_with(**registers)).data
    with pytest.raises(FrameError):
        decode_status(data)


def test_blocks_of_another_size_are_refused() -> None:
    with pytest.raises(FrameError):
        decode_status(bytes(STATUS_BYTES - 2))
    with pytest.raises(FrameError):
        decode_info(bytes(40), "Gobel Power")


@pytest.mark.parametrize("split", range(1, 41))
def test_reassembly_split_anywhere(split: int) -> None:
    stream = STATUS + INFO + STATUS
    reassembler = GobelReassembler()
    found: list[bytes] = []
    for start in range(0, len(stream), split):
        found += reassembler.feed(stream[start : start + split])[0]
    assert found == [STATUS, INFO, STATUS]


def test_garbage_and_foreign_frames_between_replies() -> None:
    foreign = modbus.with_crc(bytes((0x02, 0x03, 0x02, 0x00, 0x01)))
    input_read = modbus.with_crc(bytes((0x01, 0x04, 0x02, 0x00, 0x01)))
    frames, _ = GobelReassembler().feed(
        b"\xff\xff" + STATUS + foreign + b"\x00\x01" + input_read + INFO
    )
    assert frames == [STATUS, INFO]


def test_a_wrong_checksum_is_an_error_and_never_hides_the_next() -> None:
    bad = bytearray(STATUS)
    bad[-1] ^= 0xFF
    frames, errors = GobelReassembler().feed(bytes(bad) + STATUS)
    assert frames == [STATUS]
    assert any(isinstance(e, ChecksumError) for e in errors)


def test_a_truncated_reply_never_hides_the_next() -> None:
    reassembler = GobelReassembler()
    frames, _ = reassembler.feed(STATUS[:50])
    assert frames == []
    frames, _ = reassembler.feed(INFO)
    assert frames == [INFO]


def test_an_exception_reply_is_a_frame() -> None:
    refusal = modbus.with_crc(bytes((0x01, 0x83, 0x02)))
    frames, _ = GobelReassembler().feed(refusal + STATUS)
    assert frames == [refusal, STATUS]
    assert modbus.parse_response(refusal).exception_code == 0x02


@given(
    cuts=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=40),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_fuzz_damage_never_publishes_bad_data(cuts: list[int], seed: int) -> None:
    """Random splits and bit flips: every frame out is a valid captured reply."""
    rng = random.Random(seed)
    good = STATUS + INFO
    damaged = bytearray(good)
    for _ in range(rng.randint(0, 3)):
        damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
    stream = bytes(damaged) + good
    reassembler = GobelReassembler()
    found: list[bytes] = []
    pos = 0
    for cut in cuts * (len(stream) // sum(cuts) + 1):
        found += reassembler.feed(stream[pos : pos + cut])[0]
        pos += cut
        if pos >= len(stream):
            break
    assert all(f in (STATUS, INFO) for f in found)
    assert found[-2:] == [STATUS, INFO]


def test_the_simulator_encodes_the_capture_layout() -> None:
    """The demo pack reproduces the captured pack's fields (own encoder)."""
    sim = demo("C0:00:00:00:00:01")
    sim.pack.current = 0.0
    payload = b"".join(
        (value & 0xFFFF).to_bytes(2, "big") for value in sim.status_registers()
    )
    captured = STATUS[3:-2]
    for register in (2, 3, 6, 7, 14, 15, 16, 17, 18, 19, 46, 47, 57, 58):
        offset = 2 * register
        assert payload[offset : offset + 2] == captured[offset : offset + 2], register
