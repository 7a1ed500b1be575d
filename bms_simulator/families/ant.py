"""A simulated ANT smart BMS (service FFE0, notify and write FFE1).

It encodes from its own tables, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured frames in
``tests/protocol/data/ant_vectors.json`` pin the codec down (each decodes
exactly), and the driver tests check that what the codec reads from this
simulator equals the simulated pack. Layout and switch registers: syssi's
esphome-ant-bms ``components/ant_bms_ble`` (see the integration's
``protocol/ant/frames.py`` for the commits).
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
from .daly import crc16

STATUS_REQUEST = bytes.fromhex("7ea1010000be1855aa55")
# Read 32 bytes from 0x026C: the hardware and software version.
DEVICE_INFO_REQUEST = bytes.fromhex("7ea1026c022058c4aa55")
# What aiobmsble's capture of the reply carries between its CRC and its tail,
# uncounted by its length byte (no source names these bytes).
DEVICE_INFO_SURPLUS = bytes.fromhex("ff0b000041f2")
WRITE_REGISTER = 0x51
# MOSFET status codes by alarm key, first match wins.
CHARGE_CODES = {
    "cell_overvoltage": 0x02,
    "charge_overcurrent": 0x03,
    "pack_overvoltage": 0x05,
    "charge_overtemperature": 0x06,
    "mosfet_overtemperature": 0x07,
    "mosfet_fault": 0x0D,
    "charge_undertemperature": 0x11,
    "cell_voltage_difference": 0x12,
    "hardware_fault": 0x14,
}
DISCHARGE_CODES = {
    "cell_undervoltage": 0x02,
    "discharge_overcurrent": 0x03,
    "pack_undervoltage": 0x05,
    "discharge_overtemperature": 0x06,
    "mosfet_overtemperature": 0x07,
    "short_circuit": 0x0C,
    "mosfet_fault": 0x0D,
    "discharge_undertemperature": 0x11,
    "cell_voltage_difference": 0x12,
    "hardware_fault": 0x13,
}
SWITCHED_OFF = 0x0F
ON = 0x01
AUTOMATIC_BALANCING = 0x04
# Register -> (pack attribute, value written).
REGISTERS = {
    0x0003: ("discharge_enabled", True),
    0x0001: ("discharge_enabled", False),
    0x0006: ("charge_enabled", True),
    0x0004: ("charge_enabled", False),
    0x000D: ("balancer_enabled", True),
    0x000E: ("balancer_enabled", False),
}


def _u(value: int, size: int, signed: bool = False) -> bytes:
    return value.to_bytes(size, "little", signed=signed)


def frame(function: int, address: int, data: bytes) -> bytes:
    """``7E A1 <function> <address> <len> <data> <crc> AA 55``."""
    body = bytes((0x7E, 0xA1, function)) + _u(address, 2) + bytes((len(data),)) + data
    return body + _u(crc16(body[1:]), 2) + b"\xaa\x55"


class AntSimulator(SimulatedBms):
    """Answers the status and version requests, applies the switch writes."""

    family = "ant"
    services = (
        SimService(
            0x0E,
            0xFFE0,
            (
                SimCharacteristic(
                    0x10, 0xFFE1, ("read", "notify", "write-without-response", "write")
                ),
            ),
        ),
    )
    notify_handle = 0x10
    write_handle = 0x10

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """Add the values the real reply carries beside the pack."""
        super().__init__(address, name, pack)
        self.balancer_temperature = 24.0
        self.runtime = 1189995  # seconds
        self.hw_version = "24BH"
        self.sw_version = "24BHUB00-211026A"

    def default_advertising(self, name: str) -> Advertising:
        """Service FFE0 and a company ID carrying the MAC, as real modules do."""
        mac = bytes.fromhex(self.address.replace(":", ""))
        return Advertising(
            name=name,
            service_uuids=[uuid16(0xFFE0)],
            manufacturer_data={0x2313: b"\x88\xa0" + mac},
        )

    def corrupt(self, frame: bytes) -> bytes:
        """A copy of ``frame`` with a CRC byte flipped (the tail kept)."""
        return frame[:-4] + bytes((frame[-4] ^ 0x5A,)) + frame[-3:]

    def handle_write(self, handle: int, data: bytes) -> None:
        """Answer a status request; apply a register write; ignore the rest."""
        if handle != self.write_handle:
            return
        if data == STATUS_REQUEST:
            self.send(self.status_frame())
            return
        if data == DEVICE_INFO_REQUEST:
            self.send(self.device_info_frame())
            return
        if (
            len(data) == 10
            and data[2] == WRITE_REGISTER
            and data == frame(WRITE_REGISTER, int.from_bytes(data[3:5], "little"), b"")
            and self.take_fault(Fault.IGNORE_COMMAND) is None
        ):
            target = REGISTERS.get(int.from_bytes(data[3:5], "little"))
            if target is not None:
                setattr(self.pack, *target)

    def _code(self, enabled: bool, codes: dict[str, int]) -> int:
        if not enabled:
            return SWITCHED_OFF
        return next(
            (code for key, code in codes.items() if key in self.pack.alarms), ON
        )

    def device_info_frame(self) -> bytes:
        """The 0x12 reply: hardware and software version, 16 bytes each."""
        versions = b"".join(
            text.encode("ascii")[:16].ljust(16, b"\x00")
            for text in (self.hw_version, self.sw_version)
        )
        reply = frame(0x12, 0x026C, versions)
        return reply[:-2] + DEVICE_INFO_SURPLUS + reply[-2:]

    def status_frame(self) -> bytes:
        """The 0x11 status reply from the pack model."""
        pack = self.pack
        mv = [round(v * 1000) for v in pack.cell_voltages]
        probes = [round(t) for t in pack.temperatures[:4]]
        data = bytearray(bytes((0x05, 0x02 if pack.current > 0 else 0x03)))
        data += bytes((len(probes), len(mv))) + bytes(24)
        for value in mv:
            data += _u(value, 2)
        for value in probes:
            data += _u(value, 2, signed=True)
        data += _u(round(pack.mosfet_temperature), 2, signed=True)
        data += _u(round(self.balancer_temperature), 2, signed=True)
        voltage = sum(mv) / 1000
        data += _u(round(voltage * 100), 2)
        data += _u(round(pack.current * 10), 2, signed=True)
        data += _u(round(pack.soc), 2) + _u(round(pack.state_of_health), 2)
        data += bytes(
            (
                self._code(pack.charge_enabled, CHARGE_CODES),
                self._code(pack.discharge_enabled, DISCHARGE_CODES),
                AUTOMATIC_BALANCING if pack.balancer_enabled else 0,
                0,
            )
        )
        data += _u(round(pack.full_capacity * 1e6), 4)
        data += _u(round(pack.remaining_capacity * 1e6), 4)
        data += _u(round(pack.cycles * pack.full_capacity * 1000), 4)
        data += _u(round(voltage * pack.current), 4, signed=True)
        data += _u(self.runtime, 4)
        balancing = pack.balancing_cells if pack.balancer_enabled else set()
        data += _u(sum(1 << (cell - 1) for cell in balancing), 4)
        high, low = max(mv), min(mv)
        data += _u(high, 2) + _u(mv.index(high) + 1, 2)
        data += _u(low, 2) + _u(mv.index(low) + 1, 2)
        data += _u(high - low, 2) + _u(sum(mv) // len(mv), 2)
        # D-S voltage, drive voltages, F40com, battery type (LiFePO4).
        data += _u(2, 2) + _u(112, 2) + _u(3, 2) + _u(684, 2) + _u(0xFAF2, 2)
        data += _u(11901, 4) + _u(30612, 4) + _u(2014, 4) + _u(30327, 4)
        return frame(0x11, 0x0000, bytes(data))


def demo(address: str) -> AntSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = AntSimulator(address, "ANT-BLE24CHUB-0001")
    device.pack.cell_voltages = [3.311, 3.314, 3.309, 3.312]
    device.pack.temperatures = [22.0, 21.0]
    device.pack.mosfet_temperature = 26.0
    return device
