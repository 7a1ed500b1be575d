"""Offgridtec LiFePo4 Smart Pro frames: one register per scrambled ASCII line.

A request is ASCII ``+R`` + the type's two-character head (``AA`` type A,
``16`` type B) + the register and the byte count as two hex digits each; the
reply is ``+RD,`` + the register + the bytes' hex digits + CR LF, or
``+RD,Err`` for a register the pack does not have. Every byte on the link is
XORed with one key: the sum of a table value per hex digit of the number in
the advertised name (``SmartBat-A42491``: 0xA5FB), plus 5 (type A) or 8
(type B). The value digits are little-endian: one byte, an unsigned 16-bit
word, or (three bytes) a signed 16-bit word times the third byte, taken as 1
when it is 0. Sources, cited as [A] and [B]:

- [A] aiobmsble 0.31.0 (PyPI sdist) ``aiobmsble/bms/ogt_bms.py`` and
  ``tests/bms/test_ogt_bms.py`` (the key table, the heads, both register maps,
  the value rules, type B's cells from register 63 down)
- [B] patman15/BMS_BLE-HA issue #2 (a SmartBat-A42491's log of 2024-04-02:
  its requests, replies and decoded values; key 0x15)
"""

from __future__ import annotations

import re
from string import hexdigits
from typing import Final, NamedTuple

from ..errors import FrameError

# Table value per hex digit of the name's number [A].
KEY_DIGITS: Final = (2, 5, 4, 3, 1, 4, 1, 6, 8, 3, 7, 2, 5, 8, 9, 3)
NAME = re.compile(r"SmartBat-([AB])([0-9]+)")
REPLY: Final = b"+RD,"
ERROR: Final = b"+RD,Err"
END: Final = b"\r\n"
HEX_DIGITS: Final = frozenset(hexdigits.encode())
# Register digits + 1 to 3 value bytes: the longest reply has 14 characters.
SIZES: Final = (1, 2, 3)
MAX_REPLY: Final = len(REPLY) + 2 + 2 * max(SIZES) + len(END)
MAX_CELLS: Final = 16
KELVIN: Final = 273.15


class Register(NamedTuple):
    """One value: its register, the bytes it takes, its scale and offset."""

    target: str
    number: int
    size: int
    scale: float = 1.0
    offset: float = 0.0


class OgtVariant(NamedTuple):
    """Type A or type B: the request head, the key offset, the register map."""

    letter: str
    head: bytes
    key_offset: int
    registers: tuple[Register, ...]
    # Registers of cells 1, 2, ... (read until the pack answers ``Err``).
    cells: tuple[int, ...]


# Type A [A][B]: current in 10 mA, no cells.
TYPE_A = OgtVariant(
    "A",
    b"+RAA",
    5,
    (
        Register("soc", 0x02, 1),
        Register("remaining", 0x04, 3, 0.001),
        Register("voltage", 0x08, 2, 0.001),
        Register("temperature", 0x0C, 2, 0.1, KELVIN),
        Register("current", 0x10, 3, 0.01),
        Register("cycles", 0x2C, 2),
        Register("design", 0x3C, 3, 0.001),
    ),
    (),
)
# Type B [A]: current in mA, cell 1 in register 63, cell 16 in 48.
TYPE_B = OgtVariant(
    "B",
    b"+R16",
    8,
    (
        Register("temperature", 0x08, 2, 0.1, KELVIN),
        Register("voltage", 0x09, 2, 0.001),
        Register("current", 0x0A, 3, 0.001),
        Register("soc", 0x0D, 1),
        Register("remaining", 0x0F, 3, 0.001),
        Register("cycles", 0x17, 2),
        Register("design", 0x18, 3, 0.001),
    ),
    tuple(range(0x3F, 0x3F - MAX_CELLS, -1)),
)
VARIANTS: Final = {v.letter: v for v in (TYPE_A, TYPE_B)}
CELL_SCALE: Final = 0.001


class Pack(NamedTuple):
    """What the advertised name says: the type, the pack's number and the key."""

    variant: OgtVariant
    number: str
    key: int


def pack_from_name(name: str | None) -> Pack | None:
    """The pack a ``SmartBat-A…`` / ``SmartBat-B…`` name belongs to, else None."""
    found = NAME.fullmatch(name or "")
    if found is None:
        return None
    variant = VARIANTS[found[1]]
    digits = f"{int(found[2]):04X}"
    key = sum(KEY_DIGITS[int(d, 16)] for d in digits) + variant.key_offset
    return Pack(variant, found[2], key)


def scramble_table(key: int) -> bytes:
    """The ``bytes.translate`` table that XORs every byte with ``key``."""
    return bytes(b ^ key for b in range(256))


def request(variant: OgtVariant, register: int, size: int) -> bytes:
    """The plain request for ``size`` bytes from ``register`` (scramble it to send)."""
    return variant.head + f"{register:02X}{size:02X}".encode()


def is_reply(frame: bytes, register: int) -> bool:
    """Whether a checked frame answers a request of ``register`` (``Err`` any).

    Its value is read by its own length: aiobmsble's test answers the 1-byte
    SOC request with two bytes [A], the logged pack with one [B].
    """
    return frame == ERROR or frame[4:6] == f"{register:02X}".encode()


def check_frame(frame: bytes) -> None:
    """Raise unless ``frame`` is a plain reply or the error reply."""
    if frame == ERROR:
        return
    digits = frame[len(REPLY) : -len(END)]
    if (
        not frame.startswith(REPLY)
        or not frame.endswith(END)
        or (len(digits) - 2) // 2 not in SIZES
        or len(digits) % 2
        or not HEX_DIGITS.issuperset(digits)
    ):
        raise FrameError("not an Offgridtec reply")


def decode_value(frame: bytes) -> int | None:
    """The integer a checked reply carries; None for ``Err``."""
    if frame == ERROR:
        return None
    data = bytes.fromhex(frame[6:-2].decode("ascii"))
    if len(data) == 1:
        return data[0]
    if len(data) == 2:
        return int.from_bytes(data, "little")
    word = int.from_bytes(data[:2], "little", signed=True)
    return word * max(data[2], 1)


def scaled(register: Register, raw: int) -> float:
    """A register's value in its unit (the temperature in °C, from 0.1 K)."""
    return round(raw * register.scale - register.offset, 3)
