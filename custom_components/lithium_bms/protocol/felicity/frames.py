"""Felicity Solar frames: ASCII requests in, one JSON object out.

A request is ``wifilocalMonitor:`` and a verb (the WiFi dongle's local
protocol, spoken unchanged over Bluetooth); the reply is one JSON object,
``{`` to its matching ``}``, with ``"CommVer":1``. There is no checksum, so
the real-time reply is cross-checked: the extremes it states (``BMaxMin``)
must be the extremes of its cells, and every number must be an integer where
one is expected. Sources, cited below as [A] to [C]:

- [A] patman15/aiobmsble ``aiobmsble/bms/felicity_bms.py`` and
  ``tests/bms/test_felicity_bms.py`` @ b0567331025033d33729385fa89a1198275d6486
- [B] randyoo/aiobmsble ``tests/bms/test_felicity_bms.py``
  @ 0e841c95cb1659e9d45b7b61256989292086805b (a 3-module bank: reads the
  module's own ``BattList``, where ``Batt`` holds the bank's)
- [C] felicity-cyd ``docs/protocol.md``, public notes on the same JSON over
  the dongle's TCP port 53970 (units, the 32767 padding of unused cells); the
  code index holds the file without its repository name or commit
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..errors import FrameError

START = b"{"
END = b"}"
PREFIX = b"wifilocalMonitor:"
REAL_INFO = PREFIX + b"get dev real infor"  # sic [A][C]
BASIC_INFO = PREFIX + b"get dev basice infor"  # sic [A]
COMM_VERSION = 1  # [A] drops a reply with another "CommVer"
MAX_CELLS = 16  # BatcelList rows have 16 slots [A][B][C]
# An unused cell slot: 65535 in the unused second row [A][B], 32767 in the
# first row of an 8S pack [C]. An unused probe reads 0x7FFF [A].
UNUSED_CELLS = frozenset({0x7FFF, 0xFFFF})
UNUSED_PROBE = 0x7FFF
# Keys that tell the replies apart.
REAL_KEY = "BatcelList"
BASIC_KEY = "M1SwVer"


@dataclass(frozen=True, slots=True)
class JsonField:
    """One number of the reply: ``message[key][row][column] * scale``."""

    target: str
    key: str
    row: int
    column: int
    scale: float
    decimals: int


# The module's own values [B]; [A] reads voltage and current from "Batt",
# the bank's (the same on a single pack, in 0.1 V steps: 52.8 V beside the
# module's 52.75 V and the cells' 52.749 V in [A]'s capture).
REAL_FIELDS = (
    JsonField("voltage", "BattList", 0, 0, 0.001, 3),  # mV [B][C]
    JsonField("current", "BattList", 1, 0, 0.1, 1),  # dA, + charging [B][C]
    JsonField("soc", "BatsocList", 0, 0, 0.01, 2),  # 1/100 % [A][B]
    JsonField("full", "BatsocList", 0, 2, 0.001, 3),  # mAh: SOC x it = charge [A]
)


class FelicityStatus(NamedTuple):
    """The decoded real-time reply."""

    voltage: float
    current: float
    soc: float
    remaining: float
    full: float
    cell_voltages: tuple[float, ...]
    temperatures: tuple[float, ...]
    # Bfault in the high word, Bwarn in the low one; no public bit table.
    protection_code: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FelicityInfo:
    """The decoded basic-information reply."""

    version: str | None
    serial_number: str | None


def _refuse_constant(name: str) -> Any:
    raise FrameError(f"Felicity reply holds {name}")


# One decoder for every reply: ``json.loads`` with an option builds a new one
# per call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def parse(frame: bytes) -> Mapping[str, Any]:
    """The JSON object of one reply; raise unless it is one of version 1."""
    try:
        message = _DECODER.decode(frame.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as err:
        raise FrameError(f"not a Felicity reply: {err}") from err
    if not isinstance(message, dict):
        raise FrameError("a Felicity reply is a JSON object")
    version = message.get("CommVer")
    if type(version) is not int or version != COMM_VERSION:
        raise FrameError(f"unknown Felicity protocol version {version!r}")
    return message


def is_real_info(frame: bytes) -> bool:
    """Whether a frame is the real-time reply."""
    return f'"{REAL_KEY}"'.encode() in frame


def is_basic_info(frame: bytes) -> bool:
    """Whether a frame is the basic-information reply."""
    return f'"{BASIC_KEY}"'.encode() in frame


def _integer(value: object, what: str) -> int:
    if type(value) is not int:
        raise FrameError(f"Felicity {what} is {value!r}, not an integer")
    return value


def _row(message: Mapping[str, Any], key: str, row: int) -> list[object]:
    rows = message.get(key)
    if (
        not isinstance(rows, list)
        or len(rows) <= row
        or not isinstance(rows[row], list)
    ):
        raise FrameError(f"Felicity reply lacks {key}[{row}]")
    values: list[object] = rows[row]
    return values


def _number(message: Mapping[str, Any], field: JsonField) -> int:
    values = _row(message, field.key, field.row)
    if len(values) <= field.column:
        raise FrameError(f"Felicity reply lacks {field.key}[{field.row}]")
    return _integer(values[field.column], field.key)


def decode_real_info(frame: bytes) -> FelicityStatus:
    """Decode the real-time reply; raise when its fields disagree."""
    message = parse(frame)
    raw = {field.target: _number(message, field) for field in REAL_FIELDS}
    scaled = {
        field.target: round(raw[field.target] * field.scale, field.decimals)
        for field in REAL_FIELDS
    }
    if not 0 <= raw["soc"] <= 10000 or raw["full"] <= 0:
        raise FrameError("Felicity SOC or capacity out of range")
    cells = _cells(message)
    _check_extremes(message, cells)
    probes = [_integer(v, "BtemList") for v in _row(message, "BtemList", 0)]
    fault = _integer(message.get("Bfault"), "Bfault")
    warning = _integer(message.get("Bwarn"), "Bwarn")
    if not (0 <= fault < 1 << 32 and 0 <= warning < 1 << 32):
        raise FrameError("Felicity fault or warning code out of range")
    return FelicityStatus(
        voltage=scaled["voltage"],
        current=scaled["current"],
        soc=scaled["soc"],
        # SOC (1/100 %) x full (mAh) / 1e7, in Ah [A].
        remaining=round(raw["soc"] * raw["full"] / 1e7, 3),
        full=scaled["full"],
        cell_voltages=tuple(mv / 1000 for mv in cells),
        temperatures=tuple(t / 10 for t in probes if t != UNUSED_PROBE),
        protection_code=fault << 32 | warning,
    )


def _cells(message: Mapping[str, Any]) -> list[int]:
    """The used cells: the slots before the first unused one [A][C]."""
    slots = [_integer(v, "BatcelList") for v in _row(message, REAL_KEY, 0)]
    if len(slots) > MAX_CELLS:
        raise FrameError(f"Felicity reply has {len(slots)} cell slots")
    used = next((i for i, mv in enumerate(slots) if mv in UNUSED_CELLS), len(slots))
    if not used or any(mv not in UNUSED_CELLS for mv in slots[used:]):
        raise FrameError("Felicity cell slots are not used from the first")
    return slots[:used]


def _check_extremes(message: Mapping[str, Any], cells: list[int]) -> None:
    """``BMaxMin[0]`` is the highest and lowest cell in mV [A][B][C].

    Both captures give the positions in ``BMaxMin[1]`` counted from 0, [C]
    from 1; they are not checked.
    """
    extremes = [_integer(v, "BMaxMin") for v in _row(message, "BMaxMin", 0)]
    if extremes != [max(cells), min(cells)]:
        raise FrameError("Felicity BMaxMin disagrees with the cells")


def decode_basic_info(frame: bytes) -> FelicityInfo:
    """The software version and the BMS serial of the basic reply [A]."""
    message = parse(frame)
    version, serial = message.get("version"), message.get("DevSN")
    return FelicityInfo(
        version=version if isinstance(version, str) else None,
        serial_number=serial if isinstance(serial, str) else None,
    )
