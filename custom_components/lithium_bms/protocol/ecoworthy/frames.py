"""ECO-WORTHY (BW02 / DCHOUSE module) frames: A1 status and A2 cells, Modbus CRC.

The module notifies two frames on FFF1, a status frame of kind 0xA1 and a cell
frame of kind 0xA2, each ending in a CRC-16/MODBUS (low byte first) over every
byte before it. Two framings exist [A]:

- V1: ``<kind> <10 bytes> 01 03 <count> <count data bytes> <crc>`` (14-byte head);
- V2: ``<MAC, 6 bytes> <kind> 00 00 08 03 <count> <data> <crc>`` (12-byte head),
  the module's own Bluetooth address in front; its current has 0.1 A steps.

Both carry the same data after the byte count, big-endian. Source, cited as
[A]: patman15/aiobmsble ``aiobmsble/bms/ecoworthy_bms.py`` and
``tests/bms/test_ecoworthy_bms.py`` @ b0567331025033d33729385fa89a1198275d6486.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..codecs.modbus import crc16
from ..errors import ChecksumError, FrameError
from ..fields import Field, Layout, read_fields

STATUS = 0xA1
CELLS = 0xA2
KINDS = (STATUS, CELLS)
READ = 0x03  # the Modbus function byte before the count [A]
# Data bytes after the count byte, as every capture shows them [A].
COUNTS = {STATUS: 0x44, CELLS: 0x56}
MAC_LENGTH = 6
CRC_LENGTH = 2
# The two commands the vendor app writes to FFF2 before the module streams [A].
UNLOCK = (
    bytes.fromhex("ff0802000b01006401ffffffffffffff002d"),
    bytes.fromhex("ff0802000b01001401ffffffffffffff65ef"),
)
MAX_CELLS = 32  # cell slots of the A2 frame: data bytes 2 to 65 [A]
MAX_PROBES = 9  # probe slots of the A2 frame: data bytes 68 to 85 [A]
# The counts before the slots, offsets in the A2 data [A].
CELL_COUNT_AT = 0
PROBE_COUNT_AT = 66
UNUSED_CELL = 0xFFFF  # what an unused cell slot holds [A]
UNUSED_PROBE = -1000  # what an unused probe slot holds (FC18) [A]

# Fields of the status data (offsets after the byte count) [A].
STATUS_FIELDS = Layout(
    Field("soc", 2, 2),
    Field("soh", 4, 2),
    Field("voltage", 6, 2, scale=0.01, decimals=2),
    Field("current", 8, 2, signed=True),
    Field("design", 12, 2, scale=0.01, decimals=2),
    # aiobmsble's "problem_code": any bit set is a problem; no source names one.
    Field("problem", 37, 2),
)


@dataclass(frozen=True, slots=True)
class Framing:
    """Where a framing puts the kind byte, how long its head is, its current step."""

    kind_at: int
    head: int  # through the byte count
    current_step: float  # A


V1 = Framing(kind_at=0, head=14, current_step=0.01)
V2 = Framing(kind_at=MAC_LENGTH, head=12, current_step=0.1)


@dataclass(frozen=True, slots=True, kw_only=True)
class EcoworthyStatus:
    """The decoded A1 frame."""

    voltage: float
    current: float
    soc: int
    soh: int
    design_capacity: float
    problem_code: int


@dataclass(frozen=True, slots=True, kw_only=True)
class EcoworthyCells:
    """The decoded A2 frame."""

    cell_voltages: tuple[float, ...]
    temperatures: tuple[float, ...]


def mac_bytes(address: str) -> bytes | None:
    """The six bytes of a ``AA:BB:..`` address; None when it is not one."""
    digits = address.replace(":", "").replace("-", "")
    if len(digits) != 2 * MAC_LENGTH:
        return None
    try:
        return bytes.fromhex(digits)
    except ValueError:
        return None


def framing(frame: bytes, mac: bytes | None) -> Framing:
    """V2 when ``frame`` starts with the module's address ``mac``, else V1."""
    return V2 if mac is not None and frame.startswith(mac) else V1


