"""Felicity Solar batteries over BLE: the conversation.

The battery's WiFi/BLE module speaks the dongle's local protocol: the host
writes ``wifilocalMonitor:get dev real infor`` to ``49535258-…`` and the
module notifies one JSON reply on ``49535458-…`` (service ``6e6f736a-…``),
as patman15/aiobmsble ``aiobmsble/bms/felicity_bms.py``
@ b0567331025033d33729385fa89a1198275d6486 does; the frames are in
:mod:`.frames`. The module advertises only its name, the dongle serial: ``F10``
(LUX-Y-48300LG01, BMS_BLE-HA #161) or ``F07`` (FLB48314TG1, BMS_BLE-HA #466)
and 16 digits. Read only: the app's ``wifilocalMonitor:set cmd=<JSON>`` is
known to exist, but no public source documents its settings or a read-back
(felicity-cyd ``docs/protocol.md``). The fault and warning words have no
public bit table (a public ESPHome ``felicity_bms`` component publishes them
raw for that reason): they show in the protection code only, never as a
named alarm; no public source decodes MOSFET or balancing states either.
"""

from __future__ import annotations

from ..driver import BmsDriver
from ..errors import BmsTimeoutError, ProtocolError, UnsupportedError
from ..matching import AdvertisementMatcher
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
    BASIC_INFO,
    MAX_CELLS,
    REAL_INFO,
    decode_basic_info,
    decode_real_info,
    is_basic_info,
    is_real_info,
)
from .stream import FelicityReassembler

SERVICE = "6e6f736a-4643-4d44-8fa9-0fafd005e455"
NOTIFY = "49535458-8341-43f4-a9d4-ec0e34729bb3"
WRITE = "49535258-184d-4bd9-bc61-20c647249616"
# Every reply names the dongle (wifiSN) and most the BMS (DevSN).
SERIAL_KEYS = (b'"wifiSN"', b'"DevSN"')
# The real-time reply is some 800 bytes, 40 notifications at the smallest
# MTU (about ten times a binary family's reply): it is given two request
# timeouts to arrive.
REAL_INFO_TIMEOUTS = 2


class FelicityDriver(BmsDriver):
    """Reads a Felicity Solar battery: one real-time reply per snapshot."""

    family = "felicity"
    manufacturer = "Felicity Solar"
    brand = "Felicity"
    # A name of three literal characters and 16 more, no service: it overlaps
    # no other family's claim in the corpus, so it is tried after them.
    claim_order = 60
    gatt = (GattProfile(service=SERVICE, notify=NOTIFY, write=WRITE),)
    matchers = tuple(AdvertisementMatcher(local_name=name) for name in ("F07*", "F10*"))
    # The pack voltage is measured beside the cells: the two public captures
    # (see the vectors) differ from the sum of the cells by 1 and 18 mV.
    limits = Limits(max_cells=MAX_CELLS, cell_sum_margin=0.1, cell_sum_tolerance=0.01)

    def new_reassembler(self) -> FelicityReassembler:
        """JSON objects by balanced braces."""
        return FelicityReassembler()

    def is_sensitive(self, frame: bytes) -> bool:
        """The replies carry the dongle's and the BMS's serial numbers."""
        return any(key in frame for key in SERIAL_KEYS)

    async def read_device_info(self) -> DeviceInfo:
        """Software version and BMS serial, where the module answers."""
        try:
            frame = await self.exchange(BASIC_INFO, is_basic_info)
            info = decode_basic_info(frame)
        except (BmsTimeoutError, ProtocolError):
            return DeviceInfo(manufacturer=self.manufacturer)
        return DeviceInfo(
            manufacturer=self.manufacturer,
            sw_version=info.version,
            serial_number=info.serial_number,
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """One real-time request and its reply."""
        frame = await self.exchange(
            REAL_INFO, is_real_info, REAL_INFO_TIMEOUTS * self.request_timeout
        )
        status = decode_real_info(frame)
        return BatterySnapshot(
            voltage=status.voltage,
            current=status.current,
            cell_voltages=status.cell_voltages,
            temperatures=tuple(
                Temperature(TemperatureKind.CELL, value)
                for value in status.temperatures
            ),
            state_of_charge=status.soc,
            remaining_capacity=status.remaining,
            full_capacity=status.full,
            protection_code=status.protection_code,
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source documents a command."""
        raise UnsupportedError(f"Felicity has no {kind} command with a read-back")
