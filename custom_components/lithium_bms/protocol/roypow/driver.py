"""RoyPow packs over BLE (Epoch, PowerUrus, Lion Energy): the conversation.

Three requests on FFE1 (written and notified on the one characteristic),
0x02 cells, 0x03 status, 0x04 pack, each answered by one reply; the frames
are in :mod:`.frames`. Read only: no public source documents a command.
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
    PACK,
    STATUS,
    build_request,
    command_of,
    decode_cells,
    decode_pack,
    decode_status,
)
from .stream import RoyPowReassembler

# The local names of patman15/aiobmsble ``aiobmsble/bms/roypow_bms.py``
# @ b0567331025033d33729385fa89a1198275d6486 (`` [BS]12*``, `` [BS]24*``,
# `` UT*``): the model after a leading space (Epoch ``B12100A``, PowerUrus
# ``S12100A``, Lion Energy ``UT1300``). Home Assistant wants three literal
# characters first, so the set is spelt out.
NAMES = (" B12*", " S12*", " B24*", " S24*", " UT*")
# Probe kinds by slot: two cell probes, MOSFET, ambient (vboginskey/bmv
# ``ut1300.py`` @ 30e9bd865f45e503b1dd3a684a55248c60a423f3).
PROBE_KINDS = (
    TemperatureKind.CELL,
    TemperatureKind.CELL,
    TemperatureKind.MOSFET,
    TemperatureKind.AMBIENT,
)


class RoyPowDriver(BmsDriver):
    """Reads a RoyPow BMS."""

    family = "roypow"
    manufacturer = "RoyPow"
    # Service FFE0 is also JK's, Redodo's and others'; the claim needs FFE0
    # and a name with RoyPow's leading space, which no other family's record
    # in the corpus has. Overlapping no older family's claim, it comes after
    # them, so an unclaimed device is probed for those first, as before.
    claim_order = 50
    gatt = (GattProfile(service=0xFFE0, notify=0xFFE1, write=0xFFE1),)
    matchers = tuple(
        AdvertisementMatcher(local_name=name, service_uuid=uuid16(0xFFE0))
        for name in NAMES
    )
    limits = Limits(max_cells=MAX_CELLS)

    def new_reassembler(self) -> RoyPowReassembler:
        """Frames by head, length, tail and XOR."""
        return RoyPowReassembler()

    async def read_device_info(self) -> DeviceInfo:
        """The BMS reports no model over these replies."""
        return DeviceInfo(manufacturer=self.manufacturer)

    async def read_snapshot(self) -> BatterySnapshot:
        """The three replies, in one snapshot."""
        cells = decode_cells(await self._ask(CELLS))
        status = decode_status(await self._ask(STATUS))
        pack = decode_pack(await self._ask(PACK))
        return BatterySnapshot(
            voltage=pack.voltage,
            current=status.current,
            cell_voltages=cells,
            # At most four probes, one per slot (the decoder refuses more).
            temperatures=tuple(
                Temperature(kind, float(value))
                for kind, value in zip(PROBE_KINDS, status.probes, strict=False)
            ),
            state_of_charge=float(pack.soc),
            remaining_capacity=pack.remaining,
            full_capacity=pack.full,
            design_capacity=pack.design,
            cycles=pack.cycles,
            charge_mosfet=status.charge_fet,
            discharge_mosfet=status.discharge_fet,
            protection_code=status.problem_code,
        )

    async def _ask(self, command: int) -> bytes:
        return await self.exchange(build_request(command), _answers(command))

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source documents a command."""
        raise UnsupportedError(f"RoyPow has no {kind} command")


def _answers(command: int) -> FrameMatcher:
    def expect(frame: bytes) -> bool:
        return command_of(frame) == command

    return expect
