"""E&J Technology packs and their rebrands over BLE: the conversation.

Lithtech, Volthium, LiTime (older serials), Fliteboard, Electronix, Chins,
AG Automotive and E&J's own EJ PRO packs speak E&J's ASCII protocol
(:mod:`.frames`) over the Nordic UART service, AG's and the EJ PRO's over
AG's service [A] (aiobmsble 0.31.0 (PyPI sdist) ``ejpro_bms.py``). A read asks for the
real-time reply and, in the two-frame protocol, for the capacity reply. Read
only: no public source documents a command. [A] is patman15/aiobmsble, as
cited in :mod:`.frames`.

The checksum is a byte sum, and ``libattU`` packs send a wrong one, so it is
not checked for them [A]: the decoder refuses cell slots no pack fills so,
and the capacities are shown only where they agree with the SOC and keep the
design capacity this driver saw before (:meth:`EjDriver._trusted`).
"""

from __future__ import annotations

from ..driver import BmsDriver, DriverOptions, FrameMatcher
from ..errors import UnsupportedError
from ..matching import AdvertisementMatcher
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
    CAPACITY,
    CAPACITY_REQUEST,
    MAX_CELLS,
    REALTIME,
    REALTIME_REQUEST,
    EjCapacity,
    EjRealtime,
    decode_capacity,
    decode_realtime,
    is_reply,
)
from .stream import EjReassembler

# Nordic UART service [A]; AG's vendor service [A] (ag_bms.py), also the
# EJ PRO's (aiobmsble 0.31.0 (PyPI sdist) aiobmsble/bms/ejpro_bms.py).
NUS = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
NUS_TX = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"
NUS_RX = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
AG_SERVICE = "00008000-0000-1000-8000-57616c6b697a"
AG_NOTIFY = "00008002-0000-1000-8000-57616c6b697a"
AG_WRITE = "00008001-0000-1000-8000-57616c6b697a"
# Company IDs of the advertisements [A]: 21320 (0x5348) Fliteboard, AG and
# E&J's own EJ names (BMS_BLE-HA #819); 33384 Electronix and LiTime; 22618
# LiTime (also Redodo's, with other serial ranges).
HS_COMPANY = 21320
ELECTRONIX_COMPANY = 33384
LITIME_COMPANY = 22618
# A pack of this name sends a checksum that does not fit [A].
NO_CHECKSUM_PREFIX = "libattU"


class EjDriver(BmsDriver):
    """Reads an E&J Technology BMS (two-frame or single-frame protocol)."""

    family = "ej"
    manufacturer = "E&J Technology"
    brand = "E&J"
    # Before Redodo: its ``L-12*`` names with FFE0 and company 22618 could
    # cover an ``L-12V???AH-`` pack, E&J's claim is the more specific one.
    claim_order = 35
    gatt = (
        GattProfile(service=NUS, notify=NUS_TX, write=NUS_RX),
        GattProfile(service=AG_SERVICE, notify=AG_NOTIFY, write=AG_WRITE),
    )
    # patman15/aiobmsble ``ej_bms.py`` and ``ag_bms.py`` @ b0567331; Home
    # Assistant wants three literal characters first, so Chins' ``G-`` and
    # AG's ``AG???L`` are spelt out per digit.
    matchers = (
        AdvertisementMatcher(local_name="L-12V???AH-*"),
        AdvertisementMatcher(local_name="LT-12V-*"),
        AdvertisementMatcher(local_name="V-12V???Ah-*"),
        AdvertisementMatcher(local_name="libatt*", manufacturer_id=HS_COMPANY),
        AdvertisementMatcher(local_name="SV12V*", manufacturer_id=ELECTRONIX_COMPANY),
        *(
            AdvertisementMatcher(local_name="LT-12???BG-A0[0-6]*", manufacturer_id=c)
            for c in (ELECTRONIX_COMPANY, LITIME_COMPANY)
        ),
        AdvertisementMatcher(
            local_name="LT-24???B-A00[0-2]*", manufacturer_id=LITIME_COMPANY
        ),
        *(
            AdvertisementMatcher(local_name=f"G-{digit}*V*Ah-[0-9]*")
            for digit in range(10)
        ),
        *(
            AdvertisementMatcher(
                local_name=f"AG{digit}??L*", manufacturer_id=HS_COMPANY
            )
            for digit in range(10)
        ),
        # E&J's own EJ PRO packs (aiobmsble 0.31.0 (PyPI sdist)
        # aiobmsble/bms/ejpro_bms.py: ``EJ*``), a digit spelt out.
        *(
            AdvertisementMatcher(local_name=f"EJ{digit}*", manufacturer_id=HS_COMPANY)
            for digit in range(10)
        ),
    )
    limits = Limits(max_cells=MAX_CELLS)

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Start without a design capacity seen."""
        super().__init__(transport, options)
        self._design: float | None = None
        self._candidate: float | None = None

    def new_reassembler(self) -> EjReassembler:
        """Frames by head, length, end and (unless the name says not) checksum."""
        name = self.options.name or ""
        return EjReassembler(verify_checksum=not name.startswith(NO_CHECKSUM_PREFIX))

    async def read_device_info(self) -> DeviceInfo:
        """The protocol reports no model, version or serial number."""
        return DeviceInfo(manufacturer=self.manufacturer)

    async def read_snapshot(self) -> BatterySnapshot:
        """The real-time reply and, in the two-frame protocol, the capacities."""
        realtime = decode_realtime(
            await self.exchange(REALTIME_REQUEST, _answers(REALTIME))
        )
        capacity = realtime.capacity
        if capacity is None:
            capacity = decode_capacity(
                await self.exchange(CAPACITY_REQUEST, _answers(CAPACITY))
            )
        return _snapshot(realtime, self._trusted(capacity, realtime.soc))

    def _trusted(self, capacity: EjCapacity, soc: int) -> EjCapacity | None:
        """The capacities if they can be the pack's, else None (not shown).

        Besides agreeing with the SOC, the design capacity must be the one
        seen before; a different one counts once it is seen twice in a row.
        """
        if not capacity.agrees_with(soc):
            return None
        design = capacity.design
        if self._design not in (None, design) and design != self._candidate:
            self._candidate = design
            return None
        self._design, self._candidate = design, None
        return capacity

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source documents a command."""
        raise UnsupportedError(f"E&J has no {kind} command with a read-back")


def _answers(command: int) -> FrameMatcher:
    def expect(frame: bytes) -> bool:
        return is_reply(frame, command)

    return expect


def _snapshot(realtime: EjRealtime, capacity: EjCapacity | None) -> BatterySnapshot:
    cells = realtime.cell_voltages
    return BatterySnapshot(
        # The protocol has no pack voltage: the sum of the cells, as [A].
        voltage=round(sum(cells), 3),
        current=realtime.current,
        cell_voltages=cells,
        temperatures=(Temperature(TemperatureKind.CELL, realtime.temperature),),
        state_of_charge=float(realtime.soc),
        remaining_capacity=capacity.remaining if capacity else None,
        design_capacity=capacity.design if capacity else None,
        cycles=realtime.cycles,
        balancing=realtime.balancing,
        charge_mosfet=realtime.charge_fet,
        discharge_mosfet=realtime.discharge_fet,
        heater=realtime.heater,
        # No public source names the status bits: only the code is shown.
        protection_code=realtime.protection_code,
    )
