"""Braun Power packs over BLE: the conversation.

Three requests per reading, each answered by one reply on FF01 (written to
FF02): 0x01 status, 0x02 cells, 0x03 temperatures; 0x74 and 0xF4 name the
firmware once. The frames are in :mod:`.frames`. Read only: no public source
documents a command (patman15/aiobmsble ``aiobmsble/bms/braunpwr_bms.py``
@ b0567331025033d33729385fa89a1198275d6486 only reads).
"""

from __future__ import annotations

from ..driver import BmsDriver, FrameMatcher
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
from .frames import (
    CELLS,
    MAX_CELLS,
    PROGRAM_VERSION,
    STATUS,
    TEMPERATURES,
    VERSION_TEXT,
    BraunReading,
    build_request,
    check_reading,
    decode_cells,
    decode_status,
    decode_temperatures,
    decode_version,
    is_reply,
)
from .stream import BraunReassembler

# The modules' company ID, 0x007B, with FF00 (JBD's service too).
COMPANY_ID = 0x7B
# Name patterns of aiobmsble's ``matcher_dict_list()``: HSKS- (Braun Power, Docan
# Energy Panda with the prefix added by its owner) and BL-; KS- from
# patman15/aiobmsble PR #251 (Vanvolt Arctic Pro, renamed by its owner to the
# prefix of its firmware text ``KS_BLE_Ver1.0.0_20240326``).
NAMES = ("HSKS-*", "BL-*", "KS-*")


class BraunPowerDriver(BmsDriver):
    """Reads a Braun Power BMS."""

    family = "braunpwr"
    manufacturer = "Braun Power"
    brand = "Braun Power"
    # FF00 and company 0x007B are also JBD's (SBL-, TZ-H, SX60, N-... records
    # in the corpus); the names tell them apart, and no JBD name or OUI is a
    # Braun Power one. Tried after JBD: a renamed pack that no matcher claims
    # is probed in claim order, and FF00 is far more often JBD's.
    claim_order = 22
    gatt = (GattProfile(service=0xFF00, notify=0xFF01, write=0xFF02),)
    matchers = tuple(
        AdvertisementMatcher(
            local_name=name, service_uuid=uuid16(0xFF00), manufacturer_id=COMPANY_ID
        )
        for name in NAMES
    )
    limits = Limits(max_cells=MAX_CELLS)

    def new_reassembler(self) -> BraunReassembler:
        """Frames by head, length and tail."""
        return BraunReassembler()

    async def read_device_info(self) -> DeviceInfo:
        """The module's firmware text and the BMS program version."""
        hardware = await self.exchange(
            build_request(VERSION_TEXT), _answers(VERSION_TEXT)
        )
        program = await self.exchange(
            build_request(PROGRAM_VERSION), _answers(PROGRAM_VERSION)
        )
        return DeviceInfo(
            manufacturer=self.manufacturer,
            hw_version=decode_version(hardware) or None,
            sw_version=decode_version(program) or None,
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """Status, cells and temperatures, checked against each other."""
        status = decode_status(
            await self.exchange(build_request(STATUS), _answers(STATUS))
        )
        cells = decode_cells(await self.exchange(build_request(CELLS), _answers(CELLS)))
        temperatures = decode_temperatures(
            await self.exchange(build_request(TEMPERATURES), _answers(TEMPERATURES))
        )
        return _snapshot(check_reading(status, cells, temperatures))

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source documents a command."""
        raise UnsupportedError(f"Braun Power has no {kind} command")


def _snapshot(reading: BraunReading) -> BatterySnapshot:
    status = reading.status
    return BatterySnapshot(
        voltage=status.voltage,
        current=status.current,
        cell_voltages=reading.cell_voltages,
        # Every probe is a cell probe (aiobmsble).
        temperatures=tuple(
            Temperature(TemperatureKind.CELL, t) for t in reading.temperatures
        ),
        state_of_charge=float(status.soc),
        state_of_health=float(status.soh),
        remaining_capacity=status.remaining,
        design_capacity=status.design,
        cycles=status.cycles,
        balancing=bool(status.balancing_mask),
        balancing_cells=reading.balancing_cells,
        protection_code=status.problem_code,
    )


def _answers(command: int) -> FrameMatcher:
    def matches(frame: bytes) -> bool:
        return is_reply(frame, command)

    return matches
