"""What the Daly protocol variants share: the decoded status and the alarm bits.

The D2 alarm registers 0x3A-0x3D and the legacy 0x98 failure bytes carry the
same bits in the same order once the D2 registers are read low byte first:
bit ``n`` is bit ``n % 8`` of legacy byte ``n // 8`` (0x3A low byte = byte 0).
"""

from __future__ import annotations

from typing import NamedTuple

from ..snapshot import Alarm

_PAIRS = (
    Alarm.CELL_OVERVOLTAGE,
    Alarm.CELL_UNDERVOLTAGE,
    Alarm.PACK_OVERVOLTAGE,
    Alarm.PACK_UNDERVOLTAGE,
    Alarm.CHARGE_OVERTEMPERATURE,
    Alarm.CHARGE_UNDERTEMPERATURE,
    Alarm.DISCHARGE_OVERTEMPERATURE,
    Alarm.DISCHARGE_UNDERTEMPERATURE,
    Alarm.CHARGE_OVERCURRENT,
    Alarm.DISCHARGE_OVERCURRENT,
    Alarm.SOC_HIGH,
    Alarm.SOC_LOW,
    Alarm.CELL_VOLTAGE_DIFFERENCE,
    Alarm.TEMPERATURE_DIFFERENCE,
)

# Bits 0-27: a warning bit then a critical bit per condition (bytes 0-3).
# Bits 32-47: MOS and hardware faults (0x3C, legacy bytes 4-5).
# Bits 48-51: legacy byte 6 (current module, voltage detection, short circuit,
# low-voltage no-charge; the last one is a state and stays unnamed).
ALARM_BITS: dict[int, Alarm] = {
    **{2 * i + level: alarm for i, alarm in enumerate(_PAIRS) for level in (0, 1)},
    32: Alarm.MOSFET_OVERTEMPERATURE,
    33: Alarm.MOSFET_OVERTEMPERATURE,
    34: Alarm.TEMPERATURE_SENSOR_FAULT,
    35: Alarm.TEMPERATURE_SENSOR_FAULT,
    36: Alarm.MOSFET_FAULT,
    37: Alarm.MOSFET_FAULT,
    38: Alarm.MOSFET_FAULT,
    39: Alarm.MOSFET_FAULT,
    40: Alarm.FRONTEND_ERROR,
    41: Alarm.HARDWARE_FAULT,
    42: Alarm.TEMPERATURE_SENSOR_FAULT,
    **dict.fromkeys(range(43, 48), Alarm.HARDWARE_FAULT),
    48: Alarm.HARDWARE_FAULT,
    49: Alarm.HARDWARE_FAULT,
    50: Alarm.SHORT_CIRCUIT,
}
SUPPORTED_ALARMS: frozenset[Alarm] = frozenset(ALARM_BITS.values())


def decode_alarm_bytes(data: bytes) -> frozenset[Alarm]:
    """Named alarms from the failure bytes in legacy order (byte 0 = 0x3A low)."""
    bits = int.from_bytes(data[:7], "little")
    return frozenset(alarm for bit, alarm in ALARM_BITS.items() if bits >> bit & 1)


class DalyStatus(NamedTuple):
    """One reading of a Daly pack, whatever the protocol variant.

    ``state`` is the BMS's own direction: 0 idle, 1 charging, 2 discharging.
    ``cell_count`` is the count the frame states. Optional fields are None
    when the variant or the read does not carry them.
    """

    voltage: float
    current: float
    soc: float
    cell_voltages: tuple[float, ...]
    cell_count: int
    temperatures: tuple[float, ...]
    remaining_capacity: float
    cycles: int
    charge_fet: bool
    discharge_fet: bool
    state: int
    balancing: bool | None = None
    balancing_cells: frozenset[int] | None = None
    balance_current: float | None = None
    mosfet_temperature: float | None = None
    heater: bool | None = None
    alarms: frozenset[Alarm] = frozenset()
    protection_code: int | None = None
