"""ABC-BMS packs (SOK) over BLE: the conversation.

Two requests per reading on FFE2 (notify FFE1): 0xC1 is answered by the
status (F0) and the probes (F2), 0xC2 by the status again, the heater and
balancer states (F3) and the cells, four per F4 reply. 0xC0 names the model
once. The frames are in :mod:`.frames`. Read only: aiobmsble 0.31.0 (PyPI
sdist) ``aiobmsble/bms/abc_bms.py`` documents no command that switches.
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
    DETAIL,
    INFO,
    MAX_CELLS,
    MODEL,
    NAME,
    PROBES,
    STATES,
    STATUS,
    CellCollector,
    build_request,
    decode_model,
    decode_probes,
    decode_states,
    decode_status,
    is_reply,
)
from .stream import AbcReassembler

# Name patterns of aiobmsble 0.31.0 (PyPI sdist) ``aiobmsble/bms/abc_bms.py``
# ``matcher_dict_list()``, each with service FFF0: ABC-, SOK-, NB- and Hoover.
NAMES = ("ABC-*", "SOK-*", "NB-*", "Hoover")


class AbcDriver(BmsDriver):
    """Reads an ABC-BMS (SOK) pack."""

    family = "abc"
    manufacturer = "Chunguang Song"
    brand = "ABC-BMS (SOK)"
    # FFF0 is also CBT Power's, Daly's, ECO-WORTHY's, Seplos', TDT's,
    # Topband's and PowerBoozt's service; no record of theirs in the corpus
    # has one of these names. Overlapping no older family's claim, it comes
    # after them, so a device no matcher claims is probed for those first.
    claim_order = 365
    gatt = (GattProfile(service=0xFFE0, notify=0xFFE1, write=0xFFE2),)
    matchers = tuple(
        AdvertisementMatcher(local_name=name, service_uuid=uuid16(0xFFF0))
        for name in NAMES
    )
    limits = Limits(max_cells=MAX_CELLS)

    def new_reassembler(self) -> AbcReassembler:
        """Frames of 20 bytes by head and CRC."""
        return AbcReassembler()

    async def read_device_info(self) -> DeviceInfo:
        """The model text of the F1 reply."""
        frame = await self.exchange(build_request(NAME), _answers(MODEL))
        return DeviceInfo(
            manufacturer=self.manufacturer, model=decode_model(frame) or None
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """Status and probes, then the states and the cells."""
        status_frame, probes_frame = await self._ask(INFO, STATUS, PROBES)
        status = decode_status(status_frame)
        probes = decode_probes(probes_frame)
        collector = CellCollector(status.voltage)
        self.inbox.clear()
        await self.send(build_request(DETAIL))
        try:
            states = decode_states(
                await self.inbox.wait_for(_answers(STATES), self.request_timeout)
            )
            while not collector.complete:
                collector.add(
                    await self.inbox.wait_for(_answers(CELLS), self.request_timeout)
                )
        finally:
            self.transport.release()
        return BatterySnapshot(
            voltage=status.voltage,
            current=status.current,
            cell_voltages=collector.cells,
            # aiobmsble names no probe's place; each is taken as a cell probe.
            temperatures=tuple(
                Temperature(TemperatureKind.CELL, t) for t in probes.temperatures
            ),
            state_of_charge=float(status.soc),
            remaining_capacity=status.remaining,
            design_capacity=status.design,
            cycles=status.cycles,
            balancing=states.balancing,
            charge_mosfet=probes.charge_mosfet,
            discharge_mosfet=probes.discharge_mosfet,
            heater=states.heater,
        )

    async def _ask(self, command: int, *kinds: int) -> list[bytes]:
        """Send ``command``; wait for one reply of each of ``kinds``."""
        self.inbox.clear()
        await self.send(build_request(command))
        try:
            return [
                await self.inbox.wait_for(_answers(kind), self.request_timeout)
                for kind in kinds
            ]
        finally:
            self.transport.release()

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source documents a command."""
        raise UnsupportedError(f"ABC-BMS has no {kind} command")


def _answers(kind: int) -> FrameMatcher:
    def matches(frame: bytes) -> bool:
        return is_reply(frame, kind)

    return matches
