"""A simulated Braun Power BMS (service FF00, notify FF01, write FF02).

It encodes from its own tables, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured frames in
``tests/protocol/data/braunpwr_vectors.json`` pin the codec down (each decodes
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
    uuid16,
)
from ..pack import PackModel

COMPANY_ID = 0x7B
# What the module sends after its company ID (patman15/aiobmsble
# aiobmsble/test_data/braunpwr_bms.json).
COMPANY_DATA = bytes.fromhex("02ffff7d")
FIRMWARE_TEXT = b"KS_BLE_WIFI_Ver1.0.0_20240313"
PROGRAM_VERSION = bytes((2, 3, 1))
# The boot version reply (0xF5) of the same captures; aiobmsble asks for it.
BOOT_VERSION = bytes((0x02, 0x39))


def _word(value: int, signed: bool = False) -> bytes:
    return value.to_bytes(2, "big", signed=signed)


def _frame(command: int, data: bytes) -> bytes:
    return bytes((0x7B, command, len(data))) + data + b"\x7d"


class BraunPowerSimulator(SimulatedBms):
    """Answers 0x01, 0x02, 0x03, 0x74, 0xF4 and 0xF5 requests."""

    family = "braunpwr"
    services = (
        SimService(
            0x10,
            0xFF00,
            (
                SimCharacteristic(0x11, 0xFF01, ("read", "notify")),
                SimCharacteristic(0x15, 0xFF02, ("write-without-response", "write")),
            ),
        ),
    )
    notify_handle = 0x11
    write_handle = 0x15

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """Add the problem code (no public bit table) beside the pack."""
        super().__init__(address, name, pack)
        self.problem_code = 0

    def default_advertising(self, name: str) -> Advertising:
        """Service FF00 and company 0x007B, as the JBD modules."""
        return Advertising(
            name=name,
            service_uuids=[uuid16(0xFF00)],
            manufacturer_data={COMPANY_ID: COMPANY_DATA},
        )

    def carried_temperature(self, value: float) -> float:
        """Tenths of a kelvin."""
        return round(value, 1)

    def corrupt(self, frame: bytes) -> bytes:
        """No checksum: the tail is the byte that a damaged frame loses."""
        return frame[:-1] + b"\x00"

    def handle_write(self, handle: int, data: bytes) -> None:
        """Answer ``7B <command> 00 7D`` written to FF02; ignore anything else."""
        if handle != self.write_handle or len(data) != 4:
            return
        if data[0] != 0x7B or data[2:] != b"\x00\x7d":
            return
        reply = self.reply(data[1])
        if reply is not None and self.take_fault(Fault.IGNORE_COMMAND) is None:
            self.send(reply)

    def reply(self, command: int) -> bytes | None:
        """The reply to ``command``, None for one the BMS does not know."""
        if command == 0x01:
            return _frame(0x01, self.status_data())
        if command == 0x02:
            millivolts = [round(v * 1000) for v in self.pack.cell_voltages]
            cells = b"".join(_word(mv) for mv in millivolts)
            return _frame(0x02, bytes((len(millivolts),)) + cells)
        if command == 0x03:
            probes = [round(t * 10) + 2731 for t in self.pack.temperatures]
            return _frame(0x03, bytes((len(probes),)) + b"".join(map(_word, probes)))
        if command == 0x74:
            return _frame(0x74, FIRMWARE_TEXT)
        if command == 0xF4:
            return _frame(0xF4, PROGRAM_VERSION)
        if command == 0xF5:
            return _frame(0xF5, BOOT_VERSION)
        return None

    def status_data(self) -> bytes:
        """The 32 bytes of the 0x01 reply."""
        pack = self.pack
        out = bytearray(32)
        out[1] = round(pack.soc)
        out[2:4] = _word(round(sum(pack.cell_voltages) * 100))
        out[10:12] = _word(round(pack.current * 100), signed=True)
        out[12:14] = _word(round(pack.remaining_capacity * 100))
        out[14:16] = _word(round(pack.design_capacity * 100))
        out[20:22] = _word(pack.cycles)
        out[22:24] = _word(sum(1 << (cell - 1) for cell in pack.balancing_cells))
        out[28:30] = _word(self.problem_code)
        out[31] = round(pack.state_of_health)
        return bytes(out)


def demo(address: str) -> BraunPowerSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = BraunPowerSimulator(address, "HSKS-25A-118")
    device.pack.cell_voltages = [3.327, 3.334, 3.333, 3.335]
    device.pack.temperatures = [23.0, 22.5, 23.1, 22.8]
    device.pack.full_capacity = 280.0
    device.pack.design_capacity = 300.0
    device.pack.soc = 83.0
    device.pack.current = -11.45
    return device
