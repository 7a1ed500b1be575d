"""A simulated JK BMS (service FFE0, write and notify characteristics both FFE1).

It answers the device-info request (0x97) and the settings request (0x96), then
streams cell-info frames every ``period`` seconds. The outgoing bytes form one
stream cut into ``mtu``-sized notifications, so frames arrive split (128/128/44
by default) and glued to each other, optionally with ``AT CR LF`` noise.

It encodes from its own tables, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured frames in
``tests/protocol/data/jk_vectors.json`` pin the codec down (each decodes
exactly), and the driver tests check that what the codec reads from this
simulator equals the simulated pack.
"""

from __future__ import annotations

import asyncio
import random
import struct
from collections import deque
from enum import StrEnum

from ..device import (
    Advertising,
    Fault,
    SimCharacteristic,
    SimService,
    SimulatedBms,
    uuid16,
)
from ..jk_wired import Jk4e57Pack, JkPbPack
from ..pack import PackModel, sixteen_cells

COMMAND_HEADER = b"\xaa\x55\x90\xeb"
FRAME_HEADER = b"\x55\xaa\xeb\x90"
ACK = COMMAND_HEADER + b"\xc8\x01\x01" + bytes(12) + b"\x44"
NOISE = b"AT\r\n"
PAIRING_SW_VERSION = "19.31"
MISSING_PROBE = -200.0

ERROR_BITS = {
    "wire_resistance": 0,
    "mosfet_overtemperature": 1,
    "cell_count_mismatch": 2,
    "pack_overvoltage": 5,
    "charge_overcurrent": 6,
    "short_circuit": 7,
    "charge_overtemperature": 8,
    "charge_undertemperature": 9,
    "coprocessor_error": 10,
    "cell_undervoltage": 11,
    "pack_undervoltage": 12,
    "discharge_overcurrent": 13,
    "discharge_overtemperature": 15,
    "mosfet_fault": 16,
    "temperature_sensor_fault": 22,
}


class JkLayout(StrEnum):
    """Frame layout the simulated firmware speaks."""

    JK04 = "JK04"
    JK02_24S = "JK02_24S"
    JK02_32S = "JK02_32S"


# Model, hardware and software version of each layout's firmware.
FIRMWARE = {
    JkLayout.JK04: ("JK-B2A16S", "3.0", "3.3.0"),
    JkLayout.JK02_24S: ("JK-B2A24S20P", "10.XG", "10.07"),
    JkLayout.JK02_32S: ("JK-PB2A16S20P", "19A", "19.27"),
}

# Switch registers: (pack attribute, value length) per layout.
SWITCHES = {
    JkLayout.JK04: {0x6C: ("balancer_enabled", 1)},
    JkLayout.JK02_24S: {
        0x1D: ("charge_enabled", 4),
        0x1E: ("discharge_enabled", 4),
        0x1F: ("balancer_enabled", 4),
    },
}
SWITCHES[JkLayout.JK02_32S] = SWITCHES[JkLayout.JK02_24S]


class _Frame:
    """A 300-byte reply frame being filled in."""

    def __init__(self, kind: int, counter: int) -> None:
        self.data = bytearray(300)
        self.data[:6] = FRAME_HEADER + bytes((kind, counter & 0xFF))

    def put(self, fmt: str, offset: int, *values: float) -> None:
        struct.pack_into("<" + fmt, self.data, offset, *values)

    def text(self, offset: int, size: int, value: str) -> None:
        raw = value.encode()[:size]
        self.data[offset : offset + size] = raw.ljust(size, b"\x00")

    def finish(self) -> bytes:
        self.data[299] = sum(self.data[:299]) & 0xFF
        return bytes(self.data)


def notifications(burst: bytes, mtu: int) -> list[bytes]:
    """The notifications that carry bytes queued together (``_pump_once``)."""
    return [burst[i : i + mtu] for i in range(0, len(burst), mtu)]


