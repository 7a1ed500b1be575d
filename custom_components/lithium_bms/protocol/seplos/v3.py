"""Seplos V3 on RS485: Modbus RTU at 19200 baud, packs at 0x00-0x7F.

Source of every layout: the XZH BMS Modbus-RTU Protocol V0.1 as quoted in
syssi/esphome-seplos-bms ``docs/XZH BMS Modbus-RTU Protocol.md``
@ dedb6bb404330241f34a744bae1a128c14eb2e24: input registers PIA (0x1000),
PIB (0x1100) and VIA (0x1700), coils PIC (0x1200, one status byte every
eight coils). The block sizes are the ones the public readers use:
dbus-serialbattery ``bms/seplosv3.py`` (mr-manuel/venus-os_dbus-serialbattery
@ 358d3c7739df3545f88591120a5dd67ea2ba2c8f: PIA 0x12, PIB 0x1A, PIC 0x90) and
the capture ``docs/pdus/v3/SG16S200A-SP57B-A-all-frames.txt`` (VIA 0x33).

PIB states no cell count: its sixteen cell registers are read, and the cells
that read 0 mV at the end are absent ones (aiobmsble ``seplos_bms.py`` reads
all sixteen too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..codecs import modbus
from ..errors import FrameError
from ..snapshot import Alarm, DeviceInfo
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

BAUDRATE = 19200
MAX_ADDRESS = 0x7F


@dataclass(frozen=True, slots=True)
class Block:
    """One read of the map: function, first register or coil, count.

    ``least`` is the smallest count whose data this decoder can use (another
    master may read a block with another count).
    """

    name: str
    function: int
    start: int
    count: int
    least: int

    def request(self, address: int) -> bytes:
        """The read of this block from the pack at ``address``."""
        return modbus.read_request(address, self.start, self.count, self.function)

    def size(self, count: int) -> int:
        """Data bytes of a reply to a read of ``count`` items."""
        if self.function in modbus.BIT_READS:
            return (count + 7) // 8
        return 2 * count

    def asked_by(self, request: modbus.ModbusRequest) -> bool:
        """Whether a master's request reads this block (with enough items)."""
        return (
            request.function == self.function
            and request.start == self.start
            and request.count >= self.least
        )


PIA = Block("PIA", modbus.READ_INPUT, 0x1000, 0x12, 0x08)
PIB = Block("PIB", modbus.READ_INPUT, 0x1100, 0x1A, 0x1A)
PIC = Block("PIC", modbus.READ_COILS, 0x1200, 0x90, 0x90)
VIA = Block("VIA", modbus.READ_INPUT, 0x1700, 0x33, 0x24)
READING = (PIA, PIB, PIC)
# Over Bluetooth both public readers ask PIA with 0x11 registers (and PIB
# 0x1A, PIC 0x90) of packs 0x01-0x10: syssi/esphome-seplos-bms
# ``components/seplos_bms_v3_ble/seplos_bms_v3_ble.cpp``
# @ 0840c50a874fea8df43e1ce18fe039ed7ca26c92 (``SEPLOS_V3_PACK_COMMANDS``)
# and patman15/aiobmsble ``aiobmsble/bms/seplos_bms.py``
# @ b0567331025033d33729385fa89a1198275d6486 (``_PIA_LEN``).
BLE_PIA = Block("PIA", modbus.READ_INPUT, 0x1000, 0x11, 0x08)
# EIA (0x2000, 0x1A registers) of device 0x00: the master pack's summary of
# its bank, whose register 0x2016 is the number of packs. The master reads
# the other packs as Modbus devices 0x02 to that count. Source: aiobmsble
# ``seplos_bms.py`` @ b0567331025033d33729385fa89a1198275d6486 (``_QUERY``,
# ``pack_count`` at byte 44, PIA/PIB of packs 1 to the count), the same in
# syssi/esphome-seplos-bms ``components/seplos_bms_v3_ble/seplos_bms_v3_ble.cpp``
# @ dedb6bb404330241f34a744bae1a128c14eb2e24 (``decode_eia_data_``: register
# 0x2016, at most 16; ``SEPLOS_V3_PACK_COMMANDS`` per pack), and the capture
# ``docs/pdus/v3/SG16S200A-SP57B-A-all-frames.txt`` of the latter, same
# commit (EIA of device 0x00 from a bank of one pack).
EIA = Block("EIA", modbus.READ_INPUT, 0x2000, 0x1A, 0x1A)
MASTER_DEVICE = 0x00
MAX_PACKS = 0x10  # aiobmsble reads at most 16 packs
EIA_ONLINE = 0x0C  # u32, low word first: bit n - 1 set while pack n is online
EIA_PACK_COUNT = 0x16
EIA_SOC = 0x18
EIA_SOH = 0x19
PERMILLE = 1000

