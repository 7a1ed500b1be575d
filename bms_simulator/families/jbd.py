"""A simulated JBD BMS (service FF00, notify FF01, write FF02).

It encodes from its own tables, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured frames in
``tests/protocol/data/jbd_vectors.json`` pin the codec down (each decodes
exactly), and the driver tests check that what the codec reads from this
simulator equals the simulated pack.
"""

from __future__ import annotations

import random

from ..device import (
    Advertising,
    Fault,
    SimCharacteristic,
    SimService,
    SimulatedBms,
    uuid16,
)
from ..pack import PackModel
from ..serial.adapter import SimulatedResponder

ALARM_BITS = {
    "cell_overvoltage": 0,
    "cell_undervoltage": 1,
    "pack_overvoltage": 2,
    "pack_undervoltage": 3,
    "charge_overtemperature": 4,
    "charge_undertemperature": 5,
    "discharge_overtemperature": 6,
    "discharge_undertemperature": 7,
    "charge_overcurrent": 8,
    "discharge_overcurrent": 9,
    "short_circuit": 10,
    "frontend_error": 11,
}
LOCK_BIT = 12


def _chk(body: bytes) -> bytes:
    return ((0x10000 - sum(body)) & 0xFFFF).to_bytes(2, "big")


def reply(register: int, payload: bytes, status: int = 0) -> bytes:
    """A JBD reply frame."""
    body = bytes((status, len(payload))) + payload
    return bytes((0xDD, register)) + body + _chk(body) + b"\x77"


