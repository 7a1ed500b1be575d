"""Simulated Seplos packs on RS485: V2 (YD/T1363 ASCII) and V3 (Modbus RTU).

The packs encode from their own tables and the simulator's own YD/T1363 frame
and CRC code, never from the integration's codec: they are an independent
oracle, checked against the captured vectors through the driver tests.
Temperatures: ``PackModel.temperatures`` holds the four cell probes and then
the environment probe; ``mosfet_temperature`` is the power probe.

Over Bluetooth (``demo()``) a V3 pack's module advertises service FFF0 under
its ``SP..B`` name and carries the same Modbus RTU frames through FFF2
(write) and FFF1 (notify), answering for device 0x01, the first pack
(patman15/aiobmsble ``aiobmsble/bms/seplos_bms.py``
@ b0567331025033d33729385fa89a1198275d6486). As the master of a bank it
also answers EIA for device 0x00 and the blocks of the other packs, devices
0x02 onwards (``SeplosV3Ble(..., others=[...])``, ``demo_bank()``).
"""

from __future__ import annotations

from collections.abc import Callable

from ..device import (
    Advertising,
    Fault,
    SimCharacteristic,
    SimService,
    SimulatedBms,
    uuid16,
)
from ..pack import PackModel
from ..serial.responders import Responder, modbus_crc, ydt_frame

KELVIN = 2731  # 0.1 K at 0 °C
AMBIENT_DEFAULT = 24.0

# Alarm key -> (byte, bit) of the V2 telesignalisation's custom flags
# (alarm events 1-6 are bytes 0-5): the protection bits.
V2_ALARM_BITS = {
    "cell_overvoltage": (1, 1),
    "cell_undervoltage": (1, 3),
    "pack_overvoltage": (1, 5),
    "pack_undervoltage": (1, 7),
    "charge_overtemperature": (2, 1),
    "charge_undertemperature": (2, 3),
    "discharge_overtemperature": (2, 5),
    "discharge_undertemperature": (2, 7),
    "mosfet_overtemperature": (3, 4),
    "charge_overcurrent": (4, 1),
    "discharge_overcurrent": (4, 3),
    "short_circuit": (4, 5),
    "soc_low": (5, 3),
    "temperature_sensor_fault": (0, 1),
    "mosfet_fault": (0, 5),
}
# Alarm key -> (PIC byte, bit): TB02-TB15 of the V3 map.
V3_ALARM_BITS = {
    "cell_overvoltage": (9, 1),
    "cell_undervoltage": (9, 3),
    "pack_overvoltage": (9, 5),
    "pack_undervoltage": (9, 7),
    "charge_overtemperature": (10, 1),
    "charge_undertemperature": (10, 3),
    "discharge_overtemperature": (10, 5),
    "discharge_undertemperature": (10, 7),
    "mosfet_overtemperature": (11, 5),
    "charge_overcurrent": (12, 1),
    "discharge_overcurrent": (12, 4),
    "short_circuit": (12, 6),
    "soc_low": (14, 3),
    "cell_voltage_difference": (14, 4),
    "temperature_sensor_fault": (17, 0),
    "frontend_error": (17, 1),
    "mosfet_fault": (17, 2),
}
# The V3 blocks a master pack polls per pack: (function, start, count).
V3_POLLS = ((0x04, 0x1000, 0x12), (0x04, 0x1100, 0x1A), (0x01, 0x1200, 0x90))


def _u16(value: float) -> bytes:
    return (round(value) & 0xFFFF).to_bytes(2, "big")


def _kelvin(celsius: float) -> int:
    return round(celsius * 10) + KELVIN


def _probes(pack: PackModel) -> list[float]:
    cells = (pack.temperatures + pack.temperatures[-1:] * 4)[:4]
    ambient = pack.temperatures[4] if len(pack.temperatures) > 4 else AMBIENT_DEFAULT
    return [*cells, ambient, pack.mosfet_temperature]


