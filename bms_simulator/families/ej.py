"""A simulated E&J Technology BMS (Nordic UART service, or AG's own service).

It encodes from its own tables, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured frames in
``tests/protocol/data/ej_vectors.json`` pin the codec down (each decodes
exactly), and the driver tests check that what the codec reads from this
simulator equals the simulated pack.

Layouts after patman15/aiobmsble ``aiobmsble/bms/ej_bms.py`` and the frames of
its ``tests/bms/test_ej_bms.py`` / ``test_ag_bms.py``
@ b0567331025033d33729385fa89a1198275d6486: ``:``, hex digits of address,
command | 0x80, version, length in characters, the fields and an inverted sum
of the characters, then ``~``.
"""

from __future__ import annotations

from enum import StrEnum

from ..device import (
    Advertising,
    Fault,
    SimCharacteristic,
    SimService,
    SimulatedBms,
)
from ..pack import PackModel

NUS = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
NUS_RX = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"  # the host writes here
NUS_TX = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"  # the pack notifies here
AG_SERVICE = "00008000-0000-1000-8000-57616c6b697a"
AG_WRITE = "00008001-0000-1000-8000-57616c6b697a"
AG_NOTIFY = "00008002-0000-1000-8000-57616c6b697a"
AG_COMPANY = 21320
REALTIME, CAPACITY = 0x02, 0x10
# Bytes 5-11 of a two-frame real-time reply, as both captures show them.
TWO_FRAME_HEAD = bytes.fromhex("000101c0000088")
# First status byte: 0xC0 as in the captures, the MOSFET bits beside it.
STATUS_BASE, DISCHARGE_ON, CHARGE_ON = 0xC0, 0x10, 0x20
UNUSED_PROBE = 0x28  # 0 °C, as the single-frame capture's unused probes


class Variant(StrEnum):
    """Which protocol the pack speaks."""

    TWO_FRAME = "two_frame"  # E&J, AG: real-time then capacity
    SINGLE_FRAME = "single_frame"  # Chins, Metrisun, Electronicx


def _checksum(ascii_body: bytes) -> int:
    return (sum(ascii_body) & 0xFF) ^ 0xFF


def _frame(data: bytes, *, wrong_checksum: bool = False) -> bytes:
    """``:`` + hex of ``data`` (its length patched in) + checksum + ``~``."""
    chars = 2 * len(data) + 4
    body = bytearray(data)
    body[3:5] = chars.to_bytes(2, "big")
    text = body.hex().upper().encode()
    check = _checksum(text) ^ (0x01 if wrong_checksum else 0)
    return b":" + text + f"{check:02X}".encode() + b"~"


class EjSimulator(SimulatedBms):
    """Answers the real-time and capacity requests of the E&J protocol."""

    family = "ej"

    def __init__(
        self,
        address: str,
        name: str,
        pack: PackModel | None = None,
        *,
        variant: Variant = Variant.TWO_FRAME,
        ag: bool = False,
        wrong_checksum: bool = False,
    ) -> None:
        """A pack of ``variant``; ``ag`` serves AG's service, not NUS."""
        self.variant = variant
        self.ag = ag
        # A ``libattU`` pack's checksum never fits (aiobmsble test_ej_bms.py).
        self.wrong_checksum = wrong_checksum
        service, notify, write = (
            (AG_SERVICE, AG_NOTIFY, AG_WRITE) if ag else (NUS, NUS_TX, NUS_RX)
        )
        self.services = (
            SimService(
                0x0C,
                service,
                (
                    SimCharacteristic(0x0E, notify, ("notify",)),
                    SimCharacteristic(0x11, write, ("write-without-response", "write")),
                ),
            ),
        )
        self.notify_handle = 0x0E
        self.write_handle = 0x11
        super().__init__(address, name, pack)
        self.protection = 0  # the status word's protection bits (0x0FFC)
        self.heater = False

    def default_advertising(self, name: str) -> Advertising:
        """The name; AG packs add company 21320, Chins packs the NUS UUID."""
        if self.ag:
            mac = bytes.fromhex(self.address.replace(":", ""))
            return Advertising(name=name, manufacturer_data={AG_COMPANY: mac})
        if self.variant is Variant.SINGLE_FRAME:
            return Advertising(name=name, service_uuids=[NUS])
        return Advertising(name=name)

    def corrupt(self, frame: bytes) -> bytes:
        """A copy with hex checksum digits that do not fit."""
        wrong = int(frame[-3:-1], 16) ^ 0x5A
        return frame[:-3] + f"{wrong:02X}".encode() + frame[-1:]

    def handle_write(self, handle: int, data: bytes) -> None:
        """Answer a request written to the write characteristic."""
        if handle != self.write_handle or data[:1] != b":" or len(data) < 5:
            return
        try:
            command = int(data[3:5], 16)
        except ValueError:
            return
        if command == REALTIME:
            reply = self.realtime_frame()
        elif command == CAPACITY and self.variant is Variant.TWO_FRAME:
            reply = self.capacity_frame()
        else:
            return
        if self.take_fault(Fault.IGNORE_COMMAND) is None:
            self.send(reply)

    def realtime_frame(self) -> bytes:
        """The real-time reply from the pack model."""
        pack = self.pack
        single = self.variant is Variant.SINGLE_FRAME
        out = bytearray(68 if single else 62)
        out[1] = 0x80 | REALTIME
        out[2] = 0x50 if self.ag else 0x31
        if not single:
            out[5:12] = TWO_FRAME_HEAD
        for index, volts in enumerate(pack.cell_voltages[:16]):
            out[12 + 2 * index : 14 + 2 * index] = round(volts * 1000).to_bytes(
                2, "big"
            )
        centiamps = round(pack.current * 100)
        out[44:46] = max(centiamps, 0).to_bytes(2, "big")
        out[46:48] = max(-centiamps, 0).to_bytes(2, "big")
        probes = [round(t) + 40 for t in pack.temperatures[:4]]
        out[48:52] = bytes(probes + [UNUSED_PROBE] * (4 - len(probes)))
        fets = (CHARGE_ON if pack.charge_fet else 0) | (
            DISCHARGE_ON if pack.discharge_fet else 0
        )
        out[52:54] = ((STATUS_BASE | fets) << 8 | self.protection).to_bytes(2, "big")
        out[54] = 1 if self.heater else 0
        out[55:57] = (1 if pack.balancing_cells else 0).to_bytes(2, "big")
        out[57:59] = pack.cycles.to_bytes(2, "big")
        out[61] = round(pack.soc)
        if single:
            out[62:68] = self._capacities()
        return _frame(bytes(out), wrong_checksum=self.wrong_checksum)

    def capacity_frame(self) -> bytes:
        """The capacity reply of the two-frame protocol."""
        out = bytearray(13)
        out[1] = 0x80 | CAPACITY
        out[2] = 0x31
        out[7:13] = self._capacities()
        return _frame(bytes(out), wrong_checksum=self.wrong_checksum)

    def _capacities(self) -> bytes:
        """Remaining, full and design capacity, 0.1 Ah each."""
        pack = self.pack
        return b"".join(
            round(ah * 10).to_bytes(2, "big")
            for ah in (
                pack.remaining_capacity,
                pack.full_capacity,
                pack.design_capacity,
            )
        )


def demo(address: str) -> EjSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = EjSimulator(address, "L-12V100AH-0001")
    device.pack.cell_voltages = [3.312, 3.309, 3.315, 3.311]
    device.pack.temperatures = [21.0, 22.0]
    return device