class JbdSimulator(SimulatedBms):
    """Answers 0x03, 0x04, 0x05 and applies 0xE1 MOSFET writes.

    0xE1 as the real BMS does it (protocols.md 4.5, 4.6.1): each write replaces
    a two-bit disable mask (``pack.charge_enabled`` / ``discharge_enabled``); a
    MOSFET conducts only when its bit is clear and no protection blocks it;
    protection bit 12, the software lock, is set while either bit is set; a
    power cycle clears the mask.
    """

    family = "jbd"
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

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """Add the JBD-specific state."""
        super().__init__(address, name, pack)
        self.model = "JBD-SP04S034-L4S-200A-B-U"
        self.software_version = 0x80
        self.production_date = (22 << 9) | (3 << 5) | 28
        self.password: str | None = None
        self.refuse_commands = False
        self._auth_state = "none"
        self._random = 0
        self.randoms: list[int] = []
        self.require_root = True
        self.root_password = b"JBDbtpwd!@#2023"
        self.auth_requests = 0
        # Indexes (in ``auth_requests`` order) of FF AA requests that the BMS
        # processes but whose reply is lost on the way back.
        self.lost_auth_replies: set[int] = set()

    def default_advertising(self, name: str) -> Advertising:
        """Advertise service FF00 and the MAC-derived manufacturer data."""
        return Advertising(name=name, service_uuids=[uuid16(0xFF00)])

    def on_connect(self) -> None:
        """A new connection must authenticate again."""
        self._auth_state = "none"

    def power_cycle(self) -> None:
        """Restart the BMS: the link drops and the 0xE1 mask is cleared."""
        self._drop_link()
        self.pack.charge_enabled = True
        self.pack.discharge_enabled = True

    @property
    def _authenticated(self) -> bool:
        return self.password is None or self._auth_state == "done"

    def handle_write(self, handle: int, data: bytes) -> None:
        """Parse one request and answer it."""
        if data[:2] == b"\xff\xaa":
            self._handle_auth(data)
            return
        if len(data) < 7 or data[0] != 0xDD or data[-1] != 0x77:
            return
        if data[4 + data[3] : 6 + data[3]] != _chk(data[2 : 4 + data[3]]):
            return
        if not self._authenticated:
            return
        command, register = data[1], data[2]
        if command == 0xA5:
            payload = self._read(register)
            if payload is not None:
                self.send(reply(register, payload))
        elif command == 0x5A:
            self._write(register, data[4 : 4 + data[3]])

    def _read(self, register: int) -> bytes | None:
        if register == 0x03:
            return self.basic_payload()
        if register == 0x04:
            return b"".join(
                round(v * 1000).to_bytes(2, "big") for v in self.pack.cell_voltages
            )
        if register == 0x05:
            return self.model.encode()
        return None

    def _write(self, register: int, value: bytes) -> None:
        if register != 0xE1 or len(value) != 2:
            self.send(reply(register, b"", status=0x80))
            return
        if self.refuse_commands:
            self.send(reply(register, b"", status=0x80))
            return
        if self.take_fault(Fault.IGNORE_COMMAND) is None:
            self.pack.charge_enabled = not value[1] & 1
            self.pack.discharge_enabled = not value[1] & 2
        self.send(reply(register, b""))

    def protection_bits(self) -> int:
        """Protection word from the pack's alarms and the software lock."""
        bits = 0
        for alarm in self.pack.alarms:
            if alarm in ALARM_BITS:
                bits |= 1 << ALARM_BITS[alarm]
        if not (self.pack.charge_enabled and self.pack.discharge_enabled):
            bits |= 1 << LOCK_BIT
        return bits

    def basic_payload(self) -> bytes:
        """Register 0x03 from the pack model."""
        pack = self.pack
        balancing = sum(1 << (c - 1) for c in pack.balancing_cells)
        fet = (1 if pack.charge_fet else 0) | (2 if pack.discharge_fet else 0)
        out = bytearray()
        out += round(pack.voltage * 100).to_bytes(2, "big")
        out += round(pack.current * 100).to_bytes(2, "big", signed=True)
        out += round(pack.remaining_capacity * 100).to_bytes(2, "big")
        out += round(pack.full_capacity * 100).to_bytes(2, "big")
        out += pack.cycles.to_bytes(2, "big")
        out += self.production_date.to_bytes(2, "big")
        out += (balancing & 0xFFFF).to_bytes(2, "big")
        out += (balancing >> 16).to_bytes(2, "big")
        out += self.protection_bits().to_bytes(2, "big")
        out += bytes((self.software_version, round(pack.soc), fet))
        out += bytes((len(pack.cell_voltages), len(pack.temperatures)))
        for temp in pack.temperatures:
            out += (round(temp * 10) + 2731).to_bytes(2, "big")
        return bytes(out)

    def _handle_auth(self, data: bytes) -> None:
        if self.password is None or len(data) < 5 or len(data) != 5 + data[3]:
            return
        if sum(data[2:-1]) & 0xFF != data[-1]:
            return
        index = self.auth_requests
        self.auth_requests += 1
        reply = self._auth_answer(self.password, data[2], data[4 : 4 + data[3]])
        if reply is not None and index not in self.lost_auth_replies:
            self.send(reply)

    def _auth_answer(self, password: str, command: int, body: bytes) -> bytes | None:
        """Advance the FF AA state machine; the reply, if the step answers."""
        if command == 0x15:
            self._auth_state = "key" if body == b"000000" else "none"
            return self._auth_reply(0x15, 0x00 if body == b"000000" else 0x01)
        if command == 0x17 and self._auth_state in {"key", "password"}:
            self._random = random.randrange(256)
            self.randoms.append(self._random)
            self._auth_state = "random" if self._auth_state == "key" else "root"
            return self._auth_reply(0x17, self._random)
        if command == 0x18 and self._auth_state == "random":
            mac = bytes.fromhex(self.address.replace(":", ""))
            expected = bytes(
                ((m ^ p) + self._random) & 0xFF
                for m, p in zip(mac, password.encode(), strict=True)
            )
            ok = body == expected
            if not ok:
                self._auth_state = "none"
            else:
                self._auth_state = "password" if self.require_root else "done"
            return self._auth_reply(0x18, 0x00 if ok else 0x01)
        if command == 0x1D and self._auth_state == "root":
            key = bytes.fromhex(self.address.replace(":", "")) + bytes(9)
            expected = bytes(
                ((k ^ r) + self._random) & 0xFF
                for k, r in zip(key, self.root_password, strict=True)
            )
            ok = body == expected
            self._auth_state = "done" if ok else "none"
            return self._auth_reply(0x1D, 0x00 if ok else 0x01)
        return None

    @staticmethod
    def _auth_reply(command: int, value: int) -> bytes:
        body = bytes((command, 1, value))
        return b"\xff\xaa" + body + bytes((sum(body) & 0xFF,))


