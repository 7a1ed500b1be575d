"""ANT BMS over BLE (current protocol): the conversation.

One status request per update, answered by one 0x11 reply on FFE1 (written
to FFE1), and a read of the versions (a 0x12 reply) when the device is set
up; the frames are in :mod:`.frames`. The charge, discharge and balancer switches
are register writes (function 0x51) documented by syssi/esphome-ant-bms
``components/ant_bms_ble/switch/__init__.py``
@ 014f0eea80083850f19b5398d7f1906c59ce19cc, which reads each switch back
from the status reply's MOSFET and balancer codes (``ant_bms_ble.cpp``
@ 0849654429f91d5a3bf5aa8817c50044c612cd5c). Each switch has its own on and
off register, so a command never writes the other MOSFET. No public source
shows what the BMS answers to a write: a command is done only when a status
read after it shows the setting.
"""

from __future__ import annotations

from ..driver import BmsDriver
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
    DEVICE_INFO_REQUEST,
    MAX_CELLS,
    MOSFET_ON,
    STATUS_REQUEST,
    SUPPORTED_ALARMS,
    AntStatus,
    decode_device_info,
    decode_status,
    is_device_info,
    is_status,
    switch_request,
)
from .stream import AntReassembler


class AntDriver(BmsDriver):
    """Reads and switches an ANT smart BMS."""

    family = "ant"
    manufacturer = "ANT"
    # The name pattern of patman15/aiobmsble ``aiobmsble/bms/ant_bms.py``
    # @ b0567331025033d33729385fa89a1198275d6486 (``ANT-BLE2*``, ``ANT@BLE2*``,
    # ``ANT-BLE3*``) with service FFE0, and the board codes ending ``UB`` of
    # the current protocol's modules in syssi/esphome-ant-bms README.md
    # @ bf7c64f7a4c30a77dc41ee2f60db2b43fa7b21ab (``ANT-BLE16ZMUB``,
    # ``ANT-BLE04DMUB``). The legacy protocol's names (``ANT-BLE16S``,
    # ``ANT-BLE24C``, ``ANT-BLE22AACB-…``) are claimed first by
    # ``ant_legacy``; each family offers the other when its probe fails. No
    # other family claims an ANT record of the corpus, nor ANT any of theirs.
    # Tried late (an unrecognised device is probed in this order) but before
    # Topband's wider FFE0 claim.
    claim_order = 350
    gatt = (GattProfile(service=0xFFE0, notify=0xFFE1, write=0xFFE1),)
    matchers = (
        AdvertisementMatcher(local_name="ANT?BLE[23]*", service_uuid=uuid16(0xFFE0)),
        AdvertisementMatcher(local_name="ANT?BLE????UB*", service_uuid=uuid16(0xFFE0)),
    )
    probe_also = ("ant_legacy",)
    switches = frozenset({SwitchKind.CHARGE, SwitchKind.DISCHARGE, SwitchKind.BALANCER})
    limits = Limits(max_cells=MAX_CELLS)
    # Seconds between a switch command and the status read that confirms it.
    switch_settle = 0.5

    def new_reassembler(self) -> AntReassembler:
        """Frames by head, length, CRC and tail."""
        return AntReassembler()

    async def read_device_info(self) -> DeviceInfo:
        """The hardware and software version (the BMS names no model)."""
        reply = await self.exchange(DEVICE_INFO_REQUEST, is_device_info)
        versions = decode_device_info(reply)
        return DeviceInfo(
            manufacturer=self.manufacturer,
            hw_version=versions.hw_version or None,
            sw_version=versions.sw_version or None,
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """One status request and its reply."""
        return _snapshot(await self._read_status())

    async def _read_status(self) -> AntStatus:
        return decode_status(await self.exchange(STATUS_REQUEST, is_status))

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Write the switch's register, then confirm it by a status read."""
        if kind not in self.switches:
            raise UnsupportedError(f"ANT has no {kind} switch")
        after = await self.write_then_confirm(
            [switch_request(kind, on)],
            self._read_status,
            lambda status: status.switches[kind] is on,
            f"the ANT BMS did not switch {kind}",
        )
        return _snapshot(after)


def _snapshot(status: AntStatus) -> BatterySnapshot:
    temperatures = (
        *(Temperature(TemperatureKind.CELL, float(t)) for t in status.probes),
        Temperature(TemperatureKind.MOSFET, float(status.mosfet_temperature)),
    )
    return BatterySnapshot(
        voltage=status.voltage,
        current=status.current,
        cell_voltages=status.cell_voltages,
        temperatures=temperatures,
        state_of_charge=float(status.soc),
        state_of_health=float(status.soh),
        remaining_capacity=status.remaining,
        full_capacity=status.full,
        balancing=bool(status.balancing_cells),
        balancing_cells=status.balancing_cells,
        charge_mosfet=status.charge_status == MOSFET_ON,
        discharge_mosfet=status.discharge_status == MOSFET_ON,
        switches=dict(status.switches),
        alarms=status.alarms,
        supported_alarms=SUPPORTED_ALARMS,
        protection_code=status.charge_status << 8 | status.discharge_status,
    )
