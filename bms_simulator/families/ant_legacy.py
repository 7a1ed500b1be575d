"""A simulated ANT smart BMS of the legacy protocol (FFE0, notify and write FFE1).

It encodes from its own tables, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured frames in
``tests/protocol/data/ant_legacy_vectors.json`` pin the codec down (each
decodes exactly), and the driver tests check that what the codec reads from
this simulator equals the simulated pack. Layout, password and registers:
syssi's esphome-ant-bms ``components/ant_bms_old_ble`` (see the integration's
``protocol/ant_legacy/frames.py`` for the commit).
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

STATUS_REQUEST = bytes.fromhex("dbdb00000000")
WRITE = b"\xa5\xa5"
# MOSFET status codes by alarm key, first match wins.
CHARGE_CODES = {
    "cell_overvoltage": 0x02,
    "charge_overcurrent": 0x03,
    "pack_overvoltage": 0x05,
    "charge_overtemperature": 0x06,
    "mosfet_overtemperature": 0x07,
    "hardware_fault": 0x09,
    "mosfet_fault": 0x0D,
}
DISCHARGE_CODES = {
    "cell_undervoltage": 0x02,
    "discharge_overcurrent": 0x03,
    "pack_undervoltage": 0x05,
    "discharge_overtemperature": 0x06,
    "mosfet_overtemperature": 0x07,
    "short_circuit": 0x0C,
    "mosfet_fault": 0x0D,
    "hardware_fault": 0x0E,
}
SWITCHED_OFF = 0x0F
ON = 0x01
AUTOMATIC_BALANCING = 0x04
UNCONNECTED_PROBE = -40
# Register -> the pack attribute it sets.
REGISTERS = {0xF9: "discharge_enabled", 0xFA: "charge_enabled"}
PASSWORD_REGISTERS = (0xF1, 0xF2, 0xF3, 0xF4)
APPLY = 0xFF


def _u(value: int, size: int, signed: bool = False) -> bytes:
    return value.to_bytes(size, "big", signed=signed)


class AntLegacySimulator(SimulatedBms):
    """Answers the status request; applies an unlocked MOSFET write."""

    family = "ant_legacy"
    services = (
        SimService(
            0x0E,
            0xFFE0,
            (
                SimCharacteristic(
                    0x10, 0xFFE1, ("read", "notify", "write-without-response", "write")
                ),
                SimCharacteristic(0x13, 0xFFE2, ("write-without-response", "write")),
            ),
        ),
    )
    notify_handle = 0x10
    write_handle = 0x10

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """Add the values the real reply carries beside the pack."""
        super().__init__(address, name, pack)
        self.password = "12345678"  # noqa: S105 (the factory default)
        self.balancer_temperature = 24.0
        self.runtime = 16386097  # seconds
        self._typed: dict[int, bytes] = {}
        self._pending: tuple[str, bool] | None = None

    def default_advertising(self, name: str) -> Advertising:
        """FFE0 and FEE7, company 1623 carrying 88 A0 and the MAC (a real module)."""
        mac = bytes.fromhex(self.address.replace(":", ""))
        return Advertising(
            name=name,
            service_uuids=[uuid16(0xFFE0), uuid16(0xFEE7)],
            manufacturer_data={1623: b"\x88\xa0" + mac},
        )

    def corrupt(self, frame: bytes) -> bytes:
        """A copy of ``frame`` with its sum broken."""
        return frame[:-1] + bytes((frame[-1] ^ 0x5A,))

    def handle_write(self, handle: int, data: bytes) -> None:
        """Answer a status request; collect and apply writes; ignore the rest."""
        if handle != self.write_handle:
            return
        if data == STATUS_REQUEST:
            self.send(self.status_frame())
            return
        if len(data) != 6 or data[:2] != WRITE or sum(data[2:5]) & 0xFF != data[5]:
            return
        register, value = data[2], data[3:5]
        if register in PASSWORD_REGISTERS:
            self._typed[register] = value
        elif register in REGISTERS and value in (b"\x00\x00", b"\x00\x01"):
            self._pending = (REGISTERS[register], value == b"\x00\x01")
        elif register == APPLY:
            self._apply()

    def _apply(self) -> None:
        typed = b"".join(self._typed.get(r, b"") for r in PASSWORD_REGISTERS)
        pending, self._pending, self._typed = self._pending, None, {}
        if (
            pending is not None
            and typed == self.password.encode()
            and self.take_fault(Fault.IGNORE_COMMAND) is None
        ):
            setattr(self.pack, *pending)

    def _code(self, enabled: bool, codes: dict[str, int]) -> int:
        if not enabled:
            return SWITCHED_OFF
        return next(
            (code for key, code in codes.items() if key in self.pack.alarms), ON
        )

    def status_frame(self) -> bytes:
        """The 140-byte status reply from the pack model."""
        pack = self.pack
        mv = [round(v * 1000) for v in pack.cell_voltages]
        current = -round(pack.current * 10)  # positive while discharging
        voltage = round(sum(mv) / 100)
        probes = [round(t) for t in pack.temperatures[:4]]
        probes += [UNCONNECTED_PROBE] * (4 - len(probes))
        balancing = pack.balancing_cells if pack.balancer_enabled else set()
        data = bytearray(b"\xaa\x55\xaa\xff" + _u(voltage, 2))
        data += b"".join(_u(value, 2) for value in mv) + bytes(2 * (32 - len(mv)))
        data += _u(current, 4, signed=True) + bytes((round(pack.soc),))
        data += _u(round(pack.full_capacity * 1e6), 4)
        data += _u(round(pack.remaining_capacity * 1e6), 4)
        data += _u(round(pack.cycles * pack.full_capacity * 1000), 4)
        data += _u(self.runtime, 4)
        data += _u(round(pack.mosfet_temperature), 2, signed=True)
        data += _u(round(self.balancer_temperature), 2, signed=True)
        data += b"".join(_u(t, 2, signed=True) for t in probes)
        data += bytes(
            (
                self._code(pack.charge_enabled, CHARGE_CODES),
                self._code(pack.discharge_enabled, DISCHARGE_CODES),
                AUTOMATIC_BALANCING if balancing else 0,
            )
        )
        # Tire length, pulses per week, relay, then the power (W).
        data += _u(1000, 2) + _u(23, 2) + b"\x00"
        data += _u(round(voltage * current / 100), 4, signed=True)
        high, low = max(mv), min(mv)
        data += bytes((mv.index(high) + 1,)) + _u(high, 2)
        data += bytes((mv.index(low) + 1,)) + _u(low, 2)
        data += _u(sum(mv) // len(mv), 2) + bytes((len(mv),))
        # D-S voltage, drive voltages, the comparator at 0 A.
        data += _u(0, 2) + _u(112, 2) + _u(107, 2) + _u(684, 2)
        data += _u(sum(1 << (cell - 1) for cell in balancing), 4) + _u(0x4001, 2)
        return bytes(data) + _u(sum(data[4:]) & 0xFFFF, 2)


def demo(address: str) -> AntLegacySimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = AntLegacySimulator(address, "ANT-BLE16S")
    device.pack.cell_voltages = [3.311, 3.314, 3.309, 3.312]
    device.pack.temperatures = [22.0, 21.0]
    device.pack.mosfet_temperature = 26.0
    return device
