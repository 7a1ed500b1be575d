"""ANT legacy frames: the captured vectors, requests, sum, consistency, reassembly."""

from __future__ import annotations

import contextlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.ha.forgery import forge
from bms_simulator.families.ant_legacy import demo
from custom_components.lithium_bms.protocol.ant_legacy.frames import (
    STATUS_REQUEST,
    SUPPORTED_ALARMS,
    check_frame,
    decode_status,
    switch_requests,
)
from custom_components.lithium_bms.protocol.ant_legacy.stream import (
    AntLegacyReassembler,
)
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.snapshot import Alarm, SwitchKind

from .streams import feed_chunks

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "ant_legacy_vectors.json").read_text()
)
BY_NAME = {vector["name"]: bytes.fromhex(vector["hex"]) for vector in VECTORS}
STATUS_14S = BY_NAME["status 14S discharging 8 A, 170 Ah setting"]
STATUS_16S = BY_NAME["status 16S overcharge protection, five cells balancing"]
STATUS_8S = BY_NAME["status 8S charging 10.7 A, no capacity setting"]
SIM_4S = demo("11:22:33:44:55:66").status_frame()
FRAMES = [STATUS_14S, STATUS_16S, SIM_4S]


def with_bytes(frame: bytes, offset: int, data: bytes) -> bytes:
    """``frame`` with ``data`` at ``offset`` and its sum made to fit."""
    body = bytearray(frame[:-2])
    body[offset : offset + len(data)] = data
    return bytes(body) + (sum(body[4:]) & 0xFFFF).to_bytes(2, "big")


def feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    return feed_chunks(AntLegacyReassembler(), chunks)


def check_and_return(frame: bytes) -> bytes:
    check_frame(frame)
    return frame


def test_every_vector_names_its_source() -> None:
    assert len(VECTORS) >= 5
    for vector in VECTORS:
        assert "esphome-ant-bms" in vector["source"] or "aiobmsble" in vector["source"]
        assert vector["expected"]
        assert vector["note"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    """The values each source states, in its own sign where it says so."""
    expected = vector["expected"]
    status = decode_status(check_and_return(bytes.fromhex(vector["hex"])))
    assert status.voltage == expected["voltage"]
    if "current" in expected:
        # aiobmsble's sign is ours; esphome-ant-bms publishes the raw value.
        sign = 1 if "aiobmsble" in vector["source"] else -1
        assert status.current == sign * expected["current"]
    if "cell_voltages" in expected:
        assert list(status.cell_voltages) == expected["cell_voltages"]
    if "cell_count" in expected:
        assert len(status.cell_voltages) == expected["cell_count"]
    if "battery_level" in expected:
        assert status.soc == expected["battery_level"]
    if "cycle_charge" in expected:
        assert status.remaining == pytest.approx(expected["cycle_charge"], abs=0.001)
    if "total_charge" in expected:
        assert int(status.total_charge) == int(expected["total_charge"])
    if "design_capacity" in expected:
        assert (status.full or 0.0) == expected["design_capacity"]
    if "cycles" in expected:
        assert status.cycles == expected["cycles"]
    if "temperatures" in expected:
        probes = [status.mosfet_temperature, *status.cell_probes]
        # The balancer probe (second slot) is no probe of ours.
        stated = [expected["temperatures"][0], *expected["temperatures"][2:]]
        assert probes[: len(stated)] == stated
    if "chrg_mosfet" in expected:
        assert (status.charge_status == 1) is expected["chrg_mosfet"]
        assert (status.discharge_status == 1) is expected["dischrg_mosfet"]
    if "balancer" in expected:
        assert (status.balancer_status == 0x04) is expected["balancer"]
    if expected.get("problem_code"):
        assert status.charge_status << 8 == expected["problem_code"]


def test_the_vectors_beyond_what_the_sources_state() -> None:
    discharging, overcharged, charging = (
        decode_status(frame) for frame in (STATUS_14S, STATUS_16S, STATUS_8S)
    )
    assert discharging.alarms == frozenset()
    assert discharging.switches == {SwitchKind.CHARGE: True, SwitchKind.DISCHARGE: True}
    assert discharging.full == 170.0
    assert discharging.cell_probes == (21, 21, 21, 21)
    assert overcharged.alarms == {Alarm.CELL_OVERVOLTAGE}
    # Held off by the protection, not switched off by hand.
    assert overcharged.switches[SwitchKind.CHARGE] is True
    assert overcharged.balancing_cells == {5, 7, 9, 10, 12}
    assert overcharged.full is None
    assert overcharged.cycles is None
    assert charging.current == 10.7
    assert charging.full is None


@pytest.mark.parametrize(
    "name",
    ["status 8S, 230 Ah, two unconnected probes", "status 8S of a 2022 board, empty"],
)
def test_probes_reading_minus_40_are_unconnected(name: str) -> None:
    status = decode_status(BY_NAME[name])
    assert status.cell_probes[2:] == (None, None)
    assert None not in status.cell_probes[:2]


def test_requests_as_the_sources_write_them() -> None:
    # syssi/esphome-ant-bms ant_bms_old_ble.cpp read_registers_() and
    # patman15/aiobmsble tests/bms/test_ant_leg_bms.py (CMDS).
    assert bytes.fromhex("dbdb00000000") == STATUS_REQUEST
    # ant_bms_old_ble.cpp write_register(): the password 12345678 in F1-F4,
    # the register, then FF; each sums its last three bytes.
    assert [r.hex() for r in switch_requests(SwitchKind.CHARGE, True, "12345678")] == [
        "a5a5f1313254",
        "a5a5f2333459",
        "a5a5f335365e",
        "a5a5f4373863",
        "a5a5fa0001fb",
        "a5a5ff0000ff",
    ]
    off = switch_requests(SwitchKind.DISCHARGE, False, "12345678")
    assert off[4].hex() == "a5a5f90000f9"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"\x6e" + STATUS_14S[1:], FrameError),
        (STATUS_14S[:3] + b"\xfe" + STATUS_14S[4:], FrameError),
        (STATUS_14S[:-2] + b"\xff\xff", ChecksumError),
        (STATUS_14S + b"\x00", FrameError),
        (STATUS_14S[:3], FrameError),
        (bytes(1), FrameError),
    ],
    ids=["sof", "unknown type", "sum", "too long", "short", "empty"],
)
def test_check_frame_refuses(raw: bytes, error: type[ProtocolError]) -> None:
    with pytest.raises(error):
        check_frame(raw)


