"""JK / Jikong BMS over BLE (service FFE0, two FFE1 characteristics).

After the device-info request (0x97) picks the frame layout, the settings request
(0x96) makes the BMS answer with its settings and then stream a cell-info frame
about once a second. Reads take the newest streamed frame instead of polling.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import NoReturn

from .driver import BmsDriver, DriverOptions
from .errors import (
    BmsTimeoutError,
    CommandNotConfirmedError,
    PairingRequiredError,
    ProtocolError,
)
from .jk_frames import (
    DEVICE_INFO_REQUEST,
    SETTINGS_REQUEST,
    FrameType,
    JkDeviceInfo,
    JkReassembler,
    JkSettings,
    Layout,
    build_switch,
    decode_alarms,
    decode_cell_info,
    decode_device_info,
    decode_settings,
    has_extra_probes,
    layout_for_version,
    needs_pairing,
    supported_alarms,
)
from .matching import AdvertisementMatcher, uuid16
from .snapshot import BatterySnapshot, DeviceInfo, SwitchKind
from .transport import GattProfile, Transport

_LOGGER = logging.getLogger(__name__)

MANUFACTURER_IDS = (0x0B65, 0x4B4A)


@dataclass(frozen=True, slots=True)
class _Kinds:
    types: frozenset[FrameType]

    def __call__(self, frame: bytes) -> bool:
        return frame[4] in self.types


def _kinds(*types: FrameType) -> _Kinds:
    return _Kinds(frozenset(types))


IS_CELLS = _kinds(FrameType.CELL_INFO)
IS_SETTINGS = _kinds(FrameType.SETTINGS)
IS_DEVICE_INFO = _kinds(FrameType.DEVICE_INFO)
IS_STREAM_START = _kinds(FrameType.SETTINGS, FrameType.CELL_INFO)
IS_ANY = _kinds(*FrameType)


def _layout_hint(variant: str | None) -> Layout | None:
    """A layout remembered from an earlier session, if valid."""
    try:
        return Layout(variant) if variant else None
    except ValueError:
        return None


class JkDriver(BmsDriver):
    """Reads and controls a JK BMS from its frame stream.

    JK04 firmware (an active balancer) has only the balancer switch; its
    snapshots carry no current sensor, so ``current`` reads 0.
    """

    family = "jk"
    manufacturer = "Jikong (JK)"
    gatt = (GattProfile(service=0xFFE0, notify=0xFFE1, write=0xFFE1),)
    matchers = tuple(
        AdvertisementMatcher(service_uuid=uuid16(0xFFE0), manufacturer_id=company)
        for company in MANUFACTURER_IDS
    )
    switches = frozenset(SwitchKind)
    request_timeout = 5.0
    confirm_delay = 0.2

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Set up the reassembler and the per-device state."""
        super().__init__(transport, options)
        self._info: JkDeviceInfo | None = None
        self._layout = _layout_hint(options.variant)
        self._settings: JkSettings | None = None
        self._cells: bytes | None = None

    @property
    def variant(self) -> str | None:
        """The frame layout (``JK04``, ``JK02_24S`` or ``JK02_32S``)."""
        return self._layout.value if self._layout is not None else None

    def new_reassembler(self) -> JkReassembler:
        """Frames by header, length and checksum."""
        return JkReassembler()

    def reset(self) -> None:
        """Drop partial frames, the stream position and the settings."""
        super().reset()
        self._settings = None
        self._cells = None

    async def initialize(self) -> None:
        """Identify the layout (0x97), then start the stream (0x96)."""
        try:
            await self._read_info()
        except (BmsTimeoutError, ProtocolError):
            if self._layout is None:
                raise
            _LOGGER.debug("No JK device info; keeping layout %s", self._layout)
        await self._start_stream()

    async def _read_info(self) -> JkDeviceInfo:
        frame = await self.exchange(DEVICE_INFO_REQUEST, IS_DEVICE_INFO)
        info = decode_device_info(frame)
        self._layout = layout_for_version(info.sw_version)
        self._info = info
        return info

    async def _start_stream(self) -> None:
        """Send 0x96 and wait for the settings (or, if they are lost, cells)."""
        try:
            frame = await self.exchange(SETTINGS_REQUEST, IS_STREAM_START)
        except (BmsTimeoutError, ProtocolError) as err:
            self._silent(err)
        self._absorb(frame)

    def _silent(self, err: Exception) -> NoReturn:
        """Explain a BMS that sends no settings or cells."""
        if self._info is not None and needs_pairing(self._info.sw_version):
            raise PairingRequiredError(
                f"JK firmware {self._info.sw_version} needs Bluetooth pairing"
            ) from err
        raise BmsTimeoutError("the JK BMS does not stream cell data") from err

    def _absorb(self, frame: bytes) -> None:
        """Keep the newest cell frame and the newest settings."""
        kind = frame[4]
        if kind == FrameType.CELL_INFO:
            self._cells = frame
        elif kind == FrameType.SETTINGS and self._layout is not None:
            self._settings = decode_settings(frame, self._layout)

    def _collect(self) -> None:
        """Take every pending frame out of the inbox."""
        while (frame := self.inbox.take(IS_ANY)) is not None:
            self._absorb(frame)

    async def _require_layout(self) -> Layout:
        """The frame layout, asking for the device info if it is unknown."""
        if self._layout is not None:
            return self._layout
        return layout_for_version((await self._read_info()).sw_version)

    async def _fresh_cells(self) -> bytes:
        """The newest cell frame since the previous read."""
        self._collect()
        if self._settings is None:
            # Lost or late settings: ask again; the next cells follow them.
            self._cells = None
            await self.send(SETTINGS_REQUEST)
        frame = self._cells
        if frame is None:
            frame = await self._await_cells()
            self._cells = None
            self._collect()
            frame = self._cells or frame
        self._cells = None
        return frame

    async def _await_cells(self) -> bytes:
        """Wait for a cell frame; restart a stopped stream once."""
        try:
            return await self.inbox.wait_for(IS_CELLS, self.request_timeout)
        except (BmsTimeoutError, ProtocolError):
            _LOGGER.debug("The JK cell stream stopped; restarting it")
        await self._start_stream()
        if self._cells is not None:
            return self._cells
        try:
            return await self.inbox.wait_for(IS_CELLS, self.request_timeout)
        except (BmsTimeoutError, ProtocolError) as err:
            self._silent(err)

    async def read_device_info(self) -> DeviceInfo:
        """Model, versions, serial number and the user-given name (0x97)."""
        info = self._info or await self._read_info()
        return DeviceInfo(
            manufacturer=self.manufacturer,
            model=info.vendor or None,
            hw_version=info.hw_version or None,
            sw_version=info.sw_version or None,
            serial_number=info.serial_number or None,
            name=info.device_name or None,
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """Decode the newest streamed cell frame with the known settings."""
        layout = await self._require_layout()
        return self._snapshot(await self._fresh_cells(), layout)

    def _snapshot(self, frame: bytes, layout: Layout) -> BatterySnapshot:
        extras = self._info is not None and has_extra_probes(self._info.sw_version)
        cells = decode_cell_info(frame, layout, extra_probes=extras)
        settings = self._settings
        current = cells.current or 0.0
        if self.options.invert_current:
            current = -current
        kinds = (
            (SwitchKind.BALANCER,)
            if layout is Layout.JK04
            else (SwitchKind.CHARGE, SwitchKind.DISCHARGE, SwitchKind.BALANCER)
        )
        return BatterySnapshot(
            voltage=cells.voltage,
            current=current,
            measures_current=cells.current is not None,
            cell_voltages=cells.cell_voltages,
            temperatures=cells.temperatures,
            state_of_charge=None if cells.soc is None else float(cells.soc),
            state_of_health=None if cells.soh is None else float(cells.soh),
            remaining_capacity=cells.remaining_capacity,
            full_capacity=cells.full_capacity,
            design_capacity=settings.nominal_capacity if settings else None,
            cycles=cells.cycles,
            balancing=cells.balancing,
            balance_current=cells.balance_current,
            charge_mosfet=cells.charge_fet,
            discharge_mosfet=cells.discharge_fet,
            heater=cells.heater,
            switches={k: settings.switch(k) if settings else None for k in kinds},
            alarms=decode_alarms(cells.errors or 0),
            supported_alarms=supported_alarms(layout),
            protection_code=cells.errors,
            cell_resistances=cells.cell_resistances,
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Write one switch register, then confirm it in a fresh settings frame."""
        layout = await self._require_layout()
        await self.send(build_switch(layout, kind, on))
        await asyncio.sleep(self.confirm_delay)
        try:
            frame = await self.exchange(SETTINGS_REQUEST, IS_SETTINGS)
        except (BmsTimeoutError, ProtocolError) as err:
            # The switch may have changed unconfirmed: ask for settings again.
            self._settings = None
            raise CommandNotConfirmedError(
                "the JK BMS sent no settings to confirm the switch"
            ) from err
        self._settings = decode_settings(frame, layout)
        if self._settings.switch(kind) is not on:
            raise CommandNotConfirmedError(f"the JK {kind} switch did not change")
        self._cells = None
        return self._snapshot(await self._fresh_cells(), layout)
