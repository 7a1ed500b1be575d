"""Gobel Power BLE BMS: Modbus RTU holding registers of device 0x01.

Two reads, both function 0x03: the status block (59 registers from 0x0000)
and the device information block (35 registers from 0x00AA). Source of the
requests, the layout and the GATT UUIDs: patman15/aiobmsble
``aiobmsble/bms/gobel_bms.py`` and ``docs/gobel_bms.md``
@ b0567331025033d33729385fa89a1198275d6486 (the PACE Modbus register map:
current, voltage, SOC, SOH, remaining / full capacity, cycles, three status
registers, MOSFET register, cell count, cells, probe count, probes, MOSFET
probe). Register 6, which aiobmsble leaves unnamed, is the design capacity:
a second public reader of the same service reads it so (a Flutter app that
asks the same two blocks; the code index holds it without naming its
repository), and the captures agree: 31400 in the ``GP-LA12-314`` pack's
reply, 10000 in the 8-register notification of a 100 Ah Dyness AR1.2 quoted
in patman15/BMS_BLE-HA issue #749 (``0103100000051b004800641d85292227100001``).

The three status registers (8-10: alarm, protection, fault) have no public
bit table: they stay in ``protection_code`` and raise no named alarm.
Register 11 is not read: aiobmsble calls it the balance status, but its
capture shows 0x0C00 on a 4-cell pack with 3 mV spread, which no per-cell
mask explains.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..codecs import modbus
from ..errors import FrameError
from ..fields import Field, Layout, read_fields
from ..snapshot import BatterySnapshot, DeviceInfo, Temperature, TemperatureKind

SERVICE = "00002760-08c2-11e1-9073-0e8ac72e1001"
WRITE = "00002760-08c2-11e1-9073-0e8ac72e0001"
NOTIFY = "00002760-08c2-11e1-9073-0e8ac72e0002"

DEVICE = 0x01
FUNCTION = modbus.READ_HOLDING
STATUS_START, STATUS_COUNT = 0x0000, 0x3B
INFO_START, INFO_COUNT = 0x00AA, 0x23
STATUS_BYTES = 2 * STATUS_COUNT
INFO_BYTES = 2 * INFO_COUNT

# Byte offsets in the status data (register n at 2n).
MOSFETS = 28  # register 14
CHARGE_FET = 0x4000
DISCHARGE_FET = 0x8000
CELL_COUNT = 30  # register 15, low byte
CELLS = 32  # register 16 on
PROBE_COUNT = 92  # register 46, low byte
PROBES = 94  # register 47 on
MOSFET_PROBE = 114  # register 57; 0xFFFF: no probe
NO_PROBE = 0xFFFF
# The registers between the counts and the next field bound the counts.
MAX_CELLS = (PROBE_COUNT - CELLS) // 2
MAX_PROBES = (MOSFET_PROBE - PROBES) // 2
STATUS_CODE = slice(16, 22)  # registers 8-10

STATUS_FIELDS = Layout(
    Field("current", 0, 2, signed=True, scale=0.01, decimals=2),
    Field("voltage", 2, 2, scale=0.01, decimals=2),
    Field("state_of_charge", 4, 2),
    Field("state_of_health", 6, 2),
    Field("remaining_capacity", 8, 2, scale=0.01, decimals=2),
    Field("full_capacity", 10, 2, scale=0.01, decimals=2),
    Field("design_capacity", 12, 2, scale=0.01, decimals=2),
    Field("cycles", 14, 2),
)

# Device information: ASCII, NUL or space padded.
SOFTWARE = slice(0, 18)
SERIAL = slice(20, 40)
MODEL = slice(40, 60)


def status_request() -> bytes:
    """The read of the status block."""
    return modbus.read_request(DEVICE, STATUS_START, STATUS_COUNT, FUNCTION)


def info_request() -> bytes:
    """The read of the device information block."""
    return modbus.read_request(DEVICE, INFO_START, INFO_COUNT, FUNCTION)


def _u16(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 2], "big")


def _s16(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 2], "big", signed=True)


@dataclass(frozen=True, slots=True)
class GobelStatus:
    """The status block, decoded."""

    values: dict[str, float]
    cell_voltages: tuple[float, ...]
    temperatures: tuple[Temperature, ...]
    charge_mosfet: bool
    discharge_mosfet: bool
    status_code: int

    def snapshot(self) -> BatterySnapshot:
        """The reading as a snapshot."""
        values = self.values
        return BatterySnapshot(
            voltage=values["voltage"],
            current=values["current"],
            cell_voltages=self.cell_voltages,
            temperatures=self.temperatures,
            state_of_charge=values["state_of_charge"],
            state_of_health=values["state_of_health"],
            remaining_capacity=values["remaining_capacity"],
            full_capacity=values["full_capacity"],
            design_capacity=values["design_capacity"],
            cycles=int(values["cycles"]),
            charge_mosfet=self.charge_mosfet,
            discharge_mosfet=self.discharge_mosfet,
            protection_code=self.status_code,
            reported_cell_count=len(self.cell_voltages),
        )


def decode_status(data: bytes) -> GobelStatus:
    """The status block's data (118 bytes, without header and CRC)."""
    if len(data) != STATUS_BYTES:
        raise FrameError(f"Gobel status of {len(data)} bytes")
    cells = data[CELL_COUNT + 1]
    probes = data[PROBE_COUNT + 1]
    if cells > MAX_CELLS or probes > MAX_PROBES:
        raise FrameError(f"Gobel status with {cells} cells, {probes} probes")
    temperatures = [
        Temperature(TemperatureKind.CELL, _s16(data, PROBES + 2 * i) / 10)
        for i in range(probes)
    ]
    if _u16(data, MOSFET_PROBE) != NO_PROBE:
        mosfet = _s16(data, MOSFET_PROBE) / 10
        temperatures.append(Temperature(TemperatureKind.MOSFET, mosfet))
    mosfets = _u16(data, MOSFETS)
    return GobelStatus(
        values=read_fields(STATUS_FIELDS, data),
        cell_voltages=tuple(_u16(data, CELLS + 2 * i) / 1000 for i in range(cells)),
        temperatures=tuple(temperatures),
        charge_mosfet=bool(mosfets & CHARGE_FET),
        discharge_mosfet=bool(mosfets & DISCHARGE_FET),
        status_code=int.from_bytes(data[STATUS_CODE], "big"),
    )


def _text(raw: bytes) -> str | None:
    text = raw.decode("ascii", "replace").strip("\x00 ")
    return text or None


def decode_info(data: bytes, manufacturer: str) -> DeviceInfo:
    """The device information block's data (70 bytes)."""
    if len(data) != INFO_BYTES:
        raise FrameError(f"Gobel device information of {len(data)} bytes")
    return DeviceInfo(
        manufacturer=manufacturer,
        model=_text(data[MODEL]),
        sw_version=_text(data[SOFTWARE]),
        serial_number=_text(data[SERIAL]),
    )
