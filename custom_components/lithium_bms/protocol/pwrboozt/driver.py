"""PowerBoozt and Dörr Power ``BT-Battery`` packs over BLE: the conversation.

One request, ``:015150000EFE~``, answered by one reply (:mod:`.frames`).
PowerBoozt packs answer on FFF1 and are written on FFF2 [A]; Dörr packs read
and write FFF6 in the same FFF0 service [B][C]: two GATT profiles, one
protocol. Read only: no public source documents a command. [A] to [C] are
cited in :mod:`.frames`.
"""

from __future__ import annotations

from ..driver import BmsDriver
from ..errors import UnsupportedError
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
from .frames import MAX_CELLS, REQUEST, SUPPORTED_ALARMS, decode_status
from .stream import PwrbooztReassembler

# PowerBoozt's company ID (0x7F04) [A]; Dörr advertises service data under
# FFE1 carrying its MAC address [B].
COMPANY_ID = 32516
DOERR_SERVICE_DATA = uuid16(0xFFE1)


class PwrbooztDriver(BmsDriver):
    """Reads a PowerBoozt or Dörr Power BMS."""

    family = "pwrboozt"
    manufacturer = "PowerBoozt"
    brand = "PowerBoozt"
    # Its matchers need ``BT-Battery`` with company 32516 and FFF0, or with
    # FFE1 service data: no other family's record in the corpus has either.
    claim_order = 37
    gatt = (
        GattProfile(service=0xFFF0, notify=0xFFF1, write=0xFFF2),
        GattProfile(service=0xFFF0, notify=0xFFF6, write=0xFFF6),
    )
    # patman15/aiobmsble ``pwrboozt_bms.py`` [A] and ``doerrpwr_bms.py`` [B].
    matchers = (
        AdvertisementMatcher(
            local_name="BT-Battery*",
            service_uuid=uuid16(0xFFF0),
            manufacturer_id=COMPANY_ID,
        ),
        AdvertisementMatcher(
            local_name="BT-Battery*", service_data_uuid=DOERR_SERVICE_DATA
        ),
    )
    limits = Limits(max_cells=MAX_CELLS)

    def new_reassembler(self) -> PwrbooztReassembler:
        """Frames by head, length, end and checksum."""
        return PwrbooztReassembler()

    async def read_device_info(self) -> DeviceInfo:
        """The reply carries no model, version or serial number."""
        return DeviceInfo(manufacturer=self.manufacturer)

    async def read_snapshot(self) -> BatterySnapshot:
        """One request and its reply."""
        status = decode_status(await self.exchange(REQUEST, _is_frame))
        return BatterySnapshot(
            voltage=status.voltage,
            current=status.current,
            cell_voltages=status.cell_voltages,
            temperatures=tuple(
                Temperature(TemperatureKind.CELL, t) for t in status.temperatures
            ),
            state_of_charge=float(status.soc),
            full_capacity=status.full,
            design_capacity=status.design,
            cycles=status.cycles,
            balancing=bool(status.balancing_cells),
            balancing_cells=status.balancing_cells,
            charge_mosfet=status.charge_fet,
            discharge_mosfet=status.discharge_fet,
            alarms=status.alarms,
            supported_alarms=SUPPORTED_ALARMS,
            protection_code=status.protection_code,
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source documents a command."""
        raise UnsupportedError(f"PowerBoozt has no {kind} command with a read-back")


def _is_frame(frame: bytes) -> bool:
    """Every frame the reassembler passes is the one reply there is."""
    return True
