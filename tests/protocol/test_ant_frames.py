"""ANT frames: every captured vector, the requests, CRC, consistency, reassembly."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.ant import demo
from custom_components.lithium_bms.protocol.ant.frames import (
    DEVICE_INFO_REQUEST,
    STATUS_REQUEST,
    SUPPORTED_ALARMS,
    check_frame,
    decode_device_info,
    decode_status,
    switch_request,
)
from custom_components.lithium_bms.protocol.ant.stream import AntReassembler
from custom_components.lithium_bms.protocol.codecs.modbus import crc16
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.snapshot import Alarm, SwitchKind

from .streams import feed_chunks

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "ant_vectors.json").read_text()
)
BY_NAME = {vector["name"]: bytes.fromhex(vector["hex"]) for vector in VECTORS}
STATUS_VECTORS = [v for v in VECTORS if v["name"].startswith("status")]
DEVICE_INFO = BY_NAME["device info 24BHUB00"]
# The device-info reply as its length byte counts it: CRC, then the tail.
DEVICE_INFO_SHORT = DEVICE_INFO[:40] + DEVICE_INFO[-2:]
STATUS_22S = BY_NAME["status 22S four probes, both MOSFETs on"]
SIM_4S = demo("11:22:33:44:55:66").status_frame()
FRAMES = [STATUS_22S, SIM_4S]
# Shift of the fixed block in the 22-cell, four-probe capture.
BLOCK = 34 + 2 * (22 + 4)


def with_bytes(frame: bytes, offset: int, data: bytes) -> bytes:
    """``frame`` with ``data`` at ``offset`` and its CRC made to fit."""
    body = bytearray(frame[:-4])
    body[offset : offset + len(data)] = data
    return bytes(body) + crc16(body[1:]).to_bytes(2, "little") + b"\xaa\x55"


def feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    return feed_chunks(AntReassembler(), chunks)


def test_every_vector_names_its_source_and_a_cross_check() -> None:
    assert len(STATUS_VECTORS) >= 3
    for vector in VECTORS:
        assert "aiobmsble" in vector["source"]
        assert vector["expected"]
        assert "esphome-ant-bms" in vector["note"]


@pytest.mark.parametrize("vector", STATUS_VECTORS, ids=lambda v: v["name"])
def test_every_status_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    status = decode_status(bytes.fromhex(vector["hex"]))
    assert status.voltage == expected["voltage"]
    assert status.current == expected["current"]
    assert list(status.cell_voltages) == expected["cell_voltages"]
    assert len(status.cell_voltages) == expected["cell_count"]
    assert list(status.probes) == expected["temperatures"]
    assert len(status.probes) == expected["temp_sensors"]
    assert status.mosfet_temperature == expected["mosfet_temperature"]
    assert status.soc == expected["battery_level"]
    assert status.soh == expected["battery_health"]
    assert status.remaining == expected["cycle_charge"]
    assert status.full == expected["design_capacity"]
    assert (status.charge_status == 1) is expected["chrg_mosfet"]
    assert (status.discharge_status == 1) is expected["dischrg_mosfet"]
    assert bool(status.balancing_cells) is expected["balancer"]
    if expected["problem_code"]:
        code = status.charge_status << 8 | status.discharge_status
        assert code == expected["problem_code"]


def test_the_vectors_beyond_what_the_sources_state() -> None:
    normal, low, high = (decode_status(BY_NAME[v["name"]]) for v in STATUS_VECTORS)
    assert normal.alarms == frozenset()
    assert normal.switches == {
        SwitchKind.CHARGE: True,
        SwitchKind.DISCHARGE: True,
        SwitchKind.BALANCER: False,
    }
    assert low.alarms == {Alarm.CELL_OVERVOLTAGE, Alarm.CELL_UNDERVOLTAGE}
    # "Waiting" and "Open failed": no alarm, and not switched off by hand.
    assert high.alarms == frozenset()
    assert high.switches[SwitchKind.CHARGE] is True


def test_requests_as_the_sources_write_them() -> None:
    # patman15/aiobmsble tests/bms/test_ant_bms.py (CMDS) and esphome-ant-bms.
    assert bytes.fromhex("7ea1010000be1855aa55") == STATUS_REQUEST
    # syssi/esphome-ant-bms switch/__init__.py lists each write so.
    assert switch_request(SwitchKind.DISCHARGE, False).hex() == "7ea151010000d8e5aa55"
    assert switch_request(SwitchKind.DISCHARGE, True).hex() == "7ea1510300007925aa55"
    assert switch_request(SwitchKind.CHARGE, False).hex() == "7ea151040000c8e4aa55"
    assert switch_request(SwitchKind.CHARGE, True).hex() == "7ea1510600006924aa55"
    assert switch_request(SwitchKind.BALANCER, True).hex() == "7ea1510d000018e6aa55"
    assert switch_request(SwitchKind.BALANCER, False).hex() == "7ea1510e0000e8e6aa55"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"\x6e" + STATUS_22S[1:], FrameError),
        (STATUS_22S[:-2] + b"\xa1\x55", FrameError),
        (STATUS_22S[:-4] + b"\xff\xff\xaa\x55", ChecksumError),
        (STATUS_22S[:5] + b"\x01" + STATUS_22S[6:], FrameError),
        (STATUS_22S[:3], FrameError),
        (bytes(1), FrameError),
    ],
    ids=["sof", "eof", "crc", "length", "short", "empty"],
)
def test_check_frame_refuses(raw: bytes, error: type[ProtocolError]) -> None:
    with pytest.raises(error):
        check_frame(raw)


@pytest.mark.parametrize("index", range(len(STATUS_22S)))
def test_any_one_byte_corruption_is_refused(index: int) -> None:
    bad = bytearray(STATUS_22S)
    bad[index] ^= 0x01
    with pytest.raises(ProtocolError):
        decode_status(check_and_return(bytes(bad)))


def check_and_return(frame: bytes) -> bytes:
    check_frame(frame)
    return frame


@pytest.mark.parametrize(
    ("offset", "data"),
    [
        (2, b"\x12"),  # another function
        (8, b"\x05"),  # five probes
        (9, b"\x00"),  # no cells
        (9, b"\x21"),  # 33 cells
        (9, b"\x15"),  # a count the length disagrees with
        (BLOCK + 40, (2339).to_bytes(2, "little")),  # highest cell
        (BLOCK + 42, (11).to_bytes(2, "little")),  # its number
        (BLOCK + 44, (2191).to_bytes(2, "little")),  # lowest cell
        (BLOCK + 46, (0).to_bytes(2, "little")),  # its number
        (BLOCK + 48, (149).to_bytes(2, "little")),  # delta
        (BLOCK + 4, (5300).to_bytes(2, "little")),  # pack voltage
        (BLOCK + 8, (101).to_bytes(2, "little")),  # SOC
        (BLOCK + 20, (90_000_000).to_bytes(4, "little")),  # remaining > full
    ],
)
def test_a_reply_that_disagrees_with_itself_is_refused(
    offset: int, data: bytes
) -> None:
    with pytest.raises(FrameError):
        decode_status(check_and_return(with_bytes(STATUS_22S, offset, data)))


@pytest.mark.parametrize(
    ("charge", "discharge", "alarm"),
    [
        (0x02, 0x01, Alarm.CELL_OVERVOLTAGE),
        (0x03, 0x01, Alarm.CHARGE_OVERCURRENT),
        (0x05, 0x01, Alarm.PACK_OVERVOLTAGE),
        (0x06, 0x01, Alarm.CHARGE_OVERTEMPERATURE),
        (0x11, 0x01, Alarm.CHARGE_UNDERTEMPERATURE),
        (0x01, 0x02, Alarm.CELL_UNDERVOLTAGE),
        (0x01, 0x05, Alarm.PACK_UNDERVOLTAGE),
        (0x01, 0x0C, Alarm.SHORT_CIRCUIT),
        (0x01, 0x07, Alarm.MOSFET_OVERTEMPERATURE),
        (0x01, 0x13, Alarm.HARDWARE_FAULT),
    ],
)
def test_status_codes_are_alarms(charge: int, discharge: int, alarm: Alarm) -> None:
    frame = with_bytes(STATUS_22S, BLOCK + 12, bytes((charge, discharge)))
    status = decode_status(frame)
    assert status.alarms == {alarm}
    assert alarm in SUPPORTED_ALARMS


def test_switched_off_balancing_and_a_discharge_current() -> None:
    sim = demo("11:22:33:44:55:66")
    sim.pack.charge_enabled = False
    sim.pack.current = -12.3
    sim.pack.balancing_cells = {2, 4}
    sim.pack.temperatures = [-5.0, 3.0]
    status = decode_status(check_and_return(sim.status_frame()))
    assert status.switches == {
        SwitchKind.CHARGE: False,
        SwitchKind.DISCHARGE: True,
        SwitchKind.BALANCER: True,
    }
    assert status.current == -12.3
    assert status.balancing_cells == {2, 4}
    assert status.probes == (-5, 3)
    assert status.alarms == frozenset()


def test_the_device_info_vector_decodes_exactly() -> None:
    expected = next(v for v in VECTORS if v["name"] == "device info 24BHUB00")
    check_frame(DEVICE_INFO)
    versions = decode_device_info(DEVICE_INFO)
    assert versions.hw_version == expected["expected"]["hw_version"]
    assert versions.sw_version == expected["expected"]["sw_version"]
    # patman15/aiobmsble tests/bms/test_ant_bms.py (CMDS[0x02]).
    assert DEVICE_INFO_REQUEST.hex() == "7ea1026c022058c4aa55"


def test_a_device_info_reply_without_the_surplus_is_taken() -> None:
    check_frame(DEVICE_INFO_SHORT)
    assert decode_device_info(DEVICE_INFO_SHORT) == decode_device_info(DEVICE_INFO)
    assert feed_all([DEVICE_INFO_SHORT + STATUS_22S]) == (
        [DEVICE_INFO_SHORT, STATUS_22S],
        [],
    )


@pytest.mark.parametrize(
    "raw",
    [
        DEVICE_INFO[:-4] + DEVICE_INFO[-2:],  # four bytes over, not six
        DEVICE_INFO[:38] + b"\x00\x00" + DEVICE_INFO[40:],  # its CRC
        STATUS_22S[:5] + DEVICE_INFO[5:],  # a status reply's function
    ],
    ids=["length", "crc", "function"],
)
def test_a_broken_device_info_reply_is_refused(raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        check_frame(raw)
        decode_device_info(raw)
        pytest.fail("a broken device-info reply passed")


def test_a_garbled_version_is_refused() -> None:
    body = DEVICE_INFO[:8] + b"\x07" + DEVICE_INFO[9:38]
    raw = body + crc16(body[1:]).to_bytes(2, "little") + DEVICE_INFO[40:]
    check_frame(raw)
    with pytest.raises(FrameError):
        decode_device_info(raw)


@pytest.mark.parametrize("frame", [DEVICE_INFO, DEVICE_INFO_SHORT], ids=["48", "42"])
def test_a_device_info_reply_split_anywhere_then_a_status(frame: bytes) -> None:
    for cut in range(1, len(frame)):
        chunks = [frame[:cut], frame[cut:] + STATUS_22S]
        assert feed_all(chunks) == ([frame, STATUS_22S], []), cut


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [
    b"\x7e",
    b"\x7e\xa1",
    b"\x7e\xa1\x11\x00",
    b"AT\r\n",
    b"\xff" * 9,
    b"\xaa\x55",
]


def test_corrupt_frame_then_good_frame() -> None:
    bad = STATUS_22S[:-4] + b"\x00\x00\xaa\x55"
    frames, errors = feed_all([bad + SIM_4S])
    assert frames == [SIM_4S]
    assert any(isinstance(e, ChecksumError) for e in errors)


# Other families' frames this one's stream must refuse (test_reassembly_contract).
FOREIGN = {
    # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply.
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
    # A Redodo status request and a Modbus read.
    "redodo": bytes.fromhex("000004011355aa17"),
    "modbus": bytes.fromhex("0103020001 79 84".replace(" ", "")),
}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_decoders_raise_only_protocol_errors(raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        check_frame(raw)
        decode_status(raw)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=len(STATUS_22S) - 10, max_size=len(STATUS_22S) - 10))
def test_random_content_with_a_valid_crc_is_refused(body: bytes) -> None:
    """What the soak forges: the head kept, the rest random, the CRC fitted."""
    forged = with_bytes(STATUS_22S, 6, body)
    with pytest.raises(FrameError):
        decode_status(check_and_return(forged))


def test_aiobmsble_reads_the_same_values() -> None:
    """A second decoder on the vectors and on the simulator's frames.

    Runs where aiobmsble is installed (the bleak 3 environment).
    """
    ant_bms = pytest.importorskip("aiobmsble.bms.ant_bms")
    reference = ant_bms.BMS
    sim = demo("88:A0:00:00:00:01")
    sim.pack.cell_voltages = [round(3.3 + 0.001 * i, 3) for i in range(16)]
    sim.pack.current = -21.4
    sim.pack.alarms = {"cell_undervoltage"}
    for frame in [
        *(bytes.fromhex(v["hex"]) for v in STATUS_VECTORS),
        sim.status_frame(),
    ]:
        cells, probes = frame[9], frame[8]
        theirs = reference._decode_data(
            reference._FIELDS, frame, byteorder="little", start=2 * (cells + probes)
        )
        voltages = reference._cell_voltages(
            frame, cells=cells, start=34, byteorder="little"
        )
        ours = decode_status(frame)
        assert theirs["voltage"] == ours.voltage
        assert theirs["current"] == ours.current
        assert theirs["battery_level"] == ours.soc
        assert theirs["battery_health"] == ours.soh
        assert theirs["cycle_charge"] == ours.remaining
        assert theirs["design_capacity"] == int(ours.full)
        assert theirs["chrg_mosfet"] is (ours.charge_status == 1)
        assert theirs["dischrg_mosfet"] is (ours.discharge_status == 1)
        assert tuple(voltages) == ours.cell_voltages