class EleksolSimulator(JbdSimulator):
    """An Eleksol pack: the same protocol on service FF06 (FF07, FF08).

    aiobmsble 0.31.0 (PyPI sdist) aiobmsble/bms/eleksol_bms.py.
    """

    services = (
        SimService(
            0x10,
            0xFF06,
            (
                SimCharacteristic(0x11, 0xFF07, ("read", "notify")),
                SimCharacteristic(0x15, 0xFF08, ("write-without-response", "write")),
            ),
        ),
    )

    def default_advertising(self, name: str) -> Advertising:
        """Advertise service FF06."""
        return Advertising(name=name, service_uuids=[uuid16(0xFF06)])


class DarenSimulator(JbdSimulator):
    """A Daren pack: its own 0x03 tail, its texts in 0x08, 0x05 refused.

    aiobmsble 0.31.0 (PyPI sdist) aiobmsble/bms/daren_bms.py: up to four cell
    probes, a MOSFET and an ambient probe, the state of health at 35; the
    extended reply has 0xFFFF in the fixed current and capacities and the
    real ones (0.1 A, 0.1 Ah) at 39, 41 and 45.
    """

    def __init__(
        self,
        address: str,
        name: str,
        pack: PackModel | None = None,
        *,
        extended: bool = True,
    ) -> None:
        """A 16-character model text, the versions of the capture."""
        super().__init__(address, name, pack)
        self.extended = extended
        self.ambient = 24.5
        self.model = "DJM2502260001"
        self.hardware = "V2.21"
        self.software = "DR_STD05_16S200JC26_V1.5.4_T2"

    def _read(self, register: int) -> bytes | None:
        if register == 0x05:
            self.send(reply(0x05, b"", status=0x80))
            return None
        if register == 0x08:
            texts = bytearray(0xC1)
            for start, text in (
                (60, self.model),
                (113, self.hardware),
                (123, self.software),
            ):
                texts[start : start + len(text)] = text.encode()
            return bytes(texts)
        return super()._read(register)

    def basic_payload(self) -> bytes:
        """Register 0x03 in Daren's layout."""
        pack = self.pack
        out = bytearray(super().basic_payload()[:23])
        cell_probes = pack.temperatures[:4]
        out[22] = len(cell_probes)
        for temp in (*cell_probes, pack.mosfet_temperature, self.ambient):
            out += (round(temp * 10) + 2731).to_bytes(2, "big")
        out += bytes(35 - len(out))
        out += bytes((round(pack.state_of_health), 0, 0, 0))
        if not self.extended:
            return bytes(out)
        out[2:8] = b"\xff" * 6
        out += round(pack.remaining_capacity * 10).to_bytes(2, "big")
        out += round(pack.full_capacity * 10).to_bytes(2, "big")
        out += b"\xff\xff"
        out += round(pack.current * 10).to_bytes(2, "big", signed=True)
        return bytes(out)


def demo(address: str) -> JbdSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = JbdSimulator(address, "JBD-SP04S034-DEMO")
    device.pack.cell_voltages = [3.301, 3.302, 3.299, 3.305]
    device.pack.temperatures = [21.5, 22.0, 23.1]
    return device


def request_length(buf: bytes) -> int | None:
    """Where a request on the wire ends: ``DD`` 7 + length, ``FF AA`` 5 + length."""
    if len(buf) < 4:
        return None if buf[:1] in (b"", b"\xdd", b"\xff") else 0
    if buf[0] == 0xDD and buf[1] in (0xA5, 0x5A):
        return 7 + buf[3]
    if buf[:2] == b"\xff\xaa":
        return 5 + buf[3]
    return 0


def wired_demo(address: int) -> SimulatedResponder:
    """The demo pack on a UART (JBD has no bus address: one pack per port)."""
    device = demo(f"02:00:00:00:00:{address:02X}")
    return SimulatedResponder(device, address, request_length)


WIRED_DEMOS = {"jbd": wired_demo}
