"""CBT Power (Creabest) packs over Bluetooth: classic and VB series, read only.

Both speak on notify FFE4 (service FFE0) and take writes on FFE9 (service
FFE5), as patman15/aiobmsble ``aiobmsble/bms/cbtpwr_bms.py`` and
``cbtpwr_vb_bms.py`` @ b0567331025033d33729385fa89a1198275d6486 do. Which
protocol a pack speaks comes from its advertised name (``VB`` and nine
characters: the VB series) and is stored with the entry. Neither source
documents a write command, so the family is read only.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from ..driver import BmsDriver, DriverOptions, FrameMatcher, Reassembler
from ..errors import UnsupportedError
from ..matching import AdvertisementMatcher, uuid16
from ..plausibility import Limits
from ..snapshot import BatterySnapshot, DeviceInfo, SwitchKind
from ..transport import GattProfile, Transport
from .frames import MAX_CELLS
from .variants import CLASSIC, VARIANTS, VB, CbtVariant

# aiobmsble's classic matchers: service FFE5; service 03C1 with company ID
# 0x5352; a Creabest name ``???[CR]??????`` with service FFF0. Home
# Assistant wants three literal characters first. The public names start with
# ``1`` and two digits (100R, 140R, 170R, 170C): every ``1``-two-digit prefix
# is spelt out, so that the others of aiobmsble's pattern (150R …) match too.
COMPANY_ID = 0x5352
CLASSIC_NAMES = tuple(f"1{number:02d}[CR]??????" for number in range(100))
# The VB series: ``VB?????????`` with service FFF0 [aiobmsble]; the VB0 of
# every public name (VB024, VB035) spelt out. The Creabest modules' company
# ID 16963 with ``54 5E 02`` is the VB modules' data (BMS_BLE-HA #240, #355),
# for an advertisement whose service list the proxy garbled.
VB_NAME = "VB0????????"
CREABEST_ID = 16963
VB_DATA = b"\x54\x5e\x02"


class CbtPowerDriver(BmsDriver):
    """Reads a CBT Power pack (read only)."""

    family = "cbtpwr"
    manufacturer = "CBT Power"
    brand = "CBT Power"
    # Its claims overlap none of the older families' records; after Redodo.
    claim_order = 45
    gatt = (
        GattProfile(service=0xFFE0, notify=0xFFE4, write=0xFFE9, write_service=0xFFE5),
    )
    matchers = (
        AdvertisementMatcher(service_uuid=uuid16(0xFFE5)),
        AdvertisementMatcher(service_uuid=uuid16(0x03C1), manufacturer_id=COMPANY_ID),
        *(
            AdvertisementMatcher(local_name=name, service_uuid=uuid16(0xFFF0))
            for name in (*CLASSIC_NAMES, VB_NAME)
        ),
        AdvertisementMatcher(
            local_name=VB_NAME,
            manufacturer_id=CREABEST_ID,
            manufacturer_data_start=VB_DATA,
        ),
    )
    variants = tuple(VARIANTS)
    limits = Limits(max_cells=MAX_CELLS)

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Take the stored variant, else the one the advertised name says."""
        stored = VARIANTS.get(options.variant or "")
        self._variant: CbtVariant = stored or _variant_by_name(options.name)
        # Without a stored variant or a name, classic is a guess: not stored.
        self._known = stored is not None or bool(options.name)
        super().__init__(transport, options)

    @property
    def variant(self) -> str | None:
        """``classic`` or ``vb``, once the stored variant or the name says."""
        return self._variant.name if self._known else None

    def new_reassembler(self) -> Reassembler:
        """The reassembler of the pack's protocol."""
        return self._variant.new_reassembler()

    async def read_device_info(self) -> DeviceInfo:
        """Neither protocol reports a model or a version."""
        return DeviceInfo(
            manufacturer=self._variant.manufacturer, model=self._variant.model
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """One read in the pack's protocol."""
        return await self._variant.read(self)

    async def exchange_in_pieces(
        self, payload: bytes, expect: FrameMatcher, size: int
    ) -> bytes:
        """Send one request in writes of ``size`` bytes; wait for its reply."""
        self.inbox.clear()
        try:
            for start in range(0, len(payload), size):
                await self.send(payload[start : start + size])
            return await self.inbox.wait_for(expect, self.request_timeout)
        finally:
            self.transport.release()

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source documents a command."""
        raise UnsupportedError(f"CBT Power has no {kind} command with a read-back")


def _variant_by_name(name: str | None) -> CbtVariant:
    if name and fnmatchcase(name, VB_NAME):
        return VB
    return CLASSIC
