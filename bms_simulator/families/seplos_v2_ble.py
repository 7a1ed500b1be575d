"""A simulated Seplos V2 pack behind its BP0x Bluetooth module (service FF00).

The module speaks the binary form of the V2 frames: a request ``7E 10 ADR 46
CID2 LEN INFO CRC 0D``, a reply ``7E 14 ADR CID2 RTN LEN INFO CRC 0D`` with
CRC-16/XMODEM (patman15/aiobmsble ``aiobmsble/bms/seplos_v2_bms.py``
@ b0567331025033d33729385fa89a1198275d6486, syssi/esphome-seplos-bms
``components/seplos_bms_ble/seplos_bms_ble.cpp``
@ dedb6bb404330241f34a744bae1a128c14eb2e24). The pack encodes from its own
layout and CRC code, never from the integration's codec: it is an
independent oracle, checked against the captured vectors through the driver
tests. ``at_noise`` makes the module write its ``AT+NAME`` text between two
notifications of each reply, as real modules do.
"""

from __future__ import annotations

from ..device import Advertising, Fault, SimCharacteristic, SimService, SimulatedBms
from ..device import uuid16 as expand
from ..pack import PackModel
from .seplos import V2_ALARM_BITS, _balance, _fets, _flags, _kelvin, _probes, demo_pack

AT_NAME = b"AT+NAME=BP00\r\n"


def _u16(value: float) -> bytes:
    return (round(value) & 0xFFFF).to_bytes(2, "big")


def _crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def _reply(command: int, info: bytes) -> bytes:
    body = bytes((0x14, 0x00, command, 0x00)) + len(info).to_bytes(2, "big") + info
    return b"\x7e" + body + _crc(body).to_bytes(2, "big") + b"\x0d"


class SeplosV2Ble(SimulatedBms):
    """Answers 0x51 (manufacturer information) and 0x61 (single machine data)."""

    family = "seplos"
    services = (
        SimService(
            0x0F,
            0xFF00,
            (
                SimCharacteristic(0x11, 0xFF01, ("read", "notify")),
                SimCharacteristic(0x14, 0xFF02, ("write-without-response", "write")),
            ),
        ),
    )
    notify_handle = 0x11

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """The module and its pack."""
        super().__init__(address, name, pack)
        self.requests = 0
        self.at_noise = False

    def default_advertising(self, name: str) -> Advertising:
        """Its ``BP0x`` name and service FF00."""
        return Advertising(name=name, service_uuids=[expand(0xFF00)])

    def handle_write(self, handle: int, data: bytes) -> None:
        """One request; a frame whose start, version or CRC is wrong is ignored."""
        if (
            len(data) < 10
            or data[:2] != b"\x7e\x10"
            or data[-1] != 0x0D
            or _crc(data[1:-3]) != int.from_bytes(data[-3:-1], "big")
            or self.take_fault(Fault.IGNORE_COMMAND) is not None
        ):
            return
        answer = {0x51: self.manufacturer, 0x61: self.single}.get(data[4])
        if answer is None:
            return
        self.requests += 1
        frame = _reply(data[4], answer())
        if self.at_noise:
            self.send(frame[:40] + AT_NAME + frame[40:])
        else:
            self.send(frame)

    def manufacturer(self) -> bytes:
        """Device name (20), hardware version (10), software version, more."""
        return (
            b"CAN:Victron".ljust(20)
            + b"1101-SP76".ljust(10)
            + bytes((16, 4, 0x03, 0x01, 0x46, 0x00))
        )

    def single(self) -> bytes:
        """Cells, probes, analog values, byte alarms, states, events, masks."""
        pack = self.pack
        cells = len(pack.cell_voltages)
        out = bytearray((0x00, 0x00, cells))
        for cell in pack.cell_voltages:
            out += _u16(cell * 1000)
        probes = _probes(pack)
        out.append(len(probes))
        for probe in probes:
            out += _u16(_kelvin(probe))
        out += _u16(pack.current * 100) + _u16(pack.voltage * 100)
        out += _u16(pack.remaining_capacity * 100) + b"\x06"
        out += _u16(pack.full_capacity * 100) + _u16(pack.soc * 10)
        out += _u16(pack.design_capacity * 100) + _u16(pack.cycles)
        out += _u16(pack.state_of_health * 10) + _u16(pack.voltage * 100)
        out += bytes(cells + len(probes) + 2)
        state = 0x02 if pack.current > 0 else 0x01 if pack.current < 0 else 0x10
        out += bytes((state, _fets(pack), 8)) + _flags(V2_ALARM_BITS, pack.alarms, 8)
        low, high = _balance(pack)
        masks = bytes((low, high))[: (cells + 7) // 8]
        return bytes(out + masks + bytes(len(masks)))


def ble_demo(address: str) -> SeplosV2Ble:
    """A 16-cell V2 pack behind its ``BP00`` module."""
    return SeplosV2Ble(address, "BP00", demo_pack(0))
