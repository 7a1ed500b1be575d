"""EG4 BMS over Bluetooth: one Modbus read of the status block per update.

GATT service 1000, write 1001, notify 1002; the module answers for Modbus
device 0x01 (patman15/aiobmsble ``aiobmsble/bms/eg4_bms.py`` and the request
``01 03 00 00 00 27 05 D0`` of its ``tests/bms/test_eg4_bms.py``
@ b0567331025033d33729385fa89a1198275d6486). Read only: no
public source documents a MOSFET or balancer command with a read-back. The
status block reports no MOSFET state, and no heater this driver can trust:
dbus-serialbattery's heater byte (0x00 off, 0x80 on) reads 0x03 in the
capture of aiobmsble issue #48.
"""

from __future__ import annotations

from ..codecs import modbus
from ..driver import BmsDriver, Reassembler
from ..errors import UnsupportedError
from ..matching import AdvertisementMatcher, uuid16
from ..plausibility import Limits
from ..snapshot import BatterySnapshot, DeviceInfo, SwitchKind
from ..transport import GattProfile
from .frames import MAX_CELLS, decode_status, is_status_reply, status_request
from .stream import Eg4Reassembler


class Eg4Driver(BmsDriver):
    """Reads an EG4 LL / LifePower pack (and its Sungold rebrands)."""

    family = "eg4"
    manufacturer = "EG4 Electronics"
    brand = "EG4"
    # Company IDs no other family uses: the order only has to be unique.
    claim_order = 340
    gatt = (GattProfile(service=0x1000, notify=0x1002, write=0x1001),)
    # The company ID is the address' first two bytes, the data its last four:
    # EG4 ``80:6F:B0:...`` modules (0x6F80, data B0..., service 1000) and
    # Sungold ``CC:45:A5:...`` ones (0x45CC, data A5..., no service). Source:
    # the matchers and advertisements of aiobmsble ``eg4_bms.py`` and
    # ``aiobmsble/test_data/eg4_bms.json`` at the commit above (BMS_BLE-HA
    # issues #509, #699), in tests/protocol/data/advertisements.json.
    matchers = (
        AdvertisementMatcher(
            service_uuid=uuid16(0x1000),
            manufacturer_id=0x6F80,
            manufacturer_data_start=b"\xb0",
        ),
        AdvertisementMatcher(manufacturer_id=0x45CC, manufacturer_data_start=b"\xa5"),
    )
    limits = Limits(max_cells=MAX_CELLS)

    def new_reassembler(self) -> Reassembler:
        """Modbus replies of device 0x01."""
        return Eg4Reassembler()

    async def read_device_info(self) -> DeviceInfo:
        """The maker only: the public decoders disagree on the info block."""
        return DeviceInfo(manufacturer=self.manufacturer)

    async def read_snapshot(self) -> BatterySnapshot:
        """One status block."""
        reply = modbus.parse_response(
            await self.exchange(status_request(), is_status_reply)
        )
        if reply.is_exception:
            raise UnsupportedError(
                f"EG4 status read refused (code {reply.exception_code})"
            )
        return decode_status(reply.data)

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """EG4 is read only here."""
        raise UnsupportedError(f"EG4 has no {kind} command with a read-back")
