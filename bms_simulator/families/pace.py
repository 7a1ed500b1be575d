"""A simulated PACE pack on an RS485 line: YD/T1363 VER 0x25, CID1 0x46.

It answers 0x42 (analog), 0x44 (alarms and states), C1 and C2 (texts) and the
0x9A / 0x9B MOSFET commands for its own address, encoding from a
:class:`PackModel` with its own tables and the simulator's own frame builder
(:func:`ydt_frame`), never with the integration's codec: it is an independent
oracle, so a decoding mistake cannot hide behind the same mistake here. The
captured frames in ``tests/protocol/data/pace_vectors.json`` pin the codec
down.

Over Bluetooth (``demo()``) a PACEEX module named ``PC-`` and four characters
answers the binary frames of patman15/aiobmsble ``aiobmsble/bms/pace_bms.py``
(0.31.0) through FFF2 (write) and FFF1 (notify), encoded here from its own
layout and the simulator's bit-by-bit CRC: 0x0001 versions, 0x0002 serial,
0x0a01 pack values, 0x0a02 cells and probes, and 0x0a00 the system values,
which only a bank's master fills in (``master=False`` answers zeros, as the
slave packs of aiobmsble PR #259 do).
"""

from __future__ import annotations

from ..device import Advertising, Fault, SimCharacteristic, SimService, SimulatedBms
from ..pack import PackModel, sixteen_cells
from ..serial.responders import Ydt1363Responder, modbus_crc, ydt_frame

VER = 0x25
CID1 = 0x46
RTN_OK = 0x00
RTN_CID2_INVALID = 0x04
RTN_REFUSED = 0x09
VERSION = "P16S100A-1812-1.00"
SERIAL = "SIM-PACE-{address:02d}"
CELL_PROBES = 4

# Alarm key -> bit of protect1 | protect2 << 8 | fault << 16 | warn2 << 24.
ALARM_BITS = {
    "cell_overvoltage": 0,
    "cell_undervoltage": 1,
    "pack_overvoltage": 2,
    "pack_undervoltage": 3,
    "charge_overcurrent": 4,
    "discharge_overcurrent": 5,
    "short_circuit": 6,
    "charge_overtemperature": 8,
    "discharge_overtemperature": 9,
    "charge_undertemperature": 10,
    "discharge_undertemperature": 11,
    "mosfet_overtemperature": 12,
    "mosfet_fault": 16,
    "temperature_sensor_fault": 18,
    "hardware_fault": 20,
    "frontend_error": 21,
    "soc_low": 31,
}


def _u16(value: float) -> bytes:
    return (round(value) & 0xFFFF).to_bytes(2, "big")


def _text(text: str, width: int) -> bytes:
    return text.encode("ascii").ljust(width, b" ")


