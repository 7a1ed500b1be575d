"""Braun Power frames: ``7B <command> <len> <len bytes> 7D``, big-endian.

A request is ``7B <command> 00 7D``; its reply echoes the command. The frame
carries no checksum: the head, the length, the tail and the cross-checks of
:func:`check_reading` are what refuse a damaged frame. Sources, cited below:

- [A] patman15/aiobmsble ``aiobmsble/bms/braunpwr_bms.py`` and
  ``tests/bms/test_braunpwr_bms.py`` @ b0567331025033d33729385fa89a1198275d6486
- [B] patman15/BMS_BLE-HA issue #303 (a Braun Power pack's nRF Connect log)
- [C] fl4p/batmon-ha issue #375 (a 16S pack's 0x01 reply, decoded there)
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import FrameError
from ..fields import Field, Layout, read_fields, unpack_run

HEAD = 0x7B  # "{"
TAIL = 0x7D  # "}"
OVERHEAD = 4  # head, command, length, tail
STATUS = 0x01
CELLS = 0x02
TEMPERATURES = 0x03
VERSION_TEXT = 0x74  # "KS_BLE_WIFI_Ver1.0.0_20240313" [A][B]
PROGRAM_VERSION = 0xF4  # three digits, "2.3.1" [A]
# Every command the driver sends; a reply to any other is foreign.
COMMANDS = frozenset({STATUS, CELLS, TEMPERATURES, VERSION_TEXT, PROGRAM_VERSION})
STATUS_LENGTH = 0x20  # bytes after the length byte [A][B][C]
MAX_CELLS = 32
MAX_PROBES = 8
KELVIN_OFFSET = 2731  # temperatures in 0.1 K [A]

# The 0x01 reply, offsets in the whole frame [A]. Byte 3 is 0 in every public
# capture [A][B][C], so the state of charge is read as the word 3-4: a forged
# frame then has to hold a 0 there too.
STATUS_FIELDS = (
    Field("soc", 3, 2),
    Field("voltage", 5, 2, scale=0.01, decimals=2),
    Field("current", 13, 2, signed=True, scale=0.01, decimals=2),
    Field("remaining", 15, 2, scale=0.01, decimals=2),
    Field("design", 17, 2, scale=0.01, decimals=2),
    Field("cycles", 23, 2),
    # A bit per cell, cell 1 in bit 0 ([A] reports the word as the balancer
    # bit mask).
    Field("balancing", 25, 2),
    # A problem code without a public bit table [A]: no named alarm.
    Field("problem", 31, 2),
    Field("soh", 34, 1),
)
_SCALED = Layout(*(f for f in STATUS_FIELDS if f.decimals is not None))
_INTS = Layout(*(f for f in STATUS_FIELDS if f.decimals is None))
# The pack voltage and the sum of the cells: 35 mV apart in [A]'s capture.
CELL_SUM_TOLERANCE = 0.01  # of the sum
CELL_SUM_MARGIN = 0.1  # volts


class BraunStatus(NamedTuple):
    """The decoded 0x01 reply."""

    voltage: float
    current: float
    soc: int
    soh: int
    remaining: float
    design: float
    cycles: int
    balancing_mask: int
    problem_code: int


class BraunReading(NamedTuple):
    """The three replies of one reading, checked against each other."""

    status: BraunStatus
    cell_voltages: tuple[float, ...]
    temperatures: tuple[float, ...]

    @property
    def balancing_cells(self) -> frozenset[int]:
        """The cells whose bit is set, numbered from 1."""
        mask = self.status.balancing_mask
        return frozenset(i + 1 for i in range(16) if mask >> i & 1)


def build_request(command: int) -> bytes:
    """``7B <command> 00 7D``."""
    return bytes((HEAD, command, 0, TAIL))


def is_reply(frame: bytes, command: int) -> bool:
    """Whether ``frame`` answers ``command``."""
    return frame[1] == command


def check_frame(frame: bytes) -> None:
    """Raise unless ``frame`` is one whole frame of a known command."""
    if len(frame) < OVERHEAD or frame[0] != HEAD or frame[1] not in COMMANDS:
        raise FrameError("not a Braun Power frame")
    if len(frame) != frame[2] + OVERHEAD:
        raise FrameError("Braun Power frame length mismatch")
    if frame[-1] != TAIL:
        raise FrameError("Braun Power frame without its tail")


def decode_status(frame: bytes) -> BraunStatus:
    """Decode a 0x01 reply (a frame that passed :func:`check_frame`)."""
    if not is_reply(frame, STATUS) or frame[2] != STATUS_LENGTH:
        raise FrameError("not a Braun Power status reply")
    values = {name: int(value) for name, value in read_fields(_INTS, frame).items()}
    scaled = read_fields(_SCALED, frame)
    status = BraunStatus(
        voltage=scaled["voltage"],
        current=scaled["current"],
        soc=values["soc"],
        soh=values["soh"],
        remaining=scaled["remaining"],
        design=scaled["design"],
        cycles=values["cycles"],
        balancing_mask=values["balancing"],
        problem_code=values["problem"],
    )
    if status.soc > 100 or status.soh > 100:
        raise FrameError("Braun Power percentage above 100")
    if status.design <= 0 or status.remaining > status.design:
        raise FrameError("Braun Power remaining capacity above the design")
    return status


def decode_cells(frame: bytes) -> tuple[float, ...]:
    """Decode a 0x02 reply: a count, then one millivolt word per cell [A][B]."""
    return tuple(mv / 1000 for mv in _words(frame, CELLS, MAX_CELLS))


def decode_temperatures(frame: bytes) -> tuple[float, ...]:
    """Decode a 0x03 reply: a count, then one 0.1 K word per probe [A][B]."""
    return tuple(
        round((raw - KELVIN_OFFSET) / 10, 1)
        for raw in _words(frame, TEMPERATURES, MAX_PROBES)
    )


def decode_version(frame: bytes) -> str:
    """The 0x74 text, or the 0xF4 digits joined by dots [A]."""
    data = frame[3:-1]
    if is_reply(frame, PROGRAM_VERSION):
        return ".".join(str(digit) for digit in data)
    return data.decode("ascii", "replace").strip("\x00 ")


def check_reading(
    status: BraunStatus, cells: tuple[float, ...], temperatures: tuple[float, ...]
) -> BraunReading:
    """Raise unless the replies agree: the pack voltage is the cells' sum.

    The frames carry no checksum, so this is what refuses a 0x01 or 0x02
    reply whose bytes were damaged and still look like a frame.
    """
    total = sum(cells)
    if abs(status.voltage - total) > total * CELL_SUM_TOLERANCE + CELL_SUM_MARGIN:
        raise FrameError("Braun Power pack voltage is not the sum of the cells")
    if status.balancing_mask >> len(cells):
        raise FrameError("Braun Power balancing a cell the pack lacks")
    return BraunReading(status=status, cell_voltages=cells, temperatures=temperatures)


def _words(frame: bytes, command: int, most: int) -> list[int]:
    """The count at byte 3 and its words; the length must fit the count."""
    if not is_reply(frame, command):
        raise FrameError(f"not a Braun Power 0x{command:02X} reply")
    count = frame[3] if len(frame) > OVERHEAD else 0
    if not 0 < count <= most or frame[2] != 1 + 2 * count:
        raise FrameError("Braun Power count does not fit the length")
    return list(unpack_run(frame, 4, count))
