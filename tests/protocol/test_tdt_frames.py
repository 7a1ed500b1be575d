"""TDT frames: every captured vector, the requests, CRCs, reassembly."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.tdt import demo
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.snapshot import Alarm
from custom_components.lithium_bms.protocol.tdt.frames import (
    ANALOG,
    PRODUCT,
    STATUS_1_BITS,
    STATUS_2_BITS,
    STATUS_5_BITS,
    SUPPORTED_ALARMS,
    WARNING,
    build_request,
    check_frame,
    data_point,
    decode_analog,
    decode_product,
    decode_warning,
)
from custom_components.lithium_bms.protocol.tdt.stream import TdtReassembler

from .streams import feed_chunks

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "tdt_vectors.json").read_text()
)
BY_NAME = {vector["name"]: bytes.fromhex(vector["hex"]) for vector in VECTORS}
ANALOG_4S = BY_NAME["analog 4S4T v0.0 idle"]
WARNING_4S = BY_NAME["warning 4S4T v0.0, address 0x41"]
WARNING_16S = BY_NAME["warning 16S6T v0.0"]
FRAMES = list(BY_NAME.values())
# patman15/aiobmsble tests/bms/test_tdt_bms.py @ b056733 (wrong_response and
# the unaligned 0x95 reply of _PROTO_DEFS['4S4Tv0.0']).
BAD = {
    "invalid frame end": "7e000103008c000100a11800",
    "invalid version": "7e100103008c000100ad190d",
    "invalid CRC": "7e000103008c000100a1000d",
    "oversized frame": "7e000103008c000100a1180d00",
    "undersized frame": "7e000103008c000100a10d",
}
INVALID_TYPE = bytes.fromhex("7e0001030092000100891e0d")
ERROR_RESPONSE = bytes.fromhex("7e000103018c00010061250d")
UNALIGNED = bytes.fromhex(
    "0e2c0003a1de060a03203d31007ddfc5a56f9b9aaf0e19150004001214007e0001060095"
    "000707e80b160e0708c9410d79f725"
)


def _crc(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def with_bytes(frame: bytes, offset: int, data: bytes) -> bytes:
    """``frame`` with ``data`` at ``offset`` and its CRC made to fit."""
    body = bytearray(frame[:-3])
    body[offset : offset + len(data)] = data
    return bytes(body) + _crc(bytes(body)).to_bytes(2, "big") + b"\x0d"


def feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    return feed_chunks(TdtReassembler(), chunks)


def test_every_vector_names_its_source_and_a_second_check() -> None:
    assert len(VECTORS) >= 10
    for vector in VECTORS:
        assert vector["source"]
        assert vector["expected"]
        assert "second" in vector["note"].lower()


def _temperatures(probes: tuple[float, ...]) -> list[list[Any]]:
    kinds = ["ambient", "mosfet"] + ["cell"] * len(probes)
    return [[kinds[i], value] for i, value in enumerate(probes)]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["hex"])
    check_frame(frame)
    expected = {**vector["expected"], **vector.get("also_decoded", {})}
    if data_point(frame) == ANALOG:
        analog = decode_analog(frame)
        assert analog.voltage == expected["voltage"]
        assert analog.current == expected["current"]
        assert analog.soc == expected["soc"]
        assert analog.remaining == expected["remaining_capacity"]
        assert analog.full == expected["full_capacity"]
        assert analog.design == expected["design_capacity"]
        assert analog.cycles == expected["cycles"]
        assert list(analog.cell_voltages) == expected["cell_voltages"]
        assert _temperatures(analog.probes) == expected["temperatures"]
        if "temperatures_at_2731" in expected:
            # The source's older 273.1 K: 0.1 °C below ours.
            shifted = [round(t - 0.1, 1) for t in analog.probes]
            assert shifted == expected["temperatures_at_2731"]
        assert analog.soh is None
    elif data_point(frame) == WARNING:
        warning = decode_warning(frame)
        assert warning.charge_enabled is expected.get("charge_mosfet", True)
        assert warning.discharge_enabled is expected.get("discharge_mosfet", True)
        assert warning.protection_code & 0xFFFF == expected["problem_code"]
        assert bool(warning.alarms) is expected.get("problem", False)
        assert warning.balancing_cells == frozenset()
    else:
        product = decode_product(frame)
        assert product.sw_version == expected["sw_version"]
        assert product.manufacturer == expected["manufacturer"]
        assert product.serial_number == expected["serial_number"]


def test_the_flagged_vectors_name_their_alarm() -> None:
    first = decode_warning(BY_NAME["warning first bit 4cell"])
    last = decode_warning(BY_NAME["warning last bit 16cell"])
    assert first.alarms == {Alarm.CHARGE_OVERTEMPERATURE}
    assert last.alarms == {Alarm.PACK_OVERVOLTAGE}


def test_the_requests() -> None:
    """``<head> 00 01 03 00 <dp> 00 00 <crc high first> 0D`` as both sources."""
    assert build_request(ANALOG).hex() == "7e000103008c000099420d"
    for command, head in itertools.product((ANALOG, WARNING, PRODUCT), (0x7E, 0x1E)):
        request = build_request(command, head)
        assert request[:8] == bytes((head, 0, 1, 3, 0, command, 0, 0))
        assert request[8:10] == _crc(request[:8]).to_bytes(2, "big")
        assert request[10] == 0x0D


@pytest.mark.parametrize("frame", FRAMES, ids=list(BY_NAME))
def test_any_flipped_byte_is_refused(frame: bytes) -> None:
    for index in range(len(frame)):
        broken = bytearray(frame)
        broken[index] ^= 0x01
        with pytest.raises((ChecksumError, FrameError)):
            check_frame(bytes(broken))


@pytest.mark.parametrize("name", sorted(BAD))
def test_the_other_decoders_bad_frames_are_refused(name: str) -> None:
    frames, _ = feed_all([bytes.fromhex(BAD[name])])
    # Only the oversized one holds a whole frame: one byte of data, no cells.
    assert len(frames) == (name == "oversized frame")
    for frame in frames:
        with pytest.raises(FrameError):
            decode_analog(frame)


def test_well_formed_but_wrong_replies_are_refused_by_the_decoders() -> None:
    # A product info of one byte, and a reply to data point 0x018C.
    assert feed_all([INVALID_TYPE])[0] == [INVALID_TYPE]
    with pytest.raises(FrameError):
        decode_product(INVALID_TYPE)
    assert feed_all([ERROR_RESPONSE])[0] == [ERROR_RESPONSE]
    with pytest.raises(FrameError):
        decode_analog(ERROR_RESPONSE)


def test_an_unaligned_foreign_reply_is_found_and_refused() -> None:
    frames, _ = feed_all([UNALIGNED, ANALOG_4S])
    assert [data_point(f) for f in frames] == [0x95, ANALOG]
    with pytest.raises(FrameError):
        decode_analog(frames[0])


@settings(max_examples=200, deadline=None)
@given(
    garbage=st.lists(
        st.binary(max_size=30), min_size=len(FRAMES), max_size=len(FRAMES)
    ),
    chunk=st.integers(min_value=1, max_value=40),
)
def test_garbage_between_frames_never_hides_one(
    garbage: list[bytes], chunk: int
) -> None:
    stream = b"".join(g + f for g, f in zip(garbage, FRAMES, strict=True))
    chunks = [stream[i : i + chunk] for i in range(0, len(stream), chunk)]
    frames, _ = feed_all(chunks)
    assert [f for f in frames if f in FRAMES] == FRAMES


@settings(max_examples=300, deadline=None)
@given(content=st.binary(min_size=32, max_size=32))
def test_forged_analog_replies_are_refused_or_consistent(content: bytes) -> None:
    """Random data with a valid CRC: refused, or within the cross-checks."""
    frame = with_bytes(ANALOG_4S, 8, content)
    try:
        analog = decode_analog(frame)
    except FrameError:
        return
    assert analog.soc <= 100
    assert analog.remaining <= analog.full


def test_counts_that_do_not_fit_the_length_are_refused() -> None:
    for offset, value in ((8, 5), (8, 0), (17, 3), (17, 40)):
        with pytest.raises(FrameError):
            decode_analog(with_bytes(ANALOG_4S, offset, bytes((value,))))
    for offset, value in ((8, 3), (8, 0), (13, 5)):
        with pytest.raises(FrameError):
            decode_warning(with_bytes(WARNING_4S, offset, bytes((value,))))


def test_capacity_and_soc_cross_checks() -> None:
    tail = 8 + 1 + 8 + 1 + 8
    # Remaining above full; SOC above 100; SOC far from remaining / full.
    for offset, value in ((4, 1100), (12, 101), (12, 90)):
        with pytest.raises(FrameError):
            decode_analog(with_bytes(ANALOG_4S, tail + offset, value.to_bytes(2)))


@pytest.mark.parametrize(
    ("raw", "amps"),
    [(0x4000, 0.0), (0xC039, -5.7), (0x4064, 10.0), (0x000A, 10.0), (0x800A, -10.0)],
)
def test_current_sign_and_tenths_flag(raw: int, amps: float) -> None:
    tail = 8 + 1 + 8 + 1 + 8
    frame = with_bytes(ANALOG_4S, tail, raw.to_bytes(2))
    assert decode_analog(frame).current == amps


def test_each_status_bit_is_its_alarm() -> None:
    fixed = 8 + 1 + 4 + 1 + 4
    for register, table in ((4, STATUS_1_BITS), (5, STATUS_2_BITS), (8, STATUS_5_BITS)):
        for bit, alarm in table.items():
            frame = with_bytes(WARNING_4S, fixed + register, bytes((bit,)))
            assert decode_warning(frame).alarms == {alarm}
    assert {
        *STATUS_1_BITS.values(),
        *STATUS_2_BITS.values(),
        *STATUS_5_BITS.values(),
    } == SUPPORTED_ALARMS
    # Ambient over / under temperature: in the code, no alarm of their own.
    frame = with_bytes(WARNING_4S, fixed + 5, b"\x60")
    assert decode_warning(frame).alarms == frozenset()
    assert decode_warning(frame).protection_code == 0x60


def test_fets_and_balancing_bits() -> None:
    fixed = 8 + 1 + 16 + 1 + 6
    frame = with_bytes(WARNING_16S, fixed + 6, b"\x02")
    frame = with_bytes(frame, fixed + 13, b"\x81\x80")
    warning = decode_warning(frame)
    assert (warning.charge_enabled, warning.discharge_enabled) == (True, False)
    assert warning.balancing_cells == {1, 8, 16}


def test_a_health_above_100_is_refused() -> None:
    sim = demo("C0:D6:3C:00:00:01")
    sim.extended = True
    sim.pack.state_of_health = 101
    with pytest.raises(FrameError):
        decode_analog(sim.analog_frame())


def test_the_simulators_frames_decode() -> None:
    sim = demo("C0:D6:3C:00:00:01")
    sim.extended = True
    sim.pack.state_of_health = 97
    analog = decode_analog(sim.analog_frame())
    assert analog.soh == 97
    assert analog.balance_current == 0.0
    assert decode_warning(sim.warning_frame()).cell_count == 4
    assert decode_product(sim.product_frame()).sw_version == "WT12_20004SW10_L447"


def test_aiobmsble_reads_the_same_values() -> None:
    """A second decoder on the vectors and on the simulator's frames.

    Runs where aiobmsble is installed (the bleak 3 environment).
    """
    reference = pytest.importorskip("aiobmsble.bms.tdt_bms").BMS
    sim = demo("C0:D6:3C:00:00:01")
    sim.pack.cell_voltages = [round(3.3 + 0.001 * i, 3) for i in range(16)]
    sim.pack.current = -37.4
    sim.pack.alarms = {"cell_overvoltage", "charge_overtemperature"}
    sim.pack.charge_enabled = False
    sim.extended = True
    pairs = [
        (BY_NAME["analog 4S4T v0.0 idle"], WARNING_4S),
        (BY_NAME["analog 16S6T v0.0 discharging"], WARNING_16S),
        (BY_NAME["analog 16S6T v0.4 discharging"], BY_NAME["warning 16S6T v0.4"]),
        (BY_NAME["analog 4S4T WattCycle 314 Ah idle"], WARNING_4S),
        (sim.analog_frame(), sim.warning_frame()),
    ]
    for analog_frame, warning_frame in pairs:
        msgs = {ANALOG: analog_frame[:-3], WARNING: warning_frame[:-3]}
        cells = analog_frame[8]
        probes = analog_frame[9 + 2 * cells]
        shift = 8 + 2 * (cells + probes) + 2
        theirs = reference._decode_data(reference._FIELDS, msgs, start=shift)
        temps = reference._temp_values(
            msgs[ANALOG],
            values=probes,
            start=10 + 2 * cells,
            signed=False,
            offset=2730,
            divider=10,
        )
        ours, warning = decode_analog(analog_frame), decode_warning(warning_frame)
        assert theirs["voltage"] == ours.voltage
        assert theirs["current"] == ours.current
        assert theirs["cycle_charge"] == ours.remaining
        assert theirs["battery_level"] == ours.soc
        assert theirs["cycles"] == ours.cycles
        assert theirs["design_capacity"] == int(ours.design)
        assert theirs.get("battery_health") == ours.soh
        assert [t.value for t in temps] == list(ours.probes)
        assert (
            tuple(reference._cell_voltages(msgs[ANALOG], cells=cells, start=9))
            == ours.cell_voltages
        )
        status = 8 + cells + probes + 2
        problem = int.from_bytes(msgs[WARNING][status + 4 : status + 6])
        assert problem == warning.protection_code & 0xFFFF
        fets = msgs[WARNING][status + 6]
        assert bool(fets & 0x2) is warning.charge_enabled
        assert bool(fets & 0x4) is warning.discharge_enabled
