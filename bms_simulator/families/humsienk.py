"""A simulated Humsienk BMC BMS (service 0001, notify 0003, write 0002).

It encodes from its own tables, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured frames in
``tests/protocol/data/humsienk_vectors.json`` pin the codec down (each decodes
exactly), and the driver tests check that what the codec reads from this
simulator equals the simulated pack. Layout: patman15/aiobmsble
``docs/humsienk_bms.md`` @ b0567331025033d33729385fa89a1198275d6486.
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

# Operation status bits (0x20, data bytes 4-7) by alarm key.
ALARM_BITS = {
    "charge_overcurrent": 0,
    "charge_overtemperature": 1,
    "charge_undertemperature": 2,
    "pack_overvoltage": 4,
    "discharge_overcurrent": 16,
    "discharge_overtemperature": 17,
    "discharge_undertemperature": 18,
    "short_circuit": 20,
    "pack_undervoltage": 21,
    "mosfet_overtemperature": 30,
}
CHARGE_ON, BALANCE_ON, DISCHARGE_ON = 1 << 7, 1 << 15, 1 << 23
SLOTS = 24  # cell slots of the 0x22 reply
MODEL = b"BMC-04S001"
VERSION = b"V02".ljust(12, b"\x00")


def _le(value: int, size: int, signed: bool = False) -> bytes:
    return value.to_bytes(size, "little", signed=signed)


def _frame(command: int, data: bytes) -> bytes:
    body = bytes((command, len(data))) + data
    return b"\xaa" + body + _le(sum(body) & 0xFFFF, 2)


class HumsienkSimulator(SimulatedBms):
    """Answers the handshake, 0x11, 0x20, 0x21, 0x22 and 0xF5."""

    family = "humsienk"
    services = (
        SimService(
            0x10,
            0x0001,
            (
                SimCharacteristic(0x11, 0x0003, ("read", "notify")),
                SimCharacteristic(0x15, 0x0002, ("write-without-response", "write")),
            ),
        ),
    )
    notify_handle = 0x11
    write_handle = 0x15

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """Add what the real replies carry beside the pack."""
        super().__init__(address, name, pack)
        self.disconnected_cells: set[int] = set()

    def default_advertising(self, name: str) -> Advertising:
        """FF00 and 0001; the company ID and data are the MAC's bytes."""
        mac = bytes.fromhex(self.address.replace(":", ""))
        return Advertising(
            name=name,
            service_uuids=[uuid16(0xFF00), uuid16(0x0001)],
            manufacturer_data={int.from_bytes(mac[:2], "little"): mac[2:]},
        )

    def handle_write(self, handle: int, data: bytes) -> None:
        """Answer a known request written to 0002; ignore anything else."""
        if handle != self.write_handle or len(data) != 5 or data[0] != 0xAA:
            return
        if data != _frame(data[1], b""):
            return
        answer = self._answer(data[1])
        if answer is not None and self.take_fault(Fault.IGNORE_COMMAND) is None:
            self.send(answer)

    def _answer(self, command: int) -> bytes | None:
        """The reply to ``command``, None for one the simulator does not know."""
        if command == 0x00:
            return _frame(0x00, b"")
        if command == 0x11:
            return _frame(0x11, MODEL)
        if command == 0xF5:
            return _frame(0xF5, VERSION)
        frames = {
            0x20: self.status_frame,
            0x21: self.battery_frame,
            0x22: self.cells_frame,
        }
        build = frames.get(command)
        return None if build is None else build()

    def status_frame(self) -> bytes:
        """0x20: uptime, operation status, balance and disconnect bitmaps."""
        pack = self.pack
        operation = sum(1 << ALARM_BITS[a] for a in pack.alarms if a in ALARM_BITS)
        operation |= CHARGE_ON if pack.charge_fet else 0
        operation |= DISCHARGE_ON if pack.discharge_fet else 0
        operation |= BALANCE_ON if pack.balancing_cells else 0
        balance = sum(1 << (c - 1) for c in pack.balancing_cells)
        disconnected = sum(1 << (c - 1) for c in self.disconnected_cells)
        data = _le(12, 2) + bytes((5, 30)) + _le(operation, 4)
        return _frame(0x20, data + _le(balance, 3) + _le(disconnected, 3) + b"\x00")

    def battery_frame(self) -> bytes:
        """0x21: voltage, current, SOC, SOH, capacities, cycles, six probes."""
        pack = self.pack
        millivolts = sum(round(v * 1000) for v in pack.cell_voltages)
        # The pack's probes fill the four cell slots and the environment slot
        # (repeated when the pack has fewer); the MOSFET sits between them.
        probes = (pack.temperatures * 5)[:5]
        probes.insert(4, pack.mosfet_temperature)
        data = (
            _le(millivolts, 4)
            + _le(round(pack.current * 1000), 4, signed=True)
            + bytes((round(pack.soc), round(pack.state_of_health)))
            + _le(round(pack.remaining_capacity * 1000), 4)
            + _le(round(pack.full_capacity * 1000), 4)
            + _le(pack.cycles, 2)
            + b"".join(_le(round(t), 1, signed=True) for t in probes)
        )
        return _frame(0x21, data)

    def cells_frame(self) -> bytes:
        """0x22: 24 slots of mV, the unused ones 0."""
        millivolts = [round(v * 1000) for v in self.pack.cell_voltages]
        millivolts += [0] * (SLOTS - len(millivolts))
        return _frame(0x22, b"".join(_le(mv, 2) for mv in millivolts))


def demo(address: str) -> HumsienkSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = HumsienkSimulator(address, "HS30A3")
    device.pack.cell_voltages = [3.281, 3.291, 3.284, 3.280]
    device.pack.temperatures = [26.0, 26.0, 26.0, 27.0, 24.0]
    device.pack.mosfet_temperature = 30.0
    device.pack.full_capacity = 150.0
    device.pack.design_capacity = 150.0
    device.pack.soc = 42.0
    return device
