"""Seplos V2 over Bluetooth: the captured binary frames, AT noise, reassembly."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from bms_simulator.families.seplos import V2_ALARM_BITS, SeplosV3Pack, demo_pack
from bms_simulator.families.seplos_v2_ble import AT_NAME, ble_demo
from custom_components.lithium_bms.protocol.errors import ChecksumError, FrameError
from custom_components.lithium_bms.protocol.seplos import v2ble, v3
from custom_components.lithium_bms.protocol.seplos.stream import (
    SeplosBleProbe,
    SeplosV2BleReassembler,
)
from custom_components.lithium_bms.protocol.snapshot import Alarm

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "seplos_v2_ble_vectors.json").read_text()
)
ERRORS = {"FrameError": FrameError, "ChecksumError": ChecksumError}


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [v for v in VECTORS if v["kind"] == kind]


def frame(v: dict[str, Any]) -> bytes:
    return bytes.fromhex(v["hex"])


def ids(found: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in found]


def feed(data: bytes, step: int | None = None) -> tuple[list[bytes], list[Any]]:
    reassembler = SeplosV2BleReassembler()
    step = step or len(data) or 1
    frames: list[bytes] = []
    errors: list[Any] = []
    for start in range(0, len(data), step):
        found, failed = reassembler.feed(data[start : start + step])
        frames += found
        errors += failed
    return frames, errors


SINGLES = of_kind("single")
LONGEST = max(SINGLES, key=lambda v: len(v["hex"]))


def request(command: int, info: bytes = b"") -> bytes:
    return v2ble.build_request(command, info)


@pytest.mark.parametrize("v", of_kind("request"), ids=ids(of_kind("request")))
def test_requests_are_built_as_captured(v: dict[str, Any]) -> None:
    expected = v["expected"]
    assert request(expected["command"], bytes.fromhex(expected["info"])) == frame(v)


@pytest.mark.parametrize("v", SINGLES, ids=ids(SINGLES))
def test_single_machine_vectors_decode_exactly(v: dict[str, Any]) -> None:
    assert feed(frame(v)) == ([frame(v)], [])
    single = v2ble.decode_single(v2ble.reply_info(frame(v)))
    m, status, expected = single.measurement, single.status, v["expected"]
    assert list(m.cell_voltages) == expected["cell_V"]
    assert list(m.cell_temperatures) == expected["cell_temperature_C"]
    for key, value in (
        ("voltage_V", m.voltage),
        ("current_A", m.current),
        ("remaining_Ah", m.remaining_capacity),
        ("full_Ah", m.full_capacity),
        ("design_Ah", m.design_capacity),
        ("soc_pct", m.state_of_charge),
        ("soh_pct", m.state_of_health),
        ("cycles", m.cycles),
        ("ambient_C", m.ambient_temperature),
        ("mosfet_C", m.mosfet_temperature),
    ):
        if key in expected:
            assert value == expected[key], key
    assert sorted(status.balancing_cells) == expected["balancing_cells"]
    assert status.charge_fet is expected["charge_mosfet"]
    assert status.discharge_fet is expected["discharge_mosfet"]
    assert sorted(status.alarms) == expected["alarms"]
    assert m.reported_cell_count == len(expected["cell_V"])


@pytest.mark.parametrize("v", of_kind("info"), ids=ids(of_kind("info")))
def test_manufacturer_vectors_name_hardware_and_software(v: dict[str, Any]) -> None:
    info = v2ble.decode_info(v2ble.reply_info(frame(v)))
    assert (info.hardware, info.software) == (
        v["expected"]["hardware"],
        v["expected"]["software"],
    )


@pytest.mark.parametrize("v", of_kind("refused"), ids=ids(of_kind("refused")))
def test_refused_vectors_never_give_a_value(v: dict[str, Any]) -> None:
    frames, errors = feed(frame(v))
    expected = v["expected"]["error"]
    if expected == "none":  # not even a candidate: a request's version
        assert (frames, errors) == ([], [])
        return
    if not frames:
        assert any(isinstance(e, ERRORS[expected]) for e in errors)
        return
    with pytest.raises(ERRORS[expected]):
        decode(frames[0])


def decode(reply: bytes) -> object:
    """The reply's decoded INFO, by its command."""
    info = v2ble.reply_info(reply)
    if reply[3] == v2ble.SINGLE:
        return v2ble.decode_single(info)
    return v2ble.decode_info(info)


def test_captured_at_text_costs_one_reply_only() -> None:
    v = of_kind("stream")[0]
    chunks = [bytes.fromhex(c) for c in v["chunks"]]
    reassembler = SeplosV2BleReassembler()
    frames: list[bytes] = []
    for chunk in chunks:
        frames += reassembler.feed(chunk)[0]
    assert frames == [b"".join(chunks[4:])]
    assert v2ble.decode_single(v2ble.reply_info(frames[0])).measurement.current
    assert len(frames) == v["expected"]["frames"]


