"""A simulated TianPower BMS (service FF00, notify FF01, write FF02).

It encodes from its own tables, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured frames in
``tests/protocol/data/tianpwr_vectors.json`` pin the codec down (each decodes
exactly), and the driver tests check that what the codec reads from this
simulator equals the simulated pack.
"""

from __future__ import annotations

from ..device import (
    Advertising,
    Fault,
    SimCharacteristic,
    SimService,
    SimulatedBms,
)
from ..pack import PackModel

# The version texts of the captured 0x81 and 0x82 replies (aiobmsble 0.31.0
# tests, syssi/esphome-tianpower-bms): the model, a NUL, then "TB".
SOFTWARE_TEXT = b"0.1.10"
HARDWARE_TEXT = b"TP-LT55\x00TB"
# Protection bits of the 0x84 reply by alarm key: (data offset, bit)
# (syssi/esphome-tianpower-bms tianpower_bms_ble.cpp).
ALARM_BITS = {
    "cell_overvoltage": (11, 0),
    "cell_undervoltage": (11, 1),
    "pack_overvoltage": (11, 2),
    "pack_undervoltage": (11, 3),
    "discharge_overcurrent": (13, 2),
    "charge_overtemperature": (15, 0),
    "charge_undertemperature": (15, 1),
    "discharge_overtemperature": (15, 2),
    "discharge_undertemperature": (15, 3),
    "mosfet_overtemperature": (15, 6),
    "temperature_sensor_fault": (17, 13),
    "mosfet_fault": (17, 14),
}
CELL_REPLIES = (0x88, 0x89, 0x8A)


def _word(value: int, signed: bool = False) -> bytes:
    return value.to_bytes(2, "big", signed=signed)


def _reply(kind: int, data: bytes) -> bytes:
    """``55 14 <type> <16 bytes> AA``."""
    return bytes((0x55, 0x14, kind)) + data.ljust(16, b"\0") + b"\xaa"


class TianpwrSimulator(SimulatedBms):
    """Answers ``55 04 <type> AA`` with the one 20-byte reply of that type."""

    family = "tianpwr"
    services = (
        SimService(
            0x10,
            0xFF00,
            (
                SimCharacteristic(0x13, 0xFF01, ("read", "notify")),
                SimCharacteristic(0x15, 0xFF02, ("write-without-response", "write")),
                SimCharacteristic(0x18, 0xFF03, ("read", "notify")),
            ),
        ),
    )
    notify_handle = 0x13
    write_handle = 0x15

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """Add the ambient probe of the status reply beside the pack."""
        super().__init__(address, name, pack)
        self.ambient = 23.0

    @property
    def probes(self) -> list[float]:
        """The cell probes, then the ambient probe of the status reply."""
        return [*self.pack.temperatures, self.ambient]

    def default_advertising(self, name: str) -> Advertising:
        """The name alone (aiobmsble test_data/tianpwr_bms.json)."""
        return Advertising(name=name)

    def carried_temperature(self, value: float) -> float:
        """Tenths of a degree."""
        return round(value, 1)

    def corrupt(self, frame: bytes) -> bytes:
        """No checksum: the end byte is what a damaged frame loses."""
        return frame[:-1] + b"\x00"

    def handle_write(self, handle: int, data: bytes) -> None:
        """Answer a request written to FF02; ignore anything else."""
        if handle != self.write_handle or len(data) != 4:
            return
        if data[0] != 0x55 or data[1] != 0x04 or data[3] != 0xAA:
            return
        reply = self.reply(data[2])
        if reply is not None and self.take_fault(Fault.IGNORE_COMMAND) is None:
            self.send(reply)

    def reply(self, kind: int) -> bytes | None:
        """The reply of ``kind``, None for a type the BMS does not know."""
        pack = self.pack
        if kind == 0x81:
            return _reply(kind, SOFTWARE_TEXT)
        if kind == 0x82:
            return _reply(kind, HARDWARE_TEXT)
        if kind == 0x83:
            return _reply(kind, self.status_data())
        if kind == 0x84:
            return _reply(kind, self.info_data())
        if kind == 0x85:
            fets = 0x20 | pack.charge_fet << 1 | pack.discharge_fet
            balancing = sum(1 << (cell - 1) for cell in pack.balancing_cells)
            return _reply(kind, bytes((0x08, fets)) + bytes(8) + _word(balancing))
        if kind == 0x87:
            probes = b"".join(
                _word(round(t * 10), signed=True) for t in pack.temperatures
            )
            return _reply(kind, probes)
        if kind in CELL_REPLIES:
            first = 8 * CELL_REPLIES.index(kind)
            cells = pack.cell_voltages[first : first + 8]
            return _reply(kind, b"".join(_word(round(v * 1000)) for v in cells))
        return None

    def status_data(self) -> bytes:
        """The 16 data bytes of the 0x83 reply."""
        pack = self.pack
        temps = pack.temperatures
        average = sum(temps) / len(temps) if temps else 0.0
        return b"".join(
            (
                _word(round(pack.soc)),
                _word(round(pack.voltage * 100)),
                _word(round(average * 10), signed=True),
                _word(round(self.ambient * 10), signed=True),
                _word(round(pack.mosfet_temperature * 10), signed=True),
                _word(round(pack.current * 100), signed=True),
                b"\x30\x30",
                _word(round(pack.state_of_health)),
            )
        )

    def info_data(self) -> bytes:
        """The 16 data bytes of the 0x84 reply."""
        pack = self.pack
        out = bytearray(19)
        out[3] = len(pack.cell_voltages)
        out[4] = len(pack.temperatures)
        out[5:7] = _word(round(pack.design_capacity * 100))
        out[7:9] = _word(round(pack.remaining_capacity * 100))
        out[9:11] = _word(pack.cycles)
        for alarm in pack.alarms:
            if alarm in ALARM_BITS:
                offset, bit = ALARM_BITS[alarm]
                word = int.from_bytes(out[offset : offset + 2]) | 1 << bit
                out[offset : offset + 2] = _word(word)
        return bytes(out[3:])


def demo(address: str) -> TianpwrSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = TianpwrSimulator(address, "TP_123456")
    device.pack.cell_voltages = [
        3.415, 3.419, 3.419, 3.422, 3.421, 3.422, 3.425, 3.424,
        3.421, 3.425, 3.421, 3.421, 3.422, 3.42, 3.422, 3.429,
    ]  # fmt: skip
    device.pack.temperatures = [23.0, 23.0, 23.0, 23.0]
    device.pack.mosfet_temperature = 25.0
    device.pack.full_capacity = 230.0
    device.pack.design_capacity = 230.0
    device.pack.soc = 60.0
    device.pack.current = -4.5
    return device
