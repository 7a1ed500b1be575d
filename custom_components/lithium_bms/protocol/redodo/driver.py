"""Redodo, LiTime, Power Queen and Starry Sea packs over BLE: the conversation.

One request, 0x13 "query battery status", answered by one 105-byte reply on
FFE1 (written to FFE2); the frames are in :mod:`.frames`. Read only: the
LiTime app's commands 0x0A-0x0D switch the charge and discharge MOSFETs
(calledit/LiTime_BMS_bluetooth ``index.html``
@ d60d75f0fb06e777ec5b7644fca5172aca1cec17), but no public capture shows such
a command with a reply or a read-back that confirms it.
"""

from __future__ import annotations

from ..driver import BmsDriver, DriverOptions
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
from ..transport import GattProfile, Transport
from .frames import (
    FIXED_PROBES,
    MAX_CELLS,
    STATUS,
    SUPPORTED_ALARMS,
    RedodoStatus,
    build_request,
    decode_status,
    is_reply,
)
from .stream import RedodoReassembler

# The modules' company ID, 0x585A; their data is the MAC address.
COMPANY_ID = 22618
# Name patterns of patman15/aiobmsble ``aiobmsble/bms/redodo_bms.py``
# @ b0567331025033d33729385fa89a1198275d6486: Redodo (R-, RO-), Power Queen
# (P-, PQ-), ECO-WORTHY (T-), LiTime (L-, LT-: only the serial ranges that
# speak this protocol; older LT- packs speak E&J's) and Starry Sea (S-, SS-).
# Home Assistant wants three literal characters first, so ``S-*`` is spelt
# out per digit.
NAMES = (
    *("P-12*", "P-24*", "PQ-12*", "PQ-24*", "R-12*", "R-24*", "RO-12*", "RO-24*"),
    *("T-12*", "T-24*", "L-12*", "L-24*", "L-51*"),
    *("LT-12???BG-A0[7-9]*", "LT-24???B-A00[3-9]*", "LT-24???B-A0[1-9]*"),
    *("LT-24???B-A[1-9]*", "LT-51*"),
    *(f"S-{digit}*" for digit in range(10)),
    "SS-*",
)


class RedodoDriver(BmsDriver):
    """Reads a Redodo (LiTime, Power Queen) BMS."""

    family = "redodo"
    manufacturer = "Redodo"
    brand = "Redodo"
    # Service FFE0 is also JK's, ANT's, RoyPow's and Topband's: the claim needs
    # a name, FFE0 and company ID 22618 together, which no other family's
    # record in the corpus has (E&J's LiTime packs share the company ID and
    # the LT- prefix, not these serial ranges). Overlapping no older family's
    # claim, it comes after them, so an unclaimed device is probed for those
    # first, as before.
    claim_order = 40
    gatt = (GattProfile(service=0xFFE0, notify=0xFFE1, write=0xFFE2),)
    matchers = tuple(
        AdvertisementMatcher(
            local_name=name, service_uuid=uuid16(0xFFE0), manufacturer_id=COMPANY_ID
        )
        for name in NAMES
    )
    limits = Limits(max_cells=MAX_CELLS)

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Start with the probes every pack has."""
        super().__init__(transport, options)
        # Probes after the first two exist once they read non-zero, and are
        # kept from then on, as patman15/aiobmsble does (0 °C reads as 0).
        self._probes = FIXED_PROBES

    def new_reassembler(self) -> RedodoReassembler:
        """Frames by head, length and sum."""
        return RedodoReassembler()

    async def read_device_info(self) -> DeviceInfo:
        """The BMS reports no model over this protocol's status reply."""
        return DeviceInfo(manufacturer=self.manufacturer)

    async def read_snapshot(self) -> BatterySnapshot:
        """One status request and its reply."""
        frame = await self.exchange(build_request(STATUS), _answers_status)
        return self._snapshot(decode_status(frame))

    def _snapshot(self, status: RedodoStatus) -> BatterySnapshot:
        present = [i for i, t in enumerate(status.probes) if t and i >= FIXED_PROBES]
        self._probes = max(self._probes, *(i + 1 for i in present), FIXED_PROBES)
        kinds = (TemperatureKind.CELL, TemperatureKind.MOSFET)
        temperatures = tuple(
            Temperature(kinds[i] if i < len(kinds) else TemperatureKind.CELL, t)
            for i, t in enumerate(status.probes[: self._probes])
        )
        return BatterySnapshot(
            voltage=status.voltage,
            current=status.current,
            cell_voltages=status.cell_voltages,
            temperatures=temperatures,
            state_of_charge=float(status.soc),
            # A pack whose measured capacity exceeds its rating reports more
            # than 100 % (gearboxlabs/litime-ble ``docs/protocol.md``: 105).
            state_of_health=float(min(status.soh, 100)),
            remaining_capacity=status.remaining,
            full_capacity=status.full,
            cycles=status.cycles,
            balancing=status.balancing,
            charge_mosfet=status.charge_enabled,
            discharge_mosfet=status.discharge_enabled,
            alarms=status.alarms,
            supported_alarms=SUPPORTED_ALARMS,
            protection_code=status.protection_code,
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source confirms a command by read-back."""
        raise UnsupportedError(f"Redodo has no {kind} command with a read-back")


def _answers_status(frame: bytes) -> bool:
    return is_reply(frame, STATUS)
