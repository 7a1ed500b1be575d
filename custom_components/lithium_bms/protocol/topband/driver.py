"""Topband and PowerXtreme packs over BLE: the conversation.

The BMS notifies a status frame again and again while a host stays
connected, without being asked (patman15/aiobmsble
``aiobmsble/bms/topband_bms.py`` @ b0567331025033d33729385fa89a1198275d6486
has no write characteristic and waits for the next frame), so a snapshot is
the next frame after the read starts. Topband modules (Ective, StartCraft,
KiloVault) notify on FFE4 in service FFE0; PowerXtreme ones on FFF1 in FFF0,
and are first asked on FFF2 (aiobmsble 0.31.0 (PyPI sdist)
``aiobmsble/bms/pwrxtreme_bms.py``; :mod:`.variants`). The frames are in
:mod:`.frames`. Read only: no public source documents a command.
"""

from __future__ import annotations

from ..driver import BmsDriver
from ..errors import UnsupportedError
from ..matching import AdvertisementMatcher, full_uuid, uuid16
from ..plausibility import Limits
from ..snapshot import (
    BatterySnapshot,
    DeviceInfo,
    SwitchKind,
    Temperature,
    TemperatureKind,
)
from ..transport import GattProfile
from .frames import MAX_CELLS, decode_status
from .stream import TopbandReassembler
from .variants import POWERXTREME, TOPBAND, TopbandVariant

TOPBAND_SERVICE = 0xFFE0
POWERXTREME_SERVICE = 0xFFF0
# Company IDs of the matchers of aiobmsble ``topband_bms.py`` (0 and 65535:
# unregistered; the data is the module's MAC) and ``pwrxtreme_bms.py`` (76,
# an iBeacon frame), at the commits above.
TOPBAND_COMPANIES = (0x0000, 0xFFFF)
POWERXTREME_COMPANY = 76


def _always(_: bytes) -> bool:
    """Every frame the reassembler passes is a status frame."""
    return True


class TopbandDriver(BmsDriver):
    """Reads a Topband (Ective, StartCraft, KiloVault) or PowerXtreme BMS."""

    family = "topband"
    manufacturer = "Topband"
    brand = "Topband / PowerXtreme"
    # FFE0 is also JK's, Redodo's and others', FFF0 Seplos V3's, Renogy's
    # and others': the claim needs the service with these company IDs, which
    # no other family's record in the corpus has. It overlaps no older
    # family's claim and comes after them.
    claim_order = 360
    gatt = (
        GattProfile(service=TOPBAND_SERVICE, notify=0xFFE4),
        GattProfile(service=POWERXTREME_SERVICE, notify=0xFFF1, write=0xFFF2),
    )
    matchers = (
        # No service data: Epoch GC2 packs advertise FFE0 and company 65535
        # too, with service data 3333 (aiobmsble 0.31.0 on PyPI, its
        # ``service_data_uuid: ""`` and ``test_data/epoch_pro_bms.json``).
        *(
            AdvertisementMatcher(
                service_uuid=uuid16(TOPBAND_SERVICE),
                manufacturer_id=company,
                without_service_data=True,
            )
            for company in TOPBAND_COMPANIES
        ),
        AdvertisementMatcher(
            service_uuid=uuid16(POWERXTREME_SERVICE),
            manufacturer_id=POWERXTREME_COMPANY,
        ),
    )
    limits = Limits(max_cells=MAX_CELLS)

    def new_reassembler(self) -> TopbandReassembler:
        """Frames by head, hex digits, sum and content."""
        return TopbandReassembler()

    def _variant(self) -> TopbandVariant:
        """The maker, told by the service in use."""
        service = self.transport.service
        if service is not None and full_uuid(service) == uuid16(POWERXTREME_SERVICE):
            return POWERXTREME
        return TOPBAND

    async def read_device_info(self) -> DeviceInfo:
        """The frame has no model: the maker is told by the service in use."""
        return DeviceInfo(manufacturer=self._variant().manufacturer)

    async def read_snapshot(self) -> BatterySnapshot:
        """The newest frame since the last read, else the next one to come.

        The inbox is emptied on every connect and by every read, so a frame
        found there arrived after the previous read. A variant that is asked
        (PowerXtreme) gives the first frame after its requests, the one
        aiobmsble 0.31.0's ``pwrxtreme_bms.py`` waits for.
        """
        variant = self._variant()
        if variant.requests:
            self.inbox.clear()
            try:
                for request in variant.requests:
                    await self.send(request)
            finally:
                self.transport.release()
            frame = await self.inbox.wait_for(_always, self.request_timeout)
        else:
            frame = await self._newest()
        status = decode_status(frame, variant.current_unit)
        return BatterySnapshot(
            voltage=status.voltage,
            current=status.current,
            cell_voltages=status.cell_voltages,
            temperatures=(Temperature(TemperatureKind.CELL, status.temperature),),
            state_of_charge=float(status.soc),
            remaining_capacity=status.remaining,
            cycles=status.cycles,
            protection_code=status.problem_code,
        )

    async def _newest(self) -> bytes:
        """The newest frame in the inbox, else the next one."""
        frame = None
        while (newer := self.inbox.take(_always)) is not None:
            frame = newer
        if frame is None:
            frame = await self.inbox.wait_for(_always, self.request_timeout)
        return frame

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source documents a command."""
        raise UnsupportedError(f"Topband has no {kind} command")
