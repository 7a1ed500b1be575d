"""A simulated PACE pack on an RS485 line: YD/T1363 VER 0x25, CID1 0x46.

It answers 0x42 (analog), 0x44 (alarms and states), C1 and C2 (texts) and the
0x9A / 0x9B MOSFET commands for its own address, encoding from a
:class:`PackModel` with its own tables and the simulator's own frame builder
(:func:`ydt_frame`), never with the integration's codec: it is an independent
oracle, so a decoding mistake cannot hide behind the same mistake here. The
captured frames in ``tests/protocol/data/pace_vectors.json`` pin the codec
down. Wired only: no Bluetooth ``demo()``.
"""

from __future__ import annotations

from ..pack import PackModel, sixteen_cells
from ..serial.responders import Ydt1363Responder, ydt_frame

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


WIRED_DEMOS = {"pace": wired_demo}
