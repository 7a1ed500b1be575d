"""A simulated EG4 LL pack behind its Bluetooth module (service 1000).

The module takes Modbus RTU reads in characteristic 1001 and notifies the
replies on 1002, answering for device 0x01 from its 39 holding registers.
It encodes from its own register table and the simulator's own CRC, never
from the integration's codec: it is an independent oracle, checked against
the captured vectors through the driver tests. Register layout: patman15/aiobmsble
``aiobmsble/bms/eg4_bms.py`` @ b0567331025033d33729385fa89a1198275d6486 and
mr-manuel/venus-os_dbus-serialbattery ``dbus-serialbattery/bms/eg4_ll.py``
@ a470b2d800bd7c6a8f9a87c05f404b834e5fbddc. Temperatures are whole degrees:
``PackModel.temperatures`` gives the two cell probes, ``mosfet_temperature``
register 18 (and 19 and 20, which read the same in both public captures).
"""

from __future__ import annotations

from ..device import (
    Advertising,
    Fault,
    SimCharacteristic,
    SimService,
    SimulatedBms,
    uuid16,
)
from ..pack import PackModel
from ..serial.responders import modbus_crc

DEVICE = 0x01
COMPANY = 0x6F80
REGISTERS = 0x27
WARNING, PROTECTION, ERROR = 26, 27, 28
# Alarm key -> (register, bit).
ALARM_BITS = {
    "pack_overvoltage": (PROTECTION, 0),
    "cell_overvoltage": (PROTECTION, 1),
    "pack_undervoltage": (PROTECTION, 2),
    "cell_undervoltage": (PROTECTION, 3),
    "charge_overcurrent": (PROTECTION, 4),
    "discharge_overcurrent": (PROTECTION, 5),
    "mosfet_overtemperature": (PROTECTION, 7),
    "charge_overtemperature": (PROTECTION, 8),
    "discharge_overtemperature": (PROTECTION, 9),
    "charge_undertemperature": (PROTECTION, 10),
    "discharge_undertemperature": (PROTECTION, 11),
    "soc_low": (PROTECTION, 12),
    "short_circuit": (PROTECTION, 13),
    "hardware_fault": (ERROR, 0),
    "temperature_sensor_fault": (ERROR, 1),
    "cell_voltage_difference": (ERROR, 4),
}
STATE_CHARGING, STATE_DISCHARGING = 0x01, 0x02


def _signed_byte(celsius: float) -> int:
    return round(celsius) & 0xFF


def registers(pack: PackModel) -> list[int]:
    """The 39 holding registers of the status block."""
    regs = [0] * REGISTERS
    regs[0] = round(pack.voltage * 100)
    regs[1] = round(pack.current * 10) & 0xFFFF
    for index, cell in enumerate(pack.cell_voltages[:16]):
        regs[2 + index] = round(cell * 1000)
    regs[18] = regs[19] = regs[20] = round(pack.mosfet_temperature) & 0xFFFF
    regs[21] = round(pack.remaining_capacity * 10)
    regs[23] = round(pack.state_of_health)
    regs[24] = round(pack.soc)
    state = STATE_CHARGING if pack.current > 0 else 0
    regs[25] = STATE_DISCHARGING if pack.current < 0 else state
    for name in pack.alarms:
        if name in ALARM_BITS:
            register, bit = ALARM_BITS[name]
            regs[register] |= 1 << bit
    regs[29], regs[30] = divmod(pack.cycles, 0x10000)
    regs[31], regs[32] = divmod(round(pack.full_capacity * 3_600_000), 0x10000)
    probes = (pack.temperatures + pack.temperatures[-1:])[:2]
    regs[33] = _signed_byte(probes[0]) << 8 | _signed_byte(probes[1])
    regs[36] = len(pack.cell_voltages)
    regs[37] = round(pack.design_capacity * 10)
    regs[38] = 1 if pack.balancing_cells else 0
    return regs


def _frame(body: bytes) -> bytes:
    return body + modbus_crc(body).to_bytes(2, "little")


def reply(pack: PackModel, start: int = 0, count: int = REGISTERS) -> bytes:
    """The reply to a read of ``count`` registers from ``start``."""
    if count < 1 or start + count > REGISTERS:
        return _frame(bytes((DEVICE, 0x83, 0x02)))
    regs = registers(pack)[start : start + count]
    payload = b"".join(r.to_bytes(2, "big") for r in regs)
    return _frame(bytes((DEVICE, 0x03, len(payload))) + payload)


class Eg4Ble(SimulatedBms):
    """The module: Modbus reads in 1001, replies out 1002."""

    family = "eg4"
    services = (
        SimService(
            0x10,
            0x1000,
            (
                SimCharacteristic(0x11, 0x1001, ("write-without-response", "write")),
                SimCharacteristic(0x13, 0x1002, ("read", "notify")),
            ),
        ),
    )
    notify_handle = 0x13

    def default_advertising(self, name: str) -> Advertising:
        """Service 1000, company 0x6F80 and ``B0`` + the address' last 3 bytes.

        A real module's company ID and data are its address (``80:6F:B0:...``);
        the demo keeps them at any address so that it is always recognised.
        """
        tail = bytes.fromhex(self.address.replace(":", ""))[-3:]
        return Advertising(
            name=name,
            service_uuids=[uuid16(0x1000)],
            manufacturer_data={COMPANY: b"\xb0" + tail},
        )

    def handle_write(self, handle: int, data: bytes) -> None:
        """One read of holding registers of device 0x01 whose CRC holds."""
        if (
            len(data) != 8
            or data[0] != DEVICE
            or modbus_crc(data[:-2]).to_bytes(2, "little") != data[-2:]
            or self.take_fault(Fault.IGNORE_COMMAND) is not None
        ):
            return
        start = int.from_bytes(data[2:4], "big")
        count = int.from_bytes(data[4:6], "big")
        if data[1] != 0x03:
            self.send(_frame(bytes((DEVICE, data[1] | 0x80, 0x01))))
        else:
            self.send(reply(self.pack, start, count))


def demo_pack() -> PackModel:
    """A 4-cell 12 V 400 Ah LL pack, discharging."""
    pack = PackModel()
    pack.cell_voltages = [3.326, 3.327, 3.327, 3.323]
    pack.current = -6.2
    pack.soc = 92
    pack.full_capacity = 400.0
    pack.design_capacity = 400.0
    pack.cycles = 5
    pack.temperatures = [14.0, 14.0]
    pack.mosfet_temperature = 15.0
    return pack


def demo(address: str) -> Eg4Ble:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    return Eg4Ble(address, "Z122002264", demo_pack())
