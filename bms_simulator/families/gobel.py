"""A simulated Gobel Power BLE BMS: Modbus RTU on the 2760 service.

Service ``00002760-08c2-11e1-9073-0e8ac72e1001``, write ``…0001``, notify
``…0002``; it answers Modbus device 0x01, function 0x03, for the status block
(59 registers from 0x0000) and the device information block (35 registers
from 0x00AA), and answers any other read with exception 0x02 (patman15/aiobmsble
``aiobmsble/bms/gobel_bms.py`` and ``docs/gobel_bms.md``
@ b0567331025033d33729385fa89a1198275d6486).

It encodes from its own register table and the simulator's own CRC, never
from the integration's codec: it is an independent oracle, checked against
the captured vectors through the driver tests. ``PackModel.temperatures``
are the probes of registers 47 on, ``mosfet_temperature`` register 57.
"""

from __future__ import annotations

from ..device import Advertising, Fault, SimCharacteristic, SimService, SimulatedBms
from ..pack import PackModel
from ..serial.responders import modbus_crc

SERVICE = "00002760-08c2-11e1-9073-0e8ac72e1001"
WRITE = "00002760-08c2-11e1-9073-0e8ac72e0001"
NOTIFY = "00002760-08c2-11e1-9073-0e8ac72e0002"
DEVICE = 0x01
READ = 0x03
STATUS = (0x0000, 59)
INFO = (0x00AA, 35)
ILLEGAL_ADDRESS = 0x02


def _frame(body: bytes) -> bytes:
    crc = modbus_crc(body)
    return body + bytes((crc & 0xFF, crc >> 8))


def _registers(values: list[int]) -> bytes:
    return b"".join((value & 0xFFFF).to_bytes(2, "big") for value in values)


def _ascii(text: str, size: int, pad: bytes) -> bytes:
    return text.encode().ljust(size, pad)


class GobelSimulator(SimulatedBms):
    """One pack: Modbus reads in, replies out in ``mtu``-sized notifications."""

    family = "gobel"
    services = (
        SimService(
            0x20,
            SERVICE,
            (
                SimCharacteristic(0x22, WRITE, ("write-without-response",)),
                SimCharacteristic(0x24, NOTIFY, ("notify",)),
            ),
        ),
    )
    notify_handle = 0x24

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """The pack and what its information block says."""
        super().__init__(address, name, pack)
        self.software = "P4S200A-40569-1.02"
        self.serial = "SIM0000000000001"
        self.model = "GP-LA12-10020260101"
        # Registers 8-10 (alarm, protection, fault), as the BMS sets them.
        self.status_words = (0, 0, 0)

    def default_advertising(self, name: str) -> Advertising:
        """Only its name: the pack advertises no service."""
        return Advertising(name=name)

    def status_registers(self) -> list[int]:
        """The 59 registers of the status block."""
        pack = self.pack
        regs = [0] * STATUS[1]
        regs[0] = round(pack.current * 100)
        regs[1] = round(pack.voltage * 100)
        regs[2] = round(pack.soc)
        regs[3] = round(pack.state_of_health)
        regs[4] = round(pack.remaining_capacity * 100)
        regs[5] = round(pack.full_capacity * 100)
        regs[6] = round(pack.design_capacity * 100)
        regs[7] = pack.cycles
        regs[8:11] = self.status_words
        regs[14] = 0x4000 * pack.charge_fet | 0x8000 * pack.discharge_fet
        regs[15] = len(pack.cell_voltages)
        for index, volts in enumerate(pack.cell_voltages):
            regs[16 + index] = round(volts * 1000)
        regs[46] = len(pack.temperatures)
        for index, celsius in enumerate(pack.temperatures):
            regs[47 + index] = round(celsius * 10)
        regs[57] = round(pack.mosfet_temperature * 10)
        regs[58] = 0xFFFF  # as in the capture
        return regs

    def info_bytes(self) -> bytes:
        """The 70 bytes of the device information block."""
        return (
            _ascii(self.software, 20, b"\x00")
            + _ascii(self.serial, 20, b" ")
            + _ascii(self.model, 30, b"\x00")
        )

    def handle_write(self, handle: int, data: bytes) -> None:
        """One Modbus read request (8 bytes with a valid CRC)."""
        if len(data) != 8 or modbus_crc(data) != 0:
            return
        if data[0] != DEVICE or self.take_fault(Fault.IGNORE_COMMAND) is not None:
            return
        if data[1] != READ:
            self.send(_frame(bytes((DEVICE, data[1] | 0x80, 0x01))))
            return
        block = (int.from_bytes(data[2:4], "big"), int.from_bytes(data[4:6], "big"))
        if block == STATUS:
            payload = _registers(self.status_registers())
        elif block == INFO:
            payload = self.info_bytes()
        else:
            self.send(_frame(bytes((DEVICE, READ | 0x80, ILLEGAL_ADDRESS))))
            return
        self.send(_frame(bytes((DEVICE, READ, len(payload))) + payload))


def demo(address: str) -> GobelSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    pack = PackModel(
        cell_voltages=[3.327, 3.330, 3.330, 3.329],
        current=-4.25,
        soc=97,
        full_capacity=324.0,
        design_capacity=314.0,
        cycles=1,
        temperatures=[20.9],
        mosfet_temperature=21.1,
    )
    return GobelSimulator(address, "BMS-4056911A1100032P    ", pack)