def kind(frame: bytes, mac: bytes | None) -> int:
    """The frame's kind byte (0xA1 or 0xA2)."""
    return frame[framing(frame, mac).kind_at]


def check_frame(frame: bytes, mac: bytes | None) -> None:
    """Raise unless ``frame`` is one whole A1 or A2 frame with a matching CRC."""
    head = framing(frame, mac).head
    if len(frame) < head + CRC_LENGTH:
        raise FrameError("ECO-WORTHY frame too short")
    frame_kind = kind(frame, mac)
    if frame_kind not in KINDS or frame[head - 2] != READ:
        raise FrameError("not an ECO-WORTHY frame")
    if frame[head - 1] != COUNTS[frame_kind]:
        raise FrameError("ECO-WORTHY frame of an unknown length")
    if len(frame) != head + COUNTS[frame_kind] + CRC_LENGTH:
        raise FrameError("ECO-WORTHY frame length mismatch")
    if crc16(frame[:-CRC_LENGTH]) != int.from_bytes(frame[-CRC_LENGTH:], "little"):
        raise ChecksumError("ECO-WORTHY CRC mismatch")


def _data(frame: bytes, mac: bytes | None, expected: int) -> tuple[bytes, Framing]:
    """The data after the count, and the frame's framing."""
    check_frame(frame, mac)
    if kind(frame, mac) != expected:
        raise FrameError("not the expected ECO-WORTHY frame")
    layout = framing(frame, mac)
    return frame[layout.head : -CRC_LENGTH], layout


def decode_status(frame: bytes, mac: bytes | None) -> EcoworthyStatus:
    """Decode an A1 frame; a percentage above 100 refuses it."""
    data, layout = _data(frame, mac, STATUS)
    values = read_fields(STATUS_FIELDS, data)
    soc, soh = int(values["soc"]), int(values["soh"])
    if soc > 100 or soh > 100:
        raise FrameError("ECO-WORTHY percentage above 100")
    return EcoworthyStatus(
        voltage=values["voltage"],
        current=round(values["current"] * layout.current_step, 2),
        soc=soc,
        soh=soh,
        design_capacity=values["design"],
        problem_code=int(values["problem"]),
    )


def decode_cells(frame: bytes, mac: bytes | None) -> EcoworthyCells:
    """Decode an A2 frame: the counted cells and probes, the rest unused."""
    data, _ = _data(frame, mac, CELLS)
    cells = _words(data, CELL_COUNT_AT, 1 + MAX_CELLS, signed=False)
    probes = _words(data, PROBE_COUNT_AT, 1 + MAX_PROBES, signed=True)
    count, slots = cells[0], cells[1:]
    probe_count, probe_slots = probes[0], probes[1:]
    if not 0 < count <= MAX_CELLS or not 0 <= probe_count <= MAX_PROBES:
        raise FrameError("ECO-WORTHY cell or probe count out of range")
    # An unused slot holds its filler in every capture [A]: a frame whose
    # slots contradict its counts is refused.
    if any(mv == UNUSED_CELL for mv in slots[:count]) or any(
        mv != UNUSED_CELL for mv in slots[count:]
    ):
        raise FrameError("ECO-WORTHY cell slots disagree with the count")
    if any(t != UNUSED_PROBE for t in probe_slots[probe_count:]):
        raise FrameError("ECO-WORTHY probe slots disagree with the count")
    return EcoworthyCells(
        cell_voltages=tuple(mv / 1000 for mv in slots[:count]),
        temperatures=tuple(t / 10 for t in probe_slots[:probe_count]),
    )


def _words(data: bytes, at: int, count: int, *, signed: bool) -> list[int]:
    return [
        int.from_bytes(data[i : i + 2], "big", signed=signed)
        for i in range(at, at + 2 * count, 2)
    ]