@pytest.mark.parametrize(
    "noise", [AT_NAME, b"AT\r\n", b"OK\r\n", b"T+NAME=BP00\r\n", b"+NAME=BP21\r\n"]
)
@pytest.mark.parametrize("at", [0, 1, 7, 20, 57, 115])
def test_at_text_between_notifications_is_cut_out(noise: bytes, at: int) -> None:
    good = frame(LONGEST)
    reassembler = SeplosV2BleReassembler()
    frames = reassembler.feed(good[:at])[0]
    frames += reassembler.feed(noise)[0]
    frames += reassembler.feed(good[at:])[0]
    assert frames == [good]


def test_the_simulator_writes_at_text_and_the_reply_survives() -> None:
    sim = ble_demo("60:6E:41:00:00:01")
    sim.at_noise = True
    sent: list[bytes] = []
    sim.send = sent.append  # type: ignore[method-assign,assignment]
    sim.handle_write(0x14, request(v2ble.SINGLE, b"\x00"))
    assert AT_NAME in sent[0]
    chunks = [sent[0][i : i + 20] for i in range(0, len(sent[0]), 20)]
    reassembler = SeplosV2BleReassembler()
    frames = [f for c in chunks for f in reassembler.feed(c)[0]]
    assert len(frames) == 1
    assert AT_NAME not in frames[0]
    v2ble.decode_single(v2ble.reply_info(frames[0]))


@pytest.mark.parametrize("split", range(1, len(LONGEST["hex"]) // 2 + 1))
def test_reassembly_split_at_every_byte(split: int) -> None:
    good = frame(LONGEST)
    assert feed(good, split) == ([good], [])
    glued = b"".join(frame(v) for v in SINGLES)
    assert feed(glued, split)[0] == [frame(v) for v in SINGLES]


def test_a_refused_candidate_never_hides_the_next() -> None:
    good = frame(LONGEST)
    bad = bytearray(good)
    bad[50] ^= 0x40
    for prefix in (bytes(bad), good[:60], b"\x7e\x14\x00\x61\x00\x00\x6a", b"\x7e"):
        frames, _ = feed(b"\x00garbage" + prefix + good + b"\x0d\x0a")
        assert frames == [good], prefix[:8]
    frames, errors = feed(bytes(bad) + good)
    assert frames == [good]
    assert any(isinstance(e, ChecksumError) for e in errors)


def test_a_cut_reply_waits_no_longer_than_the_next_complete_one() -> None:
    short = frame(of_kind("info")[0])
    reassembler = SeplosV2BleReassembler()
    assert reassembler.feed(frame(LONGEST)[:90])[0] == []
    frames, errors = reassembler.feed(short)
    assert frames == [short]
    assert errors


def test_fuzz_damage_and_noise_never_publish_a_wrong_frame() -> None:
    rng = random.Random(14)
    good = [frame(v) for v in (*SINGLES, *of_kind("info"))]
    for _ in range(300):
        stream = bytearray()
        for _ in range(4):
            piece = bytearray(rng.choice(good))
            if rng.random() < 0.3:
                piece[rng.randrange(len(piece))] ^= 1 << rng.randrange(8)
            if rng.random() < 0.2:
                del piece[rng.randrange(len(piece)) :]
            stream += piece + rng.randbytes(rng.randrange(4))
        step = rng.randrange(1, 40)
        frames, _ = feed(bytes(stream), step)
        assert all(f in good for f in frames)


def test_a_bad_length_or_version_is_no_start() -> None:
    assert v2ble.frame_length(b"\x7e\x10\x00\x46\x61\x00\x01") == 0
    assert v2ble.frame_length(b"\x7e\x14\x00\x61\x00\x01\x00") == 0  # 256 bytes
    assert v2ble.frame_length(b"\x7e\x14\x00") is None
    assert v2ble.frame_length(b"\x7e") is None


def test_the_probe_reassembler_finds_both_forms() -> None:
    v3_reply = SeplosV3Pack(0x01, demo_pack(1)).answer(v3.BLE_PIA.request(0x01))
    assert v3_reply is not None
    good = frame(LONGEST)
    probe = SeplosBleProbe(0x01)
    for step in (1, 7, 20):
        frames: list[bytes] = []
        for data in (good, v3_reply):
            for start in range(0, len(data), step):
                frames += probe.feed(data[start : start + step])[0]
        assert frames == [good, v3_reply]
    probe.feed(good[:30])
    probe.reset()
    assert probe.feed(good[30:])[0] == []


@pytest.mark.parametrize("name", sorted(V2_ALARM_BITS))
def test_each_alarm_bit_maps_to_its_key(name: str) -> None:
    sim = ble_demo("60:6E:41:00:00:01")
    sim.pack.alarms = {name}
    info = sim.single()
    single = v2ble.decode_single(info)
    assert single.status.alarms == {Alarm(name)}
    assert single.status.protection_code


def test_an_event_count_below_eight_is_refused() -> None:
    info = bytearray(ble_demo("60:6E:41:00:00:01").single())
    count_at = len(info) - 8 - 2 * 2 - 1
    assert info[count_at] == 8
    info[count_at] = 7
    with pytest.raises(FrameError):
        v2ble.decode_single(bytes(info))