class PaceResponder(Ydt1363Responder):
    """One PACE pack at ``address``, reporting ``pack``.

    ``ambient`` is the sixth probe; the MOSFET probe is the pack's. A pack
    with four cell probes reports six (four cells, MOSFET, ambient), any other
    count only its cell probes.
    """

    def __init__(self, address: int, pack: PackModel, *, ambient: float = 20.0) -> None:
        """Serve ``pack`` at ``address``."""
        super().__init__(address, {}, ver=VER, cid1=CID1)
        self.pack = pack
        self.ambient = ambient

    def answer(self, request: bytes) -> bytes | None:
        """Answer a request to this address whose CHKSUM is right."""
        text = request[1:-1]
        try:
            adr, cid1, cid2 = (int(text[i : i + 2], 16) for i in (2, 4, 6))
            check = int(text[-4:], 16)
            info = bytes.fromhex(text[12:-4].decode())
        except ValueError:
            return None
        if adr != self.address or (sum(text[:-4]) + check) & 0xFFFF:
            return None
        self.requests += 1
        if cid1 != CID1:
            return ydt_frame(VER, adr, CID1, RTN_CID2_INVALID, b"")
        rtn, reply = self._reply(cid2, info)
        return ydt_frame(VER, adr, CID1, rtn, reply)

    def _reply(self, cid2: int, info: bytes) -> tuple[int, bytes]:
        if cid2 in (0x42, 0x44):
            if info != bytes((self.address,)):
                return RTN_OK, b"\x00\x00"  # a system frame: a slave has nothing
            return RTN_OK, self.analog() if cid2 == 0x42 else self.status()
        if cid2 == 0xC1:
            return RTN_OK, _text(VERSION, 20)
        if cid2 == 0xC2:
            return RTN_OK, _text(SERIAL.format(address=self.address), 40)
        if cid2 in (0x9A, 0x9B) and info in (b"\x00", b"\x01"):
            return self._switch(cid2 == 0x9A, on=info == b"\x00")
        return RTN_CID2_INVALID, b""

    def _switch(self, charge: bool, *, on: bool) -> tuple[int, bytes]:
        """PACE keeps one MOSFET enabled: switching both off is refused."""
        pack = self.pack
        other = pack.discharge_enabled if charge else pack.charge_enabled
        if not on and not other:
            return RTN_REFUSED, bytes((self._instruction(),))
        if charge:
            pack.charge_enabled = on
        else:
            pack.discharge_enabled = on
        return RTN_OK, bytes((self._instruction(),))

    def probes(self) -> list[float]:
        """Every probe's temperature, in the order PACE sends them."""
        pack = self.pack
        if len(pack.temperatures) == CELL_PROBES:
            return [*pack.temperatures, pack.mosfet_temperature, self.ambient]
        return list(pack.temperatures)

    def analog(self) -> bytes:
        """The 0x42 INFO: flag, pack, cells, probes, current, capacities."""
        pack = self.pack
        probes = self.probes()
        return (
            bytes((0x00, self.address, len(pack.cell_voltages)))
            + b"".join(_u16(v * 1000) for v in pack.cell_voltages)
            + bytes((len(probes),))
            + b"".join(_u16(t * 10 + 2730) for t in probes)
            + _u16(pack.current * 100)
            + _u16(pack.voltage * 1000)
            + _u16(pack.remaining_capacity * 100)
            + b"\x03"
            + _u16(pack.full_capacity * 100)
            + _u16(pack.cycles)
            + _u16(pack.design_capacity * 100)
        )

    def _instruction(self) -> int:
        pack = self.pack
        charging = 0x20 if pack.current > 0 else 0
        return charging | pack.discharge_fet << 2 | pack.charge_fet << 1

    def status(self) -> bytes:
        """The 0x44 INFO: warnings, protections, states, balancing."""
        pack = self.pack
        code = sum(1 << ALARM_BITS[a] for a in pack.alarms if a in ALARM_BITS)
        balance = sum(1 << (c - 1) for c in pack.balancing_cells)
        return (
            bytes((0x00, self.address, len(pack.cell_voltages)))
            + bytes(len(pack.cell_voltages))
            + bytes((len(self.probes()),))
            + bytes(len(self.probes()))
            + bytes(3)
            + bytes((code & 0xFF, code >> 8 & 0xFF, self._instruction(), 0))
            + bytes((code >> 16 & 0xFF,))
            + bytes((balance & 0xFF, balance >> 8 & 0xFF))
            + bytes((0, code >> 24 & 0xFF))
        )


def wired_demo(address: int) -> PaceResponder:
    """A 16-cell pack at ``address`` with four cell probes."""
    pack = sixteen_cells()
    pack.temperatures = [19.5, 20.1, 20.4, 19.8]
    pack.current = -12.5
    return PaceResponder(address, pack)


BLE_HEAD = 0x9A
BLE_TAIL = 0x9D
BLE_KELVIN = 2731
BLE_SERIAL = "SIMPACE0001"
BLE_HARDWARE = "21939V140"
BLE_PROBES = 4  # the cell probes; MOSFET and ambient read 0, as captured


def ble_frame(command: int, data: bytes) -> bytes:
    """``9A 00 00 <command> 00 00 <len> <data> <CRC, high first> 9D``."""
    body = b"\x9a\x00\x00" + command.to_bytes(2, "big") + b"\x00\x00"
    body += bytes((len(data),)) + data
    return body + modbus_crc(body).to_bytes(2, "big") + b"\x9d"


def _s16(value: float) -> bytes:
    return round(value).to_bytes(2, "big", signed=True)


def _s32(value: float) -> bytes:
    return round(value).to_bytes(4, "big", signed=True)


