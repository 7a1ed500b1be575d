"""Neey / Heltec active balancers over BLE: the conversation.

After connecting, a device-info request (0x01) tells the model and with it
the cell-info layout; each reading is one cell-info request (0x02) and its
300-byte reply, both on FFE1 (frames in :mod:`.frames`). A balancer has no
pack current sensor: the GW- models (v1) report ``measures_current=False``;
the EK-B models (v2) carry a current and capacities [A].

Read only. syssi/esphome-jk-bms ``heltec_balancer_ble.cpp``
@ 2fa4323bdde7d3c5abf758d92de8f6c7f6751b54 documents the balancer command
(write register 0x0D) and a read-back in the settings reply (0x04); this
family does not implement the settings reply yet, so it cannot confirm the
command and offers no switch.
"""

from __future__ import annotations

from ..driver import BmsDriver, DriverOptions
from ..errors import UnsupportedError
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

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """The layout is known once the device info has been read."""
        super().__init__(transport, options)
        self._info: NeeyDeviceInfo | None = None

    def new_reassembler(self) -> NeeyReassembler:
        """Frames by head, length word, sum and tail."""
        return NeeyReassembler()

    def is_sensitive(self, frame: bytes) -> bool:
        """The device-info reply: the EK-B capture carries a serial number at 64."""
        return frame.startswith(REPLY_HEAD) and is_reply(frame, FrameType.DEVICE_INFO)

    def disconnected(self) -> None:
        """Another device may answer the next connection: ask again."""
        self._info = None

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
        """One cell-info request and its reply, in the model's layout."""
        info = self._info or await self._device_info()
        frame = await self.exchange(build_request(FrameType.CELL_INFO), _answers_cells)
        return _snapshot(decode_cell_info(frame, LAYOUTS[info.v2]))

    async def _device_info(self) -> NeeyDeviceInfo:
        frame = await self.exchange(
            build_request(FrameType.DEVICE_INFO), _answers_device_info
        )
        self._info = decode_device_info(frame)
        return self._info

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: the settings read-back is not implemented."""
        raise UnsupportedError(f"Neey has no {kind} command with a read-back here")


def _snapshot(cells: NeeyCellInfo) -> BatterySnapshot:
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
    )


def _answers_cells(frame: bytes) -> bool:
    return is_reply(frame, FrameType.CELL_INFO)


def _answers_device_info(frame: bytes) -> bool:
    return is_reply(frame, FrameType.DEVICE_INFO)
