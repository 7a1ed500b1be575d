"""Renogy smart batteries: Modbus RTU holding registers of device 0x30.

Register map: the Renogy "Lithium Iron Battery BMS Modbus Protocol V1.7"
(sdellysse/renogy-modbus-research
``Lithium.Iron.Battery.BMS.Modbus.Protocol.V1.7.zh-CN.en.1.pdf``
@ 00541a18d691312b52e01665b91f45c956d906e7). Requests, device address and
byte offsets: patman15/aiobmsble ``aiobmsble/bms/renogy_bms.py`` and
``renogy_pro_bms.py`` @ b0567331025033d33729385fa89a1198275d6486; second
decoder of the cell and battery blocks: cyrils/renogy-bt
``renogybt/BatteryClient.py`` @ 76774aa58b66cd719c19ad2d19f9adc08fe2a017.

The state of charge is not a register: it is the remaining capacity over the
module's total capacity. BMS_BLE-HA #430 (398 % for a 200 Ah battery at
99.5 %) and #409 come from multiplying the two instead of dividing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..codecs import modbus
from ..errors import FrameError
from ..fields import Field, Layout, read_fields, unpack_run
from ..snapshot import Alarm, DeviceInfo

DEVICE = 0x30
MAX_CELLS = 16
MAX_PROBES = 16


@dataclass(frozen=True, slots=True)
class Block:
    """One holding-register read: where it starts and how many registers."""

    start: int
    count: int

    @property
    def request(self) -> bytes:
        """The read request to device 0x30."""
        return modbus.read_request(DEVICE, self.start, self.count)

    @property
    def size(self) -> int:
        """The data bytes of its reply."""
        return 2 * self.count


# 5000-5033: cell count, 16 cells (0.1 V), probe count, 16 probes (0.1 °C).
CELLS = Block(0x1388, 0x22)
# 5035-5038: BMS board temperature, environment probe count (at most 2) and
# the environment probes, 0.1 °C (V1.7; the registers answered in the RS485
# scan of Grmume/renogy-smart-battery ``README.md``
# @ 7ed0d268da1afbcb70d570f22622f6bbf2dd7ac4). Its 8 data bytes tell its reply
# from every other block's.
BOARD = Block(0x13AB, 0x04)
MAX_AMBIENT = 2
# 5042-5048: current, voltage (0.1 V), remaining and total capacity (mAh, u32),
# cycles.
BATTERY = Block(0x13B2, 0x07)
# 5100-5107: cell voltage, cell temperature and other alarm info (2 bits per
# item), status 1 and status 2.
STATUS = Block(0x13EC, 0x08)
# 5104-5131: the serial number (5110-5117), battery name (5122-5129) and
# software version (5130-5131) of the reference's device-info read.
INFO = Block(0x13F0, 0x1C)

BATTERY_FIELDS = Layout(
    Field("voltage", 2, 2, scale=0.1, decimals=1),
    Field("remaining", 4, 4, scale=0.001, decimals=3),
    Field("total", 8, 4, scale=0.001, decimals=3),
    Field("cycles", 12, 2),
)
CURRENT_OFFSET = 0

# Status 1 (register 5106), bit -> the protection it reports.
STATUS1_ALARMS: Mapping[int, Alarm] = {
    0: Alarm.SHORT_CIRCUIT,
    4: Alarm.CHARGE_OVERCURRENT,
    5: Alarm.DISCHARGE_OVERCURRENT,
    6: Alarm.PACK_OVERVOLTAGE,
    7: Alarm.CELL_UNDERVOLTAGE,
    8: Alarm.CELL_OVERVOLTAGE,
    9: Alarm.CHARGE_OVERCURRENT,
    10: Alarm.DISCHARGE_OVERCURRENT,
    11: Alarm.DISCHARGE_UNDERTEMPERATURE,
    12: Alarm.DISCHARGE_OVERTEMPERATURE,
    13: Alarm.CHARGE_UNDERTEMPERATURE,
    14: Alarm.CHARGE_OVERTEMPERATURE,
    15: Alarm.PACK_UNDERVOLTAGE,
}
STATUS1_CHARGE_FET = 1 << 1
STATUS1_DISCHARGE_FET = 1 << 2
STATUS1_MODULE_POWER = 1 << 3
# Status 2 (register 5107): the warnings, bits 0-7, and the heater, bit 13.
STATUS2_ALARMS: Mapping[int, Alarm] = {
    0: Alarm.CELL_UNDERVOLTAGE,
    1: Alarm.CELL_OVERVOLTAGE,
    2: Alarm.PACK_UNDERVOLTAGE,
    3: Alarm.PACK_OVERVOLTAGE,
    4: Alarm.CHARGE_UNDERTEMPERATURE,
    5: Alarm.CHARGE_OVERTEMPERATURE,
    6: Alarm.DISCHARGE_UNDERTEMPERATURE,
    7: Alarm.DISCHARGE_OVERTEMPERATURE,
}
STATUS2_HEATER = 1 << 13
# Two-bit alarm codes: 01 below the lower limit, 10 above the upper one.
BELOW, ABOVE = 0b01, 0b10
# Other alarm info (5104-5105): the 2-bit field's shift -> the alarm its
# "above the upper limit" code raises.
OTHER_ALARMS: Mapping[int, Alarm] = {
    30: Alarm.MOSFET_OVERTEMPERATURE,  # BMS board temperature
    20: Alarm.CHARGE_OVERCURRENT,
    18: Alarm.DISCHARGE_OVERCURRENT,
}
SUPPORTED_ALARMS = frozenset(
    (
        *STATUS1_ALARMS.values(),
        *STATUS2_ALARMS.values(),
        *OTHER_ALARMS.values(),
    )
)


def _registers(data: bytes) -> tuple[int, ...]:
    return unpack_run(data, 0, (len(data) + 1) // 2)


def _checked(data: bytes, block: Block) -> bytes:
    if len(data) != block.size:
        raise FrameError(
            f"Renogy block {block.start:#06x}: {len(data)} bytes, not {block.size}"
        )
    return data


@dataclass(frozen=True, slots=True)
class Cells:
    """The cell voltages and the cell probes."""

    reported_cells: int
    voltages: tuple[float, ...]
    temperatures: tuple[float, ...]


def decode_cells(data: bytes) -> Cells:
    """Registers 5000-5033; a count above 16 is no Renogy frame."""
    regs = _registers(_checked(data, CELLS))
    cells, probes = regs[0], regs[17]
    if cells > MAX_CELLS or probes > MAX_PROBES:
        raise FrameError(f"Renogy: {cells} cells, {probes} probes")
    temps = tuple(
        round(int.from_bytes(data[36 + 2 * i : 38 + 2 * i], "big", signed=True) / 10, 1)
        for i in range(probes)
    )
    return Cells(cells, tuple(round(v / 10, 1) for v in regs[1 : 1 + cells]), temps)


@dataclass(frozen=True, slots=True)
class Board:
    """The BMS board probe and the environment probes."""

    board: float
    ambient: tuple[float, ...]


def decode_board(data: bytes) -> Board:
    """Registers 5035-5038; more than two environment probes is no Renogy frame."""
    _checked(data, BOARD)
    count = int.from_bytes(data[2:4], "big")
    if count > MAX_AMBIENT:
        raise FrameError(f"Renogy: {count} environment probes")
    temps = [int.from_bytes(data[i : i + 2], "big", signed=True) for i in (0, 4, 6)]
    return Board(
        round(temps[0] / 10, 1), tuple(round(t / 10, 1) for t in temps[1:][:count])
    )


@dataclass(frozen=True, slots=True)
class Battery:
    """Registers 5042-5048, scaled."""

    current: float
    voltage: float
    remaining: float
    total: float
    cycles: int

    @property
    def state_of_charge(self) -> float | None:
        """Remaining over total capacity, in percent (None without a total)."""
        if self.total <= 0:
            return None
        return round(self.remaining / self.total * 100, 1)


def decode_battery(data: bytes, current_scale: float) -> Battery:
    """The battery block with the variant's current unit."""
    values = read_fields(BATTERY_FIELDS, _checked(data, BATTERY))
    raw = int.from_bytes(data[CURRENT_OFFSET : CURRENT_OFFSET + 2], "big", signed=True)
    return Battery(
        current=round(raw * current_scale, 2),
        voltage=values["voltage"],
        remaining=values["remaining"],
        total=values["total"],
        cycles=int(values["cycles"]),
    )


