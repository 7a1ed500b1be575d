"""A simulated Redodo / LiTime BMS (service FFE0, notify FFE1, write FFE2).

It encodes from its own table, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured frames in
``tests/protocol/data/redodo_vectors.json`` pin the codec down (each decodes
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

COMPANY_ID = 0x585A
# Protection word bits (offset 76) by alarm key.
ALARM_BITS = {
    "pack_overvoltage": 2,
    "pack_undervoltage": 5,
    "charge_overcurrent": 6,
    "discharge_overcurrent": 7,
    "charge_overtemperature": 8,
    "discharge_overtemperature": 9,
    "charge_undertemperature": 10,
    "discharge_undertemperature": 11,
    "short_circuit": 14,
}
STATUS_REQUEST = bytes.fromhex("000004011355aa17")


def _sum(data: bytes | bytearray) -> int:
    return sum(data) & 0xFF


def _put(
    out: bytearray, offset: int, value: int, size: int, signed: bool = False
) -> None:
    out[offset : offset + size] = value.to_bytes(size, "little", signed=signed)


class RedodoSimulator(SimulatedBms):
    """Answers the 0x13 status request with the 105-byte status reply."""

    family = "redodo"
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
        """Add the counters the real reply carries beside the pack."""
        super().__init__(address, name, pack)
        self.failure = 0  # the failure word at offset 80
        self.discharged_total = 222  # Ah discharged over the pack's life

    def default_advertising(self, name: str) -> Advertising:
        """Service FFE0 and company 0x585A carrying the MAC."""
        mac = bytes.fromhex(self.address.replace(":", ""))
        return Advertising(
            name=name,
            service_uuids=[uuid16(0xFFE0)],
            manufacturer_data={COMPANY_ID: mac},
        )

    def handle_write(self, handle: int, data: bytes) -> None:
        """Answer a status request written to FFE2; ignore anything else."""
        if handle != self.write_handle or data != STATUS_REQUEST:
            return
        if self.take_fault(Fault.IGNORE_COMMAND) is None:
            self.send(self.status_frame())

    def status_frame(self) -> bytes:
        """The status reply from the pack model."""
        pack = self.pack
        out = bytearray(105)
        out[:8] = bytes.fromhex("000065019355aa00")
        millivolts = [round(v * 1000) for v in pack.cell_voltages]
        _put(out, 8, sum(millivolts), 4)
        _put(out, 12, sum(millivolts), 4)
        for index, mv in enumerate(millivolts):
            _put(out, 16 + 2 * index, mv, 2)
        _put(out, 48, round(pack.current * 1000), 4, signed=True)
        probes = [pack.temperatures[0], pack.mosfet_temperature, *pack.temperatures[1:]]
        for index, temp in enumerate(probes[:5]):
            _put(out, 52 + 2 * index, round(temp), 2, signed=True)
        _put(out, 62, round(pack.remaining_capacity * 100), 2)
        _put(out, 64, round(pack.full_capacity * 100), 2)
        _put(out, 68, 0 if pack.discharge_fet else 0x80, 4)
        protection = sum(1 << ALARM_BITS[a] for a in pack.alarms if a in ALARM_BITS)
        _put(out, 76, protection, 4)
        _put(out, 80, self.failure, 4)
        _put(out, 84, 1 if pack.balancing_cells else 0, 4)
        state = (0 if pack.charge_fet else 0x04) | (0x01 if pack.current > 0 else 0)
        _put(out, 88, state, 2)
        _put(out, 90, round(pack.soc), 2)
        _put(out, 92, round(pack.state_of_health), 4)
        _put(out, 96, pack.cycles, 4)
        _put(out, 100, self.discharged_total, 4)
        out[104] = _sum(out[:104])
        return bytes(out)


def demo(address: str) -> RedodoSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = RedodoSimulator(address, "R-12100BNN160-A00643")
    device.pack.cell_voltages = [3.317, 3.319, 3.324, 3.323]
    device.pack.temperatures = [23.0, -2.0]
    device.pack.mosfet_temperature = 22.0
    return device
