"""A simulated Vatrer smart BMS or C4S100 (RC6621A) BMS: Modbus RTU over NUS.

The BMS encodes its holding registers (slave 0x02) from its own table of
aiobmsble 0.31.0 (PyPI sdist) ``aiobmsble/bms/vatrer_bms.py`` and
``docs/c4s_bms.md``, with the simulator's own CRC, never from the
integration's codec: it is an independent oracle, checked against the
captured vectors through the driver tests.

A Vatrer answers its three reads (0-19, 52-69, 21-51), a C4S100 only the
read of registers 0-69 (``c4s_bms.md``: it leaves the three unanswered);
both stay silent for any other request. Requests go to the Nordic UART RX
characteristic, replies come on TX.
"""

from __future__ import annotations

from ..device import Advertising, Fault, SimCharacteristic, SimService, SimulatedBms
from ..pack import PackModel
from ..serial.responders import modbus_crc

NUS = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
NUS_RX = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"  # the host writes here
NUS_TX = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"  # the BMS notifies here
SLAVE = 0x02
READ_HOLDING = 0x03
# The reads each kind of BMS answers: (start, count).
READS = {"vatrer": {(0x00, 0x14), (0x34, 0x12), (0x15, 0x1F)}, "c4s": {(0x00, 0x46)}}
CHARGE_ON, DISCHARGE_ON = 0x10, 0x20  # low byte of register 66
TABLE_SIZE = 70


def _s16(value: float) -> int:
    return round(value) & 0xFFFF


class VatrerBms(SimulatedBms):
    """A Vatrer (three reads) or a C4S100 (one read) on the Nordic UART."""

    family = "vatrer"
    notify_handle = 0x0E

    def __init__(
        self,
        address: str,
        name: str,
        pack: PackModel | None = None,
        *,
        variant: str = "vatrer",
    ) -> None:
        """The BMS of ``variant`` (``vatrer`` or ``c4s``)."""
        self.variant = variant
        self.services = (
            SimService(
                0x0C,
                NUS,
                (
                    SimCharacteristic(0x0E, NUS_TX, ("notify",)),
                    SimCharacteristic(
                        0x11, NUS_RX, ("write-without-response", "write")
                    ),
                ),
            ),
        )
        super().__init__(address, name, pack)
        # Registers 59 to the high byte of 66: any bit set is a problem.
        self.problem_code = 0

    def default_advertising(self, name: str) -> Advertising:
        """The name and the Nordic UART service."""
        return Advertising(name=name, service_uuids=[NUS])

    @property
    def probes(self) -> list[float]:
        """Vatrer: the generic probes; C4S100: the environment probe."""
        temps = self.pack.temperatures
        return list(temps[:1] if self.variant == "c4s" else temps[:5])

    def registers(self) -> list[int]:
        """Registers 0-69 from the pack (cells in mV, probes in whole °C)."""
        pack = self.pack
        cells = [round(v * 1000) for v in pack.cell_voltages[:30]]
        pack.cell_voltages = [mv / 1000 for mv in cells]
        centiamps = round(pack.current * 100) & 0xFFFFFFFF
        regs = [0] * TABLE_SIZE
        regs[0:8] = [
            round(pack.voltage * 100),
            centiamps >> 16,
            centiamps & 0xFFFF,
            round(pack.soc),
            round(pack.remaining_capacity * 100),
            round(pack.design_capacity * 100),
            pack.cycles,
            round(pack.state_of_health),
        ]
        regs[11:16] = [
            max(cells),
            min(cells),
            max(cells) - min(cells),
            cells.index(max(cells)) + 1,
            cells.index(min(cells)) + 1,
        ]
        ambient = pack.temperatures[0]
        regs[16:18] = [_s16(pack.mosfet_temperature), _s16(ambient)]
        regs[21] = len(cells)
        regs[22 : 22 + len(cells)] = cells
        if self.variant == "c4s":
            # The two probes again at 52-58 under the app's other labels.
            regs[52:55] = [2, _s16(ambient), _s16(pack.mosfet_temperature)]
            regs[57:59] = [_s16(ambient), _s16(pack.mosfet_temperature)]
        else:
            probes = [_s16(t) for t in pack.temperatures[:5]]
            regs[52] = len(probes) - 1
            regs[53 : 54 + len(probes)] = [*probes, _s16(pack.mosfet_temperature)]
        problem = self.problem_code.to_bytes(15, "big") + bytes((self._fets(),))
        regs[59:67] = [
            int.from_bytes(problem[i : i + 2], "big") for i in range(0, 16, 2)
        ]
        mask = sum(1 << (cell - 1) for cell in pack.balancing_cells)
        regs[68:70] = [mask >> 16 & 0xFFFF, mask & 0xFFFF]
        return regs

    def _fets(self) -> int:
        pack = self.pack
        return (CHARGE_ON if pack.charge_fet else 0) | (
            DISCHARGE_ON if pack.discharge_fet else 0
        )

    def answer(self, request: bytes) -> bytes | None:
        """The reply to one of the variant's reads, None for anything else."""
        if (
            len(request) != 8
            or request[:2] != bytes((SLAVE, READ_HOLDING))
            or modbus_crc(request[:-2]).to_bytes(2, "little") != request[-2:]
        ):
            return None
        start = int.from_bytes(request[2:4], "big")
        count = int.from_bytes(request[4:6], "big")
        if (start, count) not in READS[self.variant]:
            return None
        regs = self.registers()[start : start + count]
        data = b"".join(r.to_bytes(2, "big") for r in regs)
        body = bytes((SLAVE, READ_HOLDING, len(data))) + data
        return body + modbus_crc(body).to_bytes(2, "little")

    def handle_write(self, handle: int, data: bytes) -> None:
        """A request written to the RX characteristic."""
        if handle != 0x11 or self.take_fault(Fault.IGNORE_COMMAND) is not None:
            return
        reply = self.answer(data)
        if reply is not None:
            self.send(reply)


def demo_pack() -> PackModel:
    """A 16-cell 51.2 V 100 Ah pack, discharging a little."""
    return PackModel(
        cell_voltages=[round(3.295 + 0.001 * (i % 3), 3) for i in range(16)],
        current=-4.96,
        soc=40.0,
        full_capacity=100.0,
        design_capacity=100.0,
        cycles=27,
        temperatures=[18.0, 20.0, 19.0, 20.0, 20.0],
        mosfet_temperature=20.0,
    )


def demo(address: str) -> VatrerBms:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    return VatrerBms(address, "250320512100045", demo_pack())


def demo_c4s(address: str) -> VatrerBms:
    """A C4S100 4S/100 A BMS under its advertised name."""
    pack = PackModel(
        cell_voltages=[3.337, 3.33, 3.329, 3.339],
        current=-3.42,
        soc=98.0,
        full_capacity=100.0,
        design_capacity=100.0,
        cycles=107,
        temperatures=[27.0],
        mosfet_temperature=28.0,
        state_of_health=98.0,
    )
    return VatrerBms(address, "C4S100IE06007", pack, variant="c4s")
