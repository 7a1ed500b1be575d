"""EG4 status block: Modbus holding registers 0x00-0x26 of device 0x01.

The BLE module answers a Modbus RTU read (function 0x03) of 39 registers
with the pack's status. Layout sources, two decoders of the same map:
patman15/aiobmsble ``aiobmsble/bms/eg4_bms.py``
@ b0567331025033d33729385fa89a1198275d6486 (over BLE) and
mr-manuel/venus-os_dbus-serialbattery ``dbus-serialbattery/bms/eg4_ll.py``
@ a470b2d800bd7c6a8f9a87c05f404b834e5fbddc (the same read over RS485, which
names the full capacity, the two cell probes and the alarm bits). Offsets
below count from the first data byte (register 0 at offset 0).

Where the two disagree: the current is 0.1 A here, as aiobmsble reads it and
its capture's app reading states (-6.2 A); dbus-serialbattery divides by 100.
The remaining capacity is 0.1 Ah (aiobmsble): a second capture (aiobmsble
issue #48) reads 369.8 Ah of 400.0 Ah at 92 %.
"""

from __future__ import annotations

from ..codecs import modbus
from ..errors import FrameError
from ..fields import Field, Layout, read_fields
from ..snapshot import Alarm, BatterySnapshot, Temperature, TemperatureKind

DEVICE = 0x01
STATUS_START = 0x00
STATUS_COUNT = 0x27
STATUS_SIZE = 2 * STATUS_COUNT
MAX_CELLS = 16
CELLS_AT = 4
# The two one-byte cell probes (register 33); a byte below the gate's -55 °C
# is no reading: the captured pack reads 0xC8 (-56 °C) there next to 17 °C
# probes, an open probe rather than a temperature.
PROBES_AT = 66
PROBE_COUNT = 2
PROBE_FLOOR = -55
MAS_PER_AH = 3_600_000  # the full capacity is in mA·s

FIELDS = Layout(
    Field("voltage", 0, 2, scale=0.01, decimals=2),
    Field("current", 2, 2, signed=True, scale=0.1, decimals=1),
    Field("mosfet", 36, 2, signed=True),
    Field("remaining", 42, 2, scale=0.1, decimals=1),
    Field("soh", 46, 2),
    Field("soc", 48, 2),
    Field("warning", 52, 2),
    Field("protection", 54, 2),
    Field("error", 56, 2),
    Field("cycles", 58, 4),
    Field("full", 62, 4, scale=1 / MAS_PER_AH, decimals=2),
    Field("cell_count", 72, 2),
    Field("design", 74, 2, scale=0.1, decimals=1),
    Field("balancer", 76, 2),
)
ALARM_CODE = slice(52, 58)  # warning, protection, error: aiobmsble's 48 bits

# Register 27, protections (dbus-serialbattery ``lookup_protection``); bit 6,
# ambient over-temperature, has no alarm key.
PROTECTION_BITS: dict[int, Alarm] = {
    0: Alarm.PACK_OVERVOLTAGE,
    1: Alarm.CELL_OVERVOLTAGE,
    2: Alarm.PACK_UNDERVOLTAGE,
    3: Alarm.CELL_UNDERVOLTAGE,
    4: Alarm.CHARGE_OVERCURRENT,
    5: Alarm.DISCHARGE_OVERCURRENT,
    7: Alarm.MOSFET_OVERTEMPERATURE,
    8: Alarm.CHARGE_OVERTEMPERATURE,
    9: Alarm.DISCHARGE_OVERTEMPERATURE,
    10: Alarm.CHARGE_UNDERTEMPERATURE,
    11: Alarm.DISCHARGE_UNDERTEMPERATURE,
    12: Alarm.SOC_LOW,
    13: Alarm.SHORT_CIRCUIT,
}
# Register 26, warnings (``lookup_warning``): the bits the source names as the
# protection of the same bit does. Bit 8 is left out (named "charge under
# temp" there, as bit 10 is), and so are 13 (float stopped) and 14 (unknown).
WARNING_BITS: dict[int, Alarm] = {
    bit: PROTECTION_BITS[bit] for bit in (0, 1, 2, 3, 4, 5, 7, 9, 10, 12)
}
# Register 28, errors (``lookup_error``).
ERROR_BITS: dict[int, Alarm] = {
    0: Alarm.HARDWARE_FAULT,  # voltage error
    1: Alarm.TEMPERATURE_SENSOR_FAULT,  # temperature error
    2: Alarm.HARDWARE_FAULT,  # current flow error
    4: Alarm.CELL_VOLTAGE_DIFFERENCE,  # cell unbalanced
}
ALARM_TABLES = (
    ("warning", WARNING_BITS),
    ("protection", PROTECTION_BITS),
    ("error", ERROR_BITS),
)
SUPPORTED_ALARMS = frozenset(
    alarm for _, table in ALARM_TABLES for alarm in table.values()
)


def status_request() -> bytes:
    """The read of the status block, as both decoders send it."""
    return modbus.read_request(DEVICE, STATUS_START, STATUS_COUNT)


def is_status_reply(frame: bytes) -> bool:
    """A reply to :func:`status_request`, or the exception that refuses it."""
    if frame[1] == modbus.READ_HOLDING | modbus.EXCEPTION_FLAG:
        return True
    return frame[1] == modbus.READ_HOLDING and frame[2] == STATUS_SIZE


def _probe(raw: int) -> float | None:
    value = raw - 0x100 if raw & 0x80 else raw
    return None if value < PROBE_FLOOR else float(value)


def _filled(value: float) -> float | None:
    """0 is a value the pack leaves empty (aiobmsble's optional fields).

    The captured LL pack reads 0 for its capacities at 48 % charge.
    """
    return value or None


def decode_status(data: bytes) -> BatterySnapshot:
    """The snapshot of one status block (the reply's 78 data bytes)."""
    if len(data) != STATUS_SIZE:
        raise FrameError(f"EG4 status block has {len(data)} bytes")
    values = read_fields(FIELDS, data)
    count = int(values["cell_count"])
    if not 1 <= count <= MAX_CELLS:
        raise FrameError(f"EG4 status block reports {count} cells")
    cells = tuple(
        int.from_bytes(data[CELLS_AT + 2 * i : CELLS_AT + 2 * i + 2], "big") / 1000
        for i in range(count)
    )
    probes = data[PROBES_AT : PROBES_AT + PROBE_COUNT]
    temperatures = (
        *(Temperature(TemperatureKind.CELL, _probe(raw)) for raw in probes),
        Temperature(TemperatureKind.MOSFET, float(values["mosfet"])),
    )
    alarms = frozenset(
        alarm
        for name, table in ALARM_TABLES
        for bit, alarm in table.items()
        if int(values[name]) >> bit & 1
    )
    return BatterySnapshot(
        voltage=values["voltage"],
        current=values["current"],
        cell_voltages=cells,
        temperatures=temperatures,
        state_of_charge=values["soc"],
        state_of_health=values["soh"],
        remaining_capacity=_filled(values["remaining"]),
        full_capacity=_filled(values["full"]),
        design_capacity=_filled(values["design"]),
        cycles=int(values["cycles"]) or None,
        balancing=values["balancer"] != 0,
        alarms=alarms,
        supported_alarms=SUPPORTED_ALARMS,
        protection_code=int.from_bytes(data[ALARM_CODE], "big"),
        reported_cell_count=count,
    )
