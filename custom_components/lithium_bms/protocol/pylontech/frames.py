"""Pylontech RT series: Modbus RTU holding registers read over Bluetooth.

Source of the map: patman15/aiobmsble ``aiobmsble/bms/pylontech_bms.py``,
``docs/pylontech_bms.md`` and ``tests/bms/test_pylontech_bms.py``
@ b0567331025033d33729385fa89a1198275d6486 (measured on an RT12100G31; no
register document is public). Device 0x01 answers function 0x03; the main
block is 0x1016-0x1022 (13 registers), the serial number 0x2000-0x2007
(16 ASCII characters).

The pack reports its highest and lowest cell voltage and temperature, never
each cell: the cell extremes only check the frame (lowest <= highest), and the
two temperatures are the hottest and the coldest probe.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..codecs import modbus
from ..errors import FrameError
from ..fields import Field, Layout, read_fields

DEVICE = 0x01
MAIN_START = 0x1016
MAIN_COUNT = 13
SERIAL_START = 0x2000
SERIAL_COUNT = 8
MAIN_REQUEST = modbus.read_request(DEVICE, MAIN_START, MAIN_COUNT)
SERIAL_REQUEST = modbus.read_request(DEVICE, SERIAL_START, SERIAL_COUNT)
MAIN_BYTES = 2 * MAIN_COUNT
SERIAL_BYTES = 2 * SERIAL_COUNT

# Byte offsets in the main block's data: (register - 0x1016) * 2. 0x101E
# (power, W, unsigned), 0x101F (unknown), 0x1020 (lifetime energy, 0.1 kWh)
# and 0x1021 (allowed current, 0.1 A) have no snapshot field.
MAIN_FIELDS = Layout(
    Field("voltage", 0, 2, scale=0.01, decimals=2),
    Field("current", 2, 2, signed=True, scale=0.1, decimals=1),
    Field("cell_max", 4, 2, scale=0.001, decimals=3),
    Field("cell_min", 6, 2, scale=0.001, decimals=3),
    Field("temperature_max", 8, 2, signed=True, scale=0.1, decimals=1),
    Field("temperature_min", 10, 2, signed=True, scale=0.1, decimals=1),
    Field("state_of_charge", 12, 2),
    Field("state_of_health", 14, 2),
    Field("design_capacity", 24, 2, scale=0.1, decimals=1),
)


@dataclass(frozen=True, slots=True)
class RtReading:
    """The main block: volts, amperes (+ charging), degrees C, percent, Ah."""

    voltage: float
    current: float
    temperature_max: float
    temperature_min: float
    state_of_charge: float
    state_of_health: float
    design_capacity: float


def decode_main(data: bytes) -> RtReading:
    """The data of a main-block reply (without address, function and count)."""
    if len(data) != MAIN_BYTES:
        raise FrameError(f"Pylontech main block has {len(data)} bytes")
    values = read_fields(MAIN_FIELDS, data)
    for low, high in (("cell_min", "cell_max"), ("temperature_min", "temperature_max")):
        if values[low] > values[high]:
            raise FrameError(f"Pylontech {low} {values[low]} above {high}")
    return RtReading(
        voltage=values["voltage"],
        current=values["current"],
        temperature_max=values["temperature_max"],
        temperature_min=values["temperature_min"],
        state_of_charge=values["state_of_charge"],
        state_of_health=values["state_of_health"],
        design_capacity=values["design_capacity"],
    )


def decode_serial(data: bytes) -> str | None:
    """The serial number registers as text; None when they hold none."""
    if len(data) != SERIAL_BYTES:
        raise FrameError(f"Pylontech serial block has {len(data)} bytes")
    text = data.split(b"\x00", 1)[0].decode("ascii", "replace").strip()
    return text or None
