"""A simulated Neey / Heltec active balancer (service FFE0, characteristic FFE1).

It encodes from its own tables, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide
behind the same mistake in the simulator. The captured frames in
``tests/protocol/data/neey_vectors.json`` pin the codec down (each decodes
exactly), and the driver tests check that what the codec reads from this
simulator equals the simulated pack. Layouts after syssi/esphome-jk-bms
``components/heltec_balancer_ble/heltec_balancer_ble.cpp`` and
patman15/aiobmsble ``aiobmsble/bms/neey_bms.py``.
"""

from __future__ import annotations

import struct

from ..device import (
    Advertising,
    Fault,
    SimCharacteristic,
    SimService,
    SimulatedBms,
    uuid16,
)
from ..pack import PackModel

REPLY = b"\x55\xaa\x11\x01"
REQUEST = b"\xaa\x55\x11\x01"
# A register write: function 0x00, command 0x05, the register; 0x0D is the
# balancer, acknowledged by the same head in reply.
WRITE = b"\xaa\x55\x11\x00\x05"
WRITE_ACK = b"\x55\xaa\x11\x00\x05"
BALANCER_REGISTER = 0x0D
DEVICE_INFO, CELL_INFO, SETTINGS = 0x01, 0x02, 0x04
# Operation status: balancing, balancing finished, and the faults by alarm.
BALANCING, IDLE = 0x05, 0x06
STATUS_OF_ALARM = {
    "cell_count_mismatch": 0x01,
    "pack_undervoltage": 0x07,
    "mosfet_overtemperature": 0x08,
    "hardware_fault": 0x09,
}
# Per-cell masks (3 bytes each) after the first mask's offset.
MASK_OF_ALARM = {
    "frontend_error": 0,
    "cell_overvoltage": 1,
    "cell_undervoltage": 2,
    "wire_resistance": 4,
}
# Per layout: balance current, the first probe and the first mask.
OFFSETS = {"v1": (217, 221, 229), "v2": (218, 226, 266)}
# Per settings layout: its length, the cell count, the balancer state, and
# the float settings (trigger, max current, stop and start voltage) at their
# offsets; the capacity is the pack's.
SETTINGS_LAYOUT = {
    "v1": (100, 8, 21, {9: 0.005, 13: 4.0, 17: 3.4, 28: 3.45}),
    "v2": (150, 9, 126, {14: 0.003, 30: 8.0, 22: 3.4, 26: 3.38}),
}


def _sum(data: bytes | bytearray) -> int:
    return sum(data) & 0xFF


def _f32(out: bytearray, offset: int, value: float) -> None:
    struct.pack_into("<f", out, offset, value)


