"""Pylontech RT: the captured vectors, the block decoders, reassembly."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from bms_simulator.families.pylontech import PylontechRt, demo_pack
from custom_components.lithium_bms.protocol.codecs import modbus
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.pylontech import frames
from custom_components.lithium_bms.protocol.pylontech.stream import (
    PylontechReassembler,
)

from .streams import feed_chunks

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "pylontech_vectors.json").read_text()
)


def vector(kind: str) -> dict[str, Any]:
    return next(v for v in VECTORS if v["kind"] == kind)


def frame(kind: str) -> bytes:
    return bytes.fromhex(vector(kind)["hex"])


MAIN = frame("main")
SERIAL = frame("serial")


def test_every_vector_is_sourced_and_crc_checked() -> None:
    for v in VECTORS:
        assert v["source"], v["name"]
        assert v["note"], v["name"]
        assert v["expected"], v["name"]
        assert modbus.crc_ok(bytes.fromhex(v["hex"])), v["name"]


def test_the_main_block_decodes_exactly() -> None:
    expected = vector("main")["expected"]
    reply = modbus.parse_response(MAIN)
    rt = frames.decode_main(reply.data)
    assert rt == frames.RtReading(
        voltage=expected["voltage_V"],
        current=expected["current_A"],
        temperature_max=expected["temperature_max_C"],
        temperature_min=expected["temperature_min_C"],
        state_of_charge=expected["soc_pct"],
        state_of_health=expected["soh_pct"],
        design_capacity=expected["design_capacity_Ah"],
    )
    # The registers without a snapshot field read as the source states.
    registers = reply.registers
    assert registers[2:4] == (3312, 3311)  # cell max and min, mV
    assert registers[8] == expected["power_W"]
    assert registers[10] / 10 == expected["lifetime_energy_kWh"]
    assert registers[11] / 10 == expected["allowed_current_A"]


def test_the_serial_decodes_exactly() -> None:
    data = modbus.parse_response(SERIAL).data
    assert frames.decode_serial(data) == vector("serial")["expected"]["serial_number"]
    assert frames.decode_serial(bytes(16)) is None
    assert frames.decode_serial(b"RT1\x00" + bytes(12)) == "RT1"


def test_the_requests_are_the_readers_own() -> None:
    requests = [v for v in VECTORS if v["kind"] == "request"]
    assert [bytes.fromhex(v["hex"]) for v in requests] == [
        frames.MAIN_REQUEST,
        frames.SERIAL_REQUEST,
    ]
    for v in requests:
        request = modbus.parse_request(bytes.fromhex(v["hex"]))
        expected = v["expected"]
        assert (request.address, request.function) == (
            expected["device"],
            expected["function"],
        )
        assert (request.start, request.count) == (expected["start"], expected["count"])


def test_negative_temperatures_and_charging_current() -> None:
    data = bytearray(modbus.parse_response(MAIN).data)
    data[2:4] = (125).to_bytes(2, "big")  # +12.5 A: charging
    data[8:10] = (-20).to_bytes(2, "big", signed=True)
    data[10:12] = (-35).to_bytes(2, "big", signed=True)
    rt = frames.decode_main(bytes(data))
    assert (rt.current, rt.temperature_max, rt.temperature_min) == (12.5, -2.0, -3.5)


@pytest.mark.parametrize(
    ("offset", "low", "high"),
    [(4, 3311, 3312), (8, 140, 150)],
    ids=["cells", "temperatures"],
)
def test_a_minimum_above_its_maximum_is_refused(
    offset: int, low: int, high: int
) -> None:
    data = bytearray(modbus.parse_response(MAIN).data)
    data[offset : offset + 2] = low.to_bytes(2, "big")
    data[offset + 2 : offset + 4] = high.to_bytes(2, "big")
    with pytest.raises(FrameError, match="above"):
        frames.decode_main(bytes(data))


@pytest.mark.parametrize("size", [0, 24, 28])
def test_a_block_of_another_size_is_refused(size: int) -> None:
    with pytest.raises(FrameError):
        frames.decode_main(bytes(size))
    with pytest.raises(FrameError):
        frames.decode_serial(bytes(size))


def test_the_simulator_encodes_as_the_capture_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The simulator's main block, for the captured pack, is the captured frame."""
    pack = demo_pack()
    pack.cell_voltages = [3.312, 3.311, 3.311, 3.311]  # 13.245 V: 1324
    pack.temperatures = [15.0, 15.0]
    pack.current = -4.8
    sent: list[bytes] = []
    sim = PylontechRt("A4:C1:38:00:00:01", "RT12100-710003", pack)
    monkeypatch.setattr(sim, "send", sent.append)
    sim.handle_write(0x14, frames.MAIN_REQUEST)
    assert sent == [MAIN]