def _ble_text(text: str, width: int) -> bytes:
    return bytes((width,)) + text.encode("ascii").ljust(width, b"\0")


class PaceBle(SimulatedBms):
    """A PACE pack behind its PACEEX module; ``master`` fills the system frame."""

    family = "pace"
    services = (
        SimService(
            0x10,
            0xFFF0,
            (
                SimCharacteristic(0x11, 0xFFF1, ("read", "notify")),
                SimCharacteristic(0x14, 0xFFF2, ("read", "write-without-response")),
            ),
        ),
    )
    notify_handle = 0x11

    def __init__(
        self,
        address: str,
        name: str,
        pack: PackModel | None = None,
        *,
        master: bool = True,
    ) -> None:
        """The module and its pack."""
        super().__init__(address, name, pack)
        self.master = master
        self.asked: list[int] = []

    def default_advertising(self, name: str) -> Advertising:
        """Its name only: the captured advertisement lists no service."""
        return Advertising(name=name)

    def handle_write(self, handle: int, data: bytes) -> None:
        """One request frame; a bad CRC or an unknown command is not answered."""
        if self.take_fault(Fault.IGNORE_COMMAND) is not None:
            return
        if (
            len(data) < 11
            or data[0] != BLE_HEAD
            or data[-1] != BLE_TAIL
            or len(data) != 11 + data[7]
            or modbus_crc(data[:-3]).to_bytes(2, "big") != data[-3:-1]
        ):
            return
        command = int.from_bytes(data[3:5], "big")
        reply = {
            0x0001: self.versions,
            0x0002: self.serial,
            0x0A00: self.system,
            0x0A01: self.pack_values,
            0x0A02: self.cells,
        }.get(command)
        if reply is not None:
            self.asked.append(command)
            self.send(ble_frame(command, reply()))

    def versions(self) -> bytes:
        """Software version, its long form and the hardware version."""
        return (
            b"\x00"
            + _ble_text(VERSION, 21)
            + _ble_text(VERSION + "-001", 32)
            + _ble_text(BLE_HARDWARE, 10)
        )

    def serial(self) -> bytes:
        """Its length, then the serial number."""
        return bytes((len(BLE_SERIAL),)) + BLE_SERIAL.encode("ascii")

    def _values(self, wide: bool) -> bytes:
        """Current, voltage, remaining, full, design, SOC, SOH, cycles."""
        pack = self.pack
        word = _s32 if wide else _s16
        return (
            word(pack.current * 100)
            + word(pack.voltage * 100)
            + word(pack.remaining_capacity * 100)
            + word(pack.full_capacity * 100)
            + word(pack.design_capacity * 100)
            + bytes((round(pack.soc), round(pack.state_of_health)))
            + word(pack.cycles)
        )

    def system(self) -> bytes:
        """51 bytes: the bank's values on the master, all zeros on a slave."""
        if not self.master:
            return bytes(51)
        return (b"\x01" + self._values(wide=True)).ljust(51, b"\x00")

    def pack_values(self) -> bytes:
        """43 bytes: this pack's own values, then fields no decoder reads."""
        return (b"\x02" + self._values(wide=False)).ljust(43, b"\x00")

    def cells(self) -> bytes:
        """Pack voltage, cell count, then per cell its mV and a probe word."""
        pack = self.pack
        probes = [round(t * 10) + BLE_KELVIN for t in pack.temperatures[:BLE_PROBES]]
        out = bytearray(b"\x02" + _u16(pack.voltage * 100))
        out.append(len(pack.cell_voltages))
        for index, cell in enumerate(pack.cell_voltages):
            out += _u16(cell * 1000)
            out += _u16(probes[index] if index < len(probes) else 0)
        return bytes(out)


def demo(address: str) -> PaceBle:
    """The family's demo device: a 16-cell pack with four cell probes."""
    pack = sixteen_cells()
    pack.temperatures = [22.2, 22.4, 22.7, 22.4]
    pack.current = -3.84
    pack.soc = 74.0
    pack.full_capacity = 100.0
    pack.design_capacity = 100.0
    pack.cycles = 239
    return PaceBle(address, "PC-9662", pack)


WIRED_DEMOS = {"pace": wired_demo}
