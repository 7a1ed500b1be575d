"""Daly frames: every recorded vector, the request tables, checksums, reassembly."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from random import Random
from types import CodeType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.lithium_bms.protocol.daly import a5, d2
from custom_components.lithium_bms.protocol.daly import stream as daly_stream
from custom_components.lithium_bms.protocol.daly.frames import (
    SUPPORTED_ALARMS,
    DalyStatus,
    decode_alarm_bytes,
)
from custom_components.lithium_bms.protocol.daly.stream import DalyReassembler
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.snapshot import Alarm

VECTORS = {
    v["name"]: v
    for v in json.loads(
        (Path(__file__).parent / "data" / "daly_vectors.json").read_text()
    )
}

# Upstream P81 RT2 frame (syssi/esphome-daly-bms frames_p81_ess_dl_bms.h,
# P81_STATUS_FRAME), recorded on the same ESS-DL-BMS as the RT1 vector.
P81_RT2_FRAME = bytes.fromhex(
    "51037c00090005003e0004003e000100000002000000000a9800070007000000000000"
    "0000000100010000000000000cf201d700000040004600000000ffff000075301a0602"
    "1402210b4b0402000000000080000074be0011035f0000000000000080000000000000"
    "ffffffffffffffffffffffffffffffff00ffffff0002b8ac"
)
# aiobmsble's MOS block (0x3E x 9) reply: MOS temperature 0x4E - 40 = 38 °C.
MOS_BLOCK_FRAME = bytes.fromhex("d203120000000075300000004effffffffffffffff0b4e")
STATES = {0: "idle", 1: "charging", 2: "discharging"}


def frame_of(name: str) -> bytes:
    return bytes.fromhex(VECTORS[name]["hex"])


def registers(name: str) -> tuple[int, ...]:
    return d2.parse_reply(frame_of(name)).registers


def a5_data(name: str) -> list[bytes]:
    frames, errors = DalyReassembler().feed(frame_of(name))
    assert not errors
    return [a5.parse_frame(f).data for f in frames]


def delta(status: DalyStatus) -> float:
    return round(max(status.cell_voltages) - min(status.cell_voltages), 3)


def view_d2_80(frame: bytes) -> dict[str, Any]:
    s = d2.decode_status(d2.parse_reply(frame).registers)
    return {
        "total_voltage_V": s.voltage,
        "current_A": s.current,
        "soc_pct": s.soc,
        "status": f"{STATES[s.state]}({s.state})",
        "capacity_remaining_Ah": s.remaining_capacity,
        "cells": len(s.cell_voltages),
        "temp_sensors": len(s.temperatures),
        "temps_C": list(s.temperatures),
        "cycles": s.cycles,
        "balancer": int(bool(s.balancing)),
        "charging_mosfet": s.charge_fet,
        "discharging_mosfet": s.discharge_fet,
        "delta_V": delta(s),
        "cell1_V": s.cell_voltages[0],
        "cell7_V": s.cell_voltages[6],
        "mosfet_temp_C": s.mosfet_temperature,
        "balance_current_A": s.balance_current,
    }


def view_d2_24s(frame: bytes) -> dict[str, Any]:
    s = d2.decode_status(d2.parse_reply(frame).registers)
    return {
        "total_voltage_V": s.voltage,
        "current_A": s.current,
        "soc_pct": s.soc,
        "capacity_remaining_Ah": s.remaining_capacity,
        "cells": len(s.cell_voltages),
        "temps_C": list(s.temperatures),
        "cycles": s.cycles,
        "charging_mosfet": s.charge_fet,
        "discharging_mosfet": s.discharge_fet,
        "max_cell_V": max(s.cell_voltages),
        "min_cell_V": min(s.cell_voltages),
        "delta_V": delta(s),
        "alarms": s.protection_code,
    }


def view_d2_8s(frame: bytes) -> dict[str, Any]:
    s = d2.decode_status(d2.parse_reply(frame).registers)
    return {
        "total_voltage_V": s.voltage,
        "current_A": s.current,
        "soc_pct": s.soc,
        "capacity_Ah": s.remaining_capacity,
        "cells": list(s.cell_voltages),
        "temps_C": list(s.temperatures),
        "delta_V": delta(s),
        "chg": s.charge_fet,
        "dsg": s.discharge_fet,
    }


def view_settings(frame: bytes) -> dict[str, Any]:
    s = d2.decode_settings(d2.parse_reply(frame).registers)
    return {
        "rated_capacity_Ah": s.rated_capacity,
        "cell_ref_mV": round(s.cell_reference_voltage * 1000),
        "charging_mos_switch": int(s.charge_switch),
        "discharging_mos_switch": int(s.discharge_switch),
        "soc_setting_pct": s.soc_setting,
        "mos_temp_alarm_C": s.mosfet_overtemperature_alarm,
        "charge_oc_warning_A": s.charge_overcurrent_warning,
    }


def view_version(frame: bytes) -> dict[str, Any]:
    sw, hw = d2.decode_version(d2.parse_reply(frame).data)
    return {"sw_version": sw, "hw_version": hw}


def view_p81_version(frame: bytes) -> dict[str, Any]:
    data = d2.parse_reply(frame).data
    sw, hw = d2.decode_version(data, 28, 14)
    return {
        "sw_version": sw,
        "hw_version": hw,
        "after_versions": data[42:56].decode(),
    }


def view_p81_block(frame: bytes) -> dict[str, Any]:
    regs = d2.parse_reply(frame).registers

    def u32(register: int) -> int:
        return regs[register - 0x100] << 16 | regs[register + 1 - 0x100]

    ascii_data = d2.parse_reply(frame).data[2 * 0x26 : 2 * 0x29]
    return {
        "reg_0x100": regs[0],
        "reg_0x101": regs[1],
        "capacity_u32_0x109_mAh": u32(0x109),
        "capacity_u32_0x10B_mAh": u32(0x10B),
        "ascii_0x126_0x128": ascii_data.decode(),
    }


def view_balancer(frame: bytes) -> dict[str, Any]:
    return {"balancer": bool(d2.parse_reply(frame).registers[0])}


def view_p81(frame: bytes) -> dict[str, Any]:
    rt2 = d2.parse_reply(P81_RT2_FRAME).registers
    s = d2.decode_p81(d2.parse_reply(frame).registers, rt2)
    return {
        "total_voltage_V": s.voltage,
        "current_A": s.current,
        "soc_pct": s.soc,
        "cells": len(s.cell_voltages),
        "temp_sensors": len(s.temperatures),
        "temps_C": list(s.temperatures),
        "min_cell_V": min(s.cell_voltages),
        "max_cell_V": max(s.cell_voltages),
    }


def view_a5_pack(frame: bytes) -> dict[str, Any]:
    p = a5.decode_pack(a5.parse_frame(frame).data)
    return {"total_voltage_V": p.voltage, "current_A": p.current, "soc_pct": p.soc}


def view_a5_status(frame: bytes) -> dict[str, Any]:
    s = a5.decode_status(a5.parse_frame(frame).data)
    return {
        "cells": s.cell_count,
        "ntc": s.temperature_count,
        "charger": int(s.charger),
        "load": int(s.load),
        "dio": s.dio,
        "cycles": s.cycles,
    }


def view_a5_mosfet(frame: bytes) -> dict[str, Any]:
    m = a5.decode_mosfet(a5.parse_frame(frame).data)
    return {
        "state": f"{m.state}={STATES[m.state]}",
        "charge_mos": int(m.charge_fet),
        "discharge_mos": int(m.discharge_fet),
        "bms_life": m.life,
        "remaining_mAh": round(m.remaining_capacity * 1000),
    }


# Counts of the mpp-solar unit, from its own 0x94 reply (16 cells, 1 NTC).
MPP_STATUS = a5.decode_status(a5_data("legacy A5 0x94 (status)")[0])


def view_a5_cells(_frame: bytes) -> dict[str, Any]:
    frames = a5_data("legacy A5 0x95 (cell voltages, first 7 of 16 frames)")
    cells = a5.decode_cells(frames, MPP_STATUS.cell_count)
    return {"cells_mV": [round(v * 1000) for v in cells]}


def view_a5_temps(_frame: bytes) -> dict[str, Any]:
    frames = a5_data("legacy A5 0x96 (temperatures)")
    return {
        "temps_C": list(a5.decode_temperatures(frames, MPP_STATUS.temperature_count))
    }


VIEWS: dict[str, Callable[[bytes], dict[str, Any]]] = {
    "D2 status, 80 registers (16S, discharging)": view_d2_80,
    "D2 status, 62 registers (24S, idle)": view_d2_24s,
    "D2 status, 62 registers (8S, no alarms)": view_d2_8s,
    "D2 settings (0x80 x41)": view_settings,
    "D2 version frame (0xA9 x32), real app snoop": view_version,
    "D2 balancer switch read (0xCF)": view_balancer,
    "P81 (0x51 reply) cells/RT1 frame (ESS-DL-BMS)": view_p81,
    "P81 version frame (0x178 x74, ESS-DL-BMS)": view_p81_version,
    "P81 0x100 block (0x100 x81, ESS-DL-BMS)": view_p81_block,
    "legacy A5 0x90 (SOC/V/I)": view_a5_pack,
    "legacy A5 0x90 (BLE snoop, batmon #416)": view_a5_pack,
    "legacy A5 0x94 (BLE snoop, batmon #416)": view_a5_status,
    "legacy A5 0x93 (MOS status)": view_a5_mosfet,
    "legacy A5 0x94 (status)": view_a5_status,
    "legacy A5 0x95 (cell voltages, first 7 of 16 frames)": view_a5_cells,
    "legacy A5 0x96 (temperatures)": view_a5_temps,
}
ALARM_VECTOR = "D2 status 62 regs with alarm bit (reg 0x3A high byte bit0)"
# Captured frames of requests the driver never sends: they must still parse.
UNREQUESTED = {
    "legacy A5 0x91 (min/max cell)": 0x91,  # the cells come from 0x95
}
# Notes in the expected values that describe rather than decode.
NOTES = {"layout"}


def test_every_vector_is_checked() -> None:
    assert set(VECTORS) == set(VIEWS) | {ALARM_VECTOR} | set(UNREQUESTED)


@pytest.mark.parametrize("name", sorted(UNREQUESTED))
def test_unrequested_vector_parses(name: str) -> None:
    assert a5.parse_frame(frame_of(name)).command == UNREQUESTED[name]


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_vector_decodes_exactly(name: str) -> None:
    expected = {k: v for k, v in VECTORS[name]["expected"].items() if k not in NOTES}
    decoded = VIEWS[name](frame_of(name))
    assert {key: decoded[key] for key in expected} == expected


def test_vector_version_layout_is_16_plus_16_bytes() -> None:
    frame = frame_of("D2 version frame (0xA9 x32), real app snoop")
    sw, hw = d2.decode_version(d2.parse_reply(frame).data)
    assert frame[3:19].rstrip(b"\0").decode() == sw
    assert frame[19:35].rstrip(b"\0").decode() == hw


def test_vector_alarm_warning_charge_temperature() -> None:
    vector = VECTORS[ALARM_VECTOR]
    frame = frame_of(ALARM_VECTOR)
    assert frame[119:127].hex(" ") == vector["expected"]["alarm_bytes_at_offset_119"]
    assert "charging temperature too high" in vector["expected"]["meaning"]
    status = d2.decode_status(d2.parse_reply(frame).registers)
    assert status.alarms == {Alarm.CHARGE_OVERTEMPERATURE}
    assert status.protection_code == 0x0100_0000_0000_0000
    # Everything else equals the same unit's frame without the alarm.
    quiet = d2.decode_status(registers("D2 status, 62 registers (8S, no alarms)"))
    assert quiet.alarms == frozenset()
    assert status.cell_voltages == quiet.cell_voltages


def test_p81_status_frame_from_the_same_unit() -> None:
    rt1 = registers("P81 (0x51 reply) cells/RT1 frame (ESS-DL-BMS)")
    status = d2.decode_p81(rt1, d2.parse_reply(P81_RT2_FRAME).registers)
    assert status.state == 2
    assert status.remaining_capacity == 271.2
    assert status.cycles == 7
    assert status.balancing is True
    assert (status.charge_fet, status.discharge_fet) == (True, True)
    assert status.mosfet_temperature == 24.0
    assert status.heater is False
    assert status.protection_code is None


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("D2 status, 80 registers (16S, discharging)", 16),
        ("D2 status, 62 registers (24S, idle)", 24),
        ("D2 status, 62 registers (8S, no alarms)", 8),
    ],
)
def test_d2_status_states_its_cell_count(name: str, count: int) -> None:
    status = d2.decode_status(registers(name))
    assert status.cell_count == count == len(status.cell_voltages)


def test_p81_status_states_its_cell_count() -> None:
    rt1 = registers("P81 (0x51 reply) cells/RT1 frame (ESS-DL-BMS)")
    rt2 = d2.parse_reply(P81_RT2_FRAME).registers
    assert d2.decode_p81(rt1, rt2).cell_count == rt1[0x3C] == 16


@pytest.mark.parametrize("register", [d2.REG_CHARGE, d2.REG_DISCHARGE])
@pytest.mark.parametrize("value", [2, 0x5A3C, 0xFFFF])
def test_settings_with_a_switch_register_not_0_or_1_are_refused(
    register: int, value: int
) -> None:
    # Daly's register list: 0xA5/0xA6 are "0=off or 1=on". Anything else is a
    # frame that only passed its CRC (a forged or spliced block).
    regs = list(registers("D2 settings (0x80 x41)"))
    regs[register - d2.SETTINGS_START] = value
    with pytest.raises(FrameError):
        d2.decode_settings(regs)


def test_switch_flag() -> None:
    assert d2.decode_flag(0, "balancer") is False
    assert d2.decode_flag(1, "balancer") is True
    with pytest.raises(FrameError, match="balancer"):
        d2.decode_flag(0x0100, "balancer")


@pytest.mark.parametrize(
    ("offset", "value"), [(0, 3), (0, 0xFF), (1, 2), (1, 0x80), (2, 0x37)]
)
def test_a5_mosfet_frame_out_of_range_is_refused(offset: int, value: int) -> None:
    data = bytearray(a5.parse_frame(frame_of("legacy A5 0x93 (MOS status)")).data)
    data[offset] = value
    with pytest.raises(FrameError):
        a5.decode_mosfet(bytes(data))


def test_mos_block_appended_to_62_registers() -> None:
    regs = registers("D2 status, 62 registers (24S, idle)")
    block = d2.parse_reply(MOS_BLOCK_FRAME).registers
    status = d2.decode_status(regs + block)
    assert status.mosfet_temperature == 38.0
    assert status.balance_current == 0.0
    assert status.balancing_cells == frozenset()
    assert d2.decode_status(regs).mosfet_temperature is None


def test_mos_temperature_absent_when_register_is_empty() -> None:
    regs = list(registers("D2 status, 80 registers (16S, discharging)"))
    for raw in (0, 0xFFFF):
        regs[0x42] = raw
        assert d2.decode_status(regs).mosfet_temperature is None


# Request frames from protocols.md §3.2 (D2/P81) and §3.6 (A5).
D2_REQUESTS = [
    (d2.build_read(0, 0x3E), "D2 03 00 00 00 3E D7 B9"),
    (d2.build_read(0, 0x50), "D2 03 00 00 00 50 56 55"),
    (d2.build_read(0x3E, 9), "D2 03 00 3E 00 09 F7 A3"),
    (d2.build_read(0x80, 0x29), "D2 03 00 80 00 29 96 5F"),
    (d2.build_read(0xA9, 0x20), "D2 03 00 A9 00 20 87 91"),
    (d2.build_read(0xC9, 3), "D2 03 00 C9 00 03 C6 56"),
    (d2.build_read(0xCF, 1), "D2 03 00 CF 00 01 A7 96"),
    (d2.build_write(0xA5, 1), "D2 06 00 A5 00 01 4B 8A"),
    (d2.build_write(0xA5, 0), "D2 06 00 A5 00 00 8A 4A"),
    (d2.build_write(0xA6, 1), "D2 06 00 A6 00 01 BB 8A"),
    (d2.build_write(0xA6, 0), "D2 06 00 A6 00 00 7A 4A"),
    (d2.build_write(0xCF, 1), "D2 06 00 CF 00 01 6B 96"),
    (d2.build_write(0xCF, 0), "D2 06 00 CF 00 00 AA 56"),
    (d2.build_write(0xF0, 1), "D2 06 00 F0 00 01 5B 9A"),
    (d2.build_read(0, 0x40, d2.P81_ADDRESS), "81 03 00 00 00 40 5B FA"),
    (d2.build_read(0x41, 0x3E, d2.P81_ADDRESS), "81 03 00 41 00 3E 8B CE"),
    (d2.build_read(0x178, 0x4A, d2.P81_ADDRESS), "81 03 01 78 00 4A 5A 18"),
]
ZEROS = "00 " * 8


def a5_hex(host: str, command: str, first: str, last: str) -> str:
    return f"A5 {host} {command} 08 {first} {'00 ' * 7}{last}"


A5_REQUESTS = [
    *(
        (a5.build_request(cmd), f"A5 80 {cmd:02X} 08 {ZEROS}{0xBD + i:02X}")
        for i, cmd in enumerate(range(0x90, 0x99))
    ),
    (a5.build_request(0xD9, data=b"\x01"), a5_hex("80", "D9", "01", "07")),
    (a5.build_request(0xD9, data=b"\x00"), a5_hex("80", "D9", "00", "06")),
    (a5.build_request(0xDA, data=b"\x01"), a5_hex("80", "DA", "01", "08")),
    (a5.build_request(0xDA, data=b"\x00"), a5_hex("80", "DA", "00", "07")),
    (a5.build_request(0x90, a5.HOST_UART), f"A5 40 90 08 {ZEROS}7D"),
    (a5.build_request(0xD9, a5.HOST_UART, b"\x01"), a5_hex("40", "D9", "01", "C7")),
    (a5.build_request(0xDA, a5.HOST_UART, b"\x01"), a5_hex("40", "DA", "01", "C8")),
    (a5.build_request(0xDA, a5.HOST_UART, b"\x00"), a5_hex("40", "DA", "00", "C7")),
]


@pytest.mark.parametrize(("built", "expected"), D2_REQUESTS + A5_REQUESTS)
def test_request_frames_are_byte_exact(built: bytes, expected: str) -> None:
    assert built == bytes.fromhex(expected)


def test_a5_data_longer_than_eight_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="eight"):
        a5.build_request(0x90, data=bytes(9))


def test_crc_error_is_rejected() -> None:
    frame = bytearray(frame_of("D2 status, 62 registers (24S, idle)"))
    frame[50] ^= 0x01
    with pytest.raises(ChecksumError):
        d2.parse_reply(bytes(frame))
    frames, errors = DalyReassembler().feed(bytes(frame))
    assert frames == []
    assert any(isinstance(e, ChecksumError) for e in errors)


def test_sum_error_is_rejected() -> None:
    frame = bytearray(frame_of("legacy A5 0x90 (SOC/V/I)"))
    frame[6] ^= 0x10
    with pytest.raises(ChecksumError):
        a5.parse_frame(bytes(frame))
    frames, errors = DalyReassembler().feed(bytes(frame))
    assert frames == []
    assert isinstance(errors[0], ChecksumError)


@pytest.mark.parametrize(
    "frame",
    [
        bytes.fromhex("d20302000100"),  # one byte short
        bytes.fromhex("d2070000"),  # unknown function
        bytes.fromhex("a501900700000000000000000000"),  # length byte 7
    ],
)
def test_malformed_frames_are_frame_errors(frame: bytes) -> None:
    parse = a5.parse_frame if frame[0] == a5.START else d2.parse_reply
    with pytest.raises(FrameError):
        parse(frame)


def test_modbus_exception_reply() -> None:
    frame = bytes((0xD2, 0x83, 0x02))
    frame += d2.crc16(frame).to_bytes(2, "little")
    reply = d2.parse_reply(frame)
    assert reply.is_exception
    assert reply.data == b"\x02"


def test_cell_and_temperature_counts_are_bounded() -> None:
    regs = list(registers("D2 status, 62 registers (24S, idle)"))
    regs[0x31] = 33
    with pytest.raises(FrameError):
        d2.decode_status(regs)
    regs[0x31], regs[0x32] = 24, 9
    with pytest.raises(FrameError):
        d2.decode_status(regs)
    with pytest.raises(FrameError):
        d2.decode_status(regs[:61])


def test_reassembler_splits_notifications_and_skips_garbage() -> None:
    d2_frame = frame_of("D2 status, 80 registers (16S, discharging)")
    a5_frames = frame_of("legacy A5 0x95 (cell voltages, first 7 of 16 frames)")
    stream = b"AT\r\n" + d2_frame + a5_frames + frame_of("legacy A5 0x93 (MOS status)")
    for size in (1, 13, 20, 26, 128, len(stream)):
        reassembler = DalyReassembler()
        frames: list[bytes] = []
        for i in range(0, len(stream), size):
            got, errors = reassembler.feed(stream[i : i + size])
            assert errors == []
            frames += got
        assert frames[0] == d2_frame
        assert len(frames) == 9
        assert b"".join(frames[1:8]) == a5_frames


def test_reassembler_takes_a5_frames_from_the_bms_address_only() -> None:
    # Replies come from BMS address 0x01 (every capture: "a501..."); a request
    # (host 0x80 or 0x40) echoed back, or a splice, is not a reply.
    reply = frame_of("legacy A5 0x90 (SOC/V/I)")
    for host in (a5.HOST_BLE, a5.HOST_UART):
        echoed = a5.build_request(a5.PACK, host)
        frames, errors = DalyReassembler().feed(echoed + reply)
        assert frames == [reply]
        assert errors == []


def test_reassembler_recovers_after_a_corrupt_frame() -> None:
    good = frame_of("legacy A5 0x90 (SOC/V/I)")
    bad = bytearray(frame_of("D2 balancer switch read (0xCF)"))
    bad[-1] ^= 0xFF
    frames, errors = DalyReassembler().feed(bytes(bad) + good)
    assert frames == [good]
    assert errors


def protocol_lines(run: Callable[[], object]) -> int:
    """How many lines of the protocol package execute while ``run`` runs.

    A count of operations, not a timing: the same on any machine.
    """
    monitoring = sys.monitoring
    tool = next(i for i in range(6) if monitoring.get_tool(i) is None)
    package = str(Path(daly_stream.__file__).parents[1])
    count = 0

    def on_line(code: CodeType, _line: int) -> None:
        nonlocal count
        if code.co_filename.startswith(package):
            count += 1

    monitoring.use_tool_id(tool, "daly reassembler work")
    monitoring.register_callback(tool, monitoring.events.LINE, on_line)
    monitoring.set_events(tool, monitoring.events.LINE)
    try:
        run()
    finally:
        monitoring.set_events(tool, monitoring.events.NO_EVENTS)
        monitoring.register_callback(tool, monitoring.events.LINE, None)
        monitoring.free_tool_id(tool)
    return count


def lines_per_byte(stream: bytes, chunk: int) -> float:
    reassembler = DalyReassembler()

    def feed_all() -> None:
        for i in range(0, len(stream), chunk):
            reassembler.feed(stream[i : i + chunk])

    return protocol_lines(feed_all) / len(stream)


# Streams that make almost every byte the start of a candidate frame.
HOSTILE = {
    # A Modbus header claiming 215 bytes at every second byte.
    "d2 headers": lambda n: b"\xd2\x03" * (n // 2),
    # Headers of the longest reply (255 bytes) from both Modbus addresses.
    "longest headers": lambda n: b"\xd2\x03\xfa\x51\x03\xfa" * (n // 6),
    # A5 headers every four bytes: a 13-byte candidate each.
    "a5 headers": lambda n: b"\xa5\x01\x90\x08" * (n // 4),
    "random": lambda n: Random(10).randbytes(n),
    "random starts": lambda n: bytes(
        Random(10).choice(b"\xa5\xd2\x51\x03\x08\x10") for _ in range(n)
    ),
}
# Python lines per byte the reassembler may run, whatever the stream (about 85
# at worst, for "d2 headers" fed byte by byte). Computing the CRC of every
# candidate, as the reassembler did before, ran about 1,900 per byte there.
LINES_PER_BYTE = 100


@pytest.mark.parametrize("chunk", [1, 20, 244])
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_reassembler_work_per_byte_is_bounded(name: str, chunk: int) -> None:
    short = lines_per_byte(HOSTILE[name](3000), chunk)
    long = lines_per_byte(HOSTILE[name](30000), chunk)
    assert short <= LINES_PER_BYTE
    # Ten times the bytes, about ten times the work: nothing grows with the
    # length of the stream.
    assert long <= short * 1.2


def test_reassembler_finds_a_frame_inside_a_hostile_stream() -> None:
    good = frame_of("D2 status, 80 registers (16S, discharging)")
    for hostile in HOSTILE.values():
        # The zeros complete the candidates still waiting for their length.
        stream = hostile(3000) + good + hostile(600) + good + bytes(300)
        reassembler = DalyReassembler()
        frames: list[bytes] = []
        for i in range(0, len(stream), 20):
            frames += reassembler.feed(stream[i : i + 20])[0]
        assert frames.count(good) == 2


def cells_frames(values_mv: list[int], count: int = 16) -> list[bytes]:
    padded = values_mv + [0] * (3 * count - len(values_mv))
    return [
        bytes((n + 1,))
        + b"".join(v.to_bytes(2, "big") for v in padded[3 * n : 3 * n + 3])
        + b"\0"
        for n in range(count)
    ]


def test_multi_frame_reply_with_a_frame_missing() -> None:
    frames = a5_data("legacy A5 0x95 (cell voltages, first 7 of 16 frames)")
    with pytest.raises(FrameError, match="frame 3 missing"):
        a5.decode_cells(frames[:2] + frames[3:], 16)
    with pytest.raises(FrameError, match="5 of 6"):
        a5.decode_cells(frames[:5], 16)
    # The frames past the last needed one may be missing.
    assert len(a5.decode_cells(frames[:6], 16)) == 16
    temps = a5_data("legacy A5 0x96 (temperatures)")
    with pytest.raises(FrameError):
        a5.decode_temperatures(temps[1:], 1)
    with pytest.raises(FrameError):
        a5.decode_cells(cells_frames([3300] * 3), 49)


def test_failure_bytes_map_like_the_d2_registers() -> None:
    data = bytes((0x02, 0, 0, 0, 0x10, 0x01, 0x04, 0x07))
    alarms, code = a5.decode_failures(data)
    assert alarms == {
        Alarm.CELL_OVERVOLTAGE,
        Alarm.MOSFET_FAULT,
        Alarm.FRONTEND_ERROR,
        Alarm.SHORT_CIRCUIT,
    }
    assert code == int.from_bytes(data, "big")
    regs = list(registers("D2 status, 62 registers (24S, idle)"))
    regs[0x3A:0x3E] = [0x0002, 0x0000, 0x0110, 0x0004]
    assert d2.decode_status(regs).alarms == alarms


@pytest.mark.parametrize("bit", range(64))
def test_every_alarm_bit_names_at_most_one_supported_alarm(bit: int) -> None:
    alarms = decode_alarm_bytes((1 << bit).to_bytes(8, "little"))
    assert len(alarms) <= 1
    assert alarms <= SUPPORTED_ALARMS
    if bit < 28 or 32 <= bit < 48 or bit in (48, 49, 50):
        assert alarms


def test_balancing_bitmap() -> None:
    assert a5.decode_balancing(bytes((0b101, 0x80, 0, 0, 0, 0, 0, 0)), 16) == {
        1,
        3,
        16,
    }
    assert a5.decode_balancing(bytes((0, 0x80, 0, 0, 0, 0, 0, 0)), 8) == frozenset()


# Fuzzing.


def modbus(registers: list[int], address: int = d2.D2_ADDRESS) -> bytes:
    payload = b"".join(r.to_bytes(2, "big") for r in registers)
    body = bytes((address, d2.READ, len(payload))) + payload
    return body + d2.crc16(body).to_bytes(2, "little")


def a5_reply(command: int, data: bytes) -> bytes:
    body = bytes((a5.START, 0x01, command, 8)) + data
    return body + bytes((a5.checksum(body),))


u16 = st.integers(0, 0xFFFF)
frame_strategy = st.one_of(
    st.lists(u16, min_size=1, max_size=80).map(modbus),
    st.lists(u16, min_size=1, max_size=64).map(
        lambda r: modbus(r, d2.P81_REPLY_ADDRESS)
    ),
    st.builds(a5_reply, st.integers(0x90, 0x98), st.binary(min_size=8, max_size=8)),
)
junk = st.binary(max_size=6).map(
    lambda b: bytes(x for x in b if x not in (0xA5, 0xD2, 0x51))
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(junk, frame_strategy), min_size=1, max_size=6),
    st.lists(st.integers(1, 40), min_size=1, max_size=30),
)
def test_fuzz_reassembler_recovers_every_frame(
    parts: list[tuple[bytes, bytes]], cuts: list[int]
) -> None:
    stream = b"".join(j + f for j, f in parts)
    reassembler = DalyReassembler()
    frames: list[bytes] = []
    pos = 0
    for cut in [*cuts, len(stream)]:
        got, errors = reassembler.feed(stream[pos : pos + cut])
        assert errors == []
        frames += got
        pos += cut
    frames += reassembler.feed(stream[pos:])[0]
    assert frames == [f for _, f in parts]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.integers(1, 64))
def test_fuzz_reassembler_output_is_always_valid(data: bytes, size: int) -> None:
    reassembler = DalyReassembler()
    for i in range(0, len(data), size):
        frames, errors = reassembler.feed(data[i : i + size])
        assert all(isinstance(e, ProtocolError) for e in errors)
        for frame in frames:
            if frame[0] == a5.START:
                a5.parse_frame(frame)
            else:
                d2.parse_reply(frame)


@settings(max_examples=200, deadline=None)
@given(st.lists(u16, min_size=62, max_size=80))
def test_fuzz_status_decoder(regs: list[int]) -> None:
    try:
        status = d2.decode_status(regs)
    except FrameError:
        assert regs[0x31] > 32 or regs[0x32] > 8
        return
    assert len(status.cell_voltages) == regs[0x31]
    assert len(status.temperatures) == regs[0x32]
    assert status.alarms <= SUPPORTED_ALARMS
    assert (status.mosfet_temperature is None) == (
        len(regs) <= 0x42 or regs[0x42] in (0, 0xFFFF)
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(2500, 4300), min_size=1, max_size=48),
    st.integers(0, 15),
    st.sampled_from(["drop", "swap", "repeat", "none"]),
)
def test_fuzz_cell_frames_never_give_a_wrong_value(
    cells: list[int], index: int, mutation: str
) -> None:
    frames = cells_frames(cells)
    if mutation == "drop":
        del frames[index]
    elif mutation == "swap" and index < 15:
        frames[index], frames[index + 1] = frames[index + 1], frames[index]
    elif mutation == "repeat":
        frames.insert(index, frames[index])
    needed = a5.frames_needed(len(cells), a5.CELLS_PER_FRAME)
    try:
        decoded = a5.decode_cells(frames, len(cells))
    except FrameError:
        assert mutation != "none"
        return
    assert mutation != "drop" or index >= needed
    assert [round(v * 1000) for v in decoded] == cells


@settings(max_examples=200, deadline=None)
@given(st.lists(u16, min_size=64, max_size=64), st.lists(u16, min_size=62, max_size=62))
def test_fuzz_p81_decoder(rt1: list[int], rt2: list[int]) -> None:
    try:
        status = d2.decode_p81(rt1, rt2)
    except FrameError:
        assert rt1[0x3C] > 48 or rt1[0x3D] > 8
        return
    assert len(status.cell_voltages) == rt1[0x3C]
    assert status.balancing_cells is not None
    assert max(status.balancing_cells, default=1) <= 48


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=8, max_size=8))
def test_fuzz_a5_single_frame_decoders(data: bytes) -> None:
    frame = a5_reply(a5.PACK, data)
    assert a5.parse_frame(frame).data == data
    pack = a5.decode_pack(data)
    assert -3000.0 <= pack.current <= 3553.5
    if data[0] <= 2 and data[1] <= 1 and data[2] <= 1:
        assert a5.decode_mosfet(data).remaining_capacity >= 0
    else:
        with pytest.raises(FrameError):
            a5.decode_mosfet(data)
    assert a5.decode_status(data).cycles == int.from_bytes(data[5:7], "big")
    alarms, code = a5.decode_failures(data)
    assert alarms <= SUPPORTED_ALARMS
    assert code.to_bytes(8, "big") == data
    assert a5.decode_balancing(data, 64) == {
        i + 1 for i in range(64) if int.from_bytes(data, "little") >> i & 1
    }