@dataclass(frozen=True, slots=True)
class Status:
    """Alarms, MOSFETs and heater of registers 5100-5107."""

    alarms: frozenset[Alarm]
    charge_fet: bool
    discharge_fet: bool
    heater: bool
    protection_code: int


def _two_bit(value: int, count: int, below: Alarm, above: Alarm) -> set[Alarm]:
    codes = {value >> (2 * i) & 0b11 for i in range(count)}
    return {alarm for code, alarm in ((BELOW, below), (ABOVE, above)) if code in codes}


def decode_status(data: bytes) -> Status:
    """The alarm info words and status 1 and 2."""
    _checked(data, STATUS)
    cell_alarms = int.from_bytes(data[0:4], "big")
    other = int.from_bytes(data[8:12], "big")
    status1, status2 = _registers(data[12:16])
    alarms = _two_bit(
        cell_alarms, MAX_CELLS, Alarm.CELL_UNDERVOLTAGE, Alarm.CELL_OVERVOLTAGE
    )
    alarms |= {a for bit, a in STATUS1_ALARMS.items() if status1 >> bit & 1}
    alarms |= {a for bit, a in STATUS2_ALARMS.items() if status2 >> bit & 1}
    alarms |= {a for shift, a in OTHER_ALARMS.items() if other >> shift & 3 == ABOVE}
    states = STATUS1_CHARGE_FET | STATUS1_DISCHARGE_FET | STATUS1_MODULE_POWER
    return Status(
        alarms=frozenset(alarms),
        charge_fet=bool(status1 & STATUS1_CHARGE_FET),
        discharge_fet=bool(status1 & STATUS1_DISCHARGE_FET),
        heater=bool(status2 & STATUS2_HEATER),
        protection_code=int.from_bytes(data[0:14], "big") & ~states,
    )


def _text(data: bytes) -> str | None:
    text = data.split(b"\x00", 1)[0].decode("ascii", "replace").strip()
    return text or None


def decode_info(data: bytes, manufacturer: str) -> DeviceInfo:
    """Serial number, battery name (the model) and software version."""
    _checked(data, INFO)
    return DeviceInfo(
        manufacturer=manufacturer,
        model=_text(data[36:52]),
        sw_version=_text(data[52:56]),
        serial_number=_text(data[12:28]),
    )


@dataclass(frozen=True, slots=True)
class Variant:
    """What sets a Renogy battery line apart: its current unit."""

    name: str
    current_scale: float


# The classic smart batteries (BT-TH- modules) report 0.01 A, the Pro series
# 0.1 A (aiobmsble's renogy_pro_bms overrides only that field).
CLASSIC = Variant("classic", 0.01)
PRO = Variant("pro", 0.1)
VARIANTS: Mapping[str, Variant] = {v.name: v for v in (CLASSIC, PRO)}
