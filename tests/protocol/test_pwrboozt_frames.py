"""PowerBoozt / Dörr frames: the vectors, checksums, cross-checks, reassembly."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.pwrboozt import demo
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.matching import (
    Advertisement,
    AdvertisementMatcher,
    uuid16,
)
from custom_components.lithium_bms.protocol.pwrboozt.frames import (
    PROTECTION_BITS,
    SUPPORTED_ALARMS,
    check_frame,
    decode_status,
)
from custom_components.lithium_bms.protocol.pwrboozt.stream import (
    PwrbooztReassembler,
)
from custom_components.lithium_bms.protocol.snapshot import Alarm

from .streams import feed_chunks

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "pwrboozt_vectors.json").read_text()
)
BY_NAME = {vector["name"]: bytes.fromhex(vector["hex"]) for vector in VECTORS}
CHARGING = BY_NAME["PowerBoozt 4S charging, 300 Ah"]
IDLE = BY_NAME["Dörr 4S idle, 150 Ah"]
FRAMES = [CHARGING, IDLE]


def with_bytes(frame: bytes, offset: int, data: bytes) -> bytes:
    """``frame`` with decoded ``data`` at ``offset`` and its checksum made to fit."""
    body = bytearray(bytes.fromhex(frame[1:-1].decode()))
    body[offset : offset + len(data)] = data
    body[-1] = ~sum(body[1:-1]) & 0xFF
    return b":" + body.hex().upper().encode() + b"~"


def feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[ProtocolError]]:
    return feed_chunks(PwrbooztReassembler(), chunks)


def test_every_vector_names_its_source_and_a_second_check() -> None:
    assert len(VECTORS) >= 2
    for vector in VECTORS:
        assert vector["source"]
        assert vector["expected"]
        assert "second check" in vector["note"].lower()


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_vector_decodes_exactly(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    decoded = vector["decoded"]
    status = decode_status(bytes.fromhex(vector["hex"]))
    assert status.voltage == expected["voltage"]
    assert status.current == expected["current"]
    assert status.soc == expected["battery_level"]
    assert status.cycles == expected["cycles"]
    assert status.design == expected["design_capacity"]
    assert list(status.cell_voltages) == expected["cell_voltages"]
    assert list(status.temperatures) == expected["temperatures"]
    spread = max(status.cell_voltages) - min(status.cell_voltages)
    assert round(spread, 3) == expected["delta_voltage"]
    assert status.full == decoded["full_capacity"]
    assert status.charge_fet is decoded["charge_mosfet"]
    assert status.discharge_fet is decoded["discharge_mosfet"]
    assert sorted(status.balancing_cells) == decoded["balancing_cells"]
    assert status.alarms == frozenset()
    assert status.protection_code == 0


def test_the_mock_notifications_with_at_and_nuls() -> None:
    # patman15/aiobmsble tests/bms/test_pwrboozt.py: "AT\r\n", "AT\r\nillegal",
    # then the reply with a NUL before "~" and three after, in 20-byte parts.
    wire = CHARGING[:-1] + b"\x00~\x00\x00\x00"
    chunks = [b"AT\r\n", b"AT\r\nillegal"] + [
        wire[i : i + 20] for i in range(0, len(wire), 20)
    ]
    assert feed_all(chunks) == ([CHARGING], [])


def test_the_current_is_signed_by_the_work_state() -> None:
    discharging = with_bytes(CHARGING, 44, b"\xf0\x02")
    assert decode_status(discharging).current == -12.81
    # Bit 31 (the Dörr reading of a charging frame) is not the direction.
    flagged = with_bytes(with_bytes(CHARGING, 54, b"\x80\x00\x09\xd8"), 44, b"\xf0\x01")
    assert decode_status(flagged).current == 2.52
    for state in (b"\xf0\x00", b"\xf0\x03"):
        with pytest.raises(FrameError, match="direction"):
            decode_status(with_bytes(CHARGING, 44, state))


@pytest.mark.parametrize(("bit", "alarm"), PROTECTION_BITS.items())
def test_each_protection_bit(bit: int, alarm: Alarm) -> None:
    state = (0x3000 | bit).to_bytes(2, "big")
    status = decode_status(with_bytes(IDLE, 44, state))
    assert status.alarms == {alarm}
    assert status.protection_code == bit
    assert alarm in SUPPORTED_ALARMS


def test_mosfets_and_balancing() -> None:
    off = decode_status(with_bytes(IDLE, 44, b"\x00\x00"))
    assert (off.charge_fet, off.discharge_fet) == (False, False)
    charge_only = decode_status(with_bytes(IDLE, 44, b"\x20\x00"))
    assert (charge_only.charge_fet, charge_only.discharge_fet) == (True, False)
    balancing = decode_status(with_bytes(IDLE, 46, b"\x00\x05"))
    assert balancing.balancing_cells == {0, 2}


def test_sixteen_cells() -> None:
    millivolts = [3300 + i for i in range(16)]
    cells = b"".join(mv.to_bytes(2, "big") for mv in millivolts)
    frame = with_bytes(IDLE, 12, cells)
    frame = with_bytes(frame, 62, sum(millivolts).to_bytes(2, "big"))
    frame = with_bytes(frame, 64, (15).to_bytes(2, "big") + b"\x10")
    status = decode_status(frame)
    assert status.cell_voltages == tuple(mv / 1000 for mv in millivolts)


@pytest.mark.parametrize(
    ("offset", "data"),
    [
        (62, b"\x36\x00"),  # pack voltage not the sum of the cells
        (64, b"\x00\x20"),  # delta not the cells' spread
        (66, b"\x00"),  # no cell
        (66, b"\x11"),  # 17 cells
        (66, b"\x03"),  # a cell beyond the count
        (12, b"\x00\x00"),  # an empty cell within the count
        (46, b"\x00\x10"),  # a balanced cell the pack does not have
        (69, b"\x65"),  # SOC 101 %
        (78, b"\x00\x10\x00\x00"),  # full capacity far above the design
        (1, b"\x55"),  # another command
        (2, b"\x02"),  # another version
        (3, b"\x00\xee"),  # another length
    ],
)
def test_decode_refuses_a_frame_that_contradicts_itself(
    offset: int, data: bytes
) -> None:
    with pytest.raises(FrameError):
        decode_status(with_bytes(CHARGING, offset, data))


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", FrameError),
        (b":015150000EFE~", FrameError),
        (CHARGING[:-1], FrameError),
        (CHARGING + b"~", FrameError),
        (CHARGING[:-3] + b"EC~", ChecksumError),
        (CHARGING[:5] + b"G" + CHARGING[6:], FrameError),
    ],
    ids=["empty", "request", "truncated", "long", "checksum", "not hex"],
)
def test_check_frame_refuses(raw: bytes, error: type[ProtocolError]) -> None:
    with pytest.raises(error):
        check_frame(raw)


@pytest.mark.parametrize("index", range(1, len(CHARGING) - 1))
def test_any_one_digit_corruption_is_refused(index: int) -> None:
    broken = bytearray(CHARGING)
    broken[index] = ord("0") if broken[index] != ord("0") else ord("1")
    with pytest.raises(ProtocolError):
        check_frame(bytes(broken))


# Junk before and between frames (test_reassembly_contract).
GARBAGE = [b":", b"~", b":0154", b":01540100EC00", b"AT\r\n", b"\xff" * 9]


def test_corrupt_frame_then_good_frame() -> None:
    frames, errors = feed_all([CHARGING[:-3] + b"00~" + IDLE])
    assert frames == [IDLE]
    assert any(isinstance(e, ChecksumError) for e in errors)


EJ_REALTIME = bytes.fromhex(
    json.loads((Path(__file__).parent / "data" / "ej_vectors.json").read_text())[0][
        "hex"
    ]
)
# Other families' frames this one's stream must refuse (test_reassembly_contract).
FOREIGN = {
    # patman15/aiobmsble tests/bms/test_jbd_bms.py: a JBD 0x04 cell reply.
    "jbd": bytes.fromhex("dd0400080d660d610d680d59fe3c77"),
    "ej": EJ_REALTIME,
    "request": b":015150000EFE~",
}


def test_the_simulator_reply_decodes_to_its_pack() -> None:
    sim = demo("C8:47:80:00:00:01")
    sim.pack.current = -3.5
    sim.pack.balancing_cells = {1}
    sim.pack.alarms = {"discharge_undertemperature"}
    status = decode_status(sim.status_frame())
    assert status.current == -3.5
    assert status.cell_voltages == tuple(sim.pack.cell_voltages)
    assert status.balancing_cells == {1}
    assert status.alarms == {Alarm.DISCHARGE_UNDERTEMPERATURE}
    assert status.discharge_fet is False


def test_service_data_matcher() -> None:
    matcher = AdvertisementMatcher(
        local_name="BT-Battery*", service_data_uuid=uuid16(0xFFE1)
    )
    with_data = Advertisement(
        "00:25:07:00:00:01", "BT-Battery", service_data={uuid16(0xFFE1): b"\x00"}
    )
    assert matcher.matches(with_data)
    assert not matcher.matches(Advertisement("00:25:07:00:00:01", "BT-Battery"))
    other = {uuid16(0xFFE2): b"\x00"}
    assert not matcher.matches(
        Advertisement("00:25:07:00:00:01", "BT-Battery", service_data=other)
    )
    assert matcher.as_manifest()["service_data_uuid"] == uuid16(0xFFE1)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_decoders_raise_only_protocol_errors(raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        check_frame(raw)
        decode_status(raw)


def test_aiobmsble_reads_the_same_values() -> None:
    """A second decoder on the vectors and on the simulator's frames.

    Runs where aiobmsble is installed (the bleak 3 environment). Its
    PowerBoozt module reads the current as signed: it agrees with ours on
    the captures and on a charging simulator, not on a discharging one.
    """
    pwrboozt_bms = pytest.importorskip("aiobmsble.bms.pwrboozt_bms")
    reference = pwrboozt_bms.BMS
    sim = demo("00:25:07:00:00:01")
    sim.pack.cell_voltages = [round(3.3 + 0.001 * i, 3) for i in range(16)]
    for frame in [*FRAMES, sim.status_frame()]:
        data = bytes.fromhex(frame[1:-1].decode())
        theirs = reference._decode_data(reference._FIELDS, data)
        ours = decode_status(frame)
        assert theirs["voltage"] == ours.voltage
        assert theirs["current"] == ours.current
        assert theirs["battery_level"] == ours.soc
        assert theirs["cycles"] == ours.cycles
        assert theirs["design_capacity"] == ours.design