# PIB registers after the sixteen cells.
PIB_CELL_TEMPERATURES = 0x10
PIB_AMBIENT = 0x18
PIB_POWER = 0x19

# PIC: status bytes (coil 0x1200 + 8 * index).
PIC_BALANCE = 6  # cells 1-8, then 9-16
PIC_VOLTAGE = 9  # TB02
PIC_CELL_TEMPERATURE = 10  # TB03
PIC_POWER_TEMPERATURE = 11  # TB04
PIC_CURRENT = 12  # TB05
PIC_LATCH = 13  # TB16
PIC_CAPACITY = 14  # TB06
PIC_FET = 15  # TB07
PIC_FAULT = 17  # TB15

# TB04: only the power temperature bits have a key (environment: none).
POWER_TEMPERATURE_EVENTS: BitTable = {
    4: Alarm.MOSFET_OVERTEMPERATURE,
    5: Alarm.MOSFET_OVERTEMPERATURE,
}
# TB05: charge alarm, protection, second level; the same for discharge.
CURRENT_EVENTS: BitTable = {
    0: Alarm.CHARGE_OVERCURRENT,
    1: Alarm.CHARGE_OVERCURRENT,
    2: Alarm.CHARGE_OVERCURRENT,
    3: Alarm.DISCHARGE_OVERCURRENT,
    4: Alarm.DISCHARGE_OVERCURRENT,
    5: Alarm.DISCHARGE_OVERCURRENT,
    6: Alarm.SHORT_CIRCUIT,
}
# TB16: the latched trips.
LATCH_EVENTS: BitTable = {
    0: Alarm.SHORT_CIRCUIT,
    2: Alarm.CHARGE_OVERCURRENT,
    3: Alarm.DISCHARGE_OVERCURRENT,
}
# TB06: state of charge and cell difference.
CAPACITY_EVENTS: BitTable = {
    2: Alarm.SOC_LOW,
    3: Alarm.SOC_LOW,
    4: Alarm.CELL_VOLTAGE_DIFFERENCE,
}
# TB15: hard faults.
FAULT_EVENTS: BitTable = {
    0: Alarm.TEMPERATURE_SENSOR_FAULT,  # NTC wire break or short
    1: Alarm.FRONTEND_ERROR,  # AFE communication
    2: Alarm.MOSFET_FAULT,  # charge MOSFETs short
    3: Alarm.MOSFET_FAULT,  # discharge MOSFETs short
    4: Alarm.CELL_VOLTAGE_DIFFERENCE,  # cell fault: large difference
    5: Alarm.HARDWARE_FAULT,  # break line
}
EVENT_TABLES = (
    (PIC_VOLTAGE, VOLTAGE_EVENTS),
    (PIC_CELL_TEMPERATURE, CELL_TEMPERATURE_EVENTS),
    (PIC_POWER_TEMPERATURE, POWER_TEMPERATURE_EVENTS),
    (PIC_CURRENT, CURRENT_EVENTS),
    (PIC_LATCH, LATCH_EVENTS),
    (PIC_CAPACITY, CAPACITY_EVENTS),
    (PIC_FAULT, FAULT_EVENTS),
)
SUPPORTED_ALARMS = supported(*(table for _, table in EVENT_TABLES))


