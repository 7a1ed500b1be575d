"""A simulated RoyPow BMS (service FFE0, one characteristic FFE1).

It encodes from its own tables, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured frames in
``tests/protocol/data/roypow_vectors.json`` pin the codec down (each decodes
exactly), and the driver tests check that what the codec reads from this
simulator equals the simulated pack. Bytes whose meaning no source states are
sent as the capture in patman15/aiobmsble ``tests/bms/test_roypow_bms.py``
shows them.
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

HEAD = bytes.fromhex("ead101")
ADDRESS = 0xFF
MODULE_MESSAGE = b"AT+STAT\r\n"
# The data after ``FF <command>`` that the capture shows and no source names.
CELL_PREFIX_LEN = 3
STATUS_MIDDLE = bytes.fromhex("00100000000c")  # bytes 18-23
PACK_TAG_11 = bytes.fromhex("00164a70")
PACK_TAG_12 = bytes.fromhex("250317005145")
PACK_TRAILER = bytes.fromhex("0d144e000000")
NO_TIME = 0xFFFF  # minutes to empty (or full) while not discharging (charging)
# Company IDs of the captures vary per unit; the data is 88 A0 and the MAC.
COMPANY_ID = 424


def _xor(data: bytes | bytearray) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


def _frame(command: int, data: bytes) -> bytes:
    """``EA D1 01 <len> FF <command> <data> <xor> F5``."""
    body = bytes((len(data) + 4, ADDRESS, command)) + data
    return HEAD + body + bytes((_xor(body), 0xF5))


def _u16(value: float) -> bytes:
    return min(max(round(value), 0), 0xFFFF).to_bytes(2, "big")


class RoyPowSimulator(SimulatedBms):
    """Answers the 0x02, 0x03 and 0x04 requests, AT+STAT before each reply.

    The module's message comes first, as patman15/aiobmsble's mock client
    sends it on every write.
    """

    family = "roypow"
    services = (
        SimService(
            0x10,
            0xFFE0,
            (
                SimCharacteristic(
                    0x11, 0xFFE1, ("read", "write-without-response", "write", "notify")
                ),
            ),
        ),
    )
    notify_handle = 0x11
    write_handle = 0x11

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """Add the problem code the real status reply carries beside the pack."""
        super().__init__(address, name, pack)
        self.problem_code = 0  # 24 bits, no public bit table

    def default_advertising(self, name: str) -> Advertising:
        """Services FFE0 and FEE7, and ``88 A0`` with the MAC."""
        mac = bytes.fromhex(self.address.replace(":", ""))
        return Advertising(
            name=name,
            service_uuids=[uuid16(0xFFE0), uuid16(0xFEE7)],
            manufacturer_data={COMPANY_ID: b"\x88\xa0" + mac},
        )

    @property
    def probes(self) -> list[float]:
        """Two cell probes and the ambient one: slots 1, 2 and 4 (3 is the MOSFET)."""
        return self.pack.temperatures[:3]

    def handle_write(self, handle: int, data: bytes) -> None:
        """Answer a request written to FFE1; ignore anything else."""
        replies = {
            0x02: self.cells_frame,
            0x03: self.status_frame,
            0x04: self.pack_frame,
        }
        if (
            handle != self.write_handle
            or len(data) != 8
            or data[:5] != HEAD + b"\x04\xff"
        ):
            return
        build = replies.get(data[5])
        if build is None or data[6:] != bytes((_xor(data[3:6]), 0xF5)):
            return
        if self.take_fault(Fault.IGNORE_COMMAND) is None:
            self._module_message()
            self.send(build())

    def _module_message(self) -> None:
        """``AT+STAT`` in one notification, at once, so it precedes the reply."""
        notify = self._notify
        if notify is not None and not self.hung:
            notify(self.notify_handle, MODULE_MESSAGE)

    def cells_frame(self) -> bytes:
        """The 0x02 reply: the cells, mV."""
        cells = self.pack.cell_voltages
        prefix = bytes((len(cells),)) * CELL_PREFIX_LEN
        return _frame(0x02, prefix + b"".join(_u16(v * 1000) for v in cells))

    def status_frame(self) -> bytes:
        """The 0x03 reply: current, problem code, probes and MOSFETs."""
        pack = self.pack
        probes = [*pack.temperatures[:2], pack.mosfet_temperature]
        probes = (probes + pack.temperatures[2:3])[:4]
        slots = bytes(round(t) + 40 for t in probes).ljust(4, b"\x00")
        state = 0x31 if pack.current < 0 else 0x32
        fets = (
            0x01
            | (0x04 if pack.charge_fet else 0)
            | (0x02 if pack.discharge_fet else 0)
        )
        data = (
            bytes((state,))
            + _u16(abs(pack.current) * 100)
            + self.problem_code.to_bytes(3, "big")
            + bytes((0, len(probes)))
            + slots
            + STATUS_MIDDLE
            + bytes((fets, 0, 0, 0))
        )
        return _frame(0x03, data)

    def pack_frame(self) -> bytes:
        """The 0x04 reply: tagged values, then pack voltage and cell extremes."""
        pack = self.pack
        cells = pack.cell_voltages
        current = pack.current
        remaining = pack.remaining_capacity
        to_empty = remaining / -current * 60 if current < 0 else NO_TIME
        to_full = (
            (pack.full_capacity - remaining) / current * 60 if current > 0 else NO_TIME
        )
        tagged: list[tuple[int, bytes]] = [
            (1, bytes((round(pack.soc),))),
            (2, _u16(pack.cycles)),
        ]
        for first, capacity in (
            (3, pack.design_capacity),
            (5, pack.full_capacity),
            (7, remaining),
        ):
            mah = round(capacity * 1000)
            tagged += [(first, _u16(mah >> 16)), (first + 1, _u16(mah & 0xFFFF))]
        tagged += [
            (9, _u16(min(to_empty, NO_TIME))),
            (10, _u16(min(to_full, NO_TIME))),
            (11, PACK_TAG_11),
            (12, PACK_TAG_12),
        ]
        data = b"".join(bytes((tag,)) + value for tag, value in tagged)
        data += _u16(pack.voltage * 100)
        data += _u16(max(cells) * 1000) + _u16(min(cells) * 1000)
        return _frame(0x04, data + PACK_TRAILER)


def demo(address: str) -> RoyPowSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = RoyPowSimulator(address, " B12100A 220600016 ")
    device.pack.cell_voltages = [3.375, 3.370, 3.369, 3.372]
    device.pack.temperatures = [19.0, 19.0, 20.0]
    device.pack.mosfet_temperature = 19.0
    device.pack.current = 0.35
    device.pack.soc = 96
    device.pack.full_capacity = 106.02
    device.pack.design_capacity = 105.0
    return device