@pytest.mark.parametrize("index", range(len(STATUS_14S)))
def test_any_one_byte_corruption_is_refused(index: int) -> None:
    bad = bytearray(STATUS_14S)
    bad[index] ^= 0x01
    with pytest.raises(ProtocolError):
        decode_status(check_and_return(bytes(bad)))


@pytest.mark.parametrize(
    ("offset", "data"),
    [
        (123, b"\x00"),  # no cells
        (123, b"\x21"),  # 33 cells
        (123, b"\x0d"),  # a count that leaves out the highest cell
        (116, (3510).to_bytes(2)),  # highest cell
        (119, (3467).to_bytes(2)),  # lowest cell
        (121, (3490).to_bytes(2)),  # average
        (4, (530).to_bytes(2)),  # pack voltage
        (74, b"\x65"),  # SOC 101
        (79, (180_000_000).to_bytes(4)),  # remaining > full
        (132, (1 << 14).to_bytes(4)),  # balancing a 15th cell of 14
    ],
)
def test_a_reply_that_disagrees_with_itself_is_refused(
    offset: int, data: bytes
) -> None:
    with pytest.raises(FrameError):
        decode_status(check_and_return(with_bytes(STATUS_14S, offset, data)))


@pytest.mark.parametrize(
    ("charge", "discharge", "alarm"),
    [
        (0x02, 0x01, Alarm.CELL_OVERVOLTAGE),
        (0x03, 0x01, Alarm.CHARGE_OVERCURRENT),
        (0x05, 0x01, Alarm.PACK_OVERVOLTAGE),
        (0x06, 0x01, Alarm.CHARGE_OVERTEMPERATURE),
        (0x09, 0x01, Alarm.HARDWARE_FAULT),
        (0x01, 0x02, Alarm.CELL_UNDERVOLTAGE),
        (0x01, 0x05, Alarm.PACK_UNDERVOLTAGE),
        (0x01, 0x0C, Alarm.SHORT_CIRCUIT),
        (0x01, 0x07, Alarm.MOSFET_OVERTEMPERATURE),
        (0x01, 0x0D, Alarm.MOSFET_FAULT),
    ],
)
def test_status_codes_are_alarms(charge: int, discharge: int, alarm: Alarm) -> None:
    status = decode_status(with_bytes(STATUS_14S, 103, bytes((charge, discharge))))
    assert status.alarms == {alarm}
    assert alarm in SUPPORTED_ALARMS


