"""Seplos V2 and V3: the captured vectors, the alarm tables, reassembly."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from bms_simulator.families.seplos import (
    V2_ALARM_BITS,
    V3_ALARM_BITS,
    SeplosV2Pack,
    SeplosV3Pack,
    demo_pack,
    v3_master_polls,
)
from custom_components.lithium_bms.protocol.codecs import modbus
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.seplos import v2, v3
from custom_components.lithium_bms.protocol.seplos.frames import SeplosMeasurement
from custom_components.lithium_bms.protocol.seplos.stream import (
    HeardExchanges,
    SeplosV2Reassembler,
    SeplosV3Reassembler,
    split_exchange,
)
from custom_components.lithium_bms.protocol.snapshot import Alarm

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "seplos_vectors.json").read_text()
)


def vector(name: str) -> dict[str, Any]:
    return next(v for v in VECTORS if v["name"] == name)


def of_kind(protocol: str, kind: str) -> list[dict[str, Any]]:
    return [v for v in VECTORS if v["protocol"] == protocol and v["kind"] == kind]


def frame(v: dict[str, Any]) -> bytes:
    return bytes.fromhex(v["hex"])


def ids(found: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in found]


def assert_measurement(m: SeplosMeasurement, expected: dict[str, Any]) -> None:
    for key, attribute in (
        ("cell_V", "cell_voltages"),
        ("cell_temperature_C", "cell_temperatures"),
    ):
        if key in expected:
            assert list(getattr(m, attribute)) == expected[key]
    for key, attribute in (
        ("ambient_C", "ambient_temperature"),
        ("mosfet_C", "mosfet_temperature"),
        ("current_A", "current"),
        ("voltage_V", "voltage"),
        ("residual_Ah", "remaining_capacity"),
        ("battery_capacity_Ah", "full_capacity"),
        ("rated_Ah", "design_capacity"),
        ("soc_pct", "state_of_charge"),
        ("soh_pct", "state_of_health"),
        ("cycles", "cycles"),
    ):
        if key in expected:
            assert getattr(m, attribute) == expected[key], key


@pytest.mark.parametrize(
    "v", of_kind("seplos_v2", "request"), ids=ids(of_kind("seplos_v2", "request"))
)
def test_v2_requests_are_built_as_captured(v: dict[str, Any]) -> None:
    expected = v["expected"]
    assert v2.build_request(expected["adr"], expected["cid2"]) == frame(v)


def test_v2_telemetry_vector_decodes_exactly() -> None:
    v = vector("V2 telemetry reply, 16S discharging")
    assert v2.is_reply(frame(v))
    measurement = v2.decode_telemetry(v2.reply_info(frame(v)))
    assert_measurement(measurement, v["expected"])
    assert measurement.reported_cell_count == 16


def test_v2_telesignal_vector_decodes_exactly() -> None:
    v = vector("V2 telesignalisation reply, 15S, no alarm")
    info = v2.reply_info(frame(v))
    assert info[2] == v["expected"]["cells"]
    status = v2.decode_telesignal(info)
    assert sorted(status.alarms) == v["expected"]["alarms"]
    assert status.discharge_fet is v["expected"]["discharge_fet"]
    assert status.charge_fet is v["expected"]["charge_fet"]
    assert sorted(status.balancing_cells) == v["expected"]["balancing_cells"]
    assert status.protection_code == 0


@pytest.mark.parametrize(
    "v", of_kind("seplos_v2", "vendor"), ids=ids(of_kind("seplos_v2", "vendor"))
)
def test_v2_vendor_vectors_name_the_model(v: dict[str, Any]) -> None:
    assert v2.decode_vendor(v2.reply_info(frame(v))).name == v["expected"]["name"]


def test_v2_a_request_is_no_reply_and_a_refusal_is_typed() -> None:
    assert not v2.is_reply(v2.build_request(1, v2.TELEMETRY))
    refusal = SeplosV2Pack(1, demo_pack(1)).answer(v2.build_request(1, 0x4F))
    assert refusal is not None
    with pytest.raises(UnsupportedError):
        v2.reply_info(refusal)


def test_v2_a_short_info_is_refused() -> None:
    v = vector("V2 telemetry reply, 16S discharging")
    with pytest.raises(FrameError, match="too early"):
        v2.decode_telemetry(v2.reply_info(frame(v))[:40])


def test_v3_requests_are_built_as_captured() -> None:
    assert v3.VIA.request(0) == frame(vector("V3 VIA request, address 0"))


def test_v3_via_vector_decodes_the_model() -> None:
    v = vector("V3 VIA reply, SG16S200A-SP57B-A")
    data = modbus.parse_response(frame(v)).data
    info = v3.decode_version(data, "Seplos")
    assert info.model == v["expected"]["model"]
    assert data[:20].decode() == v["expected"]["factory"]


def test_v3_pia_and_pib_vectors_decode_exactly() -> None:
    pia = modbus.parse_response(frame(vector("V3 PIA reply, pack 1 discharging")))
    pib = modbus.parse_response(frame(vector("V3 PIB reply, pack 1")))
    measurement = v3.decode_measurement(pia.registers, pib.registers)
    assert_measurement(
        measurement, vector("V3 PIA reply, pack 1 discharging")["expected"]
    )
    assert_measurement(measurement, vector("V3 PIB reply, pack 1")["expected"])


def test_v3_pic_vector_decodes() -> None:
    v = vector("V3 PIC reply, pack 1")
    reply = modbus.parse_response(frame(v))
    assert len(reply.data) == v["expected"]["byte_count"]
    status = v3.decode_status(reply.data)
    assert status.charge_fet
    assert status.discharge_fet
    assert not status.alarms
    assert not status.balancing_cells


def test_v3_a_captured_17_register_poll_pairs_with_its_reply() -> None:
    request = frame(vector("V3 PIA request 17 registers, pack 1"))
    reply = frame(vector("V3 PIA reply 17 registers, pack 1"))
    heard = HeardExchanges(1)
    exchanges, errors = heard.feed(request + reply)
    assert exchanges == [request + reply]
    assert not errors
    asked, answer = split_exchange(exchanges[0])
    assert v3.PIA.asked_by(asked)
    assert (
        len(answer.data)
        == vector("V3 PIA reply 17 registers, pack 1")["expected"]["byte_count"]
    )


@pytest.mark.parametrize("name", sorted(V2_ALARM_BITS))
def test_v2_each_alarm_bit_maps_to_its_key(name: str) -> None:
    pack = demo_pack(1)
    pack.alarms = {name}
    info = v2.reply_info(SeplosV2Pack(1, pack).answer(v2.build_request(1, 0x44)) or b"")
    status = v2.decode_telesignal(info)
    assert status.alarms == {Alarm(name)}
    assert Alarm(name) in v2.SUPPORTED_ALARMS


@pytest.mark.parametrize("name", sorted(V3_ALARM_BITS))
def test_v3_each_alarm_bit_maps_to_its_key(name: str) -> None:
    pack = demo_pack(2)
    pack.alarms = {name}
    reply = SeplosV3Pack(2, pack).answer(v3.PIC.request(2))
    status = v3.decode_status(modbus.parse_response(reply or b"").data)
    assert status.alarms == {Alarm(name)}
    assert Alarm(name) in v3.SUPPORTED_ALARMS


def test_v3_balancing_and_fets_come_from_pic() -> None:
    pack = demo_pack(1)
    pack.balancing_cells = {1, 9, 16}
    pack.charge_enabled = False
    reply = SeplosV3Pack(1, pack).answer(v3.PIC.request(1))
    status = v3.decode_status(modbus.parse_response(reply or b"").data)
    assert status.balancing_cells == {1, 9, 16}
    assert not status.charge_fet
    assert status.discharge_fet


def v2_frames() -> list[bytes]:
    packs = [SeplosV2Pack(a, demo_pack(a)) for a in (1, 2)]
    return [
        reply
        for pack in packs
        for command in (v2.TELEMETRY, v2.TELESIGNAL, v2.VENDOR)
        if (reply := pack.answer(v2.build_request(pack.address, command)))
    ]


@pytest.mark.parametrize("split", range(1, 40))
def test_v2_reassembly_split_anywhere_keeps_only_our_address(split: int) -> None:
    stream = b"".join(v2_frames())
    ours = [f for f in v2_frames() if f[3:5] == b"02"]
    reassembler = SeplosV2Reassembler(2)
    found: list[bytes] = []
    for start in range(0, len(stream), split):
        found += reassembler.feed(stream[start : start + split])[0]
    assert found == ours


def test_v2_a_corrupted_frame_never_hides_the_next() -> None:
    good = v2_frames()[3]  # pack 2 telemetry
    bad = bytearray(good)
    bad[40] = ord("0") if bad[40] != ord("0") else ord("1")
    frames, errors = SeplosV2Reassembler(2).feed(
        b"\x00noise" + good[:30] + bytes(bad) + good
    )
    assert frames == [good]
    assert any(isinstance(e, ChecksumError) for e in errors)


def v3_cycle(addresses: tuple[int, ...]) -> tuple[bytes, dict[int, list[bytes]]]:
    packs = {a: SeplosV3Pack(a, demo_pack(a)) for a in addresses}
    stream = b""
    exchanges: dict[int, list[bytes]] = {a: [] for a in addresses}
    for request in v3_master_polls(addresses):
        reply = packs[request[0]].answer(request) or b""
        stream += request + reply
        exchanges[request[0]].append(request + reply)
    return stream, exchanges


@pytest.mark.parametrize("address", [1, 2, 3])
def test_v3_listening_pairs_only_our_exchanges_split_anywhere(address: int) -> None:
    stream, exchanges = v3_cycle((1, 2, 3))
    for split in (1, 2, 3, 5, 7, 8, 13, 64):
        heard = HeardExchanges(address)
        found: list[bytes] = []
        for start in range(0, len(stream), split):
            found += heard.feed(stream[start : start + split])[0]
        assert found == exchanges[address]
        assert all(f[0] == address and f[8] == address for f in found)


def test_v3_listening_fuzz_noise_and_damage_never_publish_bad_data() -> None:
    rng = random.Random(7)
    stream, exchanges = v3_cycle((1, 2, 3))
    for _ in range(200):
        damaged = bytearray(stream)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        heard = HeardExchanges(2)
        found, _ = heard.feed(bytes(damaged))
        found += heard.feed(stream)[0]  # the next clean cycle is found whole
        for exchange in found:
            request, reply = split_exchange(exchange)
            assert request.answered_by(reply)
            assert exchange in exchanges[2]
        assert found[-3:] == exchanges[2]


def test_v3_a_reply_without_its_request_is_dropped() -> None:
    _, exchanges = v3_cycle((1,))
    first = exchanges[1][0]
    found, _ = HeardExchanges(1).feed(first[8:] + first)
    assert found == [first]


def test_v3_master_replies_only_from_our_address() -> None:
    _stream, exchanges = v3_cycle((1, 2))
    replies = b"".join(e[8:] for e in exchanges[1] + exchanges[2])
    frames, _ = SeplosV3Reassembler(2).feed(replies)
    assert frames == [e[8:] for e in exchanges[2]]


def test_the_simulator_refuses_what_its_map_lacks() -> None:
    reply = SeplosV3Pack(1, demo_pack(1)).answer(
        modbus.read_request(1, 0x2100, 4, modbus.READ_INPUT)
    )
    parsed = modbus.parse_response(reply or b"")
    assert parsed.is_exception
    assert parsed.exception_code == 2


def test_the_modbus_listen_mode_finds_requests_and_replies() -> None:
    stream, exchanges = v3_cycle((1,))
    heard, errors = modbus.ModbusReassembler((1,), requests=True).feed(stream)
    assert heard == [part for e in exchanges[1] for part in (e[:8], e[8:])]
    assert not errors
    replies_only, _ = modbus.ModbusReassembler((1,)).feed(stream)
    assert replies_only == [e[8:] for e in exchanges[1]]
    request = exchanges[1][0][:8]
    assert modbus.parse_request(request) == modbus.ModbusRequest(1, 4, 0x1000, 0x12)
    with pytest.raises(ChecksumError):
        modbus.parse_request(request[:-1] + bytes((request[-1] ^ 1,)))
