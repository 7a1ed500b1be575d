"""Redodo frames: ``00 00 <len> <len bytes> <sum>``, little-endian fields.

One layout serves Redodo, LiTime, Power Queen and Starry Sea packs. A request
is ``00 00 04 01 <command> 55 AA <sum>``; the status reply (command 0x13) is
``00 00 65 01 93 55 AA <status>`` and 97 bytes of fields, 105 in all. The sum
is the low byte of the sum of every byte before it. Sources, cited below as
[A] to [F]:

- [A] patman15/aiobmsble ``aiobmsble/bms/redodo_bms.py`` and
  ``tests/bms/test_redodo_bms.py`` @ b0567331025033d33729385fa89a1198275d6486
- [B] calledit/LiTime_BMS_bluetooth ``index.html``
  @ d60d75f0fb06e777ec5b7644fca5172aca1cec17 (from the LiTime app)
- [C] Raphinity/esphome-redodo-bms ``components/redodo_bms/redodo_bms.cpp``
  @ 85be9b860c38c2da51723fcb0df53dff0155d3bb
- [D] gearboxlabs/litime-ble ``docs/protocol.md`` and
  ``gbl_litime_ble/protocol.py`` @ 6244af063d83096581bcc97b51616188d5bd439a
- [E] Glenn-Dandy/BoatSpeedy
  ``app/src/test/java/de/kewl/boatspeedy/battery/RedodoParserTest.kt``
  @ 218583c739e2f9e303de668154aecda7cccc72c6 (a capture checked against the
  Redodo app)
- [F] minorsecond/limonitor ``src/litime_protocol.cpp``
  @ cd5b201cdfa22831e340cbd458682c5116c659cf
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import ChecksumError, FrameError
from ..fields import Field, Layout, read_fields, unpack_run
from ..snapshot import Alarm

START = b"\x00\x00"
HEAD = 3  # 00 00 <len>
MAGIC = b"\x55\xaa"
KIND = 0x01  # byte 3 of every request and reply [A][B]
STATUS = 0x13  # "query battery status" [B]
REPLY_FLAG = 0x80  # a reply echoes the command with this bit set [A]
STATUS_LENGTH = 0x65  # bytes after the length byte of a status reply
MIN_LENGTH = 4  # a request: kind, command, 55 AA
MAX_CELLS = 16
CELLS_AT = 16
# Five signed °C probes from byte 52 [A]: 52 cells, 54 MOSFET [B][C][D][F].
TEMPERATURES_AT = 52
MAX_PROBES = 5
FIXED_PROBES = 2  # 52 and 54 are always present [B][C][D][F]

# Fixed fields of the status reply, offsets in the whole frame.
STATUS_FIELDS = (
    # The sum of the cells; byte 8 holds the instantaneous pack voltage [B][F],
    # every decoder shows this one [A][C][D][E][F].
    Field("voltage", 12, 4, scale=0.001, decimals=3, order="little"),
    Field("current", 48, 4, signed=True, scale=0.001, decimals=3, order="little"),
    Field("remaining", 62, 2, scale=0.01, decimals=2, order="little"),
    # The full charge capacity [B], measured: above the rating when new [D].
    Field("full", 64, 2, scale=0.01, decimals=2, order="little"),
    # "heat": 0x80 discharge disabled from the app, 0x02 heater error [B];
    # no source names a heater-on bit, so the heater stays unreported.
    Field("heat", 68, 4, order="little"),
    Field("protection", 76, 4, order="little"),
    Field("failure", 80, 4, order="little"),
    Field("balancing", 84, 4, order="little"),
    # 0x0001 charging, 0x0004 charge disabled [B] (charge FET off [F]).
    Field("state", 88, 2, order="little"),
    Field("soc", 90, 2, order="little"),
    Field("soh", 92, 4, order="little"),
    Field("cycles", 96, 4, order="little"),
)
_SCALED = Layout(*(f for f in STATUS_FIELDS if f.decimals is not None))
_INTS = Layout(*(f for f in STATUS_FIELDS if f.decimals is None))
DISCHARGE_DISABLED = 0x80
CHARGE_DISABLED = 0x0004
# The BMS-error digit of the failure word [B].
BMS_ERROR = 0x00F

# Protection word bits [B]; [F] splits the temperature bits into charge and
# discharge (0x100 / 0x200 over, 0x400 / 0x800 under) and agrees on the rest.
PROTECTION_BITS = {
    0x0004: Alarm.PACK_OVERVOLTAGE,  # "Over Charge Protection"
    0x0020: Alarm.PACK_UNDERVOLTAGE,  # "Over-discharge Protection"
    0x0040: Alarm.CHARGE_OVERCURRENT,
    0x0080: Alarm.DISCHARGE_OVERCURRENT,
    0x0100: Alarm.CHARGE_OVERTEMPERATURE,
    0x0200: Alarm.DISCHARGE_OVERTEMPERATURE,
    0x0400: Alarm.CHARGE_UNDERTEMPERATURE,
    0x0800: Alarm.DISCHARGE_UNDERTEMPERATURE,
    0x4000: Alarm.SHORT_CIRCUIT,
}
SUPPORTED_ALARMS = frozenset({*PROTECTION_BITS.values(), Alarm.HARDWARE_FAULT})


def checksum(data: bytes) -> int:
    """The low byte of the sum of ``data``."""
    return sum(data) & 0xFF


def build_request(command: int) -> bytes:
    """``00 00 04 01 <command> 55 AA <sum>``."""
    body = START + bytes((MIN_LENGTH, KIND, command)) + MAGIC
    return body + bytes((checksum(body),))


def is_reply(frame: bytes, command: int) -> bool:
    """Whether ``frame`` answers ``command``."""
    return frame[4] == command | REPLY_FLAG


class RedodoStatus(NamedTuple):
    """The decoded status reply."""

    voltage: float
    current: float
    cell_voltages: tuple[float, ...]
    # All five probes in frame order; which exist is the driver's call.
    probes: tuple[int, ...]
    remaining: float
    full: float
    soc: int
    soh: int
    cycles: int
    balancing: bool
    charge_enabled: bool
    discharge_enabled: bool
    alarms: frozenset[Alarm]
    protection_code: int


def check_frame(frame: bytes) -> None:
    """Raise unless ``frame`` is one whole frame with a matching sum."""
    if len(frame) < HEAD + MIN_LENGTH + 1 or frame[:2] != START:
        raise FrameError("not a Redodo frame")
    if len(frame) != frame[2] + HEAD + 1:
        raise FrameError("Redodo frame length mismatch")
    if frame[3] != KIND or frame[5:7] != MAGIC:
        raise FrameError("not a Redodo frame")
    if checksum(frame[:-1]) != frame[-1]:
        raise ChecksumError("Redodo checksum mismatch")


def decode_status(frame: bytes) -> RedodoStatus:
    """Decode a 0x13 status reply (a frame that passed :func:`check_frame`)."""
    if frame[2] != STATUS_LENGTH or not is_reply(frame, STATUS):
        raise FrameError("not a Redodo status reply")
    if frame[7] != 0:
        raise FrameError("the Redodo BMS answered with an error")
    values = {name: int(value) for name, value in read_fields(_INTS, frame).items()}
    scaled = read_fields(_SCALED, frame)
    failure = values["failure"]
    alarms = {
        alarm for bit, alarm in PROTECTION_BITS.items() if values["protection"] & bit
    }
    if failure & BMS_ERROR:
        alarms.add(Alarm.HARDWARE_FAULT)
    return RedodoStatus(
        voltage=scaled["voltage"],
        current=scaled["current"],
        cell_voltages=_cells(frame),
        probes=unpack_run(
            frame, TEMPERATURES_AT, MAX_PROBES, order="little", signed=True
        ),
        remaining=scaled["remaining"],
        full=scaled["full"],
        soc=values["soc"],
        soh=values["soh"],
        cycles=values["cycles"],
        balancing=bool(values["balancing"]),
        charge_enabled=not values["state"] & CHARGE_DISABLED,
        discharge_enabled=not values["heat"] & DISCHARGE_DISABLED,
        alarms=frozenset(alarms),
        protection_code=values["protection"] | failure << 32,
    )


def _cells(frame: bytes) -> tuple[float, ...]:
    """The populated cells; an unused slot reads 0 [A][B][C][D]."""
    raw = unpack_run(frame, CELLS_AT, MAX_CELLS, order="little")
    return tuple(mv / 1000 for mv in raw if mv)