@pytest.mark.parametrize(
    ("charge", "discharge"), [(0x04, 0x01), (0x01, 0x0B), (0x0F, 0x00)]
)
def test_states_that_are_no_alarm(charge: int, discharge: int) -> None:
    """Battery full, charge MOSFET on, switched off: no protection."""
    status = decode_status(with_bytes(STATUS_14S, 103, bytes((charge, discharge))))
    assert status.alarms == frozenset()


def test_switched_off_balancing_and_a_discharge_current() -> None:
    sim = demo("11:22:33:44:55:66")
    sim.pack.charge_enabled = False
    sim.pack.current = -12.3
    sim.pack.balancing_cells = {2, 4}
    sim.pack.temperatures = [-5.0, 3.0, 0.0]
    status = decode_status(check_and_return(sim.status_frame()))
    assert status.switches == {SwitchKind.CHARGE: False, SwitchKind.DISCHARGE: True}
    assert status.current == -12.3
    assert status.balancing_cells == {2, 4}
    assert status.cell_probes == (-5, 3, 0, None)
    assert status.alarms == frozenset()


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [b"\xaa", b"\xaa\x55", b"\xaa\x55\xaa", b"AT\r\n", b"\xff" * 9, b"\x55\xaa"]


def test_corrupt_frame_then_good_frame() -> None:
    bad = STATUS_14S[:-2] + b"\x00\x00"
    frames, errors = feed_all([bad + SIM_4S])
    assert frames == [SIM_4S]
    assert any(isinstance(e, ChecksumError) for e in errors)


# Other families' frames this one's stream must refuse (test_reassembly_contract).
FOREIGN = {
    # patman15/aiobmsble tests/bms/test_ant_bms.py: the current ANT protocol's
    # status request; tests/bms/test_cbtpwr_bms.py: a CBT Power reply (AA 55).
    "ant": bytes.fromhex("7ea1010000be1855aa55"),
    "cbtpwr": bytes.fromhex("aa550b0858340000bcf3ffff4c0d0a"),
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_decoders_raise_only_protocol_errors(raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        check_frame(raw)
        decode_status(raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=134, max_size=134))
def test_random_content_with_a_valid_sum_is_refused(body: bytes) -> None:
    """What the soak forges: the head kept, the rest random, the sum fitted."""
    forged = with_bytes(STATUS_14S, 4, body)
    with pytest.raises(FrameError):
        decode_status(check_and_return(forged))


@pytest.mark.parametrize("seed", range(200))
def test_the_soak_forges_these_replies_and_each_is_refused(seed: int) -> None:
    """bench/ha/forgery.py knows the reply: a valid sum, then the decoder refuses."""
    forged = forge(SIM_4S, random.Random(seed))
    assert forged is not None
    assert forged[:4] == SIM_4S[:4]
    with pytest.raises(FrameError):
        decode_status(check_and_return(forged))


def test_aiobmsble_reads_the_same_values() -> None:
    """A second decoder on the vectors and on the simulator's frames.

    Runs where aiobmsble is installed (the bleak 3 environment).
    """
    ant_leg = pytest.importorskip("aiobmsble.bms.ant_leg_bms")
    reference = ant_leg.BMS
    sim = demo("88:A0:00:00:00:01")
    sim.pack.cell_voltages = [round(3.3 + 0.001 * i, 3) for i in range(16)]
    sim.pack.current = -21.4
    frames = [*(bytes.fromhex(v["hex"]) for v in VECTORS), sim.status_frame()]
    for frame in frames:
        theirs = reference._decode_data(reference._FIELDS, frame, byteorder="big")
        ours = decode_status(frame)
        assert theirs["voltage"] == ours.voltage
        assert theirs["current"] == ours.current
        assert theirs["battery_level"] == ours.soc
        assert theirs["cycle_charge"] == ours.remaining
        assert theirs["chrg_mosfet"] is (ours.charge_status == 1)
        assert theirs["dischrg_mosfet"] is (ours.discharge_status == 1)
