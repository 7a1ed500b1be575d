"""JK / Jikong BMS over BLE (service FFE0, two FFE1 characteristics).

After the device-info request (0x97) picks the frame layout, the settings request
(0x96) makes the BMS answer with its settings and then stream a cell-info frame
about once a second. Reads take the newest streamed frame instead of polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import NoReturn

from ..driver import BmsDriver, DriverOptions
from ..errors import (
    BmsTimeoutError,
    CommandNotConfirmedError,
    FrameError,
    PairingRequiredError,
    ProtocolError,
)
from ..matching import AdvertisementMatcher, uuid16
from ..snapshot import BatterySnapshot, DeviceInfo, SwitchKind
from ..transport import GattProfile, Transport
from .frames import (
    CODECS,
    DEVICE_INFO_REQUEST,
    FRAME_HEADER,
    SETTINGS_REQUEST,
    FrameType,
    JkDeviceInfo,
    JkSettings,
    Layout,
    build_switch,
    check_cell_info,
    decode_alarms,
    decode_cell_info,
    decode_device_info,
    decode_settings,
    fitting_layouts,
    guess_layout,
    needs_pairing,
    supported_alarms,
)
from .stream import JkReassembler

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


def snapshot_of(
    frame: bytes,
    layout: Layout,
    settings: JkSettings | None,
    *,
    extra_probes: bool,
) -> BatterySnapshot:
    """The snapshot of a cell-info frame, with the settings known.

    Shared with the wired JK-PB driver, whose frames are the same.
    """
    codec = CODECS[layout]
    cells = decode_cell_info(frame, layout, extra_probes=extra_probes)
    kinds = tuple(codec.switch_registers)
    return BatterySnapshot(
        voltage=cells.voltage,
        current=cells.current or 0.0,
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
        # The cell frame's enabled-cells mask, not the settings' cell
        # count: that one is configured, and the BMS itself raises its
        # cell-count alarm (error bit 2) when the two differ.
        reported_cell_count=cells.reported_cell_count,
    )


class JkDriver(BmsDriver):
    """Reads and controls a JK BMS from its frame stream.

    JK04 firmware (an active balancer) has only the balancer switch; its
    snapshots carry no current sensor, so ``current`` reads 0.
    """

    family = "jk"
    # JK claims by its own service and company IDs: tried first.
    claim_order = 10
    manufacturer = "Jikong (JK)"
    brand = "JK"
    gatt = (GattProfile(service=0xFFE0, notify=0xFFE1, write=0xFFE1),)
    matchers = tuple(
        AdvertisementMatcher(service_uuid=uuid16(0xFFE0), manufacturer_id=company)
        for company in MANUFACTURER_IDS
    )
    switches = frozenset(SwitchKind)
    variants = tuple(layout.value for layout in Layout)
    request_timeout = 5.0
    confirm_delay = 0.2
    # A stream quiet this long has paused. In the public captures
    # (syssi/esphome-jk-bms docs/btsnoop*.log) the notifications of one frame
    # come at most 0.47 s apart, and a frame follows the previous one after
    # 0.2 to 0.5 s, which settles a waiting frame sooner than this.
    pause_timeout = 1.0

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Set up the reassembler and the per-device state."""
        super().__init__(transport, options)
        self._info: JkDeviceInfo | None = None
        stored = self.stored_variant
        self._layout = Layout(stored) if stored is not None else None
        self._confirmed = False
        self._settings_frame: bytes | None = None
        self._cells: bytes | None = None
        self._pause: asyncio.TimerHandle | None = None
        # Loop times of the newest notification and of the pause timer's arming.
        self._fed_at = 0.0
        self._armed_at = 0.0

    @property
    def variant(self) -> str | None:
        """The frame layout (``JK04``, ``JK02_24S`` or ``JK02_32S``)."""
        return self._layout.value if self._layout is not None else None

    def new_reassembler(self) -> JkReassembler:
        """Frames by header, length, checksum, boundaries and counter."""
        return JkReassembler()

    def feed(self, data: bytes) -> None:
        """Take a notification; settle the stream once it pauses.

        The pause timer is armed once and moved on only when it fires (to
        ``pause_timeout`` after the newest notification), not re-armed for
        every notification of a stream.
        """
        super().feed(data)
        reassembler = self.reassembler
        if not isinstance(reassembler, JkReassembler) or not reassembler.waiting:
            self._cancel_pause()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # fed outside an event loop: nothing to time
            self._cancel_pause()
            return
        self._fed_at = loop.time()
        if self._pause is None:
            self._armed_at = self._fed_at
            self._pause = loop.call_at(
                self._fed_at + self.pause_timeout, self._settle, reassembler
            )

    def _settle(self, reassembler: JkReassembler) -> None:
        """Deliver a frame that waited for the stream; drop a partial one."""
        if self._fed_at > self._armed_at:
            # More came since the timer was armed: the pause starts later.
            self._armed_at = self._fed_at
            loop = asyncio.get_running_loop()
            self._pause = loop.call_at(
                self._fed_at + self.pause_timeout, self._settle, reassembler
            )
            return
        self._pause = None
        self.deliver(*reassembler.settle())

    def disconnected(self) -> None:
        """No stream to wait for any more."""
        self._cancel_pause()

    def _cancel_pause(self) -> None:
        if self._pause is not None:
            self._pause.cancel()
            self._pause = None

    def is_sensitive(self, frame: bytes) -> bool:
        """The device-info frame: it carries both passcodes and the serial number.

        No JK command reads or writes a passcode (none in syssi/esphome-jk-bms,
        aiobmsble or batmon-ha), and the 0x97 request carries nothing secret.
        """
        return frame.startswith(FRAME_HEADER) and frame[4:5] == bytes(
            (FrameType.DEVICE_INFO,)
        )

    def reset(self) -> None:
        """Drop partial frames, the stream position and the settings."""
        super().reset()
        self._cancel_pause()
        self._settings_frame = None
        self._cells = None
        self._confirmed = False

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
        if self._layout is None:
            self._layout = guess_layout(info.vendor, info.sw_version)
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
        """Keep the newest cell frame and the newest settings frame."""
        kind = frame[4]
        if kind == FrameType.CELL_INFO:
            self._cells = frame
        elif kind == FrameType.SETTINGS:
            self._settings_frame = frame

    def _settings(self, layout: Layout) -> JkSettings | None:
        """The newest settings, decoded in the confirmed layout."""
        if self._settings_frame is None:
            return None
        try:
            return decode_settings(self._settings_frame, layout)
        except ProtocolError as err:
            _LOGGER.debug("JK settings frame dropped: %s", err)
            self._settings_frame = None
            return None

    def _collect(self) -> None:
        """Take every pending frame out of the inbox."""
        while (frame := self.inbox.take(IS_ANY)) is not None:
            self._absorb(frame)

    def _confirm_layout(self, frame: bytes) -> Layout:
        """The layout a cell frame decodes in; a frame outranks any guess.

        The layout in use (remembered, or guessed from model and version) stays
        while it decodes the frame consistently; otherwise the one layout that
        does takes over.
        """
        layout = self._layout
        if layout is not None:
            try:
                check_cell_info(frame, layout)
            except FrameError:
                pass
            else:
                self._confirmed = True
                return layout
        fitting = fitting_layouts(frame)
        if len(fitting) != 1:
            raise FrameError("the JK cell frame fits no single frame layout")
        if layout is not None:
            _LOGGER.info("JK frames are %s, not %s", fitting[0], layout)
        self._layout = fitting[0]
        self._confirmed = True
        return fitting[0]

    async def _require_layout(self) -> Layout:
        """The layout confirmed by a cell frame of this connection."""
        if self._layout is not None and self._confirmed:
            return self._layout
        self._collect()
        return self._confirm_layout(self._cells or await self._await_cells())

    async def _fresh_cells(self) -> bytes:
        """The newest cell frame since the previous read."""
        self._collect()
        asked = self._settings_frame is None
        if asked:
            # Lost or late settings: ask again; the next cells follow them.
            self._cells = None
            await self.send(SETTINGS_REQUEST)
        frame = self._cells
        if frame is None:
            frame = await self._await_cells()
            self._cells = None
            self._collect()
            if asked and self._settings_frame is None:
                # A cell frame sent before the answer can come first (it
                # waited for its successor): the answer's cells come next.
                with contextlib.suppress(BmsTimeoutError, ProtocolError):
                    frame = await self.inbox.wait_for(IS_CELLS, self.request_timeout)
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
        if self._layout is None:
            await self._read_info()
        frame = await self._fresh_cells()
        try:
            layout = self._confirm_layout(frame)
        except FrameError as err:
            # Garbage that passed the sum: the stream brings a new frame soon.
            _LOGGER.debug("JK cell frame skipped: %s", err)
            frame = await self._fresh_cells()
            layout = self._confirm_layout(frame)
        return self._snapshot(frame, layout)

    def _snapshot(self, frame: bytes, layout: Layout) -> BatterySnapshot:
        info = self._info
        extras = info is not None and CODECS[layout].extra_probes(info.sw_version)
        return snapshot_of(frame, layout, self._settings(layout), extra_probes=extras)

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Write one switch register, then confirm it in a fresh settings frame."""
        layout = await self._require_layout()
        await self.send(build_switch(layout, kind, on))
        await asyncio.sleep(self.confirm_delay)
        try:
            frame = await self.exchange(SETTINGS_REQUEST, IS_SETTINGS)
        except (BmsTimeoutError, ProtocolError) as err:
            # The switch may have changed unconfirmed: ask for settings again.
            self._settings_frame = None
            raise CommandNotConfirmedError(
                "the JK BMS sent no settings to confirm the switch"
            ) from err
        # Only the user switch in the settings frame confirms the write: the
        # MOSFET states of the cell frame also go off under a protection.
        self._settings_frame = frame
        settings = self._settings(layout)
        if settings is None or settings.switch(kind) is not on:
            raise CommandNotConfirmedError(f"the JK {kind} switch did not change")
        # A cell frame can wait for its successor until after the write;
        # only frames that follow this settings frame show the new state.
        self._cells = None
        while self.inbox.take(IS_CELLS) is not None:
            pass
        return self._snapshot(await self._fresh_cells(), layout)