def _flags(bits: dict[str, tuple[int, int]], alarms: set[str], size: int) -> bytearray:
    out = bytearray(size)
    for name in alarms:
        if name in bits:
            index, bit = bits[name]
            out[index] |= 1 << bit
    return out


def _balance(pack: PackModel) -> tuple[int, int]:
    mask = sum(1 << (cell - 1) for cell in pack.balancing_cells)
    return mask & 0xFF, mask >> 8 & 0xFF


def _fets(pack: PackModel) -> int:
    return int(pack.discharge_fet) | int(pack.charge_fet) << 1


def _text(value: str, size: int) -> bytes:
    return value.encode().ljust(size, b"\x00")[:size]


class SeplosV2Pack(Responder):
    """A V2 pack at DIP address ``address``: 0x42, 0x44 and 0x51."""

    def __init__(self, address: int, pack: PackModel, name: str = "1101-SP15") -> None:
        """Answer from ``pack``."""
        self.address = address
        self.pack = pack
        self.name = name
        self.requests = 0

    def request_length(self, buf: bytes) -> int | None:
        """Up to and including the CR."""
        if buf[:1] != b"~":
            return 0
        end = buf.find(b"\r")
        return None if end < 0 else end + 1

    def answer(self, request: bytes) -> bytes | None:
        """Answer a request to this address whose CHKSUM holds."""
        text = request[1:-1]
        try:
            adr, cid2, check = (
                int(text[2:4], 16),
                int(text[6:8], 16),
                int(text[-4:], 16),
            )
        except ValueError:
            return None
        if adr != self.address or (sum(text[:-4]) + check) & 0xFFFF:
            return None
        self.requests += 1
        info = {0x42: self.telemetry, 0x44: self.telesignal, 0x51: self.vendor}.get(
            cid2
        )
        if info is None:
            return ydt_frame(0x20, adr, 0x46, 0x04, b"")
        return ydt_frame(0x20, adr, 0x46, 0x00, info())

    def telemetry(self) -> bytes:
        """Table 8: cells, six probes, current, voltage, capacities, SOC, SOH."""
        pack = self.pack
        out = bytearray((0x00, self.address, len(pack.cell_voltages)))
        for cell in pack.cell_voltages:
            out += _u16(cell * 1000)
        probes = _probes(pack)
        out.append(len(probes))
        for probe in probes:
            out += _u16(_kelvin(probe))
        out += _u16(pack.current * 100) + _u16(pack.voltage * 100)
        out += _u16(pack.remaining_capacity * 100) + bytes((10,))
        out += _u16(pack.full_capacity * 100) + _u16(pack.soc * 10)
        out += _u16(pack.design_capacity * 100) + _u16(pack.cycles)
        out += _u16(pack.state_of_health * 10) + _u16(pack.voltage * 100)
        return bytes(out + bytes(8))

    def telesignal(self) -> bytes:
        """Tables 11-13: byte alarms all normal, then the 20 flag bytes."""
        pack = self.pack
        cells = len(pack.cell_voltages)
        out = bytearray((0x00, self.address, cells)) + bytes(cells)
        out += bytes((6,)) + bytes(6) + bytes(2) + bytes((20,))
        flags = _flags(V2_ALARM_BITS, pack.alarms, 20)
        flags[6] = _fets(pack)
        flags[7], flags[8] = _balance(pack)
        flags[9] = 0x02 if pack.current > 0 else 0x01 if pack.current < 0 else 0x10
        return bytes(out + flags)

    def vendor(self) -> bytes:
        """Name (10), software version (2), manufacturer (20)."""
        return _text(self.name, 10) + bytes((2, 7)) + _text("Seplos", 20)


