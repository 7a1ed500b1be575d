"""JBD frames: requests, replies and their payloads (pure codec, no I/O).

Frames: ``DD <reg|cmd> … <CHK16> 77``; replies ``DD <reg> <status> <len> <data>
<CHK16> 77`` with CHK = 0x10000 - sum(status, len, data), big-endian. Values are
big-endian. Optional ``FF AA`` authentication on newer modules.
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import ChecksumError, FrameError
from ..fields import Field, Layout, read_fields, unpack_run
from ..snapshot import Alarm

START = 0xDD
END = 0x77
READ = 0xA5
WRITE = 0x5A
REG_BASIC = 0x03
REG_CELLS = 0x04
REG_MODEL = 0x05
REG_MOSFET = 0xE1
STATUS_OK = 0x00
STATUS_ERROR = 0x80
MAX_PAYLOAD = 0x80
# Daren's device information (register 0x08) is longer: 0xC1 bytes
# (aiobmsble 0.31.0 (PyPI sdist) tests/bms/test_daren_bms.py).
REG_LONG_INFO = 0x08
MAX_LONG_PAYLOAD = 0xC1
AUTH_HEADER = b"\xff\xaa"
AUTH_APP_KEY = 0x15
AUTH_RANDOM = 0x17
AUTH_PASSWORD = 0x18
AUTH_ROOT = 0x1D
# The vendor's fixed root password, recovered from a captured session
# (syssi/esphome-jbd-bms docs/ffaa-auth-flow/root-password.txt).
ROOT_PASSWORD = b"JBDbtpwd!@#2023"
APP_KEY = b"000000"
BASIC_FIXED_LEN = 23
NTC_COUNT_AT = 22  # the number of probes after the fixed part

PROTECTION_BITS: dict[int, Alarm] = {
    0: Alarm.CELL_OVERVOLTAGE,
    1: Alarm.CELL_UNDERVOLTAGE,
    2: Alarm.PACK_OVERVOLTAGE,
    3: Alarm.PACK_UNDERVOLTAGE,
    4: Alarm.CHARGE_OVERTEMPERATURE,
    5: Alarm.CHARGE_UNDERTEMPERATURE,
    6: Alarm.DISCHARGE_OVERTEMPERATURE,
    7: Alarm.DISCHARGE_UNDERTEMPERATURE,
    8: Alarm.CHARGE_OVERCURRENT,
    9: Alarm.DISCHARGE_OVERCURRENT,
    10: Alarm.SHORT_CIRCUIT,
    11: Alarm.FRONTEND_ERROR,
    12: Alarm.MOSFET_LOCK,
}
# Every alarm the protection bits can report.
SUPPORTED_ALARMS = frozenset(PROTECTION_BITS.values())
LOCK_BIT = 12
LOCK = 1 << LOCK_BIT


def max_payload(register: int) -> int:
    """The longest payload a reply of ``register`` can carry."""
    return MAX_LONG_PAYLOAD if register == REG_LONG_INFO else MAX_PAYLOAD


def checksum(body: bytes) -> int:
    """JBD checksum of the bytes between the command/start and the checksum."""
    return (0x10000 - sum(body)) & 0xFFFF


def build_read(register: int) -> bytes:
    """A read request for one register."""
    body = bytes((register, 0))
    return bytes((START, READ)) + body + checksum(body).to_bytes(2, "big") + b"\x77"


def build_write(register: int, data: bytes) -> bytes:
    """A write request for one register."""
    body = bytes((register, len(data))) + data
    return bytes((START, WRITE)) + body + checksum(body).to_bytes(2, "big") + b"\x77"


def build_mosfet(charge_on: bool, discharge_on: bool) -> bytes:
    """Register 0xE1 write: a disable mask, bit0 charge, bit1 discharge."""
    mask = (0 if charge_on else 1) | (0 if discharge_on else 2)
    return build_write(REG_MOSFET, bytes((0, mask)))


def auth_frame(command: int, data: bytes) -> bytes:
    """An ``FF AA`` authentication frame."""
    body = bytes((command, len(data))) + data
    return AUTH_HEADER + body + bytes((sum(body) & 0xFF,))


def auth_secret(mac: bytes, secret: bytes, random: int) -> bytes:
    """An ``FF AA`` password field: ((key XOR secret) + random) per byte.

    The key is the MAC in printed order, padded with zeros to the secret's
    length (the 15-byte root password uses only the first six).
    """
    key = mac + bytes(max(0, len(secret) - len(mac)))
    return bytes(((k ^ c) + random) & 0xFF for k, c in zip(key, secret, strict=False))


class JbdFrame(NamedTuple):
    """A validated reply frame."""

    register: int
    status: int
    payload: bytes


def parse_frame(frame: bytes) -> JbdFrame:
    """Validate one complete ``DD`` reply frame."""
    if len(frame) < 7 or frame[0] != START:
        raise FrameError("not a JBD frame")
    length = frame[3]
    if len(frame) != 7 + length:
        raise FrameError(f"JBD frame length {len(frame)} != {7 + length}")
    if frame[-1] != END:
        raise FrameError("JBD frame without 0x77 terminator")
    body = frame[2 : 4 + length]
    expected = int.from_bytes(frame[4 + length : 6 + length], "big")
    if checksum(body) != expected:
        raise ChecksumError("JBD checksum mismatch")
    return JbdFrame(frame[1], frame[2], bytes(frame[4 : 4 + length]))


class BasicInfo(NamedTuple):
    """Register 0x03."""

    voltage: float
    current: float
    remaining_capacity: float
    nominal_capacity: float
    cycles: int
    production_date: str
    balancing_cells: frozenset[int]
    protection: int
    software_version: str
    soc: int
    charge_fet: bool
    discharge_fet: bool
    cell_count: int
    temperatures: tuple[float, ...]
    # Probes and the state of health that only Daren's layout reports.
    mosfet_temperature: float | None = None
    ambient_temperature: float | None = None
    state_of_health: int | None = None


# Register 0x03: the fixed part (syssi/esphome-jbd-bms docs, the vendor PDF).
BASIC_FIELDS = Layout(
    Field("voltage", 0, 2, scale=0.01, decimals=2),
    Field("current", 2, 2, signed=True, scale=0.01, decimals=2),
    Field("remaining_capacity", 4, 2, scale=0.01, decimals=2),
    Field("nominal_capacity", 6, 2, scale=0.01, decimals=2),
    Field("cycles", 8, 2),
    Field("date", 10, 2),
    Field("balancing", 12, 2),
    Field("balancing_high", 14, 2),
    Field("protection", 16, 2),
    Field("version", 18, 1),
    Field("soc", 19, 1),
    Field("fets", 20, 1),
    Field("cell_count", 21, 1),
)


def decode_basic(payload: bytes) -> BasicInfo:
    """Decode the payload of register 0x03."""
    info = decode_fixed(payload)
    return info._replace(temperatures=probes(payload, payload[NTC_COUNT_AT]))


def probes(payload: bytes, count: int) -> tuple[float, ...]:
    """The ``count`` probes after the fixed part, °C (0.1 K from 273.1 K)."""
    if len(payload) < BASIC_FIXED_LEN + 2 * count:
        raise FrameError("JBD basic info shorter than its NTC count")
    return tuple(
        round((int.from_bytes(payload[23 + 2 * i : 25 + 2 * i], "big") - 2731) / 10, 1)
        for i in range(count)
    )


def decode_fixed(payload: bytes) -> BasicInfo:
    """The fixed part of register 0x03, without the probes."""
    if len(payload) < BASIC_FIXED_LEN:
        raise FrameError("JBD basic info too short")
    value = read_fields(BASIC_FIELDS, payload)
    date, version, fets = int(value["date"]), int(value["version"]), int(value["fets"])
    balancing = int(value["balancing"]) | int(value["balancing_high"]) << 16
    return BasicInfo(
        voltage=value["voltage"],
        current=value["current"],
        remaining_capacity=value["remaining_capacity"],
        nominal_capacity=value["nominal_capacity"],
        cycles=int(value["cycles"]),
        production_date=(
            f"{2000 + (date >> 9):04d}-{(date >> 5) & 0x0F:02d}-{date & 0x1F:02d}"
        ),
        balancing_cells=frozenset(i + 1 for i in range(32) if balancing >> i & 1),
        protection=int(value["protection"]),
        software_version=f"{version >> 4}.{version & 0x0F}",
        soc=int(value["soc"]),
        charge_fet=bool(fets & 1),
        discharge_fet=bool(fets & 2),
        cell_count=int(value["cell_count"]),
        temperatures=(),
    )


def decode_cells(payload: bytes) -> tuple[float, ...]:
    """Decode the payload of register 0x04 (cell voltages in volts)."""
    if len(payload) % 2:
        raise FrameError("JBD cell payload has an odd length")
    return tuple(mv / 1000 for mv in unpack_run(payload, 0, len(payload) // 2))


class InfoTexts(NamedTuple):
    """What the device-information register tells (0x05: the model alone)."""

    model: str | None
    hw_version: str | None = None
    sw_version: str | None = None


def decode_model(payload: bytes) -> str:
    """Decode register 0x05 (model name, ASCII)."""
    return payload.decode("ascii", errors="replace").strip("\x00 ").strip()


def decode_alarms(protection: int) -> frozenset[Alarm]:
    """Named alarms from the 0x03 protection bits."""
    return frozenset(a for bit, a in PROTECTION_BITS.items() if protection >> bit & 1)
