"""Super-B Epsilon batteries over BLE (first generation): the conversation.

The BMS notifies its status on ``6edadbe4-…`` of service ``74b9c2d1-…``
without being asked: aiobmsble 0.31.0 (PyPI sdist)
``aiobmsble/bms/superb_bms.py`` has no write characteristic and waits for
the next notification. A snapshot is the newest frame since the last read,
else the next one (:mod:`.frames`). Read only: no public source documents a
command.

The second generation (Epsilon V2 firmware, ``superb_v2_bms.py`` in the same
release) is not read: it sends the current and voltage on a second notify
characteristic beside the one it answers on, which the Bluetooth transport
does not subscribe to. Its advertisement (``Epsilon 150 - …``) is not
claimed.
"""

from __future__ import annotations

from ..driver import BmsDriver
from ..errors import UnsupportedError
from ..matching import AdvertisementMatcher
from ..plausibility import Limits
from ..snapshot import BatterySnapshot, DeviceInfo, SwitchKind
from ..transport import GattProfile
from .frames import MAX_VOLTAGE, decode_status
from .stream import SuperbReassembler

SERVICE = "74b9c2d1-dc6d-42cf-a2e9-7398b8fc2e70"
NOTIFY = "6edadbe4-4f53-4a5a-96ed-02f93db93790"


def _always(_: bytes) -> bool:
    """Every frame the reassembler passes is a status frame."""
    return True


class SuperbDriver(BmsDriver):
    """Reads a Super-B Epsilon BMS (first-generation firmware)."""

    family = "superb"
    manufacturer = "Super-B"
    brand = "Super-B"
    # Its name matcher ``Epsilon-*`` overlaps no other family's claim.
    claim_order = 373
    gatt = (GattProfile(service=SERVICE, notify=NOTIFY),)
    # aiobmsble 0.31.0 ``superb_bms.py``: the name alone.
    matchers = (AdvertisementMatcher(local_name="Epsilon-*"),)
    limits = Limits(min_cells=0, max_cells=0, pack_voltage=(0.0, MAX_VOLTAGE))

    def new_reassembler(self) -> SuperbReassembler:
        """Frames by start byte, length and content."""
        return SuperbReassembler()

    async def read_device_info(self) -> DeviceInfo:
        """The frame carries no model or version: the source's model name."""
        return DeviceInfo(manufacturer=self.manufacturer, model="Epsilon")

    async def read_snapshot(self) -> BatterySnapshot:
        """The newest frame since the last read, else the next one to come.

        The inbox is emptied on every connect and by every read, so a frame
        found there arrived after the previous read.
        """
        frame = None
        while (newer := self.inbox.take(_always)) is not None:
            frame = newer
        if frame is None:
            frame = await self.inbox.wait_for(_always, self.request_timeout)
        status = decode_status(frame)
        return BatterySnapshot(
            voltage=status.voltage,
            current=status.current,
            state_of_charge=float(status.soc),
            state_of_health=float(status.soh),
            balancing=status.balancing,
            protection_code=status.problem_code,
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source documents a command."""
        raise UnsupportedError(f"Super-B has no {kind} command")
