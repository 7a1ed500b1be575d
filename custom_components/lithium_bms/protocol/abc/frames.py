"""ABC-BMS frames (SOK packs): 20-byte replies ``CC <type> <17 bytes> <crc>``.

A request is ``EE <command> 00 00 00 <crc>``; each command is answered by
one or more replies of fixed types. Numbers are little-endian; the last byte
is a CRC-8/MAXIM over the bytes before it. Sources, cited below:

- [A] aiobmsble 0.31.0 (PyPI sdist) ``aiobmsble/bms/abc_bms.py``
- [B] aiobmsble 0.31.0 (PyPI sdist) ``tests/bms/test_abc_bms.py`` (the
  replies of a SOK pack, with the values the test asserts)
- [C] Louisvdw/dbus-serialbattery issue #350 (the commands' names, from the
  ABC-BMS Android app)
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import FrameError
from ..fields import Field, Layout, read_fields

REQUEST_HEAD = 0xEE
REPLY_HEAD = 0xCC
FRAME_LENGTH = 20
# Commands [A][C]: the name, "info" (status and probes) and "detail" (status,
# heater and balancer, the cells).
NAME = 0xC0
INFO = 0xC1
DETAIL = 0xC2
# Reply types [A][B].
STATUS = 0xF0
MODEL = 0xF1
PROBES = 0xF2
STATES = 0xF3
CELLS = 0xF4
# F5-F8 and FA answer the settings command, F9 the protection one [A]: valid
# frames the driver never asks for.
REPLY_TYPES = frozenset(range(0xF0, 0xFB))
CELLS_PER_FRAME = 4
MAX_CELLS = 32
# Two bytes per probe from byte 5, before the CRC.
MAX_PROBES = 7
# The pack voltage and the sum of its cells: 0.11 V apart in [B].
CELL_SUM_TOLERANCE = 0.02  # of the pack voltage
CELL_SUM_MARGIN = 0.1  # volts

# The F0 reply [A]: mV, mA (positive while charging), mAh, count, percent.
STATUS_FIELDS = Layout(
    Field("voltage", 2, 3, scale=0.001, decimals=3, order="little"),
    Field("current", 5, 3, signed=True, scale=0.001, decimals=3, order="little"),
    Field("design", 8, 3, scale=0.001, decimals=3, order="little"),
    Field("remaining", 11, 3, scale=0.001, decimals=3, order="little"),
    Field("cycles", 14, 2, order="little"),
    Field("soc", 16, 1),
)
# The F2 reply [A]: the MOSFET states and the probe count before the probes.
CHARGE_FET = 2
DISCHARGE_FET = 3
PROBE_COUNT = 4
FIRST_PROBE = 5
# The F3 reply [A]: the heater and the balancer state.
HEATER = 8
BALANCER = 10


class AbcStatus(NamedTuple):
    """The decoded F0 reply."""

    voltage: float
    current: float
    design: float
    remaining: float
    cycles: int
    soc: int


class AbcProbes(NamedTuple):
    """The decoded F2 reply."""

    charge_mosfet: bool
    discharge_mosfet: bool
    temperatures: tuple[float, ...]


class AbcStates(NamedTuple):
    """The decoded F3 reply."""

    heater: bool
    balancing: bool


def crc8(data: bytes) -> int:
    """CRC-8/MAXIM (reflected polynomial 0x8C, initial 0) [A]."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
    return crc


def build_request(command: int) -> bytes:
    """``EE <command> 00 00 00 <crc>`` [A]."""
    body = bytes((REQUEST_HEAD, command, 0, 0, 0))
    return body + bytes((crc8(body),))


def is_reply(frame: bytes, kind: int) -> bool:
    """Whether ``frame`` is a reply of type ``kind``."""
    return frame[1] == kind


def check_frame(frame: bytes) -> None:
    """Raise unless ``frame`` is one whole reply of a known type."""
    if len(frame) != FRAME_LENGTH or frame[0] != REPLY_HEAD:
        raise FrameError("not an ABC-BMS frame")
    if frame[1] not in REPLY_TYPES:
        raise FrameError("unknown ABC-BMS reply type")
    if crc8(frame[:-1]) != frame[-1]:
        raise FrameError("ABC-BMS CRC mismatch")


