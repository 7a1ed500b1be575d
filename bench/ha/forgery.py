"""Garbage that passes the checksum: random content in a valid frame.

A link can hand over bytes that are wrong but whose checksum still adds up (a
one-byte sum passes one random frame in 256). The soak replaces a frame the
simulator sends by one with the same header and length, random content and a
checksum computed over that content, so only the plausibility gate and the
decoders' own checks stand between it and the entities.
"""

from __future__ import annotations

import random

from bms_simulator.families.daly import crc16

JK_HEADER = b"\x55\xaa\xeb\x90"
# A Redodo status reply: ``00 00 65 01 93 55 AA <status>``.
REDODO_HEADER = bytes.fromhex("000065019355aa")


def forge(frame: bytes, rng: random.Random) -> bytes | None:
    """A random frame shaped like ``frame``; None when its kind is unknown."""
    if frame.startswith(JK_HEADER) and len(frame) >= 300:
        return _jk(frame, rng)
    if frame[:1] == b"\xdd" and len(frame) >= 7 and frame[2] == 0:
        return _jbd(frame, rng)
    if frame[:1] == b"\xa5" and len(frame) == 13:
        return _daly_a5(frame, rng)
    if frame[:1] in (b"\xd2", b"\x51") and len(frame) > 5 and frame[1] == 0x03:
        return _modbus(frame, rng)
    if _seplos_v3(frame) or _renogy(frame):
        return _modbus(frame, rng)
    if _eg4(frame):
        return _modbus(frame, rng)
    if _pace_ble(frame):
        return _pace(frame, rng)
    if frame.startswith(REDODO_HEADER) and len(frame) == frame[2] + 4:
        return _redodo(frame, rng)
    return None


def _seplos_v3(frame: bytes) -> bool:
    """A Seplos V3 reply over BLE: a read of coils or inputs.

    Of device 0x01 (the module's pack), 0x00 (its master's EIA) or another
    pack of the master's bank (0x02-0x10).
    """
    return (
        frame[:1] <= b"\x10"
        and len(frame) > 5
        and frame[1] in (0x01, 0x04)
        and len(frame) == frame[2] + 5
    )


def _eg4(frame: bytes) -> bool:
    """An EG4, Pylontech RT or Gobel reply: device 0x01, holding registers."""
    return frame[:2] == b"\x01\x03" and len(frame) > 5 and len(frame) == frame[2] + 5


def _pace_ble(frame: bytes) -> bool:
    """A PACEEX reply: ``9A``, type, length, data, CRC and ``9D``."""
    return (
        frame[:1] == b"\x9a"
        and len(frame) >= 11
        and len(frame) == frame[7] + 11
        and frame[-1:] == b"\x9d"
    )


def _renogy(frame: bytes) -> bool:
    """A Renogy reply over BLE: device 0x30, a read of holding registers."""
    return frame[:2] == b"\x30\x03" and len(frame) > 5 and len(frame) == frame[2] + 5


def _random(rng: random.Random, size: int) -> bytes:
    return bytes(rng.randrange(256) for _ in range(size))


def _jk(frame: bytes, rng: random.Random) -> bytes:
    """Header, type and counter kept; the sum at byte 299 made to fit."""
    body = bytearray(frame[:6] + _random(rng, 293))
    return bytes(body) + bytes((sum(body) & 0xFF,)) + frame[300:]


def _jbd(frame: bytes, rng: random.Random) -> bytes:
    """``DD reg 00 len <data> <chk16> 77`` with random data."""
    length = frame[3]
    body = frame[2:4] + _random(rng, length)
    chk = (0x10000 - sum(body)) & 0xFFFF
    return frame[:2] + body + chk.to_bytes(2, "big") + b"\x77"


def _daly_a5(frame: bytes, rng: random.Random) -> bytes:
    """``A5 addr cmd 08 <8 bytes> <sum>`` with random data."""
    body = frame[:4] + _random(rng, 8)
    return body + bytes((sum(body) & 0xFF,))


def _pace(frame: bytes, rng: random.Random) -> bytes:
    """``9A <type> <len> <data> <crc16, high first> 9D`` with random data."""
    body = frame[:8] + _random(rng, frame[7])
    return body + crc16(body).to_bytes(2, "big") + b"\x9d"


def _redodo(frame: bytes, rng: random.Random) -> bytes:
    """Header and status kept; the byte sum at the end made to fit."""
    body = frame[:8] + _random(rng, len(frame) - 9)
    return body + bytes((sum(body) & 0xFF,))


def _modbus(frame: bytes, rng: random.Random) -> bytes:
    """``addr fn len <data> <crc16>`` with random data."""
    body = frame[:3] + _random(rng, frame[2])
    return body + crc16(body).to_bytes(2, "little")
