"""Humsienk BMC packs over BLE: the conversation.

Service 0001, notify 0003, write 0002. After connecting, a handshake (0x00);
each update asks for the operating status (0x20), the battery information
(0x21) and the cells (0x22); the frames are in :mod:`.frames`. Read only: the
register map lists charge, discharge and balance commands 0x50-0x52
(patman15/aiobmsble ``docs/humsienk_bms.md``
@ b0567331025033d33729385fa89a1198275d6486) under "not implemented": no
public capture shows one answered or confirmed by a read-back.

The sum is 16 bits over the bytes, so a frame of random content with its sum
fitted would pass: the battery information must agree with itself (remaining
below full capacity, the SOC with their ratio) and the plausibility gate
compares the pack voltage with the cells of the same update.
"""

from __future__ import annotations

from ..driver import BmsDriver
from ..errors import FrameError, UnsupportedError
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
    BATTERY,
    CELL_PROBES,
    CELLS,
    HANDSHAKE,
    MAX_CELLS,
    MODEL,
    STATUS,
    SUPPORTED_ALARMS,
    VERSION,
    HumsienkBattery,
    build_request,
    decode_battery,
    decode_cells,
    decode_status,
    decode_text,
    is_reply,
)
from .stream import HumsienkReassembler

SERVICE = 0x0001
HEX = "[0-9A-F]"
DIGITS = "0123456789ABCDEF"
# The SOC may differ from remaining / full by this many points: the capture
# shows 42 % for 63.46 of 150 Ah (42.3 %).
SOC_TOLERANCE = 2.0


class HumsienkDriver(BmsDriver):
    """Reads a Humsienk BMC BMS (ECO-WORTHY ``ECO…`` packs with its module)."""

    family = "humsienk"
    manufacturer = "Humsienk"
    brand = "Humsienk"
    # The modules advertise FF00 (like JBD's and Braun Power's) and their own
    # service 0001; aiobmsble ``humsienk_bms.py`` matches ``HS*`` and
    # ``ECO????`` with 0001. Both names end in four hex digits of the MAC
    # (aiobmsble ``test_data/humsienk_bms.json``), unlike ECO-WORTHY's own
    # ``ECO-WORTHY …`` and JBD's ``ECO-LFP…``; Braun Power's ``HSKS-…`` come
    # without 0001. No older family claims these, so it comes after them.
    claim_order = 55
    gatt = (GattProfile(service=SERVICE, notify=0x0003, write=0x0002),)
    # Home Assistant wants three literal characters first: ``HS`` and four
    # hex digits is spelt out per first digit.
    matchers = tuple(
        AdvertisementMatcher(local_name=name, service_uuid=uuid16(SERVICE))
        for name in (*(f"HS{digit}{HEX * 3}" for digit in DIGITS), f"ECO{HEX * 4}")
    )
    limits = Limits(max_cells=MAX_CELLS)

    def new_reassembler(self) -> HumsienkReassembler:
        """Frames by head, length and 16-bit sum."""
        return HumsienkReassembler()

    async def initialize(self) -> None:
        """The handshake the module wants before any request [aiobmsble]."""
        await self._ask(HANDSHAKE)

    async def read_device_info(self) -> DeviceInfo:
        """Model (0x11) and hardware version (0xF5)."""
        model = decode_text(await self._ask(MODEL))
        version = decode_text(await self._ask(VERSION))
        return DeviceInfo(
            manufacturer=self.manufacturer, model=model, hw_version=version
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """Status, battery information and cells: three requests."""
        status = decode_status(await self._ask(STATUS))
        battery = decode_battery(await self._ask(BATTERY))
        _check_consistent(battery)
        cells = decode_cells(await self._ask(CELLS))
        kinds = [TemperatureKind.CELL] * CELL_PROBES
        kinds += [TemperatureKind.MOSFET, TemperatureKind.AMBIENT]
        return BatterySnapshot(
            voltage=battery.voltage,
            current=battery.current,
            cell_voltages=cells,
            temperatures=tuple(
                Temperature(kind, float(value))
                for kind, value in zip(kinds, battery.probes, strict=True)
            ),
            state_of_charge=float(battery.soc),
            state_of_health=float(battery.soh),
            remaining_capacity=battery.remaining,
            # "allCapacity" [B], what aiobmsble shows as the design capacity.
            design_capacity=battery.full,
            cycles=battery.cycles,
            balancing=bool(status.balancing_cells),
            balancing_cells=status.balancing_cells,
            charge_mosfet=status.charge_fet,
            discharge_mosfet=status.discharge_fet,
            alarms=status.alarms,
            supported_alarms=SUPPORTED_ALARMS,
            protection_code=status.protection_code,
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source confirms a command by read-back."""
        raise UnsupportedError(f"Humsienk has no {kind} command with a read-back")

    async def _ask(self, command: int) -> bytes:
        return await self.exchange(
            build_request(command), lambda frame: is_reply(frame, command)
        )


def _check_consistent(battery: HumsienkBattery) -> None:
    """Refuse battery information that disagrees with itself."""
    if battery.soc > 100 or battery.soh > 100 or battery.full <= 0:
        raise FrameError("Humsienk SOC, SOH or capacity out of range")
    if battery.remaining > battery.full:
        raise FrameError("Humsienk remaining capacity above the full capacity")
    if abs(battery.soc - 100 * battery.remaining / battery.full) > SOC_TOLERANCE:
        raise FrameError("Humsienk SOC disagrees with the capacities")
