"""A simulated TDT (XDZN / WattCycle) BMS: service FFF0, notify FFF1, write FFF2.

It encodes from its own tables, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured frames in
``tests/protocol/data/tdt_vectors.json`` pin the codec down (each decodes
exactly), and the driver tests check that what the codec reads from this
simulator equals the simulated pack.

Reads of 0x8C (analog quantity), 0x8D (warning info) and 0x92 (product info)
are answered; FFFA takes the ``HiLink`` unlock, which a module with
``needs_unlock`` waits for before it answers anything.
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

COMPANY_ID = 0xD6C0
# Status register bits of the warning reply, by alarm key: (register, bit).
ALARM_BITS = {
    "cell_overvoltage": (1, 0x01),
    "cell_undervoltage": (1, 0x02),
    "pack_overvoltage": (1, 0x04),
    "pack_undervoltage": (1, 0x08),
    "charge_overcurrent": (1, 0x10),
    "discharge_overcurrent": (1, 0x20),
    "hardware_fault": (1, 0x40),
    "charge_overtemperature": (2, 0x01),
    "discharge_overtemperature": (2, 0x02),
    "charge_undertemperature": (2, 0x04),
    "discharge_undertemperature": (2, 0x08),
    "mosfet_overtemperature": (2, 0x10),
    "mosfet_fault": (5, 0x02),
    "temperature_sensor_fault": (5, 0x08),
}
ANALOG, WARNING, PRODUCT = 0x8C, 0x8D, 0x92
UNLOCK = b"HiLink"


def _crc(data: bytes | bytearray) -> int:
    """CRC-16/MODBUS, bit by bit."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _u16(value: int) -> bytes:
    return value.to_bytes(2, "big")


def _current(amps: float) -> bytes:
    """Sign bit, tenths flag and the magnitude in tenths."""
    raw = 0x4000 | min(round(abs(amps) * 10), 0x3FFF)
    return _u16(raw | (0x8000 if amps < 0 else 0))


def _reply(command: int, data: bytes) -> bytes:
    body = bytes((0x7E, 0x00, 0x01, 0x03, 0x00, command)) + _u16(len(data)) + data
    return body + _u16(_crc(body)) + b"\x0d"


class TdtSimulator(SimulatedBms):
    """Answers the three reads with the module's replies."""

    family = "tdt"
    services = (
        SimService(
            0x10,
            0xFFF0,
            (
                SimCharacteristic(0x11, 0xFFF1, ("read", "notify")),
                SimCharacteristic(0x14, 0xFFF2, ("write-without-response", "write")),
                SimCharacteristic(0x16, 0xFFFA, ("read", "write")),
            ),
        ),
    )
    notify_handle = 0x11
    write_handle = 0x14
    unlock_handle = 0x16

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """Add what the real module carries beside the pack."""
        super().__init__(address, name, pack)
        self.head = 0x7E  # the request head this module answers
        self.needs_unlock = False
        self.unlocked = False
        self.extended = False  # the newer analog reply with SOH
        self.product = ("WT12_20004SW10_L447", "", "60016016207270001")

    def default_advertising(self, name: str) -> Advertising:
        """Service FFF0 and company 0xD6C0 with the MAC's last four bytes."""
        mac = bytes.fromhex(self.address.replace(":", ""))
        return Advertising(
            name=name,
            service_uuids=[uuid16(0xFFF0)],
            manufacturer_data={COMPANY_ID: mac[2:] + b"\xff"},
        )

    def on_connect(self) -> None:
        """Every connection starts locked."""
        self.unlocked = False

    def handle_write(self, handle: int, data: bytes) -> None:
        """Take the unlock on FFFA and answer a read written to FFF2."""
        if handle == self.unlock_handle:
            self.unlocked = self.unlocked or data == UNLOCK
            return
        if handle != self.write_handle or (self.needs_unlock and not self.unlocked):
            return
        command = self._command(data)
        if command is None or self.take_fault(Fault.IGNORE_COMMAND) is not None:
            return
        builders = {
            ANALOG: self.analog_frame,
            WARNING: self.warning_frame,
            PRODUCT: self.product_frame,
        }
        self.send(builders[command]())

    def _command(self, data: bytes) -> int | None:
        """The data point of a well-formed read, None for anything else."""
        if (
            len(data) != 11
            or data[0] != self.head
            or data[1:5] != b"\x00\x01\x03\x00"
            or data[5] not in (ANALOG, WARNING, PRODUCT)
            or data[6:8] != b"\x00\x00"
            or data[8:10] != _u16(_crc(data[:8]))
            or data[10] != 0x0D
        ):
            return None
        return data[5]

    def _probes(self) -> list[float]:
        """Ambient, MOSFET, then the cell probes."""
        pack = self.pack
        return [pack.temperatures[0], pack.mosfet_temperature, *pack.temperatures[1:]]

    def analog_frame(self) -> bytes:
        """The 0x8C reply from the pack model."""
        pack = self.pack
        probes = self._probes()
        data = bytearray((len(pack.cell_voltages),))
        for volts in pack.cell_voltages:
            data += _u16(round(volts * 1000))
        data.append(len(probes))
        for celsius in probes:
            data += _u16(round(celsius * 10) + 2730)
        data += _current(pack.current)
        data += _u16(round(sum(round(v * 1000) for v in pack.cell_voltages) / 10))
        data += _u16(round(pack.remaining_capacity * 10))
        data += _u16(round(pack.full_capacity * 10))
        data += _u16(pack.cycles)
        data += _u16(round(pack.design_capacity * 10))
        data += _u16(round(pack.soc))
        if self.extended:
            data += _u16(round(pack.state_of_health))
            data += (pack.cycles * round(pack.full_capacity * 10)).to_bytes(4, "big")
            data += (0).to_bytes(4, "big")  # minutes left: not in the snapshot
            data += bytes(6)
            data += _current(0.0)
        return _reply(ANALOG, bytes(data))

    def warning_frame(self) -> bytes:
        """The 0x8D reply from the pack model."""
        pack = self.pack
        cells = len(pack.cell_voltages)
        probes = len(self._probes())
        registers = {1: 0, 2: 0, 5: 0}
        for alarm in pack.alarms:
            if alarm in ALARM_BITS:
                register, bit = ALARM_BITS[alarm]
                registers[register] |= bit
        fets = (0x02 if pack.charge_fet else 0) | (0x04 if pack.discharge_fet else 0)
        mode = 1 if pack.current > 0 else 2 if pack.current < 0 else 0
        balance = sum(1 << (cell - 1) for cell in pack.balancing_cells)
        data = bytearray((cells,)) + bytes(cells) + bytes((probes,)) + bytes(probes)
        data += bytes((0, 0, 0, mode, registers[1], registers[2], fets, 0))
        data += bytes((registers[5], 0, 0, 0, 0))
        data += balance.to_bytes((cells + 7) // 8, "little")
        return _reply(WARNING, bytes(data))

    def product_frame(self) -> bytes:
        """The 0x92 reply: software version, manufacturer and serial number."""
        data = b"".join(text.encode().ljust(20, b"\x00") for text in self.product)
        return _reply(PRODUCT, data)


def demo(address: str) -> TdtSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = TdtSimulator(address, "XDZN_001_E4D9")
    device.pack.cell_voltages = [3.294, 3.293, 3.295, 3.290]
    device.pack.temperatures = [18.7, 17.6, 17.6]
    device.pack.mosfet_temperature = 19.8
    # 0.1 Ah steps: a whole SOC of 310 Ah has one decimal.
    device.pack.full_capacity = 310.0
    device.pack.design_capacity = 314.0
    return device
