"""Daly Smart BMS over BLE: Modbus "D2", its "P81" ESS variant and legacy "A5".

The variant is probed once after the first connect (D2, then A5 with host
address 0x80 and 0x40, then P81) unless the caller passes the one it stored.
Requests per update: D2 one 80-register read (or the 62-register block plus
the optional 0x3E x 9 MOS block), then the settings block and the balancer
register, which hold the switch states; P81 two (RT1, RT2); A5 up to seven
(0x90, 0x93, 0x94, 0x95, 0x96 and the optional 0x97, 0x98).

The D2 switch states are read on every update, so a change made in the vendor
app shows at once. Nothing cheaper holds them: the status block ends at 0x4F
and has only the MOSFET states (0x35, 0x36), the switches are 0xA5, 0xA6
(settings) and 0xCF (Daly's Modbus register list in syssi/esphome-daly-bms
``docs/dalyModbusProtocol.xlsx``; registers 0x44-0x4F are all 0 in the
80-register capture of a pack with both switches on). ESPHome's
``daly_bms_ble`` reads the same three blocks on each update.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from . import daly_a5 as a5
from . import daly_d2 as d2
from .daly_common import SUPPORTED_ALARMS, DalyStatus
from .daly_stream import DalyReassembler
from .driver import BmsDriver, DriverOptions
from .errors import (
    BmsTimeoutError,
    CommandNotConfirmedError,
    CommandUnverifiableError,
    ProtocolError,
    UnsupportedError,
)
from .matching import AdvertisementMatcher
from .snapshot import (
    BatterySnapshot,
    DeviceInfo,
    SwitchKind,
    Temperature,
    TemperatureKind,
)
from .transport import GattProfile, Transport

D2 = "d2"
P81 = "p81"
A5_80 = "a5_80"
A5_40 = "a5_40"
VARIANTS = (D2, P81, A5_80, A5_40)
A5_HOSTS = {A5_80: a5.HOST_BLE, A5_40: a5.HOST_UART}
MANUFACTURER_IDS = (258, 260, 770, 771, 1026)

PROBES = {
    D2: d2.build_read(0, d2.STATUS_SHORT),
    A5_80: a5.build_request(a5.PACK, a5.HOST_BLE),
    A5_40: a5.build_request(a5.PACK, a5.HOST_UART),
    P81: d2.build_read(*d2.P81_RT1, address=d2.P81_ADDRESS),
}
D2_SWITCH_REGISTERS = {
    SwitchKind.CHARGE: d2.REG_CHARGE,
    SwitchKind.DISCHARGE: d2.REG_DISCHARGE,
    SwitchKind.BALANCER: d2.REG_BALANCER,
}
# Replies that carry a serial number: D2 0xA9 x 32 ends in the 32-byte
# "machine code" (0xB9-0xC8, Daly's register list), the P81 version read holds
# a serial after the versions (the "P81 version frame" test vector).
SENSITIVE_HEADS = frozenset(
    {
        bytes((d2.D2_ADDRESS, d2.READ, 2 * d2.VERSION_COUNT)),
        bytes((d2.P81_REPLY_ADDRESS, d2.READ, 2 * d2.P81_VERSION[1])),
    }
)


def _probe_kind(frame: bytes) -> str | None:
    """Which protocol a frame answering one of the probes speaks."""
    if frame[0] == a5.START:
        return "a5" if frame[2] == a5.PACK else None
    if frame[1] != d2.READ:
        return None
    if frame[0] == d2.D2_ADDRESS and frame[2] == 2 * d2.STATUS_SHORT:
        return D2
    if frame[0] == d2.P81_REPLY_ADDRESS and frame[2] == 2 * d2.P81_RT1[1]:
        return P81
    return None


@dataclass(frozen=True, slots=True)
class _ModbusMatcher:
    """A reply (or exception) of ``function`` with ``byte_count`` data bytes."""

    address: int
    function: int
    byte_count: int | None = None

    def __call__(self, frame: bytes) -> bool:
        if frame[0] != self.address:
            return False
        if frame[1] == self.function | d2.EXCEPTION_FLAG:
            return True
        return frame[1] == self.function and (
            self.byte_count is None or frame[2] == self.byte_count
        )


@dataclass(frozen=True, slots=True)
class _A5Matcher:
    command: int

    def __call__(self, frame: bytes) -> bool:
        return frame[0] == a5.START and frame[2] == self.command


class DalyDriver(BmsDriver):
    """Reads and controls a Daly BMS in any of its protocol variants."""

    family = "daly"
    manufacturer = "Daly"
    gatt = (
        GattProfile(service=0xFFF0, notify=0xFFF1, write=0xFFF2),
        GattProfile(service=0xFF00, notify=0xFF01, write=0xFF02),
    )
    matchers = (
        AdvertisementMatcher(local_name="DL-*"),
        AdvertisementMatcher(local_name="JHB-*"),
        *(AdvertisementMatcher(manufacturer_id=m) for m in MANUFACTURER_IDS),
    )
    switches = frozenset({SwitchKind.CHARGE, SwitchKind.DISCHARGE, SwitchKind.BALANCER})
    connect_delay = 0.5
    request_timeout = 5.0
    first_probe_timeout = 8.0
    probe_timeout = 3.0
    ack_timeout = 1.0
    confirm_attempts = 3
    confirm_delay = 0.3

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Set up the reassembler; take the stored variant if there is one."""
        super().__init__(transport, options)
        self._variant = options.variant if options.variant in VARIANTS else None
        self._long_status: bool | None = None
        self._mos_block: bool | None = None
        self._a5_supported: dict[int, bool] = {}
        self._d2_supported: dict[int, bool] = {}
        self._device_info: DeviceInfo | None = None

    @property
    def variant(self) -> str | None:
        """``d2``, ``p81``, ``a5_80`` or ``a5_40`` once known."""
        return self._variant

    def new_reassembler(self) -> DalyReassembler:
        """Frames by header, length and checksum."""
        return DalyReassembler()

    def is_sensitive(self, frame: bytes) -> bool:
        """The version replies: they carry the unit's serial number."""
        return frame[:3] in SENSITIVE_HEADS

    async def initialize(self) -> None:
        """Probe the protocol variant (once) and the D2 status block size."""
        if self._variant is None:
            self._variant = await self._probe()
        if self._variant == D2 and self._long_status is None:
            self._long_status = await self._supports_long_status()

    async def _probe(self) -> str:
        """Send each variant's probe; the first frame that answers any decides.

        The inbox is not cleared between probes, so a reply that arrives late
        (a dongle waking up) still counts. An A5 answer is confirmed per host
        address, because A5 replies do not say which address they answer.
        """
        attempts = (
            (D2, self.first_probe_timeout),
            (D2, self.probe_timeout),
            (A5_80, self.probe_timeout),
            (A5_40, self.probe_timeout),
            (P81, self.probe_timeout),
        )
        self.inbox.clear()
        for variant, timeout in attempts:
            await self.send(PROBES[variant])
            try:
                frame = await self.inbox.wait_for(
                    lambda f: _probe_kind(f) is not None, timeout
                )
            except (BmsTimeoutError, ProtocolError):
                continue
            kind = _probe_kind(frame)
            if kind == "a5":
                return await self._confirm_a5_host(first=variant)
            if kind is not None:
                return kind
        raise BmsTimeoutError("no Daly protocol variant answered")

    async def _confirm_a5_host(self, first: str) -> str:
        order = (A5_40, A5_80) if first == A5_40 else (A5_80, A5_40)
        for variant in order:
            try:
                await self._request(
                    PROBES[variant], _A5Matcher(a5.PACK), self.probe_timeout
                )
            except (BmsTimeoutError, ProtocolError):
                continue
            return variant
        raise BmsTimeoutError("the Daly BMS stopped answering")

    async def _supports_long_status(self) -> bool:
        try:
            reply = await self._read_reply(0, d2.STATUS_LONG, self.probe_timeout)
        except (BmsTimeoutError, ProtocolError, UnsupportedError):
            return False
        return len(reply.registers) == d2.STATUS_LONG

    async def _request(
        self, payload: bytes, expect: Callable[[bytes], bool], timeout: float | None
    ) -> bytes:
        """One request: drop partial frames, send, wait for the expected frame."""
        return await self.exchange(payload, expect, timeout)

    # Modbus variants: D2 and P81.

    @property
    def _address(self) -> int:
        return d2.P81_ADDRESS if self._variant == P81 else d2.D2_ADDRESS

    async def _read_reply(
        self, start: int, count: int, timeout: float | None = None
    ) -> d2.ModbusReply:
        address = self._address
        frame = await self._request(
            d2.build_read(start, count, address),
            _ModbusMatcher(d2.reply_address(address), d2.READ, 2 * count),
            timeout,
        )
        reply = d2.parse_reply(frame)
        if reply.is_exception:
            raise UnsupportedError(
                f"register {start:#06x} x {count} refused (code {reply.data[0]})"
            )
        return reply

    async def _read_registers(
        self, start: int, count: int, timeout: float | None = None
    ) -> tuple[int, ...]:
        return (await self._read_reply(start, count, timeout)).registers

    async def _read_d2(self) -> DalyStatus:
        if self._long_status:
            return d2.decode_status(await self._read_registers(0, d2.STATUS_LONG))
        regs = await self._read_registers(0, d2.STATUS_SHORT)
        if self._mos_block is not False:
            regs += await self._read_mos_block()
        return d2.decode_status(regs)

    async def _read_mos_block(self) -> tuple[int, ...]:
        """The 0x3E x 9 block; dropped for good if its first answer is empty."""
        known = self._mos_block
        try:
            block = await self._read_registers(
                d2.MOS_BLOCK_START,
                d2.MOS_BLOCK_COUNT,
                None if known else self.probe_timeout,
            )
        except (BmsTimeoutError, UnsupportedError):
            if known:
                raise
            self._mos_block = False
            return ()
        if not known:
            self._mos_block = block[0x42 - d2.MOS_BLOCK_START] not in d2.ABSENT
        return block if self._mos_block else ()

    async def _read_p81(self) -> DalyStatus:
        rt1 = await self._read_registers(*d2.P81_RT1)
        rt2 = await self._read_registers(*d2.P81_RT2)
        return d2.decode_p81(rt1, rt2)

    async def _read_optional(self, start: int, count: int) -> tuple[int, ...] | None:
        """Read a D2 block that some units may not answer.

        Dropped for good after a first silence or refusal; once answered, a
        silence fails the update.
        """
        supported = self._d2_supported.get(start)
        if supported is False:
            return None
        try:
            regs = await self._read_registers(
                start, count, None if supported else self.probe_timeout
            )
        except (BmsTimeoutError, UnsupportedError):
            if supported:
                raise
            self._d2_supported[start] = False
            return None
        self._d2_supported[start] = True
        return regs

    async def _read_settings(self) -> d2.DalySettings | None:
        regs = await self._read_optional(d2.SETTINGS_START, d2.SETTINGS_COUNT)
        return None if regs is None else d2.decode_settings(regs)

    async def _read_balancer(self) -> bool | None:
        regs = await self._read_optional(d2.REG_BALANCER, 1)
        return None if regs is None else d2.decode_flag(regs[0], "balancer switch")

    # Legacy A5 variant.

    @property
    def _host(self) -> int:
        return A5_HOSTS.get(self._variant or "", a5.HOST_BLE)

    async def _a5(self, command: int, timeout: float | None = None) -> bytes:
        frame = await self._request(
            a5.build_request(command, self._host), _A5Matcher(command), timeout
        )
        return a5.parse_frame(frame).data

    async def _a5_optional(self, command: int) -> bytes | None:
        """A command some units ignore: dropped for good after a first silence."""
        supported = self._a5_supported.get(command)
        if supported is False:
            return None
        try:
            data = await self._a5(command, None if supported else self.probe_timeout)
        except BmsTimeoutError:
            if supported:
                raise
            self._a5_supported[command] = False
            return None
        self._a5_supported[command] = True
        return data

    async def _a5_frames(self, command: int, needed: int) -> list[bytes]:
        """Collect the first ``needed`` frames of a multi-frame reply.

        Stops early at a frame out of sequence or a silence after some frames;
        the decoder then reports the gap.
        """
        if not needed:
            return []
        self.inbox.clear()
        await self.send(a5.build_request(command, self._host))
        expect = _A5Matcher(command)
        frames: list[bytes] = []
        while len(frames) < needed:
            try:
                raw = await self.inbox.wait_for(expect, self.request_timeout)
            except BmsTimeoutError:
                if not frames:
                    raise
                break
            frames.append(a5.parse_frame(raw).data)
            if frames[-1][0] != len(frames):
                break
        return frames

    async def _read_a5(self) -> DalyStatus:
        pack = a5.decode_pack(await self._a5(a5.PACK))
        mosfet = a5.decode_mosfet(await self._a5(a5.MOSFET))
        status = a5.decode_status(await self._a5(a5.STATUS))
        cells = a5.decode_cells(
            await self._a5_frames(
                a5.CELLS, a5.frames_needed(status.cell_count, a5.CELLS_PER_FRAME)
            ),
            status.cell_count,
        )
        temps = a5.decode_temperatures(
            await self._a5_frames(
                a5.TEMPERATURES,
                a5.frames_needed(status.temperature_count, a5.TEMPERATURES_PER_FRAME),
            ),
            status.temperature_count,
        )
        balance = await self._a5_optional(a5.BALANCING)
        failures = await self._a5_optional(a5.FAILURES)
        balancing = (
            None if balance is None else a5.decode_balancing(balance, len(cells))
        )
        alarms, code = (
            (frozenset(), None) if failures is None else a5.decode_failures(failures)
        )
        return DalyStatus(
            voltage=pack.voltage,
            current=pack.current,
            soc=pack.soc,
            cell_voltages=cells,
            cell_count=status.cell_count,
            temperatures=temps,
            remaining_capacity=mosfet.remaining_capacity,
            cycles=status.cycles,
            charge_fet=mosfet.charge_fet,
            discharge_fet=mosfet.discharge_fet,
            state=mosfet.state,
            balancing=None if balancing is None else bool(balancing),
            balancing_cells=balancing,
            alarms=alarms,
            protection_code=code,
        )

    # The driver interface.

    async def read_device_info(self) -> DeviceInfo:
        """Versions from 0xA9 (D2) or 0x178 (P81), read once; A5 has none."""
        if self._device_info is not None:
            return self._device_info
        if self._variant is None:
            await self.initialize()
        sw = hw = None
        if self._variant in (D2, P81):
            start, count = (
                d2.P81_VERSION
                if self._variant == P81
                else (d2.VERSION_START, d2.VERSION_COUNT)
            )
            reply = await _optional(self._read_reply(start, count, self.probe_timeout))
            if reply is not None:
                lengths = (28, 14) if self._variant == P81 else (16, 16)
                sw, hw = d2.decode_version(reply.data, *lengths)
        self._device_info = DeviceInfo(
            manufacturer=self.manufacturer, sw_version=sw, hw_version=hw
        )
        return self._device_info

    async def read_snapshot(self) -> BatterySnapshot:
        """Read one snapshot in the detected variant."""
        if self._variant is None:
            await self.initialize()
        settings: d2.DalySettings | None = None
        balancer: bool | None = None
        if self._variant == D2:
            status = await self._read_d2()
            settings = await self._read_settings()
            balancer = await self._read_balancer()
        elif self._variant == P81:
            status = await self._read_p81()
        else:
            status = await self._read_a5()
        if self.options.invert_current:
            status = replace(status, current=-status.current)
        return self._snapshot(status, settings, balancer)

    def _snapshot(
        self,
        status: DalyStatus,
        settings: d2.DalySettings | None,
        balancer: bool | None,
    ) -> BatterySnapshot:
        temperatures = tuple(
            Temperature(TemperatureKind.CELL, t) for t in status.temperatures
        )
        if status.mosfet_temperature is not None:
            temperatures += (
                Temperature(TemperatureKind.MOSFET, status.mosfet_temperature),
            )
        return BatterySnapshot(
            voltage=status.voltage,
            current=status.current,
            cell_voltages=status.cell_voltages,
            temperatures=temperatures,
            state_of_charge=status.soc,
            remaining_capacity=status.remaining_capacity,
            design_capacity=settings.rated_capacity if settings else None,
            cycles=status.cycles,
            balancing=status.balancing,
            balancing_cells=status.balancing_cells,
            balance_current=status.balance_current,
            charge_mosfet=status.charge_fet,
            discharge_mosfet=status.discharge_fet,
            heater=status.heater,
            switches=self._switch_states(status, settings, balancer),
            alarms=status.alarms,
            supported_alarms=(
                SUPPORTED_ALARMS if status.protection_code is not None else frozenset()
            ),
            protection_code=status.protection_code,
            reported_cell_count=status.cell_count,
        )

    def _switch_states(
        self,
        status: DalyStatus,
        settings: d2.DalySettings | None,
        balancer: bool | None,
    ) -> dict[SwitchKind, bool | None]:
        """D2: the switch registers (else the MOSFETs); A5: the MOSFETs; P81: none."""
        if self._variant == P81:
            return {}
        if self._variant != D2:
            return {
                SwitchKind.CHARGE: status.charge_fet,
                SwitchKind.DISCHARGE: status.discharge_fet,
            }
        if settings is None:
            charge, discharge = status.charge_fet, status.discharge_fet
        else:
            charge, discharge = settings.charge_switch, settings.discharge_switch
        return {
            SwitchKind.CHARGE: charge,
            SwitchKind.DISCHARGE: discharge,
            SwitchKind.BALANCER: balancer,
        }

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Write the switch, confirm it by read-back, then read a snapshot.

        Raises :class:`CommandUnverifiableError` for an "off" that only a
        MOSFET could confirm while that MOSFET was off already.
        """
        if self._variant is None:
            await self.initialize()
        if kind not in self.switches or self._variant == P81:
            raise UnsupportedError(f"this Daly BMS has no {kind} switch")
        if self._variant == D2:
            await self._switch_d2(kind, on)
        elif kind is SwitchKind.BALANCER:
            raise UnsupportedError("the legacy Daly protocol has no balancer switch")
        else:
            await self._switch_a5(kind, on)
        return await self.read_snapshot()

    async def _switch_d2(self, kind: SwitchKind, on: bool) -> None:
        """Confirm by the switch's register; by the MOSFET without settings."""
        if kind is SwitchKind.BALANCER:
            await self._write_d2(kind, on)
            await self._confirm(kind, on, self._read_balancer)
            return
        if d2.SETTINGS_START not in self._d2_supported:
            await self._read_settings()
        if self._d2_supported[d2.SETTINGS_START]:
            await self._write_d2(kind, on)
            await self._confirm(kind, on, lambda: self._d2_switch_register(kind))
            return

        async def mosfet() -> bool:
            status = await self._read_d2()
            if kind is SwitchKind.CHARGE:
                return status.charge_fet
            return status.discharge_fet

        await self._confirm_by_mosfet(
            kind, on, lambda: self._write_d2(kind, on), mosfet
        )

    async def _write_d2(self, kind: SwitchKind, on: bool) -> None:
        request = d2.build_write(D2_SWITCH_REGISTERS[kind], int(on))
        echo = await self._request(
            request, _ModbusMatcher(d2.D2_ADDRESS, d2.WRITE), None
        )
        if echo != request:
            raise CommandNotConfirmedError(f"the BMS refused the {kind} command")

    async def _d2_switch_register(self, kind: SwitchKind) -> bool:
        settings = d2.decode_settings(
            await self._read_registers(d2.SETTINGS_START, d2.SETTINGS_COUNT)
        )
        if kind is SwitchKind.CHARGE:
            return settings.charge_switch
        return settings.discharge_switch

    async def _switch_a5(self, kind: SwitchKind, on: bool) -> None:
        """Confirm by the MOSFET: A5 reports no switch setting."""
        command = a5.CHARGE_SWITCH if kind is SwitchKind.CHARGE else a5.DISCHARGE_SWITCH

        async def send() -> None:
            # Some units send no acknowledgement; the read-back decides.
            with contextlib.suppress(BmsTimeoutError):
                await self._request(
                    a5.build_request(command, self._host, bytes((int(on),))),
                    _A5Matcher(command),
                    self.ack_timeout,
                )

        async def mosfet() -> bool:
            state = a5.decode_mosfet(await self._a5(a5.MOSFET))
            if kind is SwitchKind.CHARGE:
                return state.charge_fet
            return state.discharge_fet

        await self._confirm_by_mosfet(kind, on, send, mosfet)

    async def _confirm_by_mosfet(
        self,
        kind: SwitchKind,
        on: bool,
        send: Callable[[], Awaitable[None]],
        mosfet: Callable[[], Awaitable[bool]],
    ) -> None:
        """Send a command that only the MOSFET it drives can confirm.

        A conducting MOSFET proves its switch is on, and one that stops
        conducting after an "off" proves the "off" (unless a protection trips
        at that very moment). A MOSFET that was off already (by the setting,
        or held off by a protection) proves nothing: the BMS may have ignored
        the command.
        """
        was_on = await mosfet()
        await send()
        if not on and not was_on:
            raise CommandUnverifiableError(
                f"{kind}: the MOSFET was off already and the BMS reports no "
                "switch setting"
            )
        await self._confirm(kind, on, mosfet)

    async def _confirm(
        self,
        kind: SwitchKind,
        on: bool,
        read_state: Callable[[], Awaitable[bool | None]],
    ) -> None:
        for attempt in range(self.confirm_attempts):
            if attempt:
                await asyncio.sleep(self.confirm_delay)
            if await read_state() == on:
                return
        raise CommandNotConfirmedError(f"the {kind} switch did not change state")


async def _optional[T](read: Awaitable[T]) -> T | None:
    """A read some units do not answer: None on silence or refusal."""
    try:
        return await read
    except (BmsTimeoutError, UnsupportedError):
        return None
