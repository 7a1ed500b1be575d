"""Seplos V2 on RS485: YD/T1363 ASCII frames, CID1 0x46, one pack per ADR.

Source of every layout: the SEPLOS BMS Communication Protocol V2.0 as quoted in
syssi/esphome-seplos-bms ``docs/SEPLOS BMS Communication Protocol_V2.0.md``
@ 6478c14036aad7c3a90dc4238b7f3c8b392f8ba3 (Tables 7-13): telemetry (0x42)
and telesignalisation (0x44) take one INFO byte, the COMMAND_GROUP, which an
RS485 pack checks against its DIP address. The device vendor reply (0x51)
follows the YD/T1363 "get manufacturer info" layout of the PYLON RS485
protocol V3.3 in the same repository (``docs/PYLON RS485-protocol-V3.3-
20180821.pdf``, section 3.2: name 10, software version 2, manufacturer 20).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..codecs import ydt1363
from ..errors import FrameError, UnsupportedError
from ..snapshot import Alarm
from .frames import (
    CELL_PROBES,
    CELL_TEMPERATURE_EVENTS,
    MAX_CELLS,
    VOLTAGE_EVENTS,
    BitTable,
    SeplosMeasurement,
    SeplosStatus,
    bit_alarms,
    cells_of,
    supported,
    temperature,
)

VER = 0x20
CID1 = 0x46
TELEMETRY = 0x42
TELESIGNAL = 0x44
VENDOR = 0x51
RTN_NORMAL = 0x00
RTN_CID2_INVALID = 0x04
# Table 5: the return codes a pack answers with (a request carries a command).
RETURN_CODES = frozenset({*range(0x08), *range(0xE1, 0xE5)})
MAX_ADDRESS = 15
TEMPERATURES = CELL_PROBES + 2  # four cells, environment, power

# Table 13, alarm event 1: sensor, switch and cell-line faults.
FAULT_EVENTS: BitTable = {
    0: Alarm.HARDWARE_FAULT,  # voltage sensor
    1: Alarm.TEMPERATURE_SENSOR_FAULT,
    2: Alarm.HARDWARE_FAULT,  # current sensor
    3: Alarm.HARDWARE_FAULT,  # key switch
    4: Alarm.HARDWARE_FAULT,  # cell voltage dropout
    5: Alarm.MOSFET_FAULT,  # charge switch
    6: Alarm.MOSFET_FAULT,  # discharge switch
    7: Alarm.MOSFET_FAULT,  # current limit switch
}
# Alarm event 4: only the power (MOSFET) bits have a key; the environment
# temperature and "cell low temperature heating" have none.
POWER_TEMPERATURE_EVENTS: BitTable = {
    4: Alarm.MOSFET_OVERTEMPERATURE,
    5: Alarm.MOSFET_OVERTEMPERATURE,
}
# Alarm event 5: currents; transient over current is the fast discharge trip.
CURRENT_EVENTS: BitTable = {
    0: Alarm.CHARGE_OVERCURRENT,
    1: Alarm.CHARGE_OVERCURRENT,
    2: Alarm.DISCHARGE_OVERCURRENT,
    3: Alarm.DISCHARGE_OVERCURRENT,
    4: Alarm.DISCHARGE_OVERCURRENT,
    5: Alarm.SHORT_CIRCUIT,
    6: Alarm.DISCHARGE_OVERCURRENT,
    7: Alarm.SHORT_CIRCUIT,
}
# Alarm event 6 (bit 1, "intermittent recharge waiting", is a state).
OUTPUT_EVENTS: BitTable = {
    0: Alarm.PACK_OVERVOLTAGE,  # charge high voltage protection
    2: Alarm.SOC_LOW,  # residual capacity alarm
    3: Alarm.SOC_LOW,  # residual capacity protection
    4: Alarm.CELL_UNDERVOLTAGE,  # cell low voltage charging prohibition
    5: Alarm.HARDWARE_FAULT,  # output reverse polarity
    6: Alarm.HARDWARE_FAULT,  # output connection fault
}
# Alarm event 8: storage and clock (the "calibration not performed" bits are
# no fault of the pack).
SYSTEM_EVENTS: BitTable = {0: Alarm.HARDWARE_FAULT, 1: Alarm.HARDWARE_FAULT}
EVENT_TABLES = (
    FAULT_EVENTS,
    VOLTAGE_EVENTS,
    CELL_TEMPERATURE_EVENTS,
    POWER_TEMPERATURE_EVENTS,
    CURRENT_EVENTS,
    OUTPUT_EVENTS,
)
SUPPORTED_ALARMS = supported(*EVENT_TABLES, SYSTEM_EVENTS)
# After the P byte: events 1-6, on-off, balancing 1-2, system state,
# disconnection 1-2, events 7 and 8.
ON_OFF = 6
BALANCE = 7
EVENT_8 = 13
CUSTOM_FLAGS = 14


def build_request(address: int, command: int) -> bytes:
    """A request to the pack at ``address`` (0x42 and 0x44 carry it as INFO)."""
    if not 0 <= address <= MAX_ADDRESS:
        raise ValueError(f"Seplos V2 address {address} is outside 0-{MAX_ADDRESS}")
    info = b"" if command == VENDOR else bytes((address,))
    return ydt1363.build_frame(VER, address, CID1, command, info)


def is_reply(frame: bytes) -> bool:
    """Whether a valid frame is a pack's reply (its CID2 is a return code)."""
    return int(frame[7:9], 16) in RETURN_CODES


