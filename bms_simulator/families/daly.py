"""A simulated Daly BMS: Modbus "D2", the "P81" ESS variant or legacy "A5".

GATT: service FFF0 (notify FFF1, write FFF2); with ``newer_gatt`` also FF00
(FF01, FF02), and ``refuse_fff1_notify`` makes subscribing to FFF1 fail as on
BlueZ. Replies go out on the notify characteristic of the service written to.

It encodes from its own tables, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured frames in
``tests/protocol/data/daly_vectors.json`` pin the codec down (each decodes
exactly), and the driver tests check that what the codec reads from this
simulator equals the simulated pack.
"""

from __future__ import annotations

import asyncio

from ..device import (
    Advertising,
    Fault,
    SimCharacteristic,
    SimService,
    SimulatedBms,
    uuid16,
)
from ..pack import PackModel, sixteen_cells
from ..serial.adapter import SimulatedResponder

FFF1_HANDLE = 0x11
FFF2_HANDLE = 0x14
FF01_HANDLE = 0x21
FF02_HANDLE = 0x24
NOTIFY_FOR_WRITE = {FFF2_HANDLE: FFF1_HANDLE, FF02_HANDLE: FF01_HANDLE}
SERVICE_FFF0 = SimService(
    0x10,
    0xFFF0,
    (
        SimCharacteristic(FFF1_HANDLE, 0xFFF1, ("read", "notify")),
        SimCharacteristic(FFF2_HANDLE, 0xFFF2, ("write-without-response", "write")),
    ),
)
SERVICE_FF00 = SimService(
    0x20,
    0xFF00,
    (
        SimCharacteristic(FF01_HANDLE, 0xFF01, ("read", "notify")),
        SimCharacteristic(FF02_HANDLE, 0xFF02, ("write-without-response", "write")),
    ),
)

# Pack alarm keys and the bit the BMS raises for them, in legacy byte order
# (bit n = bit n % 8 of failure byte n // 8; the critical level of each pair).
ALARM_BITS = {
    "cell_overvoltage": 1,
    "cell_undervoltage": 3,
    "pack_overvoltage": 5,
    "pack_undervoltage": 7,
    "charge_overtemperature": 9,
    "charge_undertemperature": 11,
    "discharge_overtemperature": 13,
    "discharge_undertemperature": 15,
    "charge_overcurrent": 17,
    "discharge_overcurrent": 19,
    "soc_high": 21,
    "soc_low": 23,
    "cell_voltage_difference": 25,
    "temperature_difference": 27,
    "mosfet_overtemperature": 32,
    "mosfet_fault": 36,
    "frontend_error": 40,
    "temperature_sensor_fault": 42,
    "hardware_fault": 43,
    "short_circuit": 50,
}
MODES = ("d2", "p81", "a5")


