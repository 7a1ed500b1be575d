"""A simulated Buknuwo BMS: Modbus RTU on the 2760 service.

Service ``00002760-08c2-11e1-9073-0e8ac72e1001``, write ``…0001``, notify
``…0002``; it answers Modbus device 0x01, function 0x03, for any registers
of its map (0x0000-0x0039: the status block, the probe count and probes,
the MOSFET probe) in 20-byte notifications, and any other read with
exception 0x02 (aiobmsble 0.31.0 (PyPI sdist) ``aiobmsble/bms/buknuwo_bms.py``,
``docs/buknuwo.md`` and ``tests/bms/test_buknuwo_bms.py``).

It encodes from its own register table and the simulator's own CRC, never
from the integration's codec: it is an independent oracle, checked against
the captured vectors through the driver tests. ``PackModel.temperatures``
are the probes of registers 0x2F on, ``mosfet_temperature`` register 0x39.
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
ILLEGAL_ADDRESS = 0x02
REGISTERS = 0x3A  # 0x0000-0x0039
PROBE_COUNT = 0x2E
MOSFET_PROBE = 0x39
# Register 11: its high byte the MOSFETs, its low byte fault bits.
CHARGE_FET = 0x0400
DISCHARGE_FET = 0x0800


def _frame(body: bytes) -> bytes:
    crc = modbus_crc(body)
    return body + bytes((crc & 0xFF, crc >> 8))


class BuknuwoSimulator(SimulatedBms):
    """One pack: Modbus reads in, replies out in ``mtu``-sized notifications."""

    family = "buknuwo"
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
    # No cell in the reads.
    per_cell = False

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """The pack and its status words."""
        super().__init__(address, name, pack)
        # Registers 9 and 10 and register 11's low byte, as the BMS sets them.
        self.status_words = (0, 0, 0)
        # Reads beyond this register are refused (exception 0x02).
        self.map_end = REGISTERS

    def default_advertising(self, name: str) -> Advertising:
        """Only its name: the pack advertises no service.

        The real pack also sends company 65535 data 0x4E, which the matchers
        do not need; left out, as Home Assistant's Kegtron integration would
        take it up.
        """
        return Advertising(name=name)

    def registers(self) -> list[int]:
        """The register map 0x0000-0x0039."""
        pack = self.pack
        regs = [0] * REGISTERS
        regs[0] = round(pack.current * 100) & 0xFFFF
        regs[1] = round(pack.voltage * 100)
        regs[2] = round(pack.soc)
        regs[3] = round(pack.state_of_health)
        regs[4] = round(pack.remaining_capacity * 100)
        regs[5] = round(pack.full_capacity * 100)
        regs[6] = round(pack.design_capacity * 100)
        regs[7] = pack.cycles
        regs[9], regs[10], faults = self.status_words
        regs[11] = (
            CHARGE_FET * pack.charge_fet | DISCHARGE_FET * pack.discharge_fet | faults
        )
        regs[PROBE_COUNT] = len(pack.temperatures)
        for index, celsius in enumerate(pack.temperatures):
            regs[PROBE_COUNT + 1 + index] = round(celsius * 10) & 0xFFFF
        regs[MOSFET_PROBE] = round(pack.mosfet_temperature * 10) & 0xFFFF
        return regs

    def handle_write(self, handle: int, data: bytes) -> None:
        """One Modbus read request (8 bytes with a valid CRC)."""
        if len(data) != 8 or modbus_crc(data) != 0:
            return
        if data[0] != DEVICE or self.take_fault(Fault.IGNORE_COMMAND) is not None:
            return
        if data[1] != READ:
            self.send(_frame(bytes((DEVICE, data[1] | 0x80, 0x01))))
            return
        start = int.from_bytes(data[2:4], "big")
        count = int.from_bytes(data[4:6], "big")
        if count == 0 or start + count > self.map_end:
            self.send(_frame(bytes((DEVICE, READ | 0x80, ILLEGAL_ADDRESS))))
            return
        regs = self.registers()[start : start + count]
        payload = b"".join(value.to_bytes(2, "big") for value in regs)
        self.send(_frame(bytes((DEVICE, READ, len(payload))) + payload))


def demo(address: str) -> BuknuwoSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    pack = PackModel(
        cell_voltages=[3.422, 3.423, 3.422, 3.423],
        current=3.88,
        soc=99,
        # 83.53 Ah in the capture; whole Ah keep the remaining charge exact.
        full_capacity=83.0,
        design_capacity=90.0,
        cycles=1,
        temperatures=[19.5],
        mosfet_temperature=18.7,
    )
    return BuknuwoSimulator(address, "MEY-12320-A00898", pack)
