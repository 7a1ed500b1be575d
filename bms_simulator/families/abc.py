"""A simulated ABC-BMS / SOK pack (service FFE0, notify FFE1, write FFE2).

It encodes from its own tables, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured frames in
``tests/protocol/data/abc_vectors.json`` pin the codec down (each decodes
exactly), and the driver tests check that what the codec reads from this
simulator equals the simulated pack.
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

# The model text of the captured F1 reply (aiobmsble 0.31.0 tests).
MODEL_TEXT = b"SOK-BMS\r"
# The reply types each command is answered with, in the order sent.
ANSWERS = {0xC0: (0xF1,), 0xC1: (0xF0, 0xF2), 0xC2: (0xF0, 0xF3, 0xF4)}
# Offsets in a reply: (value, offset, size, signed).
STATUS_LAYOUT = (
    ("voltage_mv", 2, 3, False),
    ("current_ma", 5, 3, True),
    ("design_mah", 8, 3, False),
    ("remaining_mah", 11, 3, False),
    ("cycles", 14, 2, False),
    ("soc", 16, 1, False),
)
CHARGE_FET, DISCHARGE_FET, PROBE_COUNT, FIRST_PROBE = 2, 3, 4, 5
HEATER, BALANCER = 8, 10


def crc8_maxim(data: bytes | bytearray) -> int:
    """CRC-8/MAXIM, bit by bit."""
    crc = 0
    for byte in data:
        for bit in range(8):
            mix = (crc ^ (byte >> bit)) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
    return crc


def _reply(kind: int, data: bytearray) -> bytes:
    body = bytes((0xCC, kind)) + bytes(data[2:19])
    return body + bytes((crc8_maxim(body),))


class AbcSimulator(SimulatedBms):
    """Answers the C0, C1 and C2 requests with 20-byte replies."""

    family = "abc"
    services = (
        SimService(
            0x10,
            0xFFE0,
            (
                SimCharacteristic(0x11, 0xFFE1, ("read", "notify")),
                SimCharacteristic(0x15, 0xFFE2, ("write-without-response", "write")),
            ),
        ),
    )
    notify_handle = 0x11
    write_handle = 0x15

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """Add the heater beside the pack."""
        super().__init__(address, name, pack)
        self.heater = False

    def default_advertising(self, name: str) -> Advertising:
        """Service FFF0 (BMS_BLE-HA #168 and #394)."""
        return Advertising(name=name, service_uuids=[uuid16(0xFFF0)])

    def carried_temperature(self, value: float) -> float:
        """Whole degrees."""
        return float(round(value))

    def handle_write(self, handle: int, data: bytes) -> None:
        """Answer ``EE <command> 00 00 00 <crc>`` written to FFE2."""
        if handle != self.write_handle or len(data) != 6:
            return
        if data[0] != 0xEE or data[2:5] != bytes(3) or crc8_maxim(data[:5]) != data[5]:
            return
        kinds = ANSWERS.get(data[1])
        if kinds is None or self.take_fault(Fault.IGNORE_COMMAND) is not None:
            return
        # One answer of 20-byte notifications: a fault hits the answer.
        self.send(b"".join(frame for kind in kinds for frame in self.replies(kind)))

    def replies(self, kind: int) -> list[bytes]:
        """The frames of one reply type (the cells take one per four)."""
        data = bytearray(20)
        pack = self.pack
        if kind == 0xF0:
            values = {
                "voltage_mv": round(pack.voltage * 1000),
                "current_ma": round(pack.current * 1000),
                "design_mah": round(pack.design_capacity * 1000),
                "remaining_mah": round(pack.remaining_capacity * 1000),
                "cycles": pack.cycles,
                "soc": round(pack.soc),
            }
            for name, offset, size, signed in STATUS_LAYOUT:
                data[offset : offset + size] = values[name].to_bytes(
                    size, "little", signed=signed
                )
        elif kind == 0xF1:
            data[2 : 2 + len(MODEL_TEXT)] = MODEL_TEXT
        elif kind == 0xF2:
            data[CHARGE_FET] = pack.charge_fet
            data[DISCHARGE_FET] = pack.discharge_fet
            data[PROBE_COUNT] = len(pack.temperatures)
            for i, value in enumerate(pack.temperatures):
                at = FIRST_PROBE + 2 * i
                data[at : at + 2] = round(value).to_bytes(2, "little", signed=True)
        elif kind == 0xF3:
            data[HEATER] = self.heater
            data[BALANCER] = bool(pack.balancing_cells)
        else:
            return self.cell_replies()
        return [_reply(kind, data)]

    def cell_replies(self) -> list[bytes]:
        """Four cells per F4 reply: number, then 3 bytes of millivolts."""
        cells = self.pack.cell_voltages
        frames = []
        for first in range(0, len(cells), 4):
            data = bytearray(20)
            for group, volts in enumerate(cells[first : first + 4]):
                at = 2 + 4 * group
                data[at] = first + group + 1
                data[at + 1 : at + 4] = round(volts * 1000).to_bytes(3, "little")
            frames.append(_reply(0xF4, data))
        return frames


def demo(address: str) -> AbcSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = AbcSimulator(address, "SOK-AA02120")
    device.pack.cell_voltages = [3.342, 3.346, 3.335, 3.344]
    device.pack.temperatures = [19.0]
    device.pack.full_capacity = 100.0
    device.pack.design_capacity = 100.0
    device.pack.soc = 81.0
    device.pack.current = -6.25
    return device
