"""E&J Technology frames: ASCII hex between ``:`` and ``~``.

A frame is ``:`` then hex digits: address (1 byte), command (bit 7 set in a
reply), version, the frame's length in characters (2 bytes, ``:`` and ``~``
included), the fields, a checksum byte, then ``~``. The checksum is the low
byte of the sum of the ASCII characters after ``:`` and before the checksum,
inverted. Offsets below count the decoded bytes from the address, as in [A].

Sources, cited below as [A] to [C]:

- [A] patman15/aiobmsble ``aiobmsble/bms/ej_bms.py``, ``aiobmsble/bms/ag_bms.py``,
  ``tests/bms/test_ej_bms.py`` and ``tests/bms/test_ag_bms.py``
  @ b0567331025033d33729385fa89a1198275d6486
- [B] agcyl/bms-ble-reader-electronicx-lifepo ``README.md``
  @ 06d03b2ad8df41b43de7e28cf9f569b287640a7c (an Electronicx LT-12V capture:
  framing, the checksum, the cells and the cycles)
- [C] patman15/BMS_BLE-HA issue #792 (the ASCII framing of the relatives)

Two variants answer the real-time request [A]: the E&J two-frame protocol
(a 128-character real-time reply, then a capacity request and its
30-character reply) and the single-frame protocol of Chins, Metrisun and
Electronicx packs (a 140-character real-time reply that holds the capacities
at offset 62 in the capacity reply's layout from offset 7).
"""

from __future__ import annotations

from string import hexdigits
from typing import NamedTuple

from ..errors import ChecksumError, FrameError
from ..fields import Field, Layout, read_fields, unpack_run

START = b":"
END = b"~"
HEX_DIGITS = frozenset(hexdigits.encode())
REPLY_FLAG = 0x80
REALTIME = 0x02
CAPACITY = 0x10
# The two requests every public decoder sends [A] ([B]: the first).
REALTIME_REQUEST = b":000250000E03~"
CAPACITY_REQUEST = b":001031000E05~"
# ``:`` + address, command, version + the 4-digit length.
HEAD_CHARS = 11
LENGTH_AT = 7
# The head, two checksum digits and ``~``: a request is no longer.
MIN_CHARS = HEAD_CHARS + 3
# Reply lengths in characters [A][B]; no other is known.
TWO_FRAME_CHARS = 128
SINGLE_FRAME_CHARS = 140
CAPACITY_CHARS = 30
REPLY_CHARS = {
    REALTIME: (TWO_FRAME_CHARS, SINGLE_FRAME_CHARS),
    CAPACITY: (CAPACITY_CHARS,),
}
MAX_CELLS = 16
CELLS_AT = 12
# Where the capacity reply's fields sit in a single-frame reply [A].
SINGLE_FRAME_CAPACITY_SHIFT = 62 - 7
TEMPERATURE_OFFSET = 40  # °C = byte - 40 [A]
STATUS_MASK = 0x0FFC  # the protection bits of the status word [A]
DISCHARGE_FET = 0x10  # bits of the status word's first byte [A]
CHARGE_FET = 0x20

# Real-time reply [A]. Current: the charge current in the high word and the
# discharge current in the low word, 10 mA each.
REALTIME_FIELDS = Layout(
    Field("charge", 44, 2, scale=0.01, decimals=2),
    Field("discharge", 46, 2, scale=0.01, decimals=2),
    # Four probe bytes from 48; aiobmsble reads only the first ("only 1st
    # sensor relevant"): the others read 0x28 (0 °C) on the single-frame pack.
    Field("temperature", 48, 1),
    Field("status", 52, 2),
    Field("heater", 54, 1),
    Field("balancing", 55, 2),
    Field("cycles", 57, 2),  # [A]; [B] counts it as bytes 58/59 from one
    Field("soc", 61, 1),
)
# Capacity reply [A]: remaining at 7 (aiobmsble's ``cycle_charge``) and the
# design capacity at 11 (its ``design_capacity`` of a single-frame reply,
# 66 - 55); 9 holds a second capacity that no source names. 0.1 Ah each.
CAPACITY_FIELDS = Layout(
    Field("remaining", 7, 2, scale=0.1, decimals=1),
    Field("capacity_9", 9, 2, scale=0.1, decimals=1),
    Field("design", 11, 2, scale=0.1, decimals=1),
)
CAPACITY_BYTES = 13  # a capacity reply without its checksum byte
# SOC against remaining / the capacity at 9: percentage points allowed, plus
# the 0.1 Ah resolution of both (a 150 Ah pack of [A] reads 73.3 % and 75).
SOC_TOLERANCE = 3.0
RESOLUTION = 0.1


def checksum(ascii_body: bytes) -> int:
    """The inverted low byte of the sum of the characters [A][B]."""
    return (sum(ascii_body) & 0xFF) ^ 0xFF


def build_request(command: int, version: int) -> bytes:
    """``:00 <command> <version> 000E <checksum>~``."""
    body = f"00{command:02X}{version:02X}{MIN_CHARS:04X}".encode()
    return START + body + f"{checksum(body):02X}".encode() + END


