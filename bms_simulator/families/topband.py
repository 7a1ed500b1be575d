"""A simulated Topband or PowerXtreme BMS: it streams ASCII status frames.

Topband modules notify on FFE4 (service FFE0, nothing to write to);
PowerXtreme modules on FFF1 (service FFF0), count the current in 0.1 A and
answer ``<B:ST>`` and ``<H:ST>`` on FFF2 with a short reply and a status
frame (aiobmsble 0.31.0 (PyPI sdist) tests/bms/test_pwrxtreme_bms.py's
mock). Every ``period`` seconds while connected the BMS sends one frame: a
head byte and the 56 status bytes as uppercase hex digits.

It encodes from its own table, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured frames in
``tests/protocol/data/topband_vectors.json`` pin the codec down (each decodes
exactly), and the driver tests check that what the codec reads from this
simulator equals the simulated pack.
"""

from __future__ import annotations

import asyncio

from ..device import (
    Advertising,
    SimCharacteristic,
    SimService,
    SimulatedBms,
    uuid16,
)
from ..pack import PackModel

ECTIVE_HEAD = 0x5E
# (offset, size, signed) of each value in the 54 status bytes, little-endian.
LAYOUT = {
    "millivolts": (0, 4, False),
    "milliamps": (4, 4, True),
    "milliamp_hours": (8, 4, False),
    "cycles": (12, 2, False),
    "soc": (14, 2, False),
    "decikelvin": (16, 2, False),
    "problem": (18, 1, False),
}
CELLS_AT = 22
STATUS_BYTES = 54
LENGTH = 1 + 2 * (STATUS_BYTES + 2)  # the head and the hex digits
# What a PowerXtreme X210 advertised under company 76 (BMS_BLE-HA issue
# #769): an iBeacon frame. Home Assistant passes company-76 data on only
# with a wanted first byte (habluetooth: 0x02, iBeacon, is one).
IBEACON = bytes.fromhex("0215fda50693a4e24fb1afcfc6eb07647825275165c1c6")
POWERXTREME_ANSWERS = {b"<B:ST>": b"<B:AN>", b"<H:ST>": b"<H:NO>"}


def _decikelvin(celsius: float) -> int:
    return round((celsius + 273.15) * 10)


class TopbandSimulator(SimulatedBms):
    """Streams status frames while a host is connected; ignores writes."""

    family = "topband"

    def __init__(
        self,
        address: str,
        name: str,
        pack: PackModel | None = None,
        *,
        powerxtreme: bool = False,
    ) -> None:
        """A Topband module, or with ``powerxtreme`` a PowerXtreme one."""
        self.powerxtreme = powerxtreme
        super().__init__(address, name, pack)
        self.head = ECTIVE_HEAD
        self.period = 1.0
        # The first frame comes this soon after a host connects (aiobmsble's
        # mock sends one as soon as notifications start).
        self.first_delay = 0.1
        self.problem = 0  # the problem code byte
        self._timer: asyncio.TimerHandle | None = None
        if powerxtreme:
            self.services = (
                SimService(
                    0x10,
                    0xFFF0,
                    (
                        SimCharacteristic(0x11, 0xFFF1, ("notify",)),
                        SimCharacteristic(0x14, 0xFFF2, ("write",)),
                    ),
                ),
            )
        else:
            self.services = (
                SimService(
                    0x10, 0xFFE0, (SimCharacteristic(0x11, 0xFFE4, ("notify",)),)
                ),
            )
        self.notify_handle = 0x11

    def default_advertising(self, name: str) -> Advertising:
        """Topband: FFE0, company 0 with the MAC; PowerXtreme: FFF0, company 76.

        Real Topband modules use company 0 or 65535 (advertisements.json);
        the simulator takes 0, as Home Assistant's Kegtron integration wakes
        up for 65535.
        """
        if self.powerxtreme:
            return Advertising(
                name=name,
                service_uuids=[uuid16(0xFEF5), uuid16(0xFFF0)],
                manufacturer_data={76: IBEACON},
            )
        mac = bytes.fromhex(self.address.replace(":", ""))
        return Advertising(
            name=name, service_uuids=[uuid16(0xFFE0)], manufacturer_data={0x0000: mac}
        )

    def handle_write(self, handle: int, data: bytes) -> None:
        """PowerXtreme answers its two requests; Topband takes no commands."""
        answer = POWERXTREME_ANSWERS.get(data) if self.powerxtreme else None
        if answer is not None:
            self.send(answer)
            self.send(self.status_frame())

    def on_connect(self) -> None:
        """Start streaming."""
        self._timer = asyncio.get_running_loop().call_later(
            self.first_delay, self._tick
        )

    def on_disconnect(self) -> None:
        """Stop streaming."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        self._timer = None
        if not self.connected:
            return
        self.send(self.status_frame())
        self.count_stream_tick()
        # The next frame ``period`` after this one is out whole.
        sending = self.notify_delay * -(-LENGTH // self.mtu)
        self._timer = asyncio.get_running_loop().call_later(
            sending + self.period, self._tick
        )

    @property
    def probes(self) -> list[float]:
        """The one probe the frame carries: the pack's first, in 0.1 K."""
        return [self.carried_temperature(self.pack.temperatures[0])]

    def carried_temperature(self, value: float) -> float:
        """In 0.1 K, so a whole °C arrives as x.05 or x.95."""
        return round(round(_decikelvin(value) * 0.1, 1) - 273.15, 2)

    def corrupt(self, frame: bytes) -> bytes:
        """A copy whose last digit, part of the sum, is another hex digit."""
        last = b"1" if frame[-1:] == b"0" else b"0"
        return frame[:-1] + last

    def status_frame(self) -> bytes:
        """The status frame from the pack model."""
        pack = self.pack
        millivolts = [round(v * 1000) for v in pack.cell_voltages]
        values = {
            "millivolts": sum(millivolts),
            # PowerXtreme: in 0.1 A.
            "milliamps": round(pack.current * (10 if self.powerxtreme else 1000)),
            "milliamp_hours": round(pack.remaining_capacity * 1000),
            "cycles": pack.cycles,
            "soc": round(pack.soc),
            "decikelvin": _decikelvin(pack.temperatures[0]),
            "problem": self.problem,
        }
        body = bytearray(STATUS_BYTES)
        for key, (offset, size, signed) in LAYOUT.items():
            body[offset : offset + size] = values[key].to_bytes(
                size, "little", signed=signed
            )
        for index, mv in enumerate(millivolts):
            at = CELLS_AT + 2 * index
            body[at : at + 2] = mv.to_bytes(2, "little")
        body += (sum(body) & 0xFFFF).to_bytes(2, "big")
        return bytes((self.head,)) + body.hex().upper().encode("ascii")


def demo(address: str) -> TopbandSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = TopbandSimulator(address, "NWJ20221223010330")
    device.pack.cell_voltages = [3.422, 3.441, 3.429, 3.422]
    device.pack.full_capacity = 200.0
    device.pack.temperatures = [24.0]
    return device
