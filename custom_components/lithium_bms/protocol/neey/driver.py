"""Neey / Heltec active balancers over BLE: the conversation.

After connecting, a device-info request (0x01) tells the model and with it
the cell-info and settings layouts, and a settings request (0x04) the
balancer switch; each reading is then one cell-info request (0x02) and its
300-byte reply, all on FFE1 (frames in :mod:`.frames` and
:mod:`.settings`). A balancer has no pack current sensor: the GW- models
(v1) report ``measures_current=False``; the EK-B models (v2) carry a
current and capacities [A].

The one switch is the balancer (a balancer has no MOSFET): a write of
register 0x0D, acknowledged without a value, so a command is done only when
the settings reply read after it shows the state asked for. The switch shows
the settings read at connecting and after each command (and at the update
after a command not confirmed), never a state sent.
"""

from __future__ import annotations

from ..driver import BmsDriver, DriverOptions
from ..errors import CommandNotConfirmedError, UnsupportedError
from ..matching import AdvertisementMatcher, uuid16
from ..plausibility import Limits
from ..snapshot import BatterySnapshot, DeviceInfo, SwitchKind
from ..transport import GattProfile, Transport
from .frames import (
    LAYOUTS,
    MAX_CELLS,
    REPLY_HEAD,
    STATUS_ALARMS,
    SUPPORTED_ALARMS,
    FrameType,
    NeeyCellInfo,
    NeeyDeviceInfo,
    build_request,
    decode_cell_info,
    decode_device_info,
    is_reply,
)
from .settings import SETTINGS_LAYOUTS, build_balancer_command, decode_settings
from .stream import NeeyReassembler

# Name patterns and service of patman15/aiobmsble ``aiobmsble/bms/neey_bms.py``
# @ b0567331025033d33729385fa89a1198275d6486: GW- (Heltec / Neey v1) and
# EK- (newer Neey) balancers advertise FEE7 beside FFE0.
NAMES = ("GW-*", "EK-*")


class NeeyDriver(BmsDriver):
    """Reads a Neey (Heltec) active balancer."""

    family = "neey"
    manufacturer = "Neey"
    brand = "Neey"
    # Service FEE7 with a GW- or EK- name: no other family's record in the
    # corpus carries both, so the order only keeps it after the older ones.
    claim_order = 57
    gatt = (GattProfile(service=0xFFE0, notify=0xFFE1, write=0xFFE1),)
    matchers = tuple(
        AdvertisementMatcher(local_name=name, service_uuid=uuid16(0xFEE7))
        for name in NAMES
    )
    limits = Limits(max_cells=MAX_CELLS)
    switches = frozenset({SwitchKind.BALANCER})
    # Seconds between the command and the settings read that confirms it
    # (the capture cited in :mod:`.settings` has the acknowledgement 30 ms
    # after the write).
    switch_settle = 0.2

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """The layouts are known once the device info has been read."""
        super().__init__(transport, options)
        self._info: NeeyDeviceInfo | None = None
        # The balancer state last read from the settings reply.
        self._balancer: bool | None = None

    def new_reassembler(self) -> NeeyReassembler:
        """Frames by head, length word, sum and tail."""
        return NeeyReassembler()

    def is_sensitive(self, frame: bytes) -> bool:
        """The device-info reply: the EK-B capture carries a serial number at 64."""
        return frame.startswith(REPLY_HEAD) and is_reply(frame, FrameType.DEVICE_INFO)

    def disconnected(self) -> None:
        """Another device may answer the next connection: ask again."""
        self._info = None
        self._balancer = None

    async def read_device_info(self) -> DeviceInfo:
        """Model, hardware and software version of the device-info reply."""
        info = await self._device_info()
        return DeviceInfo(
            manufacturer=self.manufacturer,
            model=info.model or None,
            hw_version=info.hw_version or None,
            sw_version=info.sw_version or None,
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """One cell-info request, in the model's layout; first the settings."""
        info = self._info or await self._device_info()
        balancer = await self._balancer_state(info)
        frame = await self.exchange(build_request(FrameType.CELL_INFO), _answers_cells)
        return _snapshot(decode_cell_info(frame, LAYOUTS[info.v2]), balancer)

    async def _device_info(self) -> NeeyDeviceInfo:
        frame = await self.exchange(
            build_request(FrameType.DEVICE_INFO), _answers_device_info
        )
        self._info = decode_device_info(frame)
        return self._info

    async def _balancer_state(self, info: NeeyDeviceInfo) -> bool:
        """The balancer state of the settings reply, read once per connection."""
        if self._balancer is None:
            frame = await self.exchange(
                build_request(FrameType.SETTINGS), _answers_settings
            )
            self._balancer = decode_settings(frame, SETTINGS_LAYOUTS[info.v2]).balancer
        return self._balancer

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Write register 0x0D, then confirm it by reading the settings back."""
        if kind not in self.switches:
            raise UnsupportedError(f"a Neey balancer has no {kind} switch")
        info = self._info or await self._device_info()
        self._balancer = None
        try:
            await self.write_then_confirm(
                [build_balancer_command(on)],
                lambda: self._balancer_state(info),
                lambda state: state is on,
                f"the Neey balancer did not switch {kind}",
            )
        except CommandNotConfirmedError:
            # Read again at the next update, should it apply late.
            self._balancer = None
            raise
        return await self.read_snapshot()


def _snapshot(cells: NeeyCellInfo, balancer: bool) -> BatterySnapshot:
    return BatterySnapshot(
        voltage=cells.voltage,
        current=cells.current or 0.0,
        measures_current=cells.current is not None,
        cell_voltages=cells.cell_voltages,
        cell_resistances=cells.cell_resistances,
        temperatures=cells.temperatures,
        state_of_charge=cells.soc,
        remaining_capacity=cells.remaining_capacity,
        design_capacity=cells.design_capacity,
        balancing=cells.balancing,
        balance_current=cells.balance_current,
        alarms=cells.alarms,
        supported_alarms=SUPPORTED_ALARMS,
        protection_code=cells.status if cells.status in STATUS_ALARMS else 0,
        switches={SwitchKind.BALANCER: balancer},
    )


def _answers_cells(frame: bytes) -> bool:
    return is_reply(frame, FrameType.CELL_INFO)


def _answers_device_info(frame: bytes) -> bool:
    return is_reply(frame, FrameType.DEVICE_INFO)


def _answers_settings(frame: bytes) -> bool:
    return is_reply(frame, FrameType.SETTINGS)
