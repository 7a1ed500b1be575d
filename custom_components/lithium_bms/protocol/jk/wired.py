"""JK on a serial line: the ``4E 57`` protocol of older boards, and JK-PB's RS485.

Both read through a :class:`SerialTransport`; neither has Bluetooth matchers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ..driver import BmsDriver, DriverOptions
from ..errors import (
    BmsTimeoutError,
    BusOwnedError,
    CommandNotConfirmedError,
    ProtocolError,
    UnsupportedError,
)
from ..snapshot import BatterySnapshot, DeviceInfo, SwitchKind
from ..transport import Transport
from . import pb, rs485
from .driver import snapshot_of
from .frames import (
    FRAME_HEADER,
    FrameType,
    JkDeviceInfo,
    JkSettings,
    Layout,
    decode_device_info,
    decode_settings,
    has_extra_probes,
)
from .stream import PbReassembler, Rs485Reassembler

MANUFACTURER = "Jikong (JK)"


def _listening(options: DriverOptions) -> None:
    """Refuse a command on a bus another master owns, before anything is sent."""
    if options.listen:
        raise BusOwnedError("another master owns the bus: listening only")


class _JkWiredDriver(BmsDriver):
    """What both JK serial protocols share: no Bluetooth, short replies."""

    family = "jk"
    manufacturer = MANUFACTURER
    gatt = ()
    matchers = ()
    request_timeout = 0.5
    # Seconds between a switch command and the read that confirms it.
    confirm_delay = 0.2


@dataclass(frozen=True, slots=True)
class _Reply:
    """Matches the "read all" reply for one terminal number."""

    terminal: int

    def __call__(self, frame: bytes) -> bool:
        return rs485.is_read_reply(frame, self.terminal)


class JkRs485Driver(_JkWiredDriver):
    """A JK board's ``4E 57`` protocol: "read all" answers every read.

    The frame's terminal number is no bus address in any source (all send 0),
    so the line has one pack. Switches: charge and discharge, confirmed by
    their 0xAB / 0xAC fields in the next "read all" reply; the balancer
    cannot be set over this port.
    """

    switches = frozenset(rs485.SWITCH_FIELDS)

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Bind to the line; the terminal number is the bus address (0)."""
        super().__init__(transport, options)
        self._terminal = options.bus_address or 0

    def new_reassembler(self) -> Rs485Reassembler:
        """Frames by length, end mark and sum."""
        return Rs485Reassembler()

    async def _read(self) -> rs485.Rs485Status:
        frame = await self.exchange(
            rs485.read_request(self._terminal), _Reply(self._terminal)
        )
        return rs485.decode_status(frame)

    async def read_device_info(self) -> DeviceInfo:
        """Versions (0xB7), the model in 0xBA and the device ID (0xB4)."""
        status = await self._read()
        return DeviceInfo(
            manufacturer=self.manufacturer,
            model=status.model,
            hw_version=status.hw_version,
            sw_version=status.sw_version,
            name=status.name,
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """One "read all" reply."""
        return self._snapshot(await self._read())

    def _snapshot(self, status: rs485.Rs485Status) -> BatterySnapshot:
        return BatterySnapshot(
            voltage=status.voltage,
            current=status.current,
            cell_voltages=status.cell_voltages,
            temperatures=status.temperatures,
            state_of_charge=float(status.soc),
            full_capacity=status.actual_capacity,
            design_capacity=status.design_capacity,
            cycles=status.cycles,
            balancing=status.balancing,
            charge_mosfet=status.charge_mosfet,
            discharge_mosfet=status.discharge_mosfet,
            switches=dict(status.switches),
            alarms=status.alarms,
            supported_alarms=rs485.SUPPORTED_ALARMS,
            protection_code=status.warnings,
            reported_cell_count=status.cell_count,
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Password, write, then confirm the switch field in a fresh reply."""
        _listening(self.options)
        if kind not in rs485.SWITCH_FIELDS:
            raise UnsupportedError(f"the JK 4E 57 protocol has no {kind} switch")
        await self.send(rs485.password_request(self._terminal))
        await asyncio.sleep(rs485.PASSWORD_DELAY)
        await self.send(rs485.build_switch(kind, on, self._terminal))
        await asyncio.sleep(self.confirm_delay)
        try:
            status = await self._read()
        except (BmsTimeoutError, ProtocolError) as err:
            raise CommandNotConfirmedError(
                "the JK BMS sent no reply to confirm the switch"
            ) from err
        if status.switches[kind] is not on:
            raise CommandNotConfirmedError(f"the JK {kind} switch did not change")
        return self._snapshot(status)


@dataclass(frozen=True, slots=True)
class _Kind:
    """Matches a 300-byte frame of one type."""

    kind: FrameType

    def __call__(self, piece: bytes) -> bool:
        return piece.startswith(FRAME_HEADER) and piece[4] == self.kind


@dataclass(frozen=True, slots=True)
class _WriteReply:
    """Matches the acknowledgement or exception of a switch write."""

    register: int

    def __call__(self, piece: bytes) -> bool:
        part = pb.part_of(piece)
        return part is pb.Part.EXCEPTION or (
            part is pb.Part.ACK and pb.register_of(piece) == self.register
        )


LAYOUT = Layout.JK02_32S
# Every JK-PB in the sources runs firmware 15 or later (JKBMS-PB.md: V15.x and
# V19.x), which reports the extra probes; a listener never sees the device
# info that would say so.
EXTRA_PROBES_UNHEARD = True


class JkPbDriver(_JkWiredDriver):
    """One JK-PB pack on an RS485 bus, asked as master or heard by listening.

    Asking, it sends the triggers itself (device info once, settings and
    cells on every read). Listening, it never sends: it keeps the frames the
    bus master's requests to its address paired (:class:`pb.Pairing`); the
    master never asks for device info, so a listener reports none. Switches
    (asking only): a 0x10 write to the user switch, confirmed by the settings
    frame read right after it.
    """

    switches = frozenset(pb.SWITCH_REGISTERS)

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Bind to the pack at ``options.bus_address``."""
        super().__init__(transport, options)
        address = options.bus_address
        if address is None or not 0 <= address <= pb.MAX_ADDRESS:
            raise ValueError(f"JK-PB address {address} is outside 0-{pb.MAX_ADDRESS}")
        self.address = address
        self._pairing = pb.Pairing()
        self._info: JkDeviceInfo | None = None
        self._settings: JkSettings | None = None

    def new_reassembler(self) -> PbReassembler:
        """Frames and the Modbus writes around them."""
        return PbReassembler()

    def reset(self) -> None:
        """Forget partial pieces and a half-seen exchange."""
        super().reset()
        self._pairing.reset()

    def deliver(self, frames: list[bytes], errors: list[ProtocolError]) -> None:
        """Publish only what belongs to this pack: paired frames, its acks.

        A listener hears every pack's traffic: errors on the line say nothing
        about this pack then, so only an asking driver keeps them.
        """
        if not self.options.listen:
            for error in errors:
                self.inbox.reject(error)
        for piece in frames:
            paired = self._pairing.take(piece)
            if paired is not None:
                if paired.address == self.address:
                    self._publish(paired.frame)
            elif (
                pb.part_of(piece) in (pb.Part.ACK, pb.Part.EXCEPTION)
                and piece[0] == self.address
                and not self.options.listen
            ):
                self._publish(piece)

    def _publish(self, piece: bytes) -> None:
        if self.on_frame is not None:
            self.on_frame(piece)
        self.inbox.put(piece)

    def is_sensitive(self, frame: bytes) -> bool:
        """The device-info frame: it carries both passcodes and the serial number."""
        return _Kind(FrameType.DEVICE_INFO)(frame)

    async def _ask(self, kind: FrameType) -> bytes:
        """Send one trigger and wait for its acknowledged frame."""
        self._pairing.asked(self.address, pb.TRIGGER_OF[kind])
        return await self.exchange(pb.trigger_request(self.address, kind), _Kind(kind))

    async def _heard(self, kind: FrameType, timeout: float) -> bytes | None:
        """The newest heard frame of ``kind``, waiting up to ``timeout`` for one."""
        newest = None
        while (frame := self.inbox.take(_Kind(kind))) is not None:
            newest = frame
        if newest is not None or timeout <= 0:
            return newest
        return await self.inbox.wait_for(_Kind(kind), timeout)

    async def read_device_info(self) -> DeviceInfo:
        """Model, versions, serial number and name (asking only)."""
        if self._info is None and not self.options.listen:
            self._info = decode_device_info(await self._ask(FrameType.DEVICE_INFO))
        info = self._info
        if info is None:
            return DeviceInfo(manufacturer=self.manufacturer)
        return DeviceInfo(
            manufacturer=self.manufacturer,
            model=info.vendor or None,
            hw_version=info.hw_version or None,
            sw_version=info.sw_version or None,
            serial_number=info.serial_number or None,
            name=info.device_name or None,
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """Settings and cells: asked for, or the newest ones the master got."""
        if self.options.listen:
            return await self._listened_snapshot()
        self._settings = decode_settings(await self._ask(FrameType.SETTINGS), LAYOUT)
        return self._snapshot(await self._ask(FrameType.CELL_INFO))

    async def _listened_snapshot(self) -> BatterySnapshot:
        settings = await self._heard(FrameType.SETTINGS, 0)
        cells = await self._heard(FrameType.CELL_INFO, self.request_timeout)
        if cells is None:
            raise BmsTimeoutError("no JK-PB frame for this address was heard")
        if settings is None and self._settings is None:
            # The master asks for settings right after the cells.
            try:
                settings = await self._heard(FrameType.SETTINGS, self.request_timeout)
            except BmsTimeoutError:
                settings = None
        if settings is not None:
            self._settings = decode_settings(settings, LAYOUT)
        return self._snapshot(cells)

    def _snapshot(self, frame: bytes) -> BatterySnapshot:
        info = self._info
        extras = (
            EXTRA_PROBES_UNHEARD if info is None else has_extra_probes(info.sw_version)
        )
        return snapshot_of(frame, LAYOUT, self._settings, extra_probes=extras)

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Write the switch, then confirm it in a fresh settings frame."""
        _listening(self.options)
        register = pb.SWITCH_REGISTERS[kind]
        try:
            reply = await self.exchange(
                pb.switch_request(self.address, kind, on), _WriteReply(register)
            )
        except BmsTimeoutError:
            reply = None  # the write may still have landed: read it back
        if reply is not None and pb.part_of(reply) is pb.Part.EXCEPTION:
            raise CommandNotConfirmedError(
                f"the JK-PB refused the {kind} write (exception {reply[2]})"
            )
        await asyncio.sleep(self.confirm_delay)
        try:
            frame = await self._ask(FrameType.SETTINGS)
        except (BmsTimeoutError, ProtocolError) as err:
            raise CommandNotConfirmedError(
                "the JK-PB sent no settings to confirm the switch"
            ) from err
        self._settings = decode_settings(frame, LAYOUT)
        if self._settings.switch(kind) is not on:
            raise CommandNotConfirmedError(f"the JK-PB {kind} switch did not change")
        return self._snapshot(await self._ask(FrameType.CELL_INFO))
