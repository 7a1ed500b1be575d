"""A simulated ECO-WORTHY BMS with its BW02 module (service FFF0, FFF1, FFF2).

It encodes from its own tables, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured frames in
``tests/protocol/data/ecoworthy_vectors.json`` pin the codec down (each decodes
exactly), and the driver tests check that what the codec reads from this
simulator equals the simulated pack.

The layout follows patman15/aiobmsble ``aiobmsble/bms/ecoworthy_bms.py`` and
the frames of its ``tests/bms/test_ecoworthy_bms.py``
@ b0567331025033d33729385fa89a1198275d6486: the bytes no decoder reads are
those of the captures.
"""

from __future__ import annotations

import asyncio
from collections import deque

from ..device import (
    Advertising,
    Fault,
    SimCharacteristic,
    SimService,
    SimulatedBms,
    uuid16,
)
from ..pack import PackModel

# What the app writes before the module streams (aiobmsble's _INIT_CMDS).
FIRST_COMMAND = bytes.fromhex("ff0802000b01006401ffffffffffffff002d")
SECOND_COMMAND = bytes.fromhex("ff0802000b01001401ffffffffffffff65ef")
# The head bytes between the kind and the byte count, per framing.
V1_HEAD = bytes.fromhex("000000650000000000180103")
V2_HEAD = bytes.fromhex("00000803")
# The data of the captured frames (aiobmsble's protocol version 1), the
# template whose read fields are replaced by the pack's.
STATUS_DATA = bytes.fromhex(
    "0018004800640531ff8e00002710000100010000000000000000000100020000ffff" + "00" * 34
)
SLOTS_CELLS = 32
SLOTS_PROBES = 9


def _crc(data: bytes | bytearray) -> int:
    """CRC-16/MODBUS, bit by bit."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _word(value: int, signed: bool = False) -> bytes:
    return value.to_bytes(2, "big", signed=signed)


class EcoworthySimulator(SimulatedBms):
    """Streams A1 status and A2 cell frames once the app's commands came.

    Each command is answered with an A1 frame (as aiobmsble's mock module
    does); once both came on a connection, the module streams A1 then A2
    every ``period`` seconds until the host disconnects. Frames leave in
    order, each in notifications of its own (aiobmsble reads one frame per
    notification). ``mac_in_front`` (V2, aiobmsble's protocol version 2) puts
    the address in front of each frame and counts the current in 0.1 A; V1
    counts 0.01 A.
    """

    family = "ecoworthy"
    services = (
        SimService(
            0x10,
            0xFFF0,
            (
                SimCharacteristic(0x11, 0xFFF1, ("read", "notify")),
                SimCharacteristic(0x14, 0xFFF2, ("write-without-response", "write")),
            ),
        ),
    )
    notify_handle = 0x11
    write_handle = 0x14

    def __init__(
        self,
        address: str,
        name: str,
        pack: PackModel | None = None,
        *,
        mac_in_front: bool = True,
    ) -> None:
        """Add the problem code and the stream beside the pack."""
        super().__init__(address, name, pack)
        self.mac_in_front = mac_in_front
        self.problem_code = 0
        self.period = 1.0
        self._commands: set[bytes] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._pump: asyncio.TimerHandle | None = None
        self._outbox: deque[bytes | None] = deque()

    def default_advertising(self, name: str) -> Advertising:
        """FFF0; the company ID and data spell the MAC, as the modules do."""
        mac = bytes.fromhex(self.address.replace(":", ""))
        return Advertising(
            name=name,
            service_uuids=[uuid16(0xFFF0)],
            manufacturer_data={int.from_bytes(mac[:2], "little"): mac[2:]},
        )

    def on_disconnect(self) -> None:
        """Stop streaming and forget undelivered bytes."""
        self._commands.clear()
        for handle in (self._timer, self._pump):
            if handle is not None:
                handle.cancel()
        self._timer = self._pump = None
        self._outbox.clear()

    def handle_write(self, handle: int, data: bytes) -> None:
        """Answer a command with A1; start the stream after both."""
        if handle != self.write_handle or data not in (FIRST_COMMAND, SECOND_COMMAND):
            return
        if self.take_fault(Fault.IGNORE_COMMAND) is not None:
            return
        self._commands.add(data)
        self.send(self.status_frame())
        if len(self._commands) == 2 and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(0.0, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if not self.connected:
            return
        self.send(self.status_frame())
        self.send(self.cell_frame())
        self.count_stream_tick()
        self._timer = asyncio.get_running_loop().call_later(self.period, self._tick)

    def _deliver(self, frame: bytes, then_drop: bool = False) -> None:
        """Queue a frame (``None`` marks a link drop) behind those on their way."""
        if not self.connected:
            return
        self._outbox.append(frame)
        if then_drop:
            self._outbox.append(None)
        if self._pump is None:
            loop = asyncio.get_running_loop()
            self._pump = loop.call_later(self.notify_delay, self._pump_once)

    def _pump_once(self) -> None:
        """Notify the next ``mtu`` bytes of the frame at the head of the queue."""
        self._pump = None
        # The device sends at its own pace: the next chunk is due after this
        # one was sent, however long the receiver takes with it.
        sent_at = asyncio.get_running_loop().time()
        notify = self._notify
        if notify is None or not self._outbox:
            return
        head = self._outbox.popleft()
        if head is None:
            self._outbox.clear()
            self._drop_link()
            return
        if len(head) > self.mtu:
            self._outbox.appendleft(head[self.mtu :])
        notify(self.notify_handle, head[: self.mtu])
        if self._outbox and self._notify is notify:
            loop = asyncio.get_running_loop()
            self._pump = loop.call_at(sent_at + self.notify_delay, self._pump_once)

    def _frame(self, kind: int, data: bytes) -> bytes:
        if self.mac_in_front:
            mac = bytes.fromhex(self.address.replace(":", ""))
            body = mac + bytes((kind,)) + V2_HEAD + bytes((len(data),)) + data
        else:
            body = bytes((kind,)) + V1_HEAD + bytes((len(data),)) + data
        return body + _crc(body).to_bytes(2, "little")

    def status_frame(self) -> bytes:
        """The A1 frame from the pack model."""
        pack = self.pack
        data = bytearray(STATUS_DATA)
        data[2:4] = _word(round(pack.soc))
        data[4:6] = _word(round(pack.state_of_health))
        data[6:8] = _word(round(pack.voltage * 100))
        step = 10 if self.mac_in_front else 100
        data[8:10] = _word(round(pack.current * step), signed=True)
        data[12:14] = _word(round(pack.design_capacity * 100))
        data[37:39] = _word(self.problem_code)
        return self._frame(0xA1, bytes(data))

    def cell_frame(self) -> bytes:
        """The A2 frame: counted cells and probes, unused slots filled."""
        pack = self.pack
        cells = [round(v * 1000) for v in pack.cell_voltages]
        probes = [round(t * 10) for t in pack.temperatures]
        data = _word(len(cells)) + b"".join(_word(mv) for mv in cells)
        data += b"\xff\xff" * (SLOTS_CELLS - len(cells))
        data += _word(len(probes)) + b"".join(_word(t, True) for t in probes)
        data += _word(-1000, True) * (SLOTS_PROBES - len(probes))
        return self._frame(0xA2, data)


def demo(address: str) -> EcoworthySimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    tail = address.replace(":", "")[-4:].upper()
    device = EcoworthySimulator(address, f"ECO-WORTHY 0B_{tail}")
    device.pack.cell_voltages = [3.323, 3.324, 3.323, 3.317]
    device.pack.temperatures = [22.0, 21.4]
    return device