def frame_length(head: bytes) -> int:
    """The length a frame's head states; 0 when the head is no E&J head."""
    if len(head) < HEAD_CHARS or head[:1] != START:
        return 0
    if not HEX_DIGITS.issuperset(head[1:HEAD_CHARS]):
        return 0
    length = int(head[LENGTH_AT:HEAD_CHARS], 16)
    return length if length >= MIN_CHARS and length % 2 == 0 else 0


def check_frame(frame: bytes, *, verify_checksum: bool = True) -> None:
    """Raise unless ``frame`` is one whole frame (with a matching checksum)."""
    if frame_length(frame) != len(frame):
        raise FrameError("E&J frame length mismatch")
    if frame[-1:] != END:
        raise FrameError("E&J frame without its end")
    if not HEX_DIGITS.issuperset(frame[1:-1]):
        raise FrameError("E&J frame with a character that is no hex digit")
    if verify_checksum and checksum(frame[1:-3]) != int(frame[-3:-1], 16):
        raise ChecksumError("E&J checksum mismatch")


def message(frame: bytes) -> bytes:
    """The decoded bytes of a checked frame, from the address to the checksum."""
    return bytes.fromhex(frame[1:-1].decode())


def command_of(frame: bytes) -> int:
    """The command a reply answers."""
    return message(frame)[1] & ~REPLY_FLAG


def is_reply(frame: bytes, command: int) -> bool:
    """Whether ``frame`` answers ``command`` with a length that command has."""
    msg = message(frame)
    return msg[1] == command | REPLY_FLAG and len(frame) in REPLY_CHARS[command]


class EjCapacity(NamedTuple):
    """The capacities, Ah."""

    remaining: float
    capacity_9: float
    design: float

    def agrees_with(self, soc: int) -> bool:
        """Whether they can be a real pack's at ``soc`` %.

        Remaining never exceeds either capacity, and remaining over the
        capacity at 9 is the SOC the real-time reply states (within the
        tolerance and the resolution). All four public captures agree [A][B];
        a random frame with a valid checksum rarely does.
        """
        full = self.capacity_9
        if full <= 0 or self.design <= 0:
            return False
        if self.remaining > min(full, self.design) + RESOLUTION:
            return False
        allowed = SOC_TOLERANCE + 100 * RESOLUTION / full
        return abs(100 * self.remaining / full - soc) <= allowed


class EjRealtime(NamedTuple):
    """The decoded real-time reply."""

    cell_voltages: tuple[float, ...]
    current: float
    temperature: int
    soc: int
    cycles: int
    charge_fet: bool
    discharge_fet: bool
    heater: bool
    balancing: bool
    protection_code: int
    # The capacities of a single-frame reply; None in the two-frame protocol.
    capacity: EjCapacity | None


def decode_realtime(frame: bytes) -> EjRealtime:
    """Decode a real-time reply (a frame that passed :func:`check_frame`)."""
    if not is_reply(frame, REALTIME):
        raise FrameError("not an E&J real-time reply")
    msg = message(frame)
    values = read_fields(REALTIME_FIELDS, msg)
    charge, discharge = values["charge"], values["discharge"]
    status = int(values["status"])
    soc = int(values["soc"])
    if soc > 100:
        raise FrameError(f"E&J state of charge {soc} % above 100")
    capacity = None
    if len(frame) == SINGLE_FRAME_CHARS:
        capacity = _capacity(msg[SINGLE_FRAME_CAPACITY_SHIFT:])
    return EjRealtime(
        cell_voltages=_cells(msg),
        current=round(charge - discharge, 2),
        temperature=int(values["temperature"]) - TEMPERATURE_OFFSET,
        soc=soc,
        cycles=int(values["cycles"]),
        charge_fet=bool(status >> 8 & CHARGE_FET),
        discharge_fet=bool(status >> 8 & DISCHARGE_FET),
        heater=bool(values["heater"]),
        balancing=bool(values["balancing"]),
        protection_code=status & STATUS_MASK,
        capacity=capacity,
    )


def decode_capacity(frame: bytes) -> EjCapacity:
    """Decode a capacity reply (a frame that passed :func:`check_frame`)."""
    if not is_reply(frame, CAPACITY):
        raise FrameError("not an E&J capacity reply")
    return _capacity(message(frame))


def _capacity(msg: bytes) -> EjCapacity:
    values = read_fields(CAPACITY_FIELDS, msg[:CAPACITY_BYTES])
    return EjCapacity(
        remaining=values["remaining"],
        capacity_9=values["capacity_9"],
        design=values["design"],
    )


def _cells(msg: bytes) -> tuple[float, ...]:
    """The populated cells: the first slots, the unused ones reading 0 [A][B].

    A populated slot after an unused one, or no cell at all, is no real
    pack's: the frame is refused.
    """
    raw = unpack_run(msg, CELLS_AT, MAX_CELLS)
    count = next((i for i, mv in enumerate(raw) if not mv), MAX_CELLS)
    if not count or any(raw[count:]):
        raise FrameError("E&J cell slots are not the first ones in use")
    return tuple(mv / 1000 for mv in raw[:count])
