"""Garbage that passes the checksum: random content in a valid frame.

A link can hand over bytes that are wrong but whose checksum still adds up (a
one-byte sum passes one random frame in 256). The soak replaces a frame the
simulator sends by one with the same header and length, random content and a
checksum computed over that content, so only the plausibility gate and the
decoders' own checks stand between it and the entities.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from bms_simulator.families.abc import crc8_maxim
from bms_simulator.families.daly import crc16

JK_HEADER = b"\x55\xaa\xeb\x90"
# A Redodo status reply: ``00 00 65 01 93 55 AA <status>``.
REDODO_HEADER = bytes.fromhex("000065019355aa")
# A Topband status frame: a head byte and 112 hex digits (54 bytes and a sum).
HEX_DIGITS = frozenset(b"0123456789ABCDEF")
TOPBAND_LENGTH = 113
# Modbus read coils, holding registers, input registers.
READ_FUNCTIONS = frozenset({0x01, 0x03, 0x04})
# A Felicity reply: one JSON object of protocol version 1, no checksum.
FELICITY_HEADER = b'{"CommVer":1,'
# A JSON string (kept) or an integer (forged).
_FELICITY_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|\d+')
# A CBT Power VB reply: YD/T1363 ASCII with VER 0x22.
CBTPWR_VB_HEADER = b"~22"
EJ_DIGITS = b"0123456789ABCDEF"
# A PowerBoozt reply: ``:`` address 01, command 54, version 01, 236 characters.
PWRBOOZT_HEAD = b":01540100EC"
PWRBOOZT_LENGTH = 236
type Forger = Callable[[bytes, random.Random], bytes]
# A TDT read reply: ``7E <version> 01 03 00 <data point> <length:2>``.
TDT_HEADER = bytes.fromhex("7e000103")
# A Neey / Heltec reply: ``55 AA 11 01 <type> 00 <length:2>``, sum and FF.
NEEY_HEAD = b"\x55\xaa\x11\x01"
# Braun Power replies the driver reads: status, cells, temperatures.
BRAUNPWR_READS = frozenset({0x01, 0x02, 0x03})
# A RoyPow reply: ``EA D1 01 <len> FF <command> <data> <xor> F5``.
ROYPOW_HEAD = bytes.fromhex("ead101")
# An ANT status reply: ``7E A1 11 00 00 <len>``, then the permissions, the
# battery state and the probe and cell counts.
ANT_HEAD = bytes.fromhex("7ea1110000")
# A Humsienk reply: ``AA <command> <len> <data> <sum:2>``.
HUMSIENK_START = 0xAA
# A legacy ANT status reply: ``AA 55 AA FF``, 134 bytes and their 16-bit sum.
ANT_LEGACY_HEAD = bytes.fromhex("aa55aaff")
ANT_LEGACY_LENGTH = 140
# An ABC-BMS answer: 20-byte ``CC <type> <17 bytes> <crc>`` replies back to back.
ABC_HEAD = 0xCC
ABC_LENGTH = 20
# A TianPower reply: ``55 14 <type> <16 bytes> AA``, no checksum; its types.
TIANPWR_HEAD = b"\x55\x14"
TIANPWR_LENGTH = 20
TIANPWR_TYPES = (*range(0x81, 0x8B), 0x90, 0x91, 0x94, 0x95)
# A MyVolta data frame: ``01 <type> 02 <id:3> 08 <data:8> <sum>`` behind
# ``55 55``, ``05`` escaping a 04 or 05, and ``04 04``.
MYVOLTA_LENGTH = 16

# A Super-B status frame: 20 bytes, byte 0 and bytes 16-19 zero, no checksum.
SUPERB_LENGTH = 20
SUPERB_VALUES = slice(1, 16)

# An Offgridtec reply, descrambled: ``+RD,`` register, value digits, CR LF.
OGT_HEAD = b"+RD,"
OGT_LENGTHS = frozenset({10, 12, 14})


def forge(frame: bytes, rng: random.Random) -> bytes | None:
    """A random frame shaped like ``frame``; None when its kind is unknown."""
    for shaped, forger in FORGERS:
        if shaped(frame):
            return forger(frame, rng)
    return None


def _modbus_read_reply(frame: bytes) -> bool:
    """A Modbus RTU reply to a read (Daly D2, Seplos V3, EG4, Renogy, ...).

    Any device address and read function, its byte count and a valid CRC.
    """
    return (
        len(frame) > 5
        and frame[1] in READ_FUNCTIONS
        and len(frame) == frame[2] + 5
        and crc16(frame[:-2]).to_bytes(2, "little") == frame[-2:]
    )


def _pace_ble(frame: bytes) -> bool:
    """A PACEEX reply: ``9A``, type, length, data, CRC and ``9D``."""
    return (
        frame[:1] == b"\x9a"
        and len(frame) >= 11
        and len(frame) == frame[7] + 11
        and frame[-1:] == b"\x9d"
    )


def _cbtpwr(frame: bytes) -> bool:
    """A CBT Power classic reply: ``AA 55 cmd len <data> <sum> 0D 0A``."""
    return (
        frame[:2] == b"\xaa\x55"
        and len(frame) > 7
        and len(frame) == frame[3] + 7
        and frame[-2:] == b"\r\n"
    )


def _ej(frame: bytes) -> bool:
    """An E&J reply: ``:``, hex digits of the length it states, ``~``."""
    head = frame[1:11]
    return (
        frame[:1] == b":"
        and frame[-1:] == b"~"
        and len(head) == 10
        and all(c in EJ_DIGITS for c in head)
        and int(head[6:], 16) == len(frame)
    )


def _tdt(frame: bytes) -> bool:
    """A TDT reply: ``7E 00 01 03 00 <dp> <length:2> <data> <crc16> 0D``."""
    return (
        frame.startswith(TDT_HEADER)
        and len(frame) > 11
        and len(frame) == int.from_bytes(frame[6:8]) + 11
        and frame[-1] == 0x0D
    )


def _ecoworthy_head(frame: bytes) -> int | None:
    """The head length of an ECO-WORTHY A1 / A2 frame: 14 (V1) or 12 (V2)."""
    for head, kind_at in ((14, 0), (12, 6)):
        if (
            len(frame) > head + 2
            and frame[kind_at] in (0xA1, 0xA2)
            and frame[head - 2] == 0x03
            and len(frame) == head + frame[head - 1] + 2
        ):
            return head
    return None


def _humsienk(frame: bytes) -> bool:
    """A Humsienk reply with data: its length and 16-bit sum fit."""
    return (
        len(frame) > 5
        and frame[0] == HUMSIENK_START
        and len(frame) == frame[2] + 5
        and sum(frame[1:-2]) & 0xFFFF == int.from_bytes(frame[-2:], "little")
    )


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


def _neey(frame: bytes, rng: random.Random) -> bytes:
    """Head, type and length kept; random data, the byte sum and FF made to fit."""
    body = frame[:8] + _random(rng, len(frame) - 10)
    return body + bytes((sum(body) & 0xFF, 0xFF))


def _ant(frame: bytes, rng: random.Random) -> bytes:
    """Head and counts kept; the rest random, the CRC-16/MODBUS made to fit."""
    body = frame[:10] + _random(rng, len(frame) - 14)
    return body + crc16(body[1:]).to_bytes(2, "little") + b"\xaa\x55"


def _ant_legacy(frame: bytes, rng: random.Random) -> bytes:
    """Head kept; 134 random bytes, their 16-bit sum (high byte first)."""
    body = _random(rng, ANT_LEGACY_LENGTH - 6)
    return frame[:4] + body + (sum(body) & 0xFFFF).to_bytes(2, "big")


def _topband(frame: bytes, rng: random.Random) -> bytes:
    """Head kept; 54 random bytes and their 16-bit sum, as hex digits."""
    body = _random(rng, 54)
    digits = (body + (sum(body) & 0xFFFF).to_bytes(2, "big")).hex().upper()
    return frame[:1] + digits.encode("ascii")


def _felicity(frame: bytes, rng: random.Random) -> bytes:
    """Keys, strings, signs and the version kept; every other integer random.

    Each keeps its number of digits (no leading zero), so the reply stays
    well-formed JSON of the same length: only the decoder's cross-checks
    and the plausibility gate can refuse it.
    """
    head = len(FELICITY_HEADER)

    def digits(match: re.Match[bytes]) -> bytes:
        token = match.group()
        if token.startswith(b'"') or match.start() < head:
            return token
        first = str(rng.randrange(1, 10) if len(token) > 1 else rng.randrange(10))
        rest = "".join(str(rng.randrange(10)) for _ in token[1:])
        return (first + rest).encode()

    return _FELICITY_TOKEN.sub(digits, frame)


def _cbtpwr_classic(frame: bytes, rng: random.Random) -> bytes:
    """Command and length kept, random data; the byte sum made to fit."""
    body = frame[2:4] + _random(rng, frame[3])
    return frame[:2] + body + bytes((sum(body) & 0xFF,)) + frame[-2:]


def _cbtpwr_vb(frame: bytes, rng: random.Random) -> bytes:
    """Header and LENGTH kept, random hexadecimal INFO, CHKSUM made to fit."""
    info = _random(rng, (len(frame) - 18) // 2).hex().upper().encode()
    body = frame[1:13] + info
    return b"~" + body + f"{-sum(body) & 0xFFFF:04X}".encode() + b"\r"


def _tdt_reply(frame: bytes, rng: random.Random) -> bytes:
    """Header and length kept, random data, its CRC (high byte first) and tail."""
    body = frame[:8] + _random(rng, len(frame) - 11)
    return body + crc16(body).to_bytes(2, "big") + b"\x0d"


def _roypow(frame: bytes, rng: random.Random) -> bytes:
    """Head, length, address and command kept; the XOR before F5 made to fit."""
    body = frame[:6] + _random(rng, len(frame) - 8)
    xor = 0
    for byte in body[3:]:
        xor ^= byte
    return body + bytes((xor, 0xF5))


def _braunpwr(frame: bytes, rng: random.Random) -> bytes:
    """Head, command, length and tail kept; random data (there is no checksum)."""
    return frame[:3] + _random(rng, frame[2]) + frame[-1:]


def _ecoworthy(frame: bytes, rng: random.Random) -> bytes:
    """Head and count kept (the MAC too); random data, its CRC-16 made to fit."""
    head = _ecoworthy_head(frame) or 0
    body = frame[:head] + _random(rng, len(frame) - head - 2)
    return body + crc16(body).to_bytes(2, "little")


def _humsienk_reply(frame: bytes, rng: random.Random) -> bytes:
    """Head kept (command, length); random data, its 16-bit sum made to fit."""
    body = frame[:3] + _random(rng, frame[2])
    return body + (sum(body[1:]) & 0xFFFF).to_bytes(2, "little")


def _modbus(frame: bytes, rng: random.Random) -> bytes:
    """``addr fn len <data> <crc16>`` with random data."""
    body = frame[:3] + _random(rng, frame[2])
    return body + crc16(body).to_bytes(2, "little")


def _saihang(frame: bytes, rng: random.Random) -> bytes:
    """``A5 A5`` kept before a Modbus read reply with random data."""
    return frame[:2] + _modbus(frame[2:], rng)


def _ej_ascii(frame: bytes, rng: random.Random) -> bytes:
    """Head and length kept; random hex digits; the character sum made to fit."""
    body = frame[1:11] + bytes(rng.choice(EJ_DIGITS) for _ in range(len(frame) - 14))
    check = (sum(body) & 0xFF) ^ 0xFF
    return b":" + body + f"{check:02X}".encode() + b"~"


def _pwrboozt(frame: bytes, rng: random.Random) -> bytes:
    """Head kept; 111 random bytes and the inverted byte sum, as hex digits."""
    body = bytes.fromhex(frame[1:11].decode()) + _random(rng, 111)
    body += bytes((~sum(body[1:]) & 0xFF,))
    return b":" + body.hex().upper().encode() + b"~"


def _abc(frame: bytes) -> bool:
    """An ABC-BMS answer: whole replies, each with its head and CRC-8."""
    parts = [frame[i : i + ABC_LENGTH] for i in range(0, len(frame), ABC_LENGTH)]
    return bool(frame) and all(
        len(part) == ABC_LENGTH
        and part[0] == ABC_HEAD
        and crc8_maxim(part[:-1]) == part[-1]
        for part in parts
    )


def _abc_reply(frame: bytes, rng: random.Random) -> bytes:
    """One reply of the answer: head and type kept, random data, its CRC-8."""
    at = rng.randrange(0, len(frame), ABC_LENGTH)
    body = frame[at : at + 2] + _random(rng, ABC_LENGTH - 3)
    forged = body + bytes((crc8_maxim(body),))
    return frame[:at] + forged + frame[at + ABC_LENGTH :]


def _ogt_key(frame: bytes) -> int | None:
    """The key of a scrambled Offgridtec reply with a value, else None."""
    if len(frame) not in OGT_LENGTHS:
        return None
    key = frame[0] ^ OGT_HEAD[0]
    plain = bytes(b ^ key for b in frame)
    shaped = plain.startswith(OGT_HEAD) and plain.endswith(b"\r\n")
    return key if shaped and HEX_DIGITS.issuperset(plain[4:-2]) else None


def _ogt(frame: bytes, rng: random.Random) -> bytes:
    """Another register and random value digits, scrambled with the same key.

    Its replies carry no checksum: random digits under the right register
    are a reply like any other, which only the plausibility gate could
    refuse (nothing else can). What the driver must refuse is a reply to a
    register it did not ask.
    """
    key = _ogt_key(frame) or 0
    register = (int(frame[4:6].translate(_xor(key)), 16) + rng.randrange(1, 256)) % 256
    digits = bytes(rng.choice(EJ_DIGITS) for _ in range(len(frame) - 8))
    plain = OGT_HEAD + f"{register:02X}".encode() + digits + b"\r\n"
    return plain.translate(_xor(key))


def _tianpwr(frame: bytes, rng: random.Random) -> bytes:
    """Another reply type with random data, head and end byte kept.

    No checksum: random data under the type asked is a reply like any other,
    which only the plausibility gate could refuse. What the driver must
    refuse is a reply of a type it did not ask.
    """
    kind = rng.choice([t for t in TIANPWR_TYPES if t != frame[2]])
    return TIANPWR_HEAD + bytes((kind,)) + _random(rng, 16) + b"\xaa"


def _superb(frame: bytes) -> bool:
    """A Super-B status frame: its length and the bytes that are always 0."""
    return (
        len(frame) == SUPERB_LENGTH
        and frame[0] == 0
        and not any(frame[SUPERB_VALUES.stop :])
    )


def _superb_status(frame: bytes, rng: random.Random) -> bytes:
    """The zero bytes kept, random flags, percentages and floats.

    The frame carries no checksum: only the decoder's content checks (SOC
    and SOH at most 100 %, voltage and current in range) can refuse it.
    """
    return (
        frame[:1] + _random(rng, SUPERB_VALUES.stop - 1) + frame[SUPERB_VALUES.stop :]
    )


def _myvolta(frame: bytes) -> bool:
    """A MyVolta data frame on the air: ``55 55``, 16 bytes summing to 0, ``04 04``."""
    if not (frame.startswith(b"\x55\x55") and frame.endswith(b"\x04\x04")):
        return False
    inner = _myvolta_unstuff(frame)
    return len(inner) == MYVOLTA_LENGTH and inner[0] == 0x01 and not sum(inner) % 256


def _myvolta_unstuff(frame: bytes) -> bytes:
    """The bytes behind the ``05`` escapes."""
    out = bytearray()
    escaped = False
    for byte in frame[2:-2]:
        if not escaped and byte == 0x05:
            escaped = True
            continue
        escaped = False
        out.append(byte)
    return bytes(out)


def _myvolta_message(frame: bytes, rng: random.Random) -> bytes:
    """The same message type, random data, the checksum fixed, re-stuffed."""
    head = _myvolta_unstuff(frame)[:7] + _random(rng, 8)
    inner = head + bytes(((-sum(head)) % 256,))
    body = b"".join(
        b"\x05" + bytes((b,)) if b in (4, 5) else bytes((b,)) for b in inner
    )
    return b"\x55\x55" + body + b"\x04\x04"


def _xor(key: int) -> bytes:
    return bytes(b ^ key for b in range(256))


# Each kind of frame the simulators send: how to recognise it, how to forge
# it. The first that recognises a frame forges it.
FORGERS: tuple[tuple[Callable[[bytes], bool], Forger], ...] = (
    (lambda f: f.startswith(JK_HEADER) and len(f) >= 300, _jk),
    (lambda f: f[:1] == b"\xdd" and len(f) >= 7 and f[2] == 0, _jbd),
    (lambda f: f[:1] == b"\xa5" and len(f) == 13, _daly_a5),
    (_pace_ble, _pace),
    (lambda f: f.startswith(REDODO_HEADER) and len(f) == f[2] + 4, _redodo),
    (
        lambda f: (
            f.startswith(NEEY_HEAD) and len(f) == int.from_bytes(f[6:8], "little")
        ),
        _neey,
    ),
    (lambda f: f.startswith(ANT_HEAD) and len(f) == f[5] + 10 > 14, _ant),
    # Before CBT Power's rule, whose replies start AA 55 too.
    (
        lambda f: f.startswith(ANT_LEGACY_HEAD) and len(f) == ANT_LEGACY_LENGTH,
        _ant_legacy,
    ),
    (_modbus_read_reply, _modbus),
    # Saihang: A5 A5 before a Modbus read reply.
    (lambda f: f[:2] == b"\xa5\xa5" and _modbus_read_reply(f[2:]), _saihang),
    (lambda f: f.startswith(FELICITY_HEADER) and f.endswith(b"}"), _felicity),
    (_cbtpwr, _cbtpwr_classic),
    (lambda f: f.startswith(CBTPWR_VB_HEADER) and f[-1:] == b"\r", _cbtpwr_vb),
    # Before E&J's rule: its head and length read as an E&J frame too.
    (
        lambda f: f.startswith(PWRBOOZT_HEAD) and len(f) == PWRBOOZT_LENGTH,
        _pwrboozt,
    ),
    (_ej, _ej_ascii),
    (_tdt, _tdt_reply),
    (lambda f: f.startswith(ROYPOW_HEAD) and len(f) == f[3] + 4 >= 8, _roypow),
    (lambda f: _ecoworthy_head(f) is not None, _ecoworthy),
    (
        lambda f: (
            len(f) > 4
            and f[0] == 0x7B
            and f[1] in BRAUNPWR_READS
            and len(f) == f[2] + 4
        ),
        _braunpwr,
    ),
    (_humsienk, _humsienk_reply),
    (lambda f: _ogt_key(f) is not None, _ogt),
    (lambda f: len(f) == TOPBAND_LENGTH and HEX_DIGITS.issuperset(f[1:]), _topband),
    (_abc, _abc_reply),
    (
        lambda f: (
            len(f) == TIANPWR_LENGTH
            and f.startswith(TIANPWR_HEAD)
            and f[-1] == 0xAA
            and f[2] in TIANPWR_TYPES
        ),
        _tianpwr,
    ),
    (_superb, _superb_status),
    (_myvolta, _myvolta_message),
)
