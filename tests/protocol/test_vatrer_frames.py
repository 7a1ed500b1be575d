"""Vatrer and C4S100: the captured vectors, the limits, reassembly under damage."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from bms_simulator.families.vatrer import demo
from custom_components.lithium_bms.protocol.codecs import modbus
from custom_components.lithium_bms.protocol.errors import ChecksumError, FrameError
from custom_components.lithium_bms.protocol.vatrer import frames
from custom_components.lithium_bms.protocol.vatrer.stream import VatrerReassembler

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "vatrer_vectors.json").read_text()
)


def of_kind(kind: str) -> dict[str, Any]:
    (found,) = [v for v in VECTORS if v["kind"] == kind]
    return found


def data(v: dict[str, Any]) -> bytes:
    return modbus.parse_response(bytes.fromhex(v["hex"])).data


FRAMES = [bytes.fromhex(v["hex"]) for v in VECTORS]
# Bytes before and between replies: noise, a head cut short, a broken CRC.
GARBAGE = [
    b"\x00\xffnoise",
    FRAMES[0][:9],
    FRAMES[0][:6] + bytes((FRAMES[0][6] ^ 0x40,)) + FRAMES[0][7:],
]
FOREIGN = {
    # Another slave's reply: a Modbus read of slave 1.
    "slave 1": bytes.fromhex("0103020001 79 84".replace(" ", "")),
    # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply.
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
    # The pack's own status request, echoed.
    "request": frames.STATUS.request,
}


def test_the_requests_are_the_reference_bytes() -> None:
    assert frames.STATUS.request.hex() == "02030000001445f6"
    assert frames.PROBES.request.hex() == "020300340012843a"
    assert frames.CELLS.request.hex() == "02030015001f15f5"
    assert frames.TABLE.request.hex() == "020300000046c40b"


def test_every_vector_is_a_valid_reply_of_slave_2() -> None:
    assert {v["variant"] for v in VECTORS} == set(frames.VARIANTS)
    for v in VECTORS:
        reply = modbus.parse_response(bytes.fromhex(v["hex"]))
        assert (reply.address, reply.function) == (2, 3), v["name"]


@pytest.mark.parametrize("kind", ["status", "table"])
def test_status_registers_decode_exactly(kind: str) -> None:
    v = of_kind(kind)
    block = frames.TABLE if kind == "table" else frames.STATUS
    status = frames.decode_status(data(v), block)
    expected = v["expected"]
    assert status.voltage == expected["voltage"]
    assert status.current == expected["current"]
    assert status.soc == expected["battery_level"]
    assert status.remaining == expected["cycle_charge"]
    assert status.cycles == expected["cycles"]
    assert status.soh == expected["battery_health"]
    if "design_capacity" in expected:
        assert status.design == expected["design_capacity"]


@pytest.mark.parametrize("kind", ["cells", "table"])
def test_cells_decode_exactly(kind: str) -> None:
    v = of_kind(kind)
    block = frames.TABLE if kind == "table" else frames.CELLS
    cells = frames.decode_cells(data(v), block)
    assert cells.reported == v["expected"]["cell_count"]
    assert list(cells.voltages) == v["expected"]["cell_voltages"]


def test_the_vatrer_probe_block_decodes_exactly() -> None:
    v = of_kind("probes")
    probes = frames.decode_probes(data(v))
    expected = v["expected"]
    assert len(probes.temperatures) == expected["temp_sensors"] + 1
    assert list(probes.temperatures) == expected["temperatures"]
    assert probes.mosfet == expected["mosfet_temperature"]
    assert probes.charge_fet is expected["chrg_mosfet"]
    assert probes.discharge_fet is expected["dischrg_mosfet"]
    assert probes.balancing is expected["balancer"]
    assert (probes.problem_code != 0) is expected["problem"]


def test_the_c4s_probes_decode_exactly() -> None:
    expected = of_kind("table")["expected"]
    assert frames.decode_c4s_probes(data(of_kind("table"))) == (
        expected["mosfet_temperature"],
        expected["ambient_temperature"],
    )


@pytest.mark.parametrize(("at", "bit"), [(14, 0x80), (28, 0x01)])
def test_the_first_and_last_problem_bits(at: int, bit: int) -> None:
    # aiobmsble's problem test sets these two bits of the probe capture.
    flagged = bytearray(data(of_kind("probes")))
    flagged[at] |= bit
    probes = frames.decode_probes(bytes(flagged))
    assert probes.problem_code != 0
    assert (probes.charge_fet, probes.discharge_fet) == (True, True)


def test_the_mosfet_bits_and_the_balancer() -> None:
    block = bytearray(data(of_kind("probes")))
    block[frames.FET_BYTE] = frames.DISCHARGE_FET
    block[35] = 0x04
    probes = frames.decode_probes(bytes(block))
    assert (probes.charge_fet, probes.discharge_fet) == (False, True)
    assert probes.balancing is True


def test_negative_probes_are_signed() -> None:
    block = bytearray(data(of_kind("probes")))
    block[2:4] = (-12).to_bytes(2, "big", signed=True)
    block[12:14] = (-3).to_bytes(2, "big", signed=True)
    probes = frames.decode_probes(bytes(block))
    assert probes.temperatures[0] == -12.0
    assert probes.mosfet == -3.0


def test_short_blocks_and_impossible_counts_are_refused() -> None:
    with pytest.raises(FrameError):
        frames.decode_status(data(of_kind("status"))[:-2])
    with pytest.raises(FrameError):
        frames.decode_cells(data(of_kind("table")))  # a table is no cell block
    cells = bytearray(data(of_kind("cells")))
    cells[1] = 31
    with pytest.raises(FrameError):
        frames.decode_cells(bytes(cells))
    probes = bytearray(data(of_kind("probes")))
    probes[1] = 5  # 5 + 2 probes would reach the problem registers
    with pytest.raises(FrameError):
        frames.decode_probes(bytes(probes))


def test_each_reply_tells_its_block_by_its_size() -> None:
    sizes = [b.size for b in (frames.STATUS, frames.PROBES, frames.CELLS)]
    assert len({*sizes, frames.TABLE.size}) == 4


def test_the_simulator_encodes_what_the_capture_decodes() -> None:
    sim = demo("AA:BB:CC:00:00:01")
    reply = sim.answer(frames.PROBES.request)
    assert reply is not None
    assert frames.decode_probes(modbus.parse_response(reply).data) == (
        frames.decode_probes(data(of_kind("probes")))
    )


@pytest.mark.parametrize("split", [1, 2, 3, 5, 7, 19, 64])
def test_reassembly_split_anywhere_and_glued(split: int) -> None:
    stream = b"".join(FRAMES)
    reassembler = VatrerReassembler()
    found: list[bytes] = []
    for start in range(0, len(stream), split):
        found += reassembler.feed(stream[start : start + split])[0]
    assert found == FRAMES


def test_garbage_and_a_refused_candidate_never_hide_the_next_frame() -> None:
    good = FRAMES[0]
    bad = bytearray(good)
    bad[6] ^= 0x40
    foreign = bytearray(good)
    foreign[0] = 0x01  # another slave's reply
    found, errors = VatrerReassembler().feed(
        b"\x00\xffnoise" + good[:9] + bytes(bad) + bytes(foreign) + good
    )
    assert found == [good]
    assert any(isinstance(e, ChecksumError) for e in errors)


def test_fuzz_damage_never_publishes_a_frame_that_was_not_sent() -> None:
    rng = random.Random(62)
    stream = b"".join(FRAMES)
    sent = set(FRAMES)
    for _ in range(300):
        damaged = bytearray(stream)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        reassembler = VatrerReassembler()
        found, _ = reassembler.feed(bytes(damaged))
        assert set(found) <= sent
        reassembler.reset()
        assert reassembler.feed(stream)[0] == FRAMES
