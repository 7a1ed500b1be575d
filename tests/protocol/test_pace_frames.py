"""PACE frames: the captured vectors decode exactly; bad bytes are never published."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.pace import wired_demo
from custom_components.lithium_bms.protocol.codecs import ydt1363
from custom_components.lithium_bms.protocol.errors import FrameError
from custom_components.lithium_bms.protocol.pace.frames import (
    Command,
    decode_analog,
    decode_status,
    decode_text,
    is_reply,
    mosfet_request,
    pack_request,
    request,
)
from custom_components.lithium_bms.protocol.pace.stream import PaceReassembler
from custom_components.lithium_bms.protocol.snapshot import SwitchKind, TemperatureKind

VECTORS = json.loads((Path(__file__).parent / "data" / "pace_vectors.json").read_text())


def vectors(kind: str) -> list[Any]:
    return [pytest.param(v, id=v["name"]) for v in VECTORS if v["kind"] == kind]


def frame_of(vector: dict[str, Any]) -> ydt1363.Ydt1363Frame:
    raw = bytes.fromhex(vector["hex"])
    assert raw.decode().rstrip("\r") == vector["ascii"]
    frame = ydt1363.parse_frame(raw)
    assert frame.adr == vector["expected"]["adr"]
    assert is_reply(raw)
    return frame


@pytest.mark.parametrize("vector", vectors("analog"))
def test_analog_vectors_decode_exactly(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    analog = decode_analog(frame_of(vector).info)
    assert analog.pack == expected["pack"]
    assert analog.cells == tuple(mv / 1000 for mv in expected["cells_mV"])
    assert analog.temperatures == tuple(expected["temps_C"])
    assert analog.current == expected["current_A"]
    assert analog.voltage == expected["voltage_V"]
    assert analog.remaining_capacity == expected["remaining_Ah"]
    assert analog.full_capacity == expected["full_Ah"]
    assert analog.cycles == expected["cycles"]
    assert analog.design_capacity == expected["design_Ah"]
    if "soh_pct" in expected:
        assert analog.state_of_health == expected["soh_pct"]
    kinds = [p.kind for p in analog.probes()]
    assert kinds == [TemperatureKind.CELL] * 4 + [
        TemperatureKind.MOSFET,
        TemperatureKind.AMBIENT,
    ]


def test_the_first_analog_vector_states_soc_as_nkinnan_computes_it() -> None:
    analog = decode_analog(frame_of(VECTORS[0]).info)
    assert analog.state_of_charge == 46.6  # nkinnan: 46.5783882 %


@pytest.mark.parametrize("vector", vectors("status"))
def test_status_vectors_decode_exactly(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    status = decode_status(frame_of(vector).info)
    assert status.pack == expected["pack"]
    assert len(status.cell_warnings) == expected["cells"]
    assert len(status.temperature_warnings) == expected["probes"]
    assert not any(status.cell_warnings + status.temperature_warnings)
    assert [a.value for a in status.alarms] == expected["alarms"]
    assert status.charge_mosfet
    assert status.discharge_mosfet
    assert status.balancing_cells == frozenset()


@pytest.mark.parametrize("vector", vectors("text"))
def test_text_vectors_decode_exactly(vector: dict[str, Any]) -> None:
    assert decode_text(frame_of(vector).info) == vector["expected"]["text"]


@pytest.mark.parametrize("vector", vectors("mosfet"))
def test_mosfet_replies_carry_rtn_and_the_instruction_state(
    vector: dict[str, Any],
) -> None:
    expected = vector["expected"]
    frame = frame_of(vector)
    assert frame.cid2 == expected["rtn"]
    assert frame.info == bytes((expected["instruction"],))


def test_requests_are_the_captured_ones() -> None:
    # nkinnan pace_bms_protocol_v25.cpp and syssi pbmstools-communication.md.
    assert pack_request(1, Command.ANALOG) == b"~25014642E00201FD30\r"
    assert pack_request(1, Command.STATUS) == b"~25014644E00201FD2E\r"
    assert request(1, Command.SOFTWARE_VERSION) == b"~250146C10000FD9A\r"
    assert request(1, Command.PRODUCT_INFO) == b"~250146C20000FD99\r"
    assert mosfet_request(0, SwitchKind.CHARGE, True) == b"~2500469AE00200FD1E\r"
    assert mosfet_request(0, SwitchKind.CHARGE, False) == b"~2500469AE00201FD1D\r"
    assert mosfet_request(0, SwitchKind.DISCHARGE, True) == b"~2500469BE00200FD1D\r"
    assert mosfet_request(0, SwitchKind.DISCHARGE, False) == b"~2500469BE00201FD1C\r"


def test_a_request_or_another_protocol_is_no_reply() -> None:
    assert not is_reply(pack_request(1, Command.ANALOG))
    other = ydt1363.build_frame(0x20, 1, 0x46, 0x00, b"\x00")  # EG4 / Pylon VER
    assert not is_reply(other)


def test_the_system_frame_of_two_packs_is_pack_count_two() -> None:
    # The answer to ~25FF4644E002FFFCD8 (SaschaKP, nkinnan/esphome-pace-bms
    # issue #30): two packs glued, its second byte is the pack count.
    raw = (
        b"~25014600F09800021002020202020202000202020202020202060000000000000002"
        b"000000060000000005000810020202000200020202020202020202020600000000000000"
        b"020000800648000000050000E087\r"
    )
    status = decode_status(ydt1363.parse_frame(raw).info)
    assert status.pack == 2  # never pack 1's own reply
    assert status.cell_warnings[0] == 0x02


def test_protections_faults_and_balancing_map_to_alarms() -> None:
    responder = wired_demo(3)
    responder.pack.alarms = {"cell_overvoltage", "short_circuit", "mosfet_fault"}
    responder.pack.alarms |= {"discharge_undertemperature", "soc_low"}
    responder.pack.balancing_cells = {1, 9, 16}
    status = decode_status(responder.status())
    assert {a.value for a in status.alarms} == responder.pack.alarms
    assert status.balancing_cells == frozenset({1, 9, 16})
    assert not status.charge_mosfet  # a charge protection holds it off
    assert not status.discharge_mosfet


@pytest.mark.parametrize("cut", [0, 1, 3, 20, 40])
def test_a_short_info_is_a_frame_error(cut: int) -> None:
    info = frame_of(VECTORS[0]).info
    with pytest.raises(FrameError, match="too short"):
        decode_analog(info[:cut])
    status = frame_of(VECTORS[1]).info
    with pytest.raises(FrameError, match="too short"):
        decode_status(status[: min(cut, 30)])


REPLY = bytes.fromhex(VECTORS[0]["hex"])
FOREIGN = bytes.fromhex(VECTORS[3]["hex"])  # ADR 2


def test_split_at_every_byte_still_gives_the_frame() -> None:
    for cut in range(1, len(REPLY)):
        reassembler = PaceReassembler(1)
        first, _ = reassembler.feed(REPLY[:cut])
        second, _ = reassembler.feed(REPLY[cut:])
        assert first + second == [REPLY]


def test_another_address_is_never_published() -> None:
    reassembler = PaceReassembler(1)
    frames, _ = reassembler.feed(FOREIGN + REPLY + FOREIGN)
    assert frames == [REPLY]


@settings(max_examples=200, deadline=None)
@given(
    noise=st.binary(max_size=40),
    flip=st.integers(min_value=1, max_value=len(REPLY) - 2),
    chunk=st.integers(min_value=1, max_value=64),
)
def test_garbage_and_a_damaged_frame_never_hide_the_next_one(
    noise: bytes, flip: int, chunk: int
) -> None:
    damaged = bytearray(REPLY)
    damaged[flip] = ord("0") if damaged[flip] != ord("0") else ord("1")
    stream = noise + bytes(damaged) + noise + REPLY[: len(REPLY) // 2] + REPLY
    reassembler = PaceReassembler(1)
    frames: list[bytes] = []
    for start in range(0, len(stream), chunk):
        frames += reassembler.feed(stream[start : start + chunk])[0]
    # Noise may hold a whole valid frame of this address (a request, say): the
    # driver's matcher keeps the replies only.
    assert [frame for frame in frames if is_reply(frame)] == [REPLY]
