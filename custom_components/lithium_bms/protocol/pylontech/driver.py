"""Pylontech RT series (RT12100, RT12200, RT24100, ...) over Bluetooth.

The battery's Telink module (service 00010203-0405-0607-0809-0a0b0c0d1910,
notify ...2b10, write ...2b11) carries Modbus RTU: the driver reads the main
block of device 0x01 for a snapshot and the serial number block for the device
information, as patman15/aiobmsble ``aiobmsble/bms/pylontech_bms.py``
@ b0567331025033d33729385fa89a1198275d6486 does. Read only: no public source
documents a command. The pack reports no per-cell voltage, no MOSFET, balancer
or alarm state and no cycle count, so those stay empty.
"""

from __future__ import annotations

from ..codecs import modbus
from ..driver import BmsDriver, FrameMatcher, Reassembler
from ..errors import BmsTimeoutError, UnsupportedError
from ..matching import AdvertisementMatcher, uuid16
from ..plausibility import Limits
from ..snapshot import (
    BatterySnapshot,
    DeviceInfo,
    SwitchKind,
    Temperature,
    TemperatureKind,
)
from ..transport import GattProfile
from .frames import (
    MAIN_BYTES,
    MAIN_REQUEST,
    SERIAL_BYTES,
    SERIAL_REQUEST,
    decode_main,
    decode_serial,
)
from .stream import PylontechReassembler

TELINK_UUID = "00010203-0405-0607-0809-0a0b0c0d{:04x}"


def _answers(size: int) -> FrameMatcher:
    def expect(frame: bytes) -> bool:
        return frame[1] & modbus.EXCEPTION_FLAG != 0 or frame[2] == size

    return expect


class PylontechDriver(BmsDriver):
    """Reads one Pylontech RT battery."""

    family = "pylontech"
    manufacturer = "Pylontech"
    brand = "Pylontech"
    # Name and service together: no other family's record has both.
    claim_order = 140
    gatt = (
        GattProfile(
            service=TELINK_UUID.format(0x1910),
            notify=TELINK_UUID.format(0x2B10),
            write=TELINK_UUID.format(0x2B11),
        ),
    )
    # ``RT<volts: 12/24/36/48><capacity>-<serial>`` with the Battery Service
    # 180F (aiobmsble's matcher ``RT[1-4][2,4,6,8]*`` + 180F and its
    # ``aiobmsble/test_data/pylontech_bms.json``, same commit). Home Assistant
    # wants three literal characters first: spelt out per voltage code.
    matchers = tuple(
        AdvertisementMatcher(
            local_name=f"RT{tens}{units}*", service_uuid=uuid16(0x180F)
        )
        for tens in "1234"
        for units in "2468"
    )
    # Only the highest and lowest cell come, never each cell: a snapshot has none.
    limits = Limits(min_cells=0, max_cells=0)

    def new_reassembler(self) -> Reassembler:
        """Replies of device 0x01."""
        return PylontechReassembler()

    def is_sensitive(self, frame: bytes) -> bool:
        """The serial number reply."""
        return (
            len(frame) > 2
            and frame[1] == modbus.READ_HOLDING
            and (frame[2] == SERIAL_BYTES)
        )

    async def _read(self, request: bytes, size: int) -> bytes:
        reply = modbus.parse_response(await self.exchange(request, _answers(size)))
        if reply.is_exception:
            raise UnsupportedError(f"read refused (code {reply.exception_code})")
        return reply.data

    async def read_device_info(self) -> DeviceInfo:
        """The serial number, when the module answers for it."""
        try:
            data = await self._read(SERIAL_REQUEST, SERIAL_BYTES)
        except (BmsTimeoutError, UnsupportedError):
            return DeviceInfo(manufacturer=self.manufacturer)
        return DeviceInfo(
            manufacturer=self.manufacturer, serial_number=decode_serial(data)
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """The main block."""
        rt = decode_main(await self._read(MAIN_REQUEST, MAIN_BYTES))
        return BatterySnapshot(
            voltage=rt.voltage,
            current=rt.current,
            temperatures=(
                Temperature(TemperatureKind.CELL, rt.temperature_max),
                Temperature(TemperatureKind.CELL, rt.temperature_min),
            ),
            state_of_charge=rt.state_of_charge,
            state_of_health=rt.state_of_health,
            design_capacity=rt.design_capacity,
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Pylontech RT is read only."""
        raise UnsupportedError(f"Pylontech RT has no {kind} command")