def _registers(regs: Sequence[int], block: Block) -> Sequence[int]:
    if len(regs) < block.least:
        raise FrameError(f"Seplos V3 {block.name} has {len(regs)} registers")
    return regs


def decode_measurement(pia: Sequence[int], pib: Sequence[int]) -> SeplosMeasurement:
    """PIA (pack values) and PIB (cells and probes)."""
    _registers(pia, PIA)
    _registers(pib, PIB)
    cells = list(pib[:MAX_CELLS])
    while cells and cells[-1] == 0:
        cells.pop()
    if not cells:
        raise FrameError("Seplos V3 PIB reports no cell")
    probes = pib[PIB_CELL_TEMPERATURES : PIB_CELL_TEMPERATURES + CELL_PROBES]
    return SeplosMeasurement(
        voltage=pia[0] / 100,
        current=(pia[1] - 0x10000 if pia[1] & 0x8000 else pia[1]) / 100,
        cell_voltages=tuple(mv / 1000 for mv in cells),
        cell_temperatures=tuple(temperature(raw) for raw in probes),
        ambient_temperature=temperature(pib[PIB_AMBIENT]),
        mosfet_temperature=temperature(pib[PIB_POWER]),
        remaining_capacity=pia[2] / 100,
        full_capacity=pia[3] / 100,
        design_capacity=None,
        state_of_charge=pia[5] / 10,
        state_of_health=pia[6] / 10,
        cycles=pia[7],
    )


def decode_pack_count(eia: Sequence[int]) -> int:
    """EIA: the number of packs the master reports, itself included.

    Refused unless the count is 1 to 16, the online flags name packs of
    that count only, and SOC and SOH are at most 100 %: the CRC alone lets
    a frame with random content through.
    """
    _registers(eia, EIA)
    count = eia[EIA_PACK_COUNT]
    online = eia[EIA_ONLINE] | eia[EIA_ONLINE + 1] << 16
    if not 1 <= count <= MAX_PACKS:
        raise FrameError(f"Seplos V3 EIA reports {count} packs")
    if online >> count:
        raise FrameError(f"Seplos V3 EIA: online flags {online:#x} for {count} packs")
    if eia[EIA_SOC] > PERMILLE or eia[EIA_SOH] > PERMILLE:
        raise FrameError("Seplos V3 EIA: SOC or SOH above 100 %")
    return count


def decode_status(pic: bytes) -> SeplosStatus:
    """PIC: the event codes, MOSFETs and balancing cells."""
    if len(pic) < PIC.size(PIC.least):
        raise FrameError(f"Seplos V3 PIC has {len(pic)} bytes")
    events = [pic[index] for index, _ in EVENT_TABLES]
    return SeplosStatus(
        alarms=bit_alarms((pic[index], table) for index, table in EVENT_TABLES),
        fets=pic[PIC_FET],
        balancing_cells=cells_of(pic[PIC_BALANCE], pic[PIC_BALANCE + 1]),
        protection_code=int.from_bytes(bytes(events), "big"),
    )


def _text(data: bytes) -> str | None:
    return data.split(b"\x00", 1)[0].decode("ascii", "replace").strip() or None


def decode_version(data: bytes, manufacturer: str) -> DeviceInfo:
    """VIA: factory (20 bytes), device name (20), firmware (2), BMS SN (30)."""
    if len(data) < VIA.size(VIA.least):
        raise FrameError(f"Seplos V3 VIA has {len(data)} bytes")
    firmware = _text(data[40:42])
    return DeviceInfo(
        manufacturer=manufacturer,
        model=_text(data[20:40]),
        sw_version=".".join(firmware) if firmware else None,
        serial_number=_text(data[42:72]),
    )
