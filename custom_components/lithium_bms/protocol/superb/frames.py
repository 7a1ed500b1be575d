"""Super-B Epsilon frames: one 20-byte status notification, pushed by the BMS.

The first generation of the Epsilon's Bluetooth module notifies its status
on characteristic ``6edadbe4-…`` of service ``74b9c2d1-…``; nothing is
written to it. Source, cited below as [A]: aiobmsble 0.31.0 (PyPI sdist)
``aiobmsble/bms/superb_bms.py`` and ``tests/bms/test_superb_bms.py`` (its
one frame of a pack and the values it asserts).

Layout, big-endian [A]: byte 1 holds flags (bit 0 set while the pack is
fine, bit 7 while it balances), byte 2 the SOC, byte 3 the SOH (both %),
bytes 4-7 the runtime in seconds, bytes 8-11 the current and 12-15 the pack
voltage, each an IEEE 754 single-precision float. Byte 0 and bytes 16-19 are
0 in the capture; [A] does not read them.

The frame carries no checksum, so a candidate is refused unless it holds
what a real frame holds: byte 0 and bytes 16-19 zero as in the capture, an
SOC and SOH of at most 100 %, a pack voltage from :data:`MIN_VOLTAGE` to
:data:`MAX_VOLTAGE` and a current of at most :data:`MAX_CURRENT` either way.
Two second-generation frames glued together pose as a frame without the
lower voltage bound (a float of 1.5e-10 V).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from ..errors import FrameError

LENGTH = 20  # [A]
START = b"\x00"
OK = 0x01  # flags bit 0: no problem [A]
BALANCING = 0x80  # flags bit 7 [A]
# Bounds of a candidate that can be a frame (no checksum tells): no BMS runs
# on a pack below 1 V, and the Epsilon is a 12 V battery.
MIN_VOLTAGE = 1.0
MAX_VOLTAGE = 100.0
MAX_CURRENT = 2000.0

# The whole frame in one unpack [A]: byte 0, flags, SOC, SOH, runtime,
# current, voltage, bytes 16-19 (a field table holds no floats).
_FRAME = struct.Struct(">BBBBIffI")


class SuperbStatus(NamedTuple):
    """The decoded status notification."""

    voltage: float
    current: float
    soc: int
    soh: int
    runtime: int
    balancing: bool
    problem_code: int


def is_frame(data: bytes | bytearray, offset: int = 0) -> bool:
    """Whether the 20 bytes at ``offset`` hold what a status frame holds."""
    if len(data) - offset < LENGTH:
        return False
    values: tuple[int, int, int, int, int, float, float, int] = _FRAME.unpack_from(
        data, offset
    )
    start, _, soc, soh, _, current, voltage, reserved = values
    return (
        start == 0
        and reserved == 0
        and soc <= 100
        and soh <= 100
        # False for NaN; infinity is out of range.
        and MIN_VOLTAGE <= voltage <= MAX_VOLTAGE
        and -MAX_CURRENT <= current <= MAX_CURRENT
    )


def decode_status(frame: bytes) -> SuperbStatus:
    """Decode one status frame; raise unless it can be one."""
    if len(frame) != LENGTH or not is_frame(frame):
        raise FrameError("not a Super-B status frame")
    _, flags, soc, soh, runtime, current, voltage, _ = _FRAME.unpack(frame)
    return SuperbStatus(
        voltage=round(voltage, 3),
        current=round(current, 3),
        soc=soc,
        soh=soh,
        runtime=runtime,
        balancing=bool(flags & BALANCING),
        # [A]'s "problem code": 1 while bit 0 is clear.
        problem_code=(flags & OK) ^ OK,
    )
