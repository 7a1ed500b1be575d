"""Gobel Power BLE BMS: Modbus RTU over the Nations / Ambiq 2760 service.

The pack answers Modbus device 0x01 on service ``00002760-…-1001`` (write
``…0001``, notify ``…0002``); it advertises no service, so discovery goes by
name (patman15/aiobmsble ``aiobmsble/bms/gobel_bms.py``, 0.31.0 on PyPI, and
its ``aiobmsble/test_data/gobel_bms.json``): ``BMS-`` and the 16-character
BMS serial number, or (Dyness AR1.2, BMS_BLE-HA issue #749) ``B`` and two
digits with manufacturer data ``4E`` under company ID 65535. Read only: no
public source documents a write command.
"""

from __future__ import annotations

from ..codecs import modbus
from ..driver import BmsDriver, FrameMatcher, Reassembler
from ..errors import BmsTimeoutError, UnsupportedError
from ..matching import AdvertisementMatcher
from ..plausibility import Limits
from ..snapshot import BatterySnapshot, DeviceInfo, SwitchKind
from ..transport import GattProfile
from .frames import (
    FUNCTION,
    INFO_BYTES,
    MAX_CELLS,
    NOTIFY,
    SERVICE,
    STATUS_BYTES,
    WRITE,
    decode_info,
    decode_status,
    info_request,
    status_request,
)
from .stream import GobelReassembler

# Company ID 65535 (reserved, used by unregistered makers) with data 0x4E.
UNREGISTERED = 0xFFFF
NATIONS_DATA = b"\x4e"


def _answers(size: int) -> FrameMatcher:
    """A reply of ``size`` data bytes, or a Modbus exception."""

    def expect(frame: bytes) -> bool:
        if frame[1] == FUNCTION | modbus.EXCEPTION_FLAG:
            return True
        return frame[1] == FUNCTION and frame[2] == size

    return expect


class GobelDriver(BmsDriver):
    """Reads a Gobel Power pack: the status block, once per snapshot."""

    family = "gobel"
    manufacturer = "Gobel Power"
    brand = "Gobel"
    # Last: ``BMS-`` names are generic, and the pack advertises no service, so
    # every family with a more specific claim goes first.
    claim_order = 900
    gatt = (GattProfile(service=SERVICE, notify=NOTIFY, write=WRITE),)
    matchers = (
        # ``BMS-`` and the 16-character serial (hex digits first, as aiobmsble
        # matches; ``BMS-4056911A1100032P`` carries a ``P``).
        AdvertisementMatcher(local_name="BMS-[0-9A-F]???????????????*"),
        # Home Assistant wants three literal characters first: B[0-9][0-9]*
        # is spelt out per two digits.
        *(
            AdvertisementMatcher(
                local_name=f"B{number:02d}*",
                manufacturer_id=UNREGISTERED,
                manufacturer_data_start=NATIONS_DATA,
            )
            for number in range(100)
        ),
    )
    limits = Limits(max_cells=MAX_CELLS)

    def new_reassembler(self) -> Reassembler:
        """Replies of device 0x01."""
        return GobelReassembler()

    def is_sensitive(self, frame: bytes) -> bool:
        """The device information reply carries the serial number."""
        return len(frame) > 2 and frame[1] == FUNCTION and frame[2] == INFO_BYTES

    async def _read(self, request: bytes, size: int) -> bytes:
        reply = modbus.parse_response(await self.exchange(request, _answers(size)))
        if reply.is_exception:
            raise UnsupportedError(f"Gobel read refused (code {reply.exception_code})")
        return reply.data

    async def read_device_info(self) -> DeviceInfo:
        """Software version, serial number and model, where the pack answers."""
        try:
            data = await self._read(info_request(), INFO_BYTES)
        except (UnsupportedError, BmsTimeoutError):
            return DeviceInfo(manufacturer=self.manufacturer)
        return decode_info(data, self.manufacturer)

    async def read_snapshot(self) -> BatterySnapshot:
        """One status block."""
        data = await self._read(status_request(), STATUS_BYTES)
        return decode_status(data).snapshot()

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Gobel is read only here."""
        raise UnsupportedError(f"Gobel has no {kind} command with a read-back")