class NeeySimulator(SimulatedBms):
    """Answers the requests and the balancer command written to FFE1."""

    family = "neey"
    services = (
        SimService(
            0x10,
            0xFFE0,
            (
                SimCharacteristic(
                    0x11,
                    0xFFE1,
                    ("read", "notify", "write-without-response", "write"),
                ),
            ),
        ),
    )
    notify_handle = 0x11

    def __init__(
        self,
        address: str,
        name: str,
        pack: PackModel | None = None,
        model: str = "GW-24S4EB",
    ) -> None:
        """A GW- model speaks layout v1, an EK-B model v2."""
        super().__init__(address, name, pack)
        self.model = model
        self.balance_current = -1.25
        self.resistances = [0.15] * 24

    @property
    def layout(self) -> str:
        """The cell-info layout the model answers with."""
        return "v2" if self.model.startswith("EK-B") else "v1"

    @property
    def probes(self) -> list[float]:
        """Two cell probes (v1); and the MOSFET and the board (v2)."""
        temps = self.pack.temperatures
        if self.layout == "v1":
            return list(temps[:2])
        board = temps[2] if len(temps) > 2 else temps[-1]
        return [temps[0], temps[1], self.pack.mosfet_temperature, board]

    def default_advertising(self, name: str) -> Advertising:
        """Services FFE0 and FEE7, as the balancers advertise them."""
        return Advertising(name=name, service_uuids=[uuid16(0xFFE0), uuid16(0xFEE7)])

    def handle_write(self, handle: int, data: bytes) -> None:
        """Answer a valid 20-byte request or command; ignore anything else."""
        if handle != self.notify_handle or len(data) != 20 or data[19] != 0xFF:
            return
        if _sum(data[:18]) != data[18]:
            return
        if data.startswith(WRITE):
            self._write_register(data)
        elif not data.startswith(REQUEST):
            return
        elif data[4] == DEVICE_INFO:
            self.send(self.device_info_frame())
        elif data[4] == CELL_INFO:
            self.send(self.cell_info_frame())
        elif data[4] == SETTINGS:
            self.send(self.settings_frame())

    def _write_register(self, data: bytes) -> None:
        """Register 0x0D: 1 enables the balancer, 0 disables it; acknowledged."""
        if data[5] != BALANCER_REGISTER or data[8] > 1 or any(data[9:18]):
            return
        if self.take_fault(Fault.IGNORE_COMMAND) is not None:
            return
        self.pack.balancer_enabled = data[8] == 1
        ack = bytearray(20)
        ack[:8] = WRITE_ACK + bytes((BALANCER_REGISTER, 20, 0))
        self.send(self._close(ack))

    def device_info_frame(self) -> bytes:
        """Model, hardware and software version."""
        out = bytearray(100)
        out[:8] = REPLY + bytes((DEVICE_INFO, 0, 100, 0))
        for offset, text in ((8, self.model), (24, "HW-2.8.0"), (32, "ZH-1.2.3")):
            raw = text.encode("ascii")
            out[offset : offset + len(raw)] = raw
        return self._close(out)

    def cell_info_frame(self) -> bytes:
        """The 300-byte cell-info reply from the pack model."""
        pack = self.pack
        cells = pack.cell_voltages
        out = bytearray(300)
        out[:8] = REPLY + bytes((CELL_INFO, 0)) + (300).to_bytes(2, "little")
        for index, volts in enumerate(cells):
            _f32(out, 9 + 4 * index, volts)
            _f32(out, 105 + 4 * index, self.resistances[index])
        _f32(out, 201, sum(cells))
        _f32(out, 205, sum(cells) / len(cells))
        _f32(out, 209, max(cells) - min(cells))
        out[213] = cells.index(max(cells))
        out[214] = cells.index(min(cells))
        out[215] = len(cells) - 1
        status = BALANCING if pack.balancing_cells else IDLE
        for alarm in sorted(pack.alarms):
            status = STATUS_OF_ALARM.get(alarm, status)
        out[216] = status
        balance_at, probe_at, mask_at = OFFSETS[self.layout]
        _f32(out, balance_at, self.balance_current)
        for index, temp in enumerate(self.probes):
            _f32(out, probe_at + 4 * index, temp)
        for alarm, slot in MASK_OF_ALARM.items():
            if alarm in pack.alarms:
                at = mask_at + 3 * slot
                out[at : at + 3] = (1).to_bytes(3, "little")
        if self.layout == "v2":
            out[217] = 0x02
            _f32(out, 222, pack.current)
            _f32(out, 242, pack.design_capacity)
            _f32(out, 246, pack.design_capacity * pack.soc / 100)
            _f32(out, 250, pack.soc)
        return self._close(out)

    def settings_frame(self) -> bytes:
        """The settings reply of the model's layout, the balancer state in it."""
        length, cells_at, balancer_at, floats = SETTINGS_LAYOUT[self.layout]
        out = bytearray(length)
        out[:8] = REPLY + bytes((SETTINGS, 0)) + length.to_bytes(2, "little")
        out[cells_at] = len(self.pack.cell_voltages)
        for offset, value in floats.items():
            _f32(out, offset, value)
        if self.layout == "v2":
            out[8] = 0x02
            _f32(out, 10, self.pack.design_capacity)
        else:
            out[24:28] = round(self.pack.design_capacity).to_bytes(4, "little")
        out[balancer_at] = int(self.pack.balancer_enabled)
        return self._close(out)

    @staticmethod
    def _close(out: bytearray) -> bytes:
        out[-2] = _sum(out[:-2])
        out[-1] = 0xFF
        return bytes(out)


def demo(address: str) -> NeeySimulator:
    """The family's demo device (development setup, end-to-end test, benchmark).

    An EK-B model (layout v2): the one that also reports a current, so the
    benchmark's energy figures apply; the GW- layout is a platform case.
    """
    device = NeeySimulator(address, "EK-B24S8E200A", model="EK-B24S8E200A")
    device.pack.cell_voltages = [3.272, 3.277, 3.271, 3.273]
    device.pack.temperatures = [28.2, 28.09, 31.0]
    device.pack.mosfet_temperature = 31.4
    device.pack.balancing_cells = {3}
    return device
