"""CBT Power classic frames: ``AA 55 <cmd> <len> <data> <sum> 0D 0A``.

A request is ``AA 55 <cmd> 00 <sum> 0A 0D`` (its tail reversed); a reply
echoes the command, counts its data bytes in ``len`` and ends in ``0D 0A``.
The sum is the low byte of the sum of the command, length and data bytes;
the fields are little-endian. Source: patman15/aiobmsble
``aiobmsble/bms/cbtpwr_bms.py`` and ``tests/bms/test_cbtpwr_bms.py``
@ b0567331025033d33729385fa89a1198275d6486 (the only public decoder; the
frames of its tests come from BMS_BLE-HA issue #59).

A one-byte sum passes one random frame in 256, so every reply must also have
the data length its command has in the source's frames.
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import ChecksumError, FrameError
from ..fields import Field

HEAD = b"\xaa\x55"
TAIL = b"\x0d\x0a"
REQUEST_TAIL = b"\x0a\x0d"
OVERHEAD = 7  # head, command, length, sum and tail
CELL_COMMANDS = (0x05, 0x06, 0x07, 0x08)  # five cells each
CELLS_PER_FRAME = 5
MAX_CELLS = CELLS_PER_FRAME * len(CELL_COMMANDS)
TEMPERATURES = 0x09
SOC = 0x0A
VOLTAGE_CURRENT = 0x0B
CAPACITY = 0x15
WARNINGS = 0x21
# Data bytes of each reply, as in every frame of the source's tests.
DATA_LENGTHS = {
    **dict.fromkeys(CELL_COMMANDS, 10),
    TEMPERATURES: 12,
    SOC: 6,
    VOLTAGE_CURRENT: 8,
    CAPACITY: 4,
    WARNINGS: 4,
}
# Offsets in the whole frame (data from byte 4) [aiobmsble ``_FIELDS``].
VOLTAGE = Field("voltage", 4, 4, scale=0.001, decimals=3, order="little")
CURRENT = Field("current", 8, 4, signed=True, scale=0.001, decimals=3, order="little")
# The first probe; the source reads no other value of the 0x09 reply.
TEMPERATURE = Field("temperature", 4, 2, signed=True, order="little")
STATE_OF_CHARGE = Field("soc", 4, 1)
DESIGN_CAPACITY = Field("design", 4, 2, order="little")
CYCLES = Field("cycles", 6, 2, order="little")
# The source reports the word as a problem code, with no public bit table.
PROBLEM = Field("problem", 4, 4, order="little")


def checksum(data: bytes | bytearray | memoryview) -> int:
    """The low byte of the sum of ``data``."""
    return sum(data) & 0xFF


def build_request(command: int) -> bytes:
    """``AA 55 <cmd> 00 <sum> 0A 0D``."""
    return HEAD + bytes((command, 0, checksum(bytes((command, 0))))) + REQUEST_TAIL


def frame_length(buf: bytes | bytearray, pos: int = 0) -> int | None:
    """Length of the reply that starts at ``pos``: None to tell, 0 for none."""
    head = bytes(buf[pos : pos + 4])
    if head[:2] != HEAD[: len(head[:2])]:
        return 0
    if len(head) < 4:
        return None
    expected = DATA_LENGTHS.get(head[2])
    if expected is None or head[3] != expected:
        return 0
    return OVERHEAD + expected


def check_frame(frame: bytes) -> None:
    """Raise unless ``frame`` is one whole reply of a known command."""
    length = frame_length(frame) if len(frame) >= 4 else 0
    if not length or len(frame) != length:
        raise FrameError("not a CBT Power reply")
    if frame[-2:] != TAIL:
        raise FrameError("CBT Power reply without its 0D 0A end")
    if checksum(frame[2:-3]) != frame[-3]:
        raise ChecksumError("CBT Power checksum mismatch")


def command_of(frame: bytes) -> int:
    """The command a valid reply answers."""
    return frame[2]


class ClassicReplies(NamedTuple):
    """The replies of one read, by command (each checked and of its length)."""

    voltage_current: bytes
    temperatures: bytes
    soc: bytes
    capacity: bytes
    warnings: bytes
    cells: tuple[bytes, ...]


class ClassicStatus(NamedTuple):
    """What the classic replies hold."""

    voltage: float
    current: float
    cell_voltages: tuple[float, ...]
    temperature: int
    soc: int
    design_capacity: int
    cycles: int
    problem_code: int


def cells_of(frame: bytes) -> tuple[float, ...]:
    """The non-zero cells of one cell reply (an unused slot reads 0)."""
    raw = (
        int.from_bytes(frame[at : at + 2], "little")
        for at in range(4, 4 + 2 * CELLS_PER_FRAME, 2)
    )
    return tuple(mv / 1000 for mv in raw if mv)


def decode(replies: ClassicReplies) -> ClassicStatus:
    """The status of one read; a reply of the wrong command raises."""
    for frame, command in (
        (replies.voltage_current, VOLTAGE_CURRENT),
        (replies.temperatures, TEMPERATURES),
        (replies.soc, SOC),
        (replies.capacity, CAPACITY),
        (replies.warnings, WARNINGS),
    ):
        if command_of(frame) != command:
            raise FrameError(f"CBT Power reply {frame[2]:#04x} for {command:#04x}")
    soc = int(STATE_OF_CHARGE.read(replies.soc))
    if soc > 100:
        raise FrameError(f"CBT Power state of charge {soc} % above 100")
    return ClassicStatus(
        voltage=VOLTAGE.read(replies.voltage_current),
        current=CURRENT.read(replies.voltage_current),
        cell_voltages=tuple(v for frame in replies.cells for v in cells_of(frame)),
        temperature=int(TEMPERATURE.read(replies.temperatures)),
        soc=soc,
        design_capacity=int(DESIGN_CAPACITY.read(replies.capacity)),
        cycles=int(CYCLES.read(replies.capacity)),
        problem_code=int(PROBLEM.read(replies.warnings)),
    )
