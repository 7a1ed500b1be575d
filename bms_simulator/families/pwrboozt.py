"""A simulated PowerBoozt / Dörr Power BMS (service FFF0).

PowerBoozt packs notify on FFF1 and are written on FFF2; Dörr packs do both
on FFF6 (patman15/aiobmsble ``pwrboozt_bms.py``, ``doerrpwr_bms.py``). It
encodes from its own table, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide
behind the same mistake in the simulator. The captured frames in
``tests/protocol/data/pwrboozt_vectors.json`` pin the codec down (each decodes
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

COMPANY_ID = 0x7F04
REQUEST = b":015150000EFE~"
# Work state bits (offset 44) by alarm key, and its state bits.
ALARM_BITS = {
    "pack_overvoltage": 2,
    "pack_undervoltage": 3,
    "charge_overcurrent": 4,
    "short_circuit": 5,
    "discharge_overcurrent": 6,
    "charge_overtemperature": 8,
    "charge_undertemperature": 9,
    "discharge_overtemperature": 10,
    "discharge_undertemperature": 11,
}
CHARGING, DISCHARGING = 0x0001, 0x0002
DISCHARGE_FET, CHARGE_FET = 0x1000, 0x2000
# What both captured replies hold where the layout's meaning is unknown.
CLOCK = bytes(range(7))  # offsets 5-11
UNKNOWN_STATE = 0xC000  # the work state's top bits
PROBES = 4


def _put(out: bytearray, offset: int, value: int, size: int) -> None:
    out[offset : offset + size] = value.to_bytes(size, "big")


class PwrbooztSimulator(SimulatedBms):
    """Answers the one request with the 236-character reply."""

    family = "pwrboozt"

    def __init__(
        self,
        address: str,
        name: str,
        pack: PackModel | None = None,
        *,
        doerr: bool = False,
    ) -> None:
        """A PowerBoozt pack; ``doerr`` reads and writes FFF6 instead."""
        self.doerr = doerr
        chars = (
            (SimCharacteristic(0x12, 0xFFF6, ("notify", "write")),)
            if doerr
            else (
                SimCharacteristic(0x12, 0xFFF1, ("notify",)),
                SimCharacteristic(0x15, 0xFFF2, ("write-without-response", "write")),
            )
        )
        self.services = (SimService(0x10, 0xFFF0, chars),)
        self.notify_handle = 0x12
        self.write_handle = 0x12 if doerr else 0x15
        super().__init__(address, name, pack)

    def default_advertising(self, name: str) -> Advertising:
        """Service FFF0 and PowerBoozt's company ID (Dörr's service data aside)."""
        return Advertising(
            name=name,
            service_uuids=[uuid16(0xFFF0)],
            manufacturer_data={COMPANY_ID: bytes.fromhex("0ef5e2ad")},
        )

    def corrupt(self, frame: bytes) -> bytes:
        """A copy with checksum digits that do not fit."""
        wrong = int(frame[-3:-1], 16) ^ 0x5A
        return frame[:-3] + f"{wrong:02X}".encode() + frame[-1:]

    def handle_write(self, handle: int, data: bytes) -> None:
        """Answer the request; ignore anything else."""
        if handle != self.write_handle or data != REQUEST:
            return
        if self.take_fault(Fault.IGNORE_COMMAND) is None:
            self.send(self.status_frame())

    def status_frame(self) -> bytes:
        """The reply from the pack model."""
        pack = self.pack
        out = bytearray(117)
        out[:5] = bytes((0x01, 0x54, 0x01, 0x00, 0xEC))
        out[5:12] = CLOCK
        millivolts = [round(v * 1000) for v in pack.cell_voltages]
        for index, mv in enumerate(millivolts):
            _put(out, 12 + 2 * index, mv, 2)
        state = UNKNOWN_STATE | sum(
            1 << ALARM_BITS[a] for a in pack.alarms if a in ALARM_BITS
        )
        state |= CHARGE_FET if pack.charge_fet else 0
        state |= DISCHARGE_FET if pack.discharge_fet else 0
        if pack.current > 0:
            state |= CHARGING
        elif pack.current < 0:
            state |= DISCHARGING
        _put(out, 44, state, 2)
        _put(out, 46, sum(1 << i for i in pack.balancing_cells), 2)
        probes = [*pack.temperatures[:PROBES]]
        probes += [probes[-1]] * (PROBES - len(probes))
        for index, temp in enumerate(probes):
            out[48 + index] = round(temp) + 40
        # The magnitude in mA, bit 31 clear, as in the captured charging reply.
        _put(out, 54, abs(round(pack.current * 1000)), 4)
        _put(out, 58, 0x7FFFFFFF, 4)
        _put(out, 62, sum(millivolts), 2)
        _put(out, 64, max(millivolts) - min(millivolts), 2)
        out[66] = len(millivolts)
        _put(out, 67, pack.cycles, 2)
        out[69] = round(pack.soc)
        _put(out, 70, round(pack.design_capacity * 1000), 4)
        _put(out, 74, round(pack.remaining_capacity * 1000), 4)
        _put(out, 78, round(pack.full_capacity * 1000), 4)
        out[116] = ~sum(out[1:116]) & 0xFF
        return b":" + out.hex().upper().encode() + b"~"


def demo(address: str) -> PwrbooztSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = PwrbooztSimulator(address, "BT-Battery")
    device.pack.cell_voltages = [3.382, 3.382, 3.384, 3.376]
    device.pack.temperatures = [21.0, 22.0, 21.0, 21.0]  # four probes
    device.pack.current = 12.81
    device.pack.full_capacity = 300.0
    device.pack.design_capacity = 300.0
    return device