class SeplosV3Pack(Responder):
    """A V3 pack at Modbus address ``address``: input registers and coils."""

    def __init__(
        self, address: int, pack: PackModel, model: str = "SG16S200A-SP57B-A"
    ) -> None:
        """Answer from ``pack``."""
        self.address = address
        self.pack = pack
        self.model = model
        self.requests = 0

    def request_length(self, buf: bytes) -> int | None:
        """8 bytes for the reads 0x01 and 0x04."""
        if len(buf) < 2:
            return None
        return 8 if buf[1] in (0x01, 0x04) else 0

    def registers(self) -> dict[int, int]:
        """PIA, PIB and VIA as register -> value."""
        pack = self.pack
        pia = [
            pack.voltage * 100,
            pack.current * 100,
            pack.remaining_capacity * 100,
            pack.full_capacity * 100,
            0,
            pack.soc * 10,
            pack.state_of_health * 10,
            pack.cycles,
        ] + [0] * 10
        cells = [cell * 1000 for cell in pack.cell_voltages]
        probes = [_kelvin(t) for t in _probes(pack)]
        pib = (cells + [0] * 16)[:16] + probes[:4] + [0] * 4 + probes[4:]
        via = (
            _text("XZH-ElecTech Co.,Ltd", 20)
            + _text(self.model, 20)
            + b"15"
            + _text(f"SIM{self.address:04d}", 30)
            + bytes(30)
        )
        found: dict[int, int] = {}
        for start, values in ((0x1000, pia), (0x1100, pib)):
            for index, value in enumerate(values):
                found[start + index] = round(value) & 0xFFFF
        for index in range(0, len(via), 2):
            found[0x1700 + index // 2] = int.from_bytes(via[index : index + 2], "big")
        return found

    def coils(self) -> bytes:
        """PIC: 18 status bytes, coil 0x1200 + 8 * byte + bit."""
        pack = self.pack
        pic = _flags(V3_ALARM_BITS, pack.alarms, 18)
        pic[6], pic[7] = _balance(pack)
        pic[8] = 0x02 if pack.current > 0 else 0x01 if pack.current < 0 else 0x10
        pic[15] = _fets(pack)
        return bytes(pic)

    def answer(self, request: bytes) -> bytes | None:
        """Answer a read to this address whose CRC holds."""
        body = request[:-2]
        if (
            request[0] != self.address
            or modbus_crc(body).to_bytes(2, "little") != request[-2:]
        ):
            return None
        self.requests += 1
        function = request[1]
        start = int.from_bytes(request[2:4], "big")
        count = int.from_bytes(request[4:6], "big")
        data = self._read(function, start, count)
        if data is None:
            return _modbus(bytes((self.address, function | 0x80, 0x02)))
        return _modbus(bytes((self.address, function, len(data))) + data)

    def _read(self, function: int, start: int, count: int) -> bytes | None:
        if function == 0x04:
            regs = self.registers()
            wanted = range(start, start + count)
            if not all(r in regs for r in wanted):
                return None
            return b"".join(regs[r].to_bytes(2, "big") for r in wanted)
        pic = self.coils()
        first = start - 0x1200
        if first < 0 or first + count > 8 * len(pic):
            return None
        bits = [pic[(first + i) // 8] >> ((first + i) % 8) & 1 for i in range(count)]
        out = bytearray((count + 7) // 8)
        for i, bit in enumerate(bits):
            out[i // 8] |= bit << (i % 8)
        return bytes(out)


def _modbus(body: bytes) -> bytes:
    return body + modbus_crc(body).to_bytes(2, "little")


def v3_master_polls(addresses: list[int] | tuple[int, ...]) -> list[bytes]:
    """What a V3 master pack asks in one cycle: PIA, PIB and PIC of each pack."""
    return [
        _modbus(
            bytes((address, function))
            + start.to_bytes(2, "big")
            + count.to_bytes(2, "big")
        )
        for address in addresses
        for function, start, count in V3_POLLS
    ]


def demo_pack(address: int) -> PackModel:
    """A 16-cell pack whose values differ with ``address``."""
    pack = PackModel()
    pack.cell_voltages = [
        round(3.30 + 0.001 * ((i + address) % 7), 3) for i in range(16)
    ]
    pack.current = round(-4.5 + address, 2)
    pack.soc = 60.0 + address
    pack.full_capacity = 200.0
    pack.design_capacity = 200.0
    pack.cycles = 40 + address
    pack.temperatures = [21.0 + address / 10, 21.5, 22.0, 22.5, 24.0]
    pack.mosfet_temperature = 26.5
    pack.state_of_health = 99.5
    return pack


# The Modbus device the Bluetooth module answers for, and its master's
# summary device (EIA, patman15/aiobmsble ``aiobmsble/bms/seplos_bms.py``
# @ b0567331025033d33729385fa89a1198275d6486).
BLE_DEVICE = 0x01
MASTER_DEVICE = 0x00


def _u32(value: float) -> list[int]:
    """A 32-bit register pair, low word first (as the captured EIA replies)."""
    raw = round(value) & 0xFFFFFFFF
    return [raw & 0xFFFF, raw >> 16]


class SeplosV3Master(Responder):
    """The master pack's summary of its bank: EIA, EIB and EIC of device 0x00.

    Registers after the XZH map as aiobmsble reads them: pack voltage,
    current (0.1 A), remaining, total, discharged and rated capacity (u32),
    the online flags, the protected flags, two current limits (u32), two
    suggested pack voltages, the pack count, cycles, SOC and SOH (u16).
    """

    def __init__(self, packs: list[PackModel]) -> None:
        """Summarise ``packs`` (the master's own first)."""
        self.packs = packs
        self.requests = 0
        # A master that refuses EIA (exception 2), as one not yet up may.
        self.refuses = False

    def request_length(self, buf: bytes) -> int | None:
        """8 bytes for the reads 0x01 and 0x04."""
        if len(buf) < 2:
            return None
        return 8 if buf[1] in (0x01, 0x04) else 0

    def registers(self) -> list[int]:
        """EIA: 26 registers."""
        packs = self.packs
        count = len(packs)
        remaining = sum(p.remaining_capacity for p in packs)
        total = sum(p.full_capacity for p in packs)
        return [
            *_u32(sum(p.voltage for p in packs) / count * 100),
            *_u32(sum(p.current for p in packs) * 10),
            *_u32(remaining * 100),
            *_u32(total * 100),
            *_u32(0),
            *_u32(sum(p.design_capacity for p in packs) * 100),
            *_u32((1 << count) - 1),
            *_u32(0),
            *_u32(1800),
            *_u32(1800),
            576,
            464,
            count,
            max(p.cycles for p in packs),
            round(remaining / total * 1000) if total else 0,
            round(min(p.state_of_health for p in packs) * 10),
        ]

    def summary(self) -> list[int]:
        """EIB (0x2100): the bank's extremes and their numbers.

        Cell voltage, pack voltage and cell temperature (0.1 °C, as in the
        captures), then zeros.
        """
        cells = [
            (volts, number, index)
            for number, pack in enumerate(self.packs, start=1)
            for index, volts in enumerate(pack.cell_voltages, start=1)
        ]
        packs = [(p.voltage, number) for number, p in enumerate(self.packs, start=1)]
        probes = [t for p in self.packs for t in _probes(p)[:4]]
        high, low = max(cells), min(cells)
        return [
            round(high[0] * 1000),
            round(low[0] * 1000),
            high[2],
            low[2],
            round(max(packs)[0] * 100),
            round(min(packs)[0] * 100),
            max(packs)[1],
            min(packs)[1],
            round(max(probes) * 10),
            round(min(probes) * 10),
            round(sum(probes) / len(probes) * 10),
        ] + [0] * 15

    def events(self) -> bytes:
        """EIC (coils 0x2200): the PIC event bytes TB09-TB15 of the bank."""
        out = bytearray(10)
        for pack in self.packs:
            for index, byte in enumerate(SeplosV3Pack(0, pack).coils()[8:18]):
                out[index] |= byte
        return bytes(out)

    def answer(self, request: bytes) -> bytes | None:
        """Answer a read of EIA, EIB or EIC whose CRC holds; refuse others."""
        body = request[:-2]
        if (
            request[0] != MASTER_DEVICE
            or modbus_crc(body).to_bytes(2, "little") != request[-2:]
        ):
            return None
        self.requests += 1
        function = request[1]
        start = int.from_bytes(request[2:4], "big")
        count = int.from_bytes(request[4:6], "big")
        data = None if self.refuses else self._read(function, start, count)
        if data is None:
            return _modbus(bytes((MASTER_DEVICE, function | 0x80, 0x02)))
        return _modbus(bytes((MASTER_DEVICE, function, len(data))) + data)

    def _read(self, function: int, start: int, count: int) -> bytes | None:
        if function == 0x01:
            events = self.events()
            if start != 0x2200 or count > 8 * len(events):
                return None
            return events[: (count + 7) // 8]
        blocks = {0x2000: self.registers, 0x2100: self.summary}
        if function != 0x04 or start not in blocks:
            return None
        regs = blocks[start]()
        if count > len(regs):
            return None
        return b"".join((r & 0xFFFF).to_bytes(2, "big") for r in regs[:count])


class SeplosV3Ble(SimulatedBms):
    """A V3 pack behind its Bluetooth module: Modbus RTU in FFF2, out FFF1."""

    family = "seplos"
    services = (
        SimService(
            0x10,
            0xFFF0,
            (
                SimCharacteristic(0x11, 0xFFF1, ("read", "notify")),
                SimCharacteristic(
                    0x14, 0xFFF2, ("read", "write-without-response", "write")
                ),
            ),
        ),
    )
    notify_handle = 0x11

    def __init__(
        self,
        address: str,
        name: str,
        pack: PackModel | None = None,
        others: list[PackModel] | None = None,
    ) -> None:
        """The module, its pack (device 0x01) and the other packs of its bank.

        ``others`` are devices 0x02 onwards; the master (device 0x00) reports
        them all in EIA. Changing ``others`` adds or removes packs live.
        """
        super().__init__(address, name, pack)
        self.responder = SeplosV3Pack(BLE_DEVICE, self.pack)
        self.others = list(others or [])
        self.master = SeplosV3Master([self.pack, *self.others])
        self.eia_answered = True

    @property
    def requests(self) -> int:
        """Requests the pack has answered."""
        return self.responder.requests

    def set_others(self, others: list[PackModel]) -> None:
        """The other packs of the bank from now on (some join, some leave)."""
        self.others = list(others)
        self.master.packs = [self.pack, *self.others]

    def _responder(self, device: int) -> Responder | None:
        if device == BLE_DEVICE:
            return self.responder
        if device == MASTER_DEVICE:
            return self.master if self.eia_answered else None
        number = device - BLE_DEVICE - 1
        if 0 <= number < len(self.others):
            return SeplosV3Pack(device, self.others[number])
        return None

    def default_advertising(self, name: str) -> Advertising:
        """Its name and service FFF0, as the real modules advertise."""
        return Advertising(name=name, service_uuids=[uuid16(0xFFF0)])

    def handle_write(self, handle: int, data: bytes) -> None:
        """One Modbus read (one write, 8 bytes) to the pack."""
        if len(data) != 8 or self.take_fault(Fault.IGNORE_COMMAND) is not None:
            return
        responder = self._responder(data[0])
        if responder is None:
            return
        answer = responder.answer(data)
        if answer is not None:
            self.send(answer)


def demo(address: str) -> SeplosV3Ble:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    return SeplosV3Ble(address, "SP05B2312190075", demo_pack(BLE_DEVICE))


def demo_bank(address: str, count: int = 3) -> SeplosV3Ble:
    """A master pack reporting a bank of ``count`` packs (devices 0x01 on)."""
    return SeplosV3Ble(
        address,
        "SP05B2312190075",
        demo_pack(BLE_DEVICE),
        [demo_pack(device) for device in range(BLE_DEVICE + 1, BLE_DEVICE + count)],
    )


WIRED_DEMOS: dict[str, Callable[[int], Responder]] = {
    "seplos_v2": lambda address: SeplosV2Pack(address, demo_pack(address)),
    "seplos_v3": lambda address: SeplosV3Pack(address, demo_pack(address)),
}