def reply_info(frame: bytes) -> bytes:
    """The INFO of a pack's normal reply; refusals raise."""
    parsed = ydt1363.parse_frame(frame)
    if parsed.cid1 != CID1:
        raise FrameError(f"Seplos V2 reply of device type {parsed.cid1:#04x}")
    if parsed.cid2 == RTN_CID2_INVALID:
        raise UnsupportedError("the pack does not know the command")
    if parsed.cid2 != RTN_NORMAL:
        raise FrameError(f"Seplos V2 pack returned code {parsed.cid2:#04x}")
    return parsed.info


class _Reader:
    """Reads an INFO field by field, refusing one that ends too early."""

    def __init__(self, info: bytes) -> None:
        self.info = info
        self.pos = 0

    def take(self, size: int) -> bytes:
        end = self.pos + size
        if end > len(self.info):
            raise FrameError("Seplos V2 INFO ends too early")
        chunk, self.pos = self.info[self.pos : end], end
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self, *, signed: bool = False) -> int:
        return int.from_bytes(self.take(2), "big", signed=signed)

    def count(self, low: int, high: int, what: str) -> int:
        value = self.u8()
        if not low <= value <= high:
            raise FrameError(f"Seplos V2 {what} count {value} is outside {low}-{high}")
        return value


def decode_telemetry(info: bytes) -> SeplosMeasurement:
    """The telemetry reply (0x42, Table 8)."""
    read = _Reader(info)
    read.take(2)  # DATA FLAG, COMMAND GROUP
    cells = read.count(1, MAX_CELLS, "cell")
    voltages = tuple(read.u16() / 1000 for _ in range(cells))
    probes = read.count(TEMPERATURES, 0xFF, "temperature")
    temps = tuple(temperature(read.u16()) for _ in range(probes))
    current = read.u16(signed=True) / 100
    voltage = read.u16() / 100
    remaining = read.u16() / 100
    read.u8()  # custom number P
    full = read.u16() / 100
    soc = read.u16() / 10
    rated = read.u16() / 100
    cycles = read.u16()
    soh = read.u16() / 10
    return SeplosMeasurement(
        voltage=voltage,
        current=current,
        cell_voltages=voltages,
        cell_temperatures=temps[:CELL_PROBES],
        ambient_temperature=temps[CELL_PROBES],
        mosfet_temperature=temps[CELL_PROBES + 1],
        remaining_capacity=remaining,
        full_capacity=full,
        design_capacity=rated,
        state_of_charge=soc,
        state_of_health=soh,
        cycles=cycles,
        reported_cell_count=cells,
    )


def decode_telesignal(info: bytes) -> SeplosStatus:
    """The telesignalisation reply (0x44, Tables 11-13)."""
    read = _Reader(info)
    read.take(2)  # DATA FLAG, COMMAND GROUP
    read.take(read.count(1, MAX_CELLS, "cell"))  # per-cell byte alarms
    read.take(read.count(0, 0xFF, "temperature"))  # per-probe byte alarms
    read.take(2)  # current and pack voltage byte alarms
    flags = read.take(read.count(CUSTOM_FLAGS, 0xFF, "custom alarm"))
    events = (*flags[:ON_OFF], flags[EVENT_8])
    return SeplosStatus(
        alarms=bit_alarms(zip(events, (*EVENT_TABLES, SYSTEM_EVENTS), strict=True)),
        fets=flags[ON_OFF],
        balancing_cells=cells_of(flags[BALANCE], flags[BALANCE + 1]),
        protection_code=int.from_bytes(bytes(events), "big"),
    )


def _text(data: bytes) -> str | None:
    return data.split(b"\x00", 1)[0].decode("ascii", "replace").strip() or None


@dataclass(frozen=True, slots=True)
class VendorInfo:
    """The device vendor reply (0x51)."""

    name: str | None
    software: str
    manufacturer: str | None


def decode_vendor(info: bytes) -> VendorInfo:
    """Name (10 bytes ASCII), software version (2 bytes), manufacturer (20)."""
    read = _Reader(info)
    name = _text(read.take(10))
    major, minor = read.take(2)
    return VendorInfo(name, f"{major}.{minor}", _text(read.take(20)))
