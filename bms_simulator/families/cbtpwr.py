"""A simulated CBT Power (Creabest) pack: classic ``AA 55`` or VB series ASCII.

Both answer writes to FFE9 (service FFE5) with notifications on FFE4
(service FFE0), as patman15/aiobmsble ``aiobmsble/bms/cbtpwr_bms.py`` and
``cbtpwr_vb_bms.py`` @ b0567331025033d33729385fa89a1198275d6486 expect. The
classic pack answers one request per value group; the VB pack takes its
requests in writes of at most 20 bytes and answers in YD/T1363 ASCII. Both
encode from their own tables and checksums, never from the integration's
codec: an independent oracle, checked against the captured vectors through
the driver tests.
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

NOTIFY, WRITE = 0x11, 0x21
SERVICES = (
    SimService(0x10, 0xFFE0, (SimCharacteristic(NOTIFY, 0xFFE4, ("notify",)),)),
    SimService(
        0x20,
        0xFFE5,
        (SimCharacteristic(WRITE, 0xFFE9, ("write-without-response", "write")),),
    ),
)
# Company IDs of the advertisements in aiobmsble's test data.
CLASSIC_COMPANY = 0x5352
CREABEST_COMPANY = 16963
CELL_GROUPS = (0x05, 0x06, 0x07, 0x08)


def _le(value: int, size: int, signed: bool = False) -> bytes:
    return value.to_bytes(size, "little", signed=signed)


class CbtPowerClassic(SimulatedBms):
    """The classic protocol: ``AA 55 <cmd> <len> <data> <sum> 0D 0A``."""

    family = "cbtpwr"
    services = SERVICES
    notify_handle = NOTIFY

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """The pack and its problem word (reply 0x21, no public bit table)."""
        super().__init__(address, name, pack)
        self.problem_word = 0

    def default_advertising(self, name: str) -> Advertising:
        """Services FFE0, FFE5 and FFF0, the company 0x5352 payload."""
        return Advertising(
            name=name,
            service_uuids=[uuid16(0xFFE0), uuid16(0xFFE5), uuid16(0xFFF0)],
            manufacturer_data={
                CLASSIC_COMPANY: bytes.fromhex("2134ba03ec110cb4010500010000")
            },
        )

    def corrupt(self, frame: bytes) -> bytes:
        """The sum byte flipped (the tail stays)."""
        return frame[:-3] + bytes((frame[-3] ^ 0x5A,)) + frame[-2:]

    def handle_write(self, handle: int, data: bytes) -> None:
        """Answer ``AA 55 <cmd> 00 <sum> 0A 0D`` written to FFE9."""
        if handle != WRITE or len(data) != 7 or data[:2] != b"\xaa\x55":
            return
        if data[3] != 0 or data[4] != data[2] or data[5:] != b"\x0a\x0d":
            return
        reply = self.reply(data[2])
        if reply is not None and self.take_fault(Fault.IGNORE_COMMAND) is None:
            self.send(reply)

    def reply(self, command: int) -> bytes | None:
        """The reply to ``command`` from the pack model, None if unknown."""
        pack = self.pack
        millivolts = [round(v * 1000) for v in pack.cell_voltages]
        if command in CELL_GROUPS:
            first = 5 * CELL_GROUPS.index(command)
            group = (millivolts[first : first + 5] + [0] * 5)[:5]
            data = b"".join(_le(mv, 2) for mv in group)
        elif command == 0x09:
            data = _le(round(pack.temperatures[0]), 2, True) * 2 + bytes(8)
        elif command == 0x0A:
            data = bytes((round(pack.soc),)) + bytes(5)
        elif command == 0x0B:
            current = _le(round(pack.current * 1000), 4, True)
            data = _le(sum(millivolts), 4) + current
        elif command == 0x0C:
            # Hours to empty x 100 at bytes 14-15 (aiobmsble reads only these).
            hours = pack.remaining_capacity / -pack.current if pack.current < 0 else 0
            data = bytes(10) + _le(min(round(hours * 100), 0xFFFF), 2)
        elif command == 0x15:
            data = _le(round(pack.design_capacity), 2) + _le(pack.cycles, 2)
        elif command == 0x21:
            data = _le(self.problem_word, 4)
        else:
            return None
        body = bytes((command, len(data))) + data
        return b"\xaa\x55" + body + bytes((sum(body) & 0xFF,)) + b"\x0d\x0a"


def _ascii_frame(info: bytes) -> bytes:
    """``~22 01 46 00 <length> <info> <chksum> CR`` (YD/T1363, VER 0x22)."""
    text = info.hex().upper().encode()
    lenid = len(text)
    nibbles = (lenid & 0xF) + (lenid >> 4 & 0xF) + (lenid >> 8 & 0xF)
    length = ((-nibbles & 0xF) << 12) | lenid
    body = b"22014600" + f"{length:04X}".encode() + text
    return b"~" + body + f"{-sum(body) & 0xFFFF:04X}".encode() + b"\r"


class CbtPowerVb(SimulatedBms):
    """The VB series: YD/T1363 ASCII, requests in writes of up to 20 bytes."""

    family = "cbtpwr"
    services = SERVICES
    notify_handle = NOTIFY

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """The pack, its problem word and the request being written."""
        super().__init__(address, name, pack)
        self.problem_word = 0
        self._request = b""

    def default_advertising(self, name: str) -> Advertising:
        """Services FFF0 and FFB0, company 16963 with ``54 5E 02 11`` and MAC."""
        mac = bytes.fromhex(self.address.replace(":", ""))
        return Advertising(
            name=name,
            service_uuids=[uuid16(0xFFF0), uuid16(0xFFB0)],
            manufacturer_data={CREABEST_COMPANY: b"\x54\x5e\x02\x11" + mac},
        )

    def corrupt(self, frame: bytes) -> bytes:
        """The last CHKSUM digit changed to another hexadecimal digit."""
        digit = b"1" if frame[-2:-1] == b"0" else b"0"
        return frame[:-2] + digit + frame[-1:]

    def on_connect(self) -> None:
        """A new connection starts with no partial request."""
        self._request = b""

    def handle_write(self, handle: int, data: bytes) -> None:
        """Collect a request up to its CR; answer 0x42 and 0x81."""
        if handle != WRITE or len(data) > 20:
            return
        self._request = data if data.startswith(b"~") else self._request + data
        if not self._request.endswith(b"\r"):
            return
        request, self._request = self._request, b""
        if request == b"~11014642E00201FD35\r":
            reply = self.analog()
        elif request == b"~11014681A006010001FC71\r":
            reply = _ascii_frame(_be(round(self.pack.design_capacity * 10), 2))
        else:
            return
        if self.take_fault(Fault.IGNORE_COMMAND) is None:
            self.send(reply)

    def analog(self) -> bytes:
        """The 0x42 reply: cells, probes, current, voltage, SOC, cycles, word."""
        pack = self.pack
        millivolts = [round(v * 1000) for v in pack.cell_voltages]
        info = bytes((len(millivolts),)) + b"".join(_be(mv, 2) for mv in millivolts)
        info += bytes((len(pack.temperatures),))
        info += b"".join(_be(round(t * 10), 2, True) for t in pack.temperatures)
        info += _be(round(pack.current * 10), 2, True)
        info += _be(round(sum(millivolts) / 100), 2)
        info += _be(round(pack.soc), 2) + b"\x07" + _be(pack.cycles, 2)
        info += bytes(6) + _be(self.problem_word, 6)
        return _ascii_frame(info)


def _be(value: int, size: int, signed: bool = False) -> bytes:
    return value.to_bytes(size, "big", signed=signed)


def demo(address: str) -> CbtPowerClassic:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = CbtPowerClassic(address, "170R000121")
    device.pack.cell_voltages = [3.339, 3.339, 3.338, 3.338]
    device.pack.temperatures = [21.0]
    return device


def vb_demo(address: str) -> CbtPowerVb:
    """A VB series pack (the benchmark's variant case)."""
    device = CbtPowerVb(address, "VB024000390")
    device.pack.cell_voltages = [3.328, 3.326, 3.326, 3.326]
    device.pack.temperatures = [6.2, 7.3]
    device.pack.design_capacity = 200.0
    return device