# Reassembly -------------------------------------------------------------


def feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    return feed_chunks(PylontechReassembler(), chunks)


@pytest.mark.parametrize("reply", [MAIN, SERIAL], ids=["main", "serial"])
def test_split_at_every_byte(reply: bytes) -> None:
    for cut in range(1, len(reply)):
        assert feed_all([reply[:cut], reply[cut:]]) == ([reply], [])


def test_one_byte_at_a_time_and_glued() -> None:
    stream = MAIN + SERIAL + MAIN
    found, errors = feed_all([bytes((b,)) for b in stream])
    assert (found, errors) == ([MAIN, SERIAL, MAIN], [])
    assert feed_all([stream]) == ([MAIN, SERIAL, MAIN], [])


def test_garbage_and_foreign_frames_between() -> None:
    foreign = bytes.fromhex("0203020000") + modbus.with_crc(b"\x01\x04\x02\x00\x01")
    found, _ = feed_all([b"\xff\x00\x01" + MAIN + foreign + b"\x01\x03" + SERIAL])
    assert found == [MAIN, SERIAL]


def test_a_wrong_crc_is_refused_and_never_hides_the_next_frame() -> None:
    bad = MAIN[:-1] + bytes(((MAIN[-1] ^ 0x55),))
    found, errors = feed_all([bad + SERIAL])
    assert found == [SERIAL]
    assert any(isinstance(e, ChecksumError) for e in errors)


def test_a_truncated_reply_before_a_whole_one_is_dropped() -> None:
    found, _ = feed_all([MAIN[:12], MAIN])
    assert found == [MAIN]


def test_an_exception_reply_is_a_frame() -> None:
    refused = modbus.with_crc(b"\x01\x83\x02")
    assert feed_all([refused + MAIN]) == ([refused, MAIN], [])


def test_fuzz_never_yields_a_wrong_frame() -> None:
    rng = random.Random(14)
    for _ in range(300):
        noise = [bytes(rng.randrange(256) for _ in range(rng.randrange(8)))]
        parts = [rng.choice([MAIN, SERIAL]) for _ in range(3)]
        stream = b"".join(p + rng.choice(noise) for p in parts)
        cuts = sorted(rng.sample(range(1, len(stream)), 5))
        chunks = [
            stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)
        ]
        found, _ = feed_all(chunks)
        assert found == parts


def test_the_simulator_refuses_what_a_module_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[bytes] = []
    sim = PylontechRt("A4:C1:38:00:00:01", "RT12100-710003", demo_pack())
    monkeypatch.setattr(sim, "send", sent.append)
    sim.handle_write(0x14, frames.MAIN_REQUEST[:-1] + b"\x00")  # wrong CRC
    sim.handle_write(0x14, modbus.read_request(2, 0x1016, 13))  # other device
    assert sent == []
    sim.handle_write(0x14, modbus.read_request(1, 0x1016, 13, modbus.READ_INPUT))
    sim.handle_write(0x14, modbus.read_request(1, 0x1016, 12))
    assert [modbus.parse_response(f).exception_code for f in sent] == [1, 2]
