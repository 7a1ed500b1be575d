"""A simulated Pylontech RT battery: Modbus RTU through its Telink module.

It encodes the register map (patman15/aiobmsble ``docs/pylontech_bms.md``
@ b0567331025033d33729385fa89a1198275d6486) from its own table and CRC,
never from the integration's codec: it is an independent oracle, checked
against the captured vectors through the driver tests. The pack reports its
highest and lowest cell and probe only; ``PackModel.temperatures`` are the
probes.
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

TELINK = "00010203-0405-0607-0809-0a0b0c0d{}"
DEVICE = 0x01
READ_HOLDING = 0x03
ILLEGAL_ADDRESS = 0x02
# Lifetime energy (0.1 kWh) and allowed current (0.1 A): values the pack
# holds that the simulated model has no field for.
LIFETIME_ENERGY = 2960
ALLOWED_CURRENT = 1000


def _frame(body: bytes) -> bytes:
    return body + modbus_crc(body).to_bytes(2, "little")


def _u16(value: float) -> int:
    return round(value) & 0xFFFF


class PylontechRt(SimulatedBms):
    """Answers reads of the main block (0x1016, 13) and the serial (0x2000, 8)."""

    family = "pylontech"
    services = (
        SimService(
            0x10,
            TELINK.format("1910"),
            (
                SimCharacteristic(0x11, TELINK.format("2b10"), ("read", "notify")),
                SimCharacteristic(
                    0x14, TELINK.format("2b11"), ("read", "write-without-response")
                ),
            ),
        ),
    )
    notify_handle = 0x11
    per_cell = False

    def __init__(
        self,
        address: str,
        name: str,
        pack: PackModel | None = None,
        serial: str = "SIM0000000000001",
    ) -> None:
        """A battery whose serial registers hold ``serial`` (16 characters).

        ``refused`` holds the first registers of blocks the module answers
        with a Modbus exception (illegal data address).
        """
        super().__init__(address, name, pack)
        self.serial = serial
        self.refused: set[int] = set()

    def default_advertising(self, name: str) -> Advertising:
        """Its name with HID 1812 and Battery Service 180F, as an RT12100 shows."""
        return Advertising(name=name, service_uuids=[uuid16(0x1812), uuid16(0x180F)])

    def main_block(self) -> list[int]:
        """Registers 0x1016-0x1022."""
        pack = self.pack
        temperatures = pack.temperatures
        return [
            _u16(pack.voltage * 100),
            _u16(pack.current * 10),
            _u16(max(pack.cell_voltages) * 1000),
            _u16(min(pack.cell_voltages) * 1000),
            _u16(max(temperatures) * 10),
            _u16(min(temperatures) * 10),
            _u16(pack.soc),
            _u16(pack.state_of_health),
            # Whole watts, cut: the capture shows 63 W at 13.24 V and 4.8 A.
            int(abs(pack.voltage * pack.current)) & 0xFFFF,
            0,
            LIFETIME_ENERGY,
            ALLOWED_CURRENT,
            _u16(pack.design_capacity * 10),
        ]

    def serial_block(self) -> list[int]:
        """Registers 0x2000-0x2007: the serial number, two characters each."""
        text = self.serial.encode("ascii").ljust(16, b"\x00")[:16]
        return [int.from_bytes(text[i : i + 2], "big") for i in range(0, 16, 2)]

    def handle_write(self, handle: int, data: bytes) -> None:
        """One Modbus read request (8 bytes, CRC checked) to device 0x01."""
        if len(data) != 8 or self.take_fault(Fault.IGNORE_COMMAND) is not None:
            return
        if data[0] != DEVICE or modbus_crc(data[:6]) != int.from_bytes(
            data[6:], "little"
        ):
            return
        if data[1] != READ_HOLDING:
            self.send(_frame(bytes((DEVICE, data[1] | 0x80, 0x01))))
            return
        start = int.from_bytes(data[2:4], "big")
        blocks = {(0x1016, 13): self.main_block, (0x2000, 8): self.serial_block}
        block = blocks.get((start, int.from_bytes(data[4:6], "big")))
        if block is None or start in self.refused:
            self.send(_frame(bytes((DEVICE, 0x83, ILLEGAL_ADDRESS))))
            return
        registers = block()
        payload = b"".join(value.to_bytes(2, "big") for value in registers)
        self.send(_frame(bytes((DEVICE, READ_HOLDING, len(payload))) + payload))


def demo_pack() -> PackModel:
    """An RT12100: four LFP cells, 100 Ah, two probes, discharging."""
    pack = PackModel()
    pack.cell_voltages = [3.312, 3.311, 3.312, 3.310]
    pack.current = -4.8
    pack.soc = 91.0
    pack.design_capacity = 100.0
    pack.full_capacity = 100.0
    pack.temperatures = [15.2, 14.9]
    pack.state_of_health = 99.0
    return pack


def demo(address: str) -> PylontechRt:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    return PylontechRt(address, "RT12100-710003", demo_pack())