def crc16(data: bytes) -> int:
    """CRC-16/MODBUS."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def modbus_frame(body: bytes) -> bytes:
    """``body`` with its CRC appended, low byte first."""
    return body + crc16(body).to_bytes(2, "little")


def a5_frame(command: int, data: bytes, source: int = 0x01) -> bytes:
    """A legacy reply frame from BMS address ``source`` (0x01, or the board)."""
    body = bytes((0xA5, source, command, 0x08)) + data.ljust(8, b"\0")[:8]
    return body + bytes((sum(body) & 0xFF,))


def _ascii(text: str, length: int) -> bytes:
    return text.encode().ljust(length, b"\0")[:length]


class DalySimulator(SimulatedBms):
    """Encodes the pack model in one Daly protocol and applies its switch commands.

    Options (attributes, settable at any time):

    * ``status_registers``: 80, or 62 (an 80-register read goes unanswered).
    * ``mos_block``: whether the 0x3E x 9 read is answered.
    * ``settings_block``: whether the D2 0x80 x 41 settings read is answered.
    * ``a5_hosts``: the legacy host addresses answered.
    * ``first_answer_delay``: seconds after each connect before the dongle
      answers; answers due earlier are held until then.
    * ``drop_frame``: a frame number left out of the next multi-frame reply.
    * ``all_cell_frames``: BLE behaviour, 16 cell frames whatever the count.
    * ``refuse_commands``: switch commands are refused (D2: Modbus exception).
    """

    family = "daly"
    notify_handle = FFF1_HANDLE

    def __init__(
        self,
        address: str,
        name: str | None = None,
        pack: PackModel | None = None,
        *,
        mode: str = "d2",
        newer_gatt: bool = False,
        refuse_fff1_notify: bool = False,
    ) -> None:
        """Create a device speaking ``mode`` (``d2``, ``p81`` or ``a5``)."""
        if mode not in MODES:
            raise ValueError(f"unknown Daly mode {mode}")
        mac = address.replace(":", "").upper()
        super().__init__(address, name or f"DL-{mac}", pack)
        self.mode = mode
        self.services = (SERVICE_FFF0, SERVICE_FF00) if newer_gatt else (SERVICE_FFF0,)
        self.refused_notify: set[int] = {FFF1_HANDLE} if refuse_fff1_notify else set()
        self.status_registers = 80
        self.mos_block = True
        self.settings_block = True
        self.a5_hosts: set[int] = {0x80}
        # The address A5 replies come from: 0x01, or the board number on RS485.
        self.a5_source = 0x01
        self.first_answer_delay = 0.0
        self.drop_frame: int | None = None
        self.all_cell_frames = True
        self.refuse_commands = False
        self.balance_current = 0.0
        self.board_temperature = 30.0
        self.heater = False
        self.software_version = "SIM-D2-1.0"
        self.hardware_version = "SIM-HW-2"
        # The "machine code" (a serial number) that follows the versions, and
        # the parameter password (Daly's default), which the app only reads.
        self.serial_number = "SIM0123456789"
        self.password = "123456"  # noqa: S105 (a simulated device's default)
        self._wake_at = 0.0
        self._held: list[bytes] = []

    def default_advertising(self, name: str) -> Advertising:
        """Advertise FFF0 and manufacturer data 770: MAC + "DL"."""
        mac = bytes.fromhex(self.address.replace(":", ""))
        return Advertising(
            name=name,
            service_uuids=[uuid16(0xFFF0)],
            manufacturer_data={770: mac + b"DL"},
        )

    def on_connect(self) -> None:
        """A new connection: the dongle sleeps for ``first_answer_delay`` again."""
        self._wake_at = asyncio.get_running_loop().time() + self.first_answer_delay
        self._held.clear()

    def send(self, frame: bytes) -> None:
        """Send now, or hold the answer until the dongle has woken up."""
        loop = asyncio.get_running_loop()
        if loop.time() >= self._wake_at and not self._held:
            super().send(frame)
            return
        if not self._held:
            loop.call_later(max(0.0, self._wake_at - loop.time()), self._release)
        self._held.append(frame)

    def _release(self) -> None:
        held, self._held = self._held, []
        for frame in held:
            super().send(frame)

    def handle_write(self, handle: int, data: bytes) -> None:
        """Route one request to the protocol the device speaks."""
        self.notify_handle = NOTIFY_FOR_WRITE.get(handle, FFF1_HANDLE)
        if self.mode == "a5":
            self._handle_a5(data)
            return
        address = 0x81 if self.mode == "p81" else 0xD2
        if len(data) != 8 or data[0] != address:
            return
        if crc16(data[:6]) != int.from_bytes(data[6:], "little"):
            return
        start = int.from_bytes(data[2:4], "big")
        value = int.from_bytes(data[4:6], "big")
        if data[1] == 0x03:
            self._modbus_read(start, value)
        elif data[1] == 0x06 and self.mode == "d2":
            self._modbus_write(data, start, value)

    # The Modbus variants: D2 and P81.

    @property
    def _reply_address(self) -> int:
        return 0x51 if self.mode == "p81" else 0xD2

    def _modbus_read(self, start: int, count: int) -> None:
        if self.mode == "d2":
            if start == 0 and count > self.status_registers:
                return
            if start == 0x3E and count == 9 and not self.mos_block:
                return
            if start == 0x80 and count == 41 and not self.settings_block:
                return
        registers = self.p81_registers() if self.mode == "p81" else self.d2_registers()
        values = [registers.get(a, 0) for a in range(start, start + count)]
        payload = b"".join(v.to_bytes(2, "big") for v in values)
        self.send(
            modbus_frame(bytes((self._reply_address, 0x03, len(payload))) + payload)
        )

    def _modbus_write(self, request: bytes, register: int, value: int) -> None:
        targets = {0xA5: "charge_enabled", 0xA6: "discharge_enabled"}
        if self.refuse_commands or (register not in targets and register != 0xCF):
            self.send(modbus_frame(bytes((0xD2, 0x86, 0x04))))
            return
        if self.take_fault(Fault.IGNORE_COMMAND) is None:
            if register == 0xCF:
                self.pack.balancer_enabled = bool(value)
            else:
                setattr(self.pack, targets[register], bool(value))
        self.send(request)

    def _common_registers(self) -> dict[str, int]:
        pack = self.pack
        cells = [round(v * 1000) for v in pack.cell_voltages]
        temps = [round(t) + 40 for t in pack.temperatures]
        state = 1 if pack.current > 0 else 2 if pack.current < 0 else 0
        return {
            "voltage": round(pack.voltage * 10),
            "current": round(pack.current * 10) + 30000,
            "soc": round(pack.soc * 10),
            "max_cell": max(cells),
            "min_cell": min(cells),
            "max_temp": max(temps),
            "min_temp": min(temps),
            "state": state,
            "remaining": round(pack.remaining_capacity * 10),
            "balancing": 1 if pack.balancing_cells else 0,
            "balance_current": round(self.balance_current * 1000) + 30000,
            "average": round(sum(cells) / len(cells)),
            "power": round(abs(pack.voltage * pack.current)),
            "mosfet_temp": round(pack.mosfet_temperature) + 40,
            "board_temp": round(self.board_temperature) + 40,
        }

    def d2_registers(self) -> dict[int, int]:
        """Every D2 register the simulator answers, from the pack model."""
        pack = self.pack
        common = self._common_registers()
        regs = {i: round(v * 1000) for i, v in enumerate(pack.cell_voltages)}
        regs |= {0x20 + i: round(t) + 40 for i, t in enumerate(pack.temperatures)}
        alarm_bytes = self.failure_bytes()
        balancing = sum(1 << (c - 1) for c in pack.balancing_cells)
        regs |= {
            0x28: common["voltage"],
            0x29: common["current"],
            0x2A: common["soc"],
            0x2B: common["max_cell"],
            0x2C: common["min_cell"],
            0x2D: common["max_temp"],
            0x2E: common["min_temp"],
            0x2F: common["state"],
            0x30: common["remaining"],
            0x31: len(pack.cell_voltages),
            0x32: len(pack.temperatures),
            0x33: pack.cycles,
            0x34: common["balancing"],
            0x35: int(pack.charge_fet),
            0x36: int(pack.discharge_fet),
            0x37: common["average"],
            0x38: common["max_cell"] - common["min_cell"],
            0x39: common["power"],
            **{
                0x3A + i: int.from_bytes(alarm_bytes[2 * i : 2 * i + 2], "little")
                for i in range(4)
            },
            0x3E: balancing & 0xFFFF,
            0x3F: balancing >> 16,
            0x40: common["balance_current"],
            0x42: common["mosfet_temp"],
            0x43: common["board_temp"],
        }
        regs |= self._d2_settings()
        # 0xA9-0xB0 software, 0xB1-0xB8 hardware version, 0xB9-0xC8 machine
        # code, 0xC9-0xCB password (Daly's Modbus register list,
        # syssi/esphome-daly-bms docs/dalyModbusProtocol.xlsx).
        text = (
            _ascii(self.software_version, 16)
            + _ascii(self.hardware_version, 16)
            + _ascii(self.serial_number, 32)
            + _ascii(self.password, 6)
        )
        regs |= {0xA9 + i: int.from_bytes(text[2 * i : 2 * i + 2]) for i in range(35)}
        regs[0xCF] = int(pack.balancer_enabled)
        return regs

    def p81_registers(self) -> dict[int, int]:
        """Every P81 register the simulator answers, from the pack model."""
        pack = self.pack
        common = self._common_registers()
        balancing = sum(1 << (c - 1) for c in pack.balancing_cells)
        regs = {i: round(v * 1000) for i, v in enumerate(pack.cell_voltages)}
        regs |= {0x30 + i: round(t) + 40 for i, t in enumerate(pack.temperatures)}
        regs |= {
            0x38: common["voltage"],
            0x39: common["current"],
            0x3A: common["soc"],
            0x3C: len(pack.cell_voltages),
            0x3D: len(pack.temperatures),
            0x3E: common["max_cell"],
            0x43: common["max_temp"],
            0x45: common["min_temp"],
            0x48: common["state"],
            0x4B: common["remaining"],
            0x4C: pack.cycles,
            0x4D: common["balancing"],
            0x4F: balancing & 0xFFFF,
            0x50: (balancing >> 16) & 0xFFFF,
            0x51: balancing >> 32,
            0x52: int(pack.charge_fet),
            0x53: int(pack.discharge_fet),
            0x55: int(self.heater),
            0x57: common["average"],
            0x58: common["power"],
            0x5A: common["mosfet_temp"],
            0x5B: common["board_temp"],
        }
        regs |= self._p81_settings()
        # Software (28 bytes), hardware (14) and a serial number (14), as on
        # the real ESS-DL-BMS (syssi/esphome-daly-bms docs/pdus/
        # ess-dl-bms-41_260321_0323.txt, reply to 81 03 01 78 00 4A).
        version = (
            _ascii(self.software_version, 28)
            + _ascii(self.hardware_version, 14)
            + _ascii(self.serial_number, 14)
        )
        regs |= {
            0x178 + i: int.from_bytes(version[2 * i : 2 * i + 2]) for i in range(28)
        }
        regs[0xCF] = 0xFFFF if pack.balancer_enabled else 0
        return regs

    def _d2_settings(self) -> dict[int, int]:
        pack = self.pack
        return {
            0x80: round(pack.design_capacity * 10),
            0x81: 3200,
            0xA5: int(pack.charge_enabled),
            0xA6: int(pack.discharge_enabled),
            0xA7: round(pack.soc * 10),
            0xA8: 85 + 40,
        }

    def _p81_settings(self) -> dict[int, int]:
        """The P81 0x100 block as the real ESS-DL-BMS fills it.

        Not the D2 settings layout: 0x100-0x108 look like board, cell and
        sensor counts, 0x109-0x10C hold the capacity twice (u32, mAh: 314 Ah
        on the 271.2 Ah / 86.4 % capture) and 0x126-0x128 the parameter
        password in ASCII (the capture of the version above).
        """
        capacity = round(self.pack.design_capacity * 1000)
        password = _ascii(self.password, 6)
        cells, sensors = len(self.pack.cell_voltages), len(self.pack.temperatures)
        return {
            0x100: 1,
            0x101: cells,
            0x102: 1,
            0x103: cells,
            0x106: sensors,
            0x109: capacity >> 16,
            0x10A: capacity & 0xFFFF,
            0x10B: capacity >> 16,
            0x10C: capacity & 0xFFFF,
            **{
                0x126 + i: int.from_bytes(password[2 * i : 2 * i + 2]) for i in range(3)
            },
        }

    def failure_bytes(self) -> bytes:
        """The eight failure bytes (legacy order) for the pack's alarms."""
        bits = 0
        for alarm in self.pack.alarms:
            if alarm in ALARM_BITS:
                bits |= 1 << ALARM_BITS[alarm]
        return bits.to_bytes(8, "little")

    # The legacy A5 variant.

    def _handle_a5(self, data: bytes) -> None:
        if len(data) != 13 or data[0] != 0xA5 or data[3] != 0x08:
            return
        if sum(data[:12]) & 0xFF != data[12] or data[1] not in self.a5_hosts:
            return
        command = data[2]
        if command in (0xD9, 0xDA):
            self._a5_switch(command, data[4])
            return
        frames = self._a5_reply(command)
        if not frames:
            return
        if self.drop_frame is not None and len(frames) > 1:
            frames = [f for f in frames if f[4] != self.drop_frame]
            self.drop_frame = None
        self.send(b"".join(frames))

    def _a5_switch(self, command: int, value: int) -> None:
        if not self.refuse_commands and self.take_fault(Fault.IGNORE_COMMAND) is None:
            target = "charge_enabled" if command == 0xDA else "discharge_enabled"
            setattr(self.pack, target, bool(value))
        ack = bytes((value, 1, 0, 0, 2, 0, 0x6C))
        self.send(a5_frame(command, ack, self.a5_source))

    def _a5_reply(self, command: int) -> list[bytes]:
        pack = self.pack
        common = self._common_registers()
        cells = [round(v * 1000) for v in pack.cell_voltages]
        temps = [round(t) + 40 for t in pack.temperatures]

        def u16(*values: int) -> bytes:
            return b"".join(v.to_bytes(2, "big") for v in values)

        single = {
            0x90: u16(common["voltage"], 0, common["current"], common["soc"]),
            0x91: u16(max(cells))
            + bytes((cells.index(max(cells)) + 1,))
            + u16(min(cells))
            + bytes((cells.index(min(cells)) + 1,)),
            0x92: bytes(
                (
                    max(temps),
                    temps.index(max(temps)) + 1,
                    min(temps),
                    temps.index(min(temps)) + 1,
                )
            ),
            0x93: bytes((common["state"], pack.charge_fet, pack.discharge_fet, 120))
            + round(pack.remaining_capacity * 1000).to_bytes(4, "big"),
            0x94: bytes((len(cells), len(temps), 0, 0, 0)) + u16(pack.cycles),
            0x97: sum(1 << (c - 1) for c in pack.balancing_cells).to_bytes(8, "little"),
            0x98: self.failure_bytes(),
        }
        if command in single:
            return [a5_frame(command, single[command], self.a5_source)]
        if command == 0x95:
            count = 16 if self.all_cell_frames else -(-len(cells) // 3)
            padded = cells + [0] * (3 * count - len(cells))
            return [
                a5_frame(
                    0x95,
                    bytes((n + 1,)) + u16(*padded[3 * n : 3 * n + 3]),
                    self.a5_source,
                )
                for n in range(count)
            ]
        if command == 0x96:
            count = max(2, -(-len(temps) // 7))
            padded = temps + [0] * (7 * count - len(temps))
            return [
                a5_frame(
                    0x96, bytes((n + 1, *padded[7 * n : 7 * n + 7])), self.a5_source
                )
                for n in range(count)
            ]
        return []


def demo(address: str) -> DalySimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    return DalySimulator(address, pack=sixteen_cells(), newer_gatt=True)


# On the wire (Daly's UART / RS485; see protocol/daly/wired.py for the sources).
A5_BOARD_HOST_OFFSET = 0x3F  # board n is asked at 0x3F + n and answers from n


def a5_request_length(buf: bytes) -> int | None:
    """An A5 request is 13 bytes from its 0xA5."""
    if not buf:
        return None
    return 13 if buf[0] == 0xA5 else 0


def modbus_request_length(buf: bytes) -> int | None:
    """A read (0x03) or single write (0x06) request is 8 bytes."""
    if len(buf) < 2:
        return None
    return 8 if buf[1] in (0x03, 0x06) else 0


def wired_a5(board: int) -> SimulatedResponder:
    """A 16-cell board on an RS485 line, speaking A5 at its board number."""
    device = DalySimulator(
        f"02:00:00:00:01:{board:02X}", pack=sixteen_cells(), mode="a5"
    )
    device.a5_hosts = {A5_BOARD_HOST_OFFSET + board}
    device.a5_source = board
    return SimulatedResponder(device, board, a5_request_length)


def wired_d2(address: int) -> SimulatedResponder:
    """A 16-cell pack speaking D2 Modbus on its UART (slave 0xD2)."""
    device = DalySimulator(f"02:00:00:00:02:{address:02X}", pack=sixteen_cells())
    return SimulatedResponder(device, address, modbus_request_length)


WIRED_DEMOS = {"daly_a5": wired_a5, "daly_d2": wired_d2}
