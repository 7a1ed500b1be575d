"""Neey / Heltec settings reply (type 0x04) and the balancer command.

After syssi/esphome-jk-bms @ 2fa4323bdde7d3c5abf758d92de8f6c7f6751b54 [B]:
``components/heltec_balancer_ble/heltec_balancer_ble.cpp`` reads the settings
reply in two layouts, 100 bytes (GW- and EK- models, ``decode_settings_``)
and 150 bytes (EK-B models, ``decode_settings_v2_``), the balancer state at
byte 21 or 126 and the cell count at 8 or 9. Its ``build_command_frame_``
writes a register as ``AA 55 11 00 05 <register> 14 00``, the value as a
little-endian word, zeros, the byte sum and ``FF``; ``switch/__init__.py``
names register 0x0D the balancer.

The balancer answers a write with ``55 AA 11 00 05 0D 14 00``, zeros, sum
and ``FF`` (``docs/neey-gw-24s4eb-sw110/btsnoop_hci.log`` of [B]), the same
for on and off: the acknowledgement carries no value, so only the settings
reply read after it confirms a command.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from ..errors import FrameError
from .frames import (
    MAX_CELLS,
    REQUEST_HEAD,
    REQUEST_LENGTH,
    TAIL,
    FrameType,
    checksum,
    is_reply,
)

WRITE = 0x00
WRITE_REGISTER = 0x05
BALANCER_REGISTER = 0x0D


@dataclass(frozen=True, slots=True)
class SettingsLayout:
    """Where one settings layout keeps what is read of it [B]."""

    name: str
    length: int
    cells_at: int
    balancer_at: int
    # Float settings (voltages, currents, capacity) and their upper bound:
    # the sum is weak, so a reply must also hold settings a balancer can have.
    bounded: tuple[tuple[int, float], ...]


SETTINGS_LAYOUTS: dict[bool, SettingsLayout] = {
    # Trigger voltage, max balance current, stop and start voltage.
    False: SettingsLayout("v1", 100, 8, 21, ((9, 5), (13, 100), (17, 5), (28, 5))),
    # Capacity, trigger, stop and start voltage, max balance current.
    True: SettingsLayout(
        "v2", 150, 9, 126, ((10, 100_000), (14, 5), (22, 5), (26, 5), (30, 100))
    ),
}


@dataclass(frozen=True, slots=True)
class NeeySettings:
    """The decoded settings reply: what this integration reads of it."""

    balancer: bool


def decode_settings(frame: bytes, layout: SettingsLayout) -> NeeySettings:
    """Decode a settings reply (a frame that passed ``check_frame``)."""
    if not is_reply(frame, FrameType.SETTINGS) or len(frame) != layout.length:
        raise FrameError(f"not a Neey {layout.name} settings reply")
    if not 1 <= frame[layout.cells_at] <= MAX_CELLS:
        raise FrameError("Neey settings cell count out of range")
    for at, bound in layout.bounded:
        value: float = struct.unpack_from("<f", frame, at)[0]
        if not (math.isfinite(value) and 0 <= value <= bound):
            raise FrameError("Neey setting out of range")
    state = frame[layout.balancer_at]
    if state > 1:
        raise FrameError("Neey balancer state is neither on nor off")
    return NeeySettings(balancer=state == 1)


def build_balancer_command(on: bool) -> bytes:
    """Write 1 or 0 to register 0x0D, closed by the byte sum [B]."""
    body = REQUEST_HEAD[:3] + bytes(
        (WRITE, WRITE_REGISTER, BALANCER_REGISTER, REQUEST_LENGTH, 0, int(on))
    )
    body += bytes(18 - len(body))
    return body + bytes((checksum(body), TAIL))
