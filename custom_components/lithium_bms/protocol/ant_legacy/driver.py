"""ANT BMS over BLE (legacy protocol): the conversation.

One status request ``DB DB 00 00 00 00`` on FFE1, answered by one 140-byte
reply in notifications on FFE1; the frames are in :mod:`.frames`. The charge
and discharge switches are the register writes of syssi/esphome-ant-bms
``components/ant_bms_old_ble`` @ bf7c64f7a4c30a77dc41ee2f60db2b43fa7b21ab:
the password in four writes, the MOSFET's own register (0xFA charge, 0xF9
discharge), then the apply register. Each MOSFET has its own register, so a
command never writes the other one. No public source shows an answer to a
write: a command is done only when a status read after it shows the setting.
The balancer is a button there (register 0xFC) whose effect no source states,
so it is no switch here.
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
    DEFAULT_PASSWORD,
    MAX_CELLS,
    MOSFET_ON,
    PASSWORD_REGISTERS,
    STATUS_REQUEST,
    SUPPORTED_ALARMS,
    WRITE,
    AntLegacyStatus,
    decode_status,
    is_status,
    switch_requests,
)
from .stream import AntLegacyReassembler

# The first byte after ``A5 A5`` of the writes that carry the password.
PASSWORD_WRITES = frozenset(bytes((register,)) for register in PASSWORD_REGISTERS)


class AntLegacyDriver(BmsDriver):
    """Reads and switches an ANT smart BMS of the legacy protocol."""

    family = "ant_legacy"
    manufacturer = "ANT"
    brand = "ANT legacy"
    # The legacy modules' names seen in public advertisements: ``ANT-BLE16S``
    # (patman15/aiobmsble test_data/ant_leg_bms.json), ``ANT-BLE24C``
    # (syssi/esphome-ant-bms issue #61, the issue the legacy BLE component
    # was written for) and ``ANT-BLE22AACB-0489`` (moved to the legacy module
    # by aiobmsble PR #220 after a capture). Every current-protocol name in
    # the sources carries the board code ``…UB`` (``ANT-BLE16ZMUB``,
    # ``ANT-BLE24CHUB``, ``ANT@BLE22AAUB``), which these never match. Tried
    # before the ANT family, and each offers the other when its probe fails.
    claim_order = 348
    gatt = (GattProfile(service=0xFFE0, notify=0xFFE1, write=0xFFE1),)
    matchers = (
        AdvertisementMatcher(local_name="ANT-BLE???", service_uuid=uuid16(0xFFE0)),
        AdvertisementMatcher(local_name="ANT-BLE????CB*", service_uuid=uuid16(0xFFE0)),
    )
    probe_also = ("ant",)
    switches = frozenset({SwitchKind.CHARGE, SwitchKind.DISCHARGE})
    # Eight characters (syssi/esphome-ant-bms ant_bms_old_ble/__init__.py).
    password_pattern = r"[!-~]{8}"  # noqa: S105 (a pattern, not a secret)
    limits = Limits(max_cells=MAX_CELLS)
    # Seconds between a switch command and the status read that confirms it.
    switch_settle = 0.5

    def new_reassembler(self) -> AntLegacyReassembler:
        """Frames by head, fixed length and sum."""
        return AntLegacyReassembler()

    def is_sensitive(self, frame: bytes) -> bool:
        """The writes that carry the password."""
        return frame[:2] == WRITE and frame[2:3] in PASSWORD_WRITES

    async def read_device_info(self) -> DeviceInfo:
        """Only the manufacturer: the status reply names no model."""
        return DeviceInfo(manufacturer=self.manufacturer)

    async def read_snapshot(self) -> BatterySnapshot:
        """One status request and its reply."""
        return _snapshot(await self._read_status())

    async def _read_status(self) -> AntLegacyStatus:
        return decode_status(await self.exchange(STATUS_REQUEST, is_status))

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Unlock and write the MOSFET's register, then confirm by a status read."""
        if kind not in self.switches:
            raise UnsupportedError(f"ANT (legacy) has no {kind} switch")
        password = self.options.password or DEFAULT_PASSWORD
        after = await self.write_then_confirm(
            switch_requests(kind, on, password),
            self._read_status,
            lambda status: status.switches[kind] is on,
            f"the ANT BMS did not switch {kind}",
        )
        return _snapshot(after)


def _snapshot(status: AntLegacyStatus) -> BatterySnapshot:
    temperatures = (
        *(Temperature(TemperatureKind.CELL, _float(t)) for t in status.cell_probes),
        Temperature(TemperatureKind.MOSFET, float(status.mosfet_temperature)),
    )
    return BatterySnapshot(
        voltage=status.voltage,
        current=status.current,
        cell_voltages=status.cell_voltages,
        temperatures=temperatures,
        state_of_charge=float(status.soc),
        remaining_capacity=status.remaining,
        full_capacity=status.full,
        cycles=status.cycles,
        balancing=bool(status.balancing_cells),
        balancing_cells=status.balancing_cells,
        charge_mosfet=status.charge_status == MOSFET_ON,
        discharge_mosfet=status.discharge_status == MOSFET_ON,
        switches=dict(status.switches),
        alarms=status.alarms,
        supported_alarms=SUPPORTED_ALARMS,
        protection_code=status.charge_status << 8 | status.discharge_status,
        reported_cell_count=len(status.cell_voltages),
    )


def _float(value: int | None) -> float | None:
    return None if value is None else float(value)
