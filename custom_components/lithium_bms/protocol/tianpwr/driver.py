"""TianPower packs over BLE: the conversation.

One request per reply type on FF02 (notify FF01): the status (0x83), the
counts, capacities and protection words (0x84), the MOSFETs and balancing
(0x85), the probes (0x87) and one cell reply per eight cells (0x88 on). The
versions (0x81, 0x82) are read once. The frames are in :mod:`.frames`. Read
only: neither aiobmsble 0.31.0 (PyPI sdist) ``aiobmsble/bms/tianpwr_bms.py``
nor syssi/esphome-tianpower-bms documents a command that switches.
"""

from __future__ import annotations

from ..driver import BmsDriver, FrameMatcher
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
from ..transport import GattProfile
from .frames import (
    HARDWARE,
    HEAD,
    INFO,
    MAX_CELLS,
    MOSFETS,
    PRIVATE,
    SOFTWARE,
    STATUS,
    SUPPORTED_ALARMS,
    TEMPERATURES,
    build_request,
    cell_frames,
    decode_cells,
    decode_info,
    decode_mosfets,
    decode_status,
    decode_temperatures,
    decode_text,
    is_reply,
)
from .stream import TianpwrReassembler


class TianpwrDriver(BmsDriver):
    """Reads a TianPower pack (TP-LT55, in BASEN batteries)."""

    family = "tianpwr"
    manufacturer = "TianPower"
    brand = "TianPower"
    # No record of another family in the corpus has a TP_ name, and no older
    # matcher claims one: it comes after them.
    claim_order = 372
    gatt = (GattProfile(service=0xFF00, notify=0xFF01, write=0xFF02),)
    # aiobmsble 0.31.0 (PyPI sdist) ``tianpwr_bms.py`` ``matcher_dict_list()``.
    matchers = (AdvertisementMatcher(local_name="TP_*"),)
    limits = Limits(max_cells=MAX_CELLS)

    def new_reassembler(self) -> TianpwrReassembler:
        """Frames of 20 bytes by head, type and end byte."""
        return TianpwrReassembler()

    def is_sensitive(self, frame: bytes) -> bool:
        """The location and owner texts, asked or answered."""
        return len(frame) > 2 and frame[0] == HEAD and frame[2] in PRIVATE

    async def read_device_info(self) -> DeviceInfo:
        """The software version and the model text (0x81, 0x82)."""
        software = decode_text(await self._ask(SOFTWARE))
        model = decode_text(await self._ask(HARDWARE))
        return DeviceInfo(
            manufacturer=self.manufacturer,
            model=model or None,
            sw_version=software or None,
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """Status, counts and protections, MOSFETs, probes, then the cells."""
        status = decode_status(await self._ask(STATUS))
        info = decode_info(await self._ask(INFO))
        mosfets = decode_mosfets(await self._ask(MOSFETS), info.cells)
        probes = decode_temperatures(await self._ask(TEMPERATURES), info.probes)
        cells: tuple[float, ...] = ()
        for kind in cell_frames(info.cells):
            cells += decode_cells(await self._ask(kind), info.cells - len(cells))
        return BatterySnapshot(
            voltage=status.voltage,
            current=status.current,
            cell_voltages=cells,
            temperatures=(
                *(Temperature(TemperatureKind.CELL, t) for t in probes),
                Temperature(TemperatureKind.AMBIENT, status.ambient),
                Temperature(TemperatureKind.MOSFET, status.mosfet),
            ),
            state_of_charge=float(status.soc),
            state_of_health=float(status.soh),
            remaining_capacity=info.remaining,
            design_capacity=info.design,
            cycles=info.cycles,
            balancing=mosfets.balancing,
            balancing_cells=mosfets.balancing_cells,
            charge_mosfet=mosfets.charge,
            discharge_mosfet=mosfets.discharge,
            alarms=info.alarms,
            supported_alarms=SUPPORTED_ALARMS,
            reported_cell_count=info.cells,
        )

    async def _ask(self, kind: int) -> bytes:
        """Send the request of ``kind``; wait for its reply."""
        return await self.exchange(build_request(kind), _answers(kind))

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source documents a command."""
        raise UnsupportedError(f"TianPower has no {kind} command")


def _answers(kind: int) -> FrameMatcher:
    def matches(frame: bytes) -> bool:
        return is_reply(frame, kind)

    return matches