class JkSimulator(SimulatedBms):
    """Answers 0x97 and 0x96, streams cell frames, applies switch writes.

    Test knobs: ``period`` (stream interval), ``streaming`` (False stops the
    stream until the next 0x96), ``hung`` (ignore every request), ``noise``
    (probability of ``AT CR LF`` before a frame), ``lost_settings`` (settings
    answers to swallow) and ``needs_pairing`` (firmware 19.31 that answers only
    the device-info request).
    """

    family = "jk"
    services = (
        SimService(
            0x01,
            0xFFE0,
            (
                SimCharacteristic(0x03, 0xFFE1, ("write-without-response", "write")),
                SimCharacteristic(0x05, 0xFFE1, ("read", "notify")),
            ),
        ),
    )
    notify_handle = 0x05

    def __init__(
        self,
        address: str,
        name: str,
        pack: PackModel | None = None,
        layout: JkLayout | str = JkLayout.JK02_32S,
    ) -> None:
        """Create a device of one firmware layout."""
        super().__init__(address, name, pack)
        self.layout = JkLayout(layout)
        self.model, self.hw_version, self.sw_version = FIRMWARE[self.layout]
        self.serial_number = "5061" + address.replace(":", "")[-8:]
        self.device_name = name
        self.mtu = 128
        self.period = 1.0
        self.streaming = False
        self.noise = 0.0
        self.lost_settings = 0
        self.needs_pairing = False
        self.rng = random.Random(0)
        self.cell_resistances = [0.06] * 32
        self.balance_current = 0.0
        self.heating = False
        self.runtime = 86400
        self._counter = 0
        self._timer: asyncio.TimerHandle | None = None
        self._pump: asyncio.TimerHandle | None = None
        self._outbox: deque[bytes | None] = deque()

    def default_advertising(self, name: str) -> Advertising:
        """Advertise FFE0 and the vendor's manufacturer data with the MAC."""
        mac = bytes.fromhex(self.address.replace(":", ""))
        return Advertising(
            name=name,
            service_uuids=[uuid16(0xFFE0)],
            manufacturer_data={0x0B65: b"\x88\xa0" + mac},
        )

    def on_disconnect(self) -> None:
        """Stop streaming and forget undelivered bytes."""
        self.streaming = False
        for handle in (self._timer, self._pump):
            if handle is not None:
                handle.cancel()
        self._timer = self._pump = None
        self._outbox.clear()

    def handle_write(self, handle: int, data: bytes) -> None:
        """Parse one 20-byte command and act on it."""
        if len(data) != 20 or not data.startswith(COMMAND_HEADER):
            return
        if sum(data[:19]) & 0xFF != data[19] or self.hung:
            return
        register, length = data[4], data[5]
        if register == 0x97:
            self._emit(self.device_info_frame())
            if not self.needs_pairing:
                self.send(ACK)
        elif self.needs_pairing:
            return
        elif register == 0x96:
            self._answer_settings()
        elif register in SWITCHES[self.layout]:
            attribute, size = SWITCHES[self.layout][register]
            if length != size:
                return
            if self.take_fault(Fault.IGNORE_COMMAND) is None:
                setattr(self.pack, attribute, bool(data[6]))
            if self.layout is not JkLayout.JK02_24S:
                self.send(ACK)

    def _answer_settings(self) -> None:
        if self.lost_settings:
            self.lost_settings -= 1
        else:
            self._emit(self.settings_frame())
        self.streaming = True
        self._emit(self.cell_frame())
        if self._timer is None:
            self._schedule_tick()

    def _schedule_tick(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.period, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if not self.streaming or self.hung or not self.connected:
            return
        self._emit(self.cell_frame())
        self.count_stream_tick()
        self._schedule_tick()

    def _emit(self, frame: bytes) -> None:
        """Send a frame, sometimes after ``AT CR LF`` noise."""
        if self.noise and self.rng.random() < self.noise:
            self._deliver(NOISE)
        self.send(frame)

    def corrupt(self, frame: bytes) -> bytes:
        """A copy with a flipped checksum byte (byte 299, or the last one)."""
        index = min(299, len(frame) - 1)
        return frame[:index] + bytes((frame[index] ^ 0x5A,)) + frame[index + 1 :]

    def _deliver(self, frame: bytes, then_drop: bool = False) -> None:
        """Queue bytes on the outgoing stream (``None`` marks a link drop)."""
        if not self.connected:
            return
        self._outbox.append(frame)
        if then_drop:
            self._outbox.append(None)
        if self._pump is None:
            loop = asyncio.get_running_loop()
            self._pump = loop.call_later(self.notify_delay, self._pump_once)

    def _pump_once(self) -> None:
        """Notify the next ``mtu`` bytes of the stream, in order."""
        self._pump = None
        # The device sends at its own pace: the next chunk is due after this
        # one was sent, however long the receiver takes with it.
        sent_at = asyncio.get_running_loop().time()
        notify = self._notify
        if notify is None:
            return
        chunk = bytearray()
        while self._outbox and len(chunk) < self.mtu:
            head = self._outbox[0]
            if head is None:
                if not chunk:
                    self._outbox.clear()
                    self._drop_link()
                    return
                break
            room = self.mtu - len(chunk)
            chunk += head[:room]
            if len(head) > room:
                self._outbox[0] = head[room:]
            else:
                self._outbox.popleft()
        notify(self.notify_handle, bytes(chunk))
        if self._outbox and self._notify is notify:
            loop = asyncio.get_running_loop()
            self._pump = loop.call_at(sent_at + self.notify_delay, self._pump_once)

    def _next(self, kind: int) -> _Frame:
        """A frame with the counter of the next cell frame (as captures show).

        The counter advances with each cell frame; a settings or device-info
        frame carries the counter of the cell frame that follows it.
        """
        frame = _Frame(kind, self._counter)
        if kind == 0x02:
            self._counter += 1
        return frame

    def device_info_frame(self) -> bytes:
        """Frame type 0x03."""
        frame = self._next(0x03)
        sw = PAIRING_SW_VERSION if self.needs_pairing else self.sw_version
        frame.text(6, 16, self.model)
        frame.text(22, 8, self.hw_version)
        frame.text(30, 8, sw)
        frame.put("II", 38, self.runtime, self.connections)
        frame.text(46, 16, self.device_name)
        frame.text(62, 16, "1234")
        frame.text(78, 8, "240101")
        frame.text(86, 16, self.serial_number)
        frame.text(118, 16, "123456")
        return frame.finish()

    def settings_frame(self) -> bytes:
        """Frame type 0x01 from the pack's switches and capacity."""
        pack = self.pack
        frame = self._next(0x01)
        cells = len(pack.cell_voltages)
        if self.layout is JkLayout.JK04:
            frame.data[34] = cells
            frame.data[114] = int(pack.balancer_enabled)
            return frame.finish()
        frame.put("IIII", 10, 2800, 3000, 3650, 3550)
        frame.put("I", 50, 100000)
        frame.put("I", 62, 150000)
        frame.put(
            "IIIII",
            114,
            cells,
            pack.charge_enabled,
            pack.discharge_enabled,
            pack.balancer_enabled,
            round(pack.design_capacity * 1000),
        )
        frame.put("I", 138, 3400)
        return frame.finish()

    def error_bits(self) -> int:
        """Error bitmap from the pack's alarms."""
        return sum(1 << ERROR_BITS[a] for a in self.pack.alarms if a in ERROR_BITS)

    def cell_frame(self) -> bytes:
        """Frame type 0x02 in the simulated layout."""
        if self.layout is JkLayout.JK04:
            return self._jk04_cells()
        return self._jk02_cells(wide=self.layout is JkLayout.JK02_32S)

    @property
    def balancing(self) -> bool:
        """Whether the balancer is at work."""
        return bool(self.pack.balancing_cells) and self.pack.balancer_enabled

    def _jk04_cells(self) -> bytes:
        pack = self.pack
        frame = self._next(0x02)
        volts = pack.cell_voltages[:24]
        for i, volt in enumerate(volts):
            frame.put("f", 6 + 4 * i, volt)
            frame.put("f", 102 + 4 * i, self.cell_resistances[i])
        frame.put("ff", 202, sum(volts) / len(volts), max(volts) - min(volts))
        frame.data[220] = 1 if self.balancing else 0
        frame.put("f", 222, self.balance_current)
        frame.put("I", 286, self.runtime)
        return frame.finish()

    def _jk02_cells(self, *, wide: bool) -> bytes:
        pack = self.pack
        o = 32 if wide else 0
        h = o // 2
        frame = self._next(0x02)
        millivolts = [round(v * 1000) for v in pack.cell_voltages[: 32 if wide else 24]]
        for i, mv in enumerate(millivolts):
            frame.put("H", 6 + 2 * i, mv)
            frame.put("H", 64 + h + 2 * i, round(self.cell_resistances[i] * 1000))
        frame.put("I", 54 + h, (1 << len(millivolts)) - 1)
        frame.put(
            "HH",
            58 + h,
            sum(millivolts) // len(millivolts),
            max(millivolts) - min(millivolts),
        )
        frame.data[62 + h] = millivolts.index(max(millivolts))
        frame.data[63 + h] = millivolts.index(min(millivolts))
        voltage = sum(millivolts)
        current = round(pack.current * 1000)
        frame.put("Ii", 122 + o, round(abs(voltage * current) / 1000), current)
        frame.put("I", 118 + o, voltage)
        probes = list(pack.temperatures) + [MISSING_PROBE] * 5
        presence = 0
        if wide:
            # Byte 254 mirrors the MOSFET probe, as in every public 32S capture;
            # 256 and 258 are the third and fourth cell probes (v14 and later).
            mosfet = pack.mosfet_temperature
            order = [(144, mosfet), (162, probes[0]), (164, probes[1])]
            order += [(254, mosfet), (256, probes[2]), (258, probes[3])]
            frame.put("I", 166, self.error_bits())
        else:
            order = [(130, probes[0]), (132, probes[1]), (134, pack.mosfet_temperature)]
            frame.put("H", 136, self.error_bits() & 0xFFFF)
        for bit, (offset, value) in enumerate(order):
            frame.put("h", offset, round(value * 10))
            if value != MISSING_PROBE:
                presence |= 1 << bit
        frame.put("h", 138 + o, round(self.balance_current * 1000))
        frame.data[140 + o] = 1 if self.balancing else 0
        frame.data[141 + o] = round(pack.soc)
        frame.put(
            "IIII",
            142 + o,
            round(pack.remaining_capacity * 1000),
            round(pack.full_capacity * 1000),
            pack.cycles,
            round(pack.cycles * pack.full_capacity * 1000),
        )
        frame.data[158 + o] = round(pack.state_of_health)
        frame.put("I", 162 + o, self.runtime)
        frame.data[166 + o] = int(pack.charge_fet)
        frame.data[167 + o] = int(pack.discharge_fet)
        frame.data[169 + o] = 1 if self.balancing else 0
        frame.data[182 + o] = presence
        if wide:
            frame.data[183 + o] = int(self.heating)
        return frame.finish()


def demo(address: str) -> JkSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    return JkSimulator(address, "JK-PB2A16S20P-DEMO", sixteen_cells())


def pb_pack(address: int, pack: PackModel | None = None) -> JkPbPack:
    """A JK-PB pack at a DIP address, its frames from this module's encoder."""
    name = f"JK-PB-{address}"
    frames = JkSimulator(f"C8:47:80:00:00:{address:02X}", name, pack or sixteen_cells())
    return JkPbPack(address, frames)


def board_4e57(address: int) -> Jk4e57Pack:
    """An older JK board on its UART-TTL / RS485 port."""
    return Jk4e57Pack(address, sixteen_cells())


# The wired protocols (``protocol/jk/__init__.py``'s ``WIRED``).
WIRED_DEMOS = {"jk_pb": pb_pack, "jk_rs485": board_4e57}