def decode_status(frame: bytes) -> AbcStatus:
    """Decode an F0 reply (a frame that passed :func:`check_frame`)."""
    _expect(frame, STATUS)
    values = read_fields(STATUS_FIELDS, frame)
    status = AbcStatus(
        voltage=values["voltage"],
        current=values["current"],
        design=values["design"],
        remaining=values["remaining"],
        cycles=int(values["cycles"]),
        soc=int(values["soc"]),
    )
    if status.soc > 100:
        raise FrameError("ABC-BMS state of charge above 100")
    if status.design <= 0:
        raise FrameError("ABC-BMS pack without a design capacity")
    return status


def decode_model(frame: bytes) -> str:
    """The F1 text up to its first unprintable byte ("SOK-BMS" in [B])."""
    _expect(frame, MODEL)
    text = frame[2:-1].decode("ascii", "replace")
    end = next((i for i, c in enumerate(text) if not c.isprintable()), len(text))
    return text[:end].strip()


def decode_probes(frame: bytes) -> AbcProbes:
    """Decode an F2 reply: the MOSFETs, then a count of signed °C words [A]."""
    _expect(frame, PROBES)
    count = frame[PROBE_COUNT]
    if count > MAX_PROBES:
        raise FrameError("ABC-BMS probe count does not fit the frame")
    temperatures = tuple(
        float(int.from_bytes(frame[at : at + 2], "little", signed=True))
        for at in range(FIRST_PROBE, FIRST_PROBE + 2 * count, 2)
    )
    return AbcProbes(
        charge_mosfet=bool(frame[CHARGE_FET]),
        discharge_mosfet=bool(frame[DISCHARGE_FET]),
        temperatures=temperatures,
    )


def decode_states(frame: bytes) -> AbcStates:
    """Decode an F3 reply: the heater and the balancer [A]."""
    _expect(frame, STATES)
    return AbcStates(heater=bool(frame[HEATER]), balancing=bool(frame[BALANCER]))


def decode_cells(frame: bytes) -> tuple[int, tuple[float, ...]]:
    """Decode an F4 reply: its first cell's number and its cell voltages.

    Four groups of a cell number and a 3-byte millivolt value [A][B]; the
    numbers run on from the first, which is 1, 5, 9, ... A group numbered 0
    holds no cell, and no cell follows it.
    """
    _expect(frame, CELLS)
    first = frame[2]
    if first < 1 or first > MAX_CELLS or (first - 1) % CELLS_PER_FRAME:
        raise FrameError("ABC-BMS cell frame out of sequence")
    cells: list[float] = []
    for group in range(CELLS_PER_FRAME):
        at = 2 + 4 * group
        number = frame[at]
        if number == 0:
            if any(frame[2 + 4 * later] for later in range(group, CELLS_PER_FRAME)):
                raise FrameError("ABC-BMS cell after an empty group")
            break
        if number != first + group:
            raise FrameError("ABC-BMS cell numbers out of sequence")
        cells.append(int.from_bytes(frame[at + 1 : at + 4], "little") / 1000)
    return first, tuple(cells)


class CellCollector:
    """The F4 replies of one reading, joined in order.

    No reply states the cell count: the cells are complete once their sum is
    the pack voltage of the F0 reply, as in [B] (27.442 V of cells, 27.554 V).
    """

    def __init__(self, voltage: float) -> None:
        """Collect the cells of a pack at ``voltage``."""
        self.voltage = voltage
        self.cells: tuple[float, ...] = ()
        self._ended = False

    def add(self, frame: bytes) -> None:
        """Take an F4 reply; one that does not continue the cells is ignored."""
        first, cells = decode_cells(frame)
        if first != len(self.cells) + 1 or self._ended:
            return
        self.cells += cells
        self._ended = len(cells) < CELLS_PER_FRAME or len(self.cells) >= MAX_CELLS
        if self._ended and not self.complete:
            raise FrameError("ABC-BMS pack voltage is not the sum of the cells")

    @property
    def complete(self) -> bool:
        """Whether the cells add up to the pack voltage."""
        total = sum(self.cells)
        margin = self.voltage * CELL_SUM_TOLERANCE + CELL_SUM_MARGIN
        return bool(self.cells) and abs(self.voltage - total) <= margin


def _expect(frame: bytes, kind: int) -> None:
    if len(frame) != FRAME_LENGTH or not is_reply(frame, kind):
        raise FrameError(f"not an ABC-BMS 0x{kind:02X} reply")
