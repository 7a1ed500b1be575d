"""The Daly protocol variants: one object each behind one interface.

D2 (Modbus, with the switch registers), P81 (Modbus for ESS racks, read only)
and legacy A5 (13-byte frames, host address 0x80 or 0x40). The driver probes
which one a unit speaks and hands every read and command to it.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from ..errors import (
    BmsTimeoutError,
    CommandNotConfirmedError,
    CommandUnverifiableError,
    ProtocolError,
    UnsupportedError,
)
from ..snapshot import SwitchKind
from . import a5, d2
from .frames import DalyStatus

if TYPE_CHECKING:
    from .driver import DalyDriver

D2 = "d2"
P81 = "p81"
A5_80 = "a5_80"
A5_40 = "a5_40"
D2_SWITCH_REGISTERS = {
    SwitchKind.CHARGE: d2.REG_CHARGE,
    SwitchKind.DISCHARGE: d2.REG_DISCHARGE,
    SwitchKind.BALANCER: d2.REG_BALANCER,
}

type Switches = dict[SwitchKind, bool | None]


class DalyReading(NamedTuple):
    """What one update read: the status, and the D2 switch registers."""

    status: DalyStatus
    settings: d2.DalySettings | None = None
    balancer: bool | None = None


@dataclass(frozen=True, slots=True)
class ModbusMatcher:
    """A reply (or exception) of ``function`` with ``byte_count`` data bytes."""

    address: int
    function: int
    byte_count: int | None = None

    def __call__(self, frame: bytes) -> bool:
        """Whether the frame is that reply."""
        if frame[0] != self.address:
            return False
        if frame[1] == self.function | d2.EXCEPTION_FLAG:
            return True
        return frame[1] == self.function and (
            self.byte_count is None or frame[2] == self.byte_count
        )


@dataclass(frozen=True, slots=True)
class A5Matcher:
    """An A5 reply to one command."""

    command: int

    def __call__(self, frame: bytes) -> bool:
        """Whether the frame is that reply."""
        return frame[0] == a5.START and frame[2] == self.command


class DalyVariant(ABC):
    """How one protocol variant reads, reports its switches and switches."""

    name: ClassVar[str]

    def __init__(self, driver: DalyDriver) -> None:
        """Speak through the driver (its requests, inbox and timeouts)."""
        self.driver = driver

    async def setup(self) -> None:
        """Learn what the unit answers, after each connect."""

    async def versions(self) -> tuple[str | None, str | None]:
        """Software and hardware versions, where the variant reports them."""
        return None, None

    @abstractmethod
    async def read(self) -> DalyReading:
        """Read one update."""

    @abstractmethod
    def switch_states(self, reading: DalyReading) -> Switches:
        """The switch states an update shows."""

    async def switch(self, kind: SwitchKind, on: bool) -> None:
        """Switch and confirm by read-back."""
        raise UnsupportedError(f"this Daly BMS has no {kind} switch")

    async def confirm(
        self,
        kind: SwitchKind,
        on: bool,
        read_state: Callable[[], Awaitable[bool | None]],
    ) -> None:
        """Read the state back until it shows the command, a few times."""
        driver = self.driver
        for attempt in range(driver.confirm_attempts):
            if attempt:
                await asyncio.sleep(driver.confirm_delay)
            if await read_state() == on:
                return
        raise CommandNotConfirmedError(f"the {kind} switch did not change state")

    async def confirm_by_mosfet(
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
        await self.confirm(kind, on, mosfet)


class ModbusVariant(DalyVariant):
    """D2 and P81: Modbus register reads at the variant's address."""

    address: ClassVar[int]

    async def read_reply(
        self, start: int, count: int, timeout: float | None = None
    ) -> d2.ModbusReply:
        """Read registers; refusals raise :class:`UnsupportedError`."""
        frame = await self.driver.exchange(
            d2.build_read(start, count, self.address),
            ModbusMatcher(d2.reply_address(self.address), d2.READ, 2 * count),
            timeout,
        )
        reply = d2.parse_reply(frame)
        if reply.is_exception:
            raise UnsupportedError(
                f"register {start:#06x} x {count} refused (code {reply.data[0]})"
            )
        return reply

    async def read_registers(
        self, start: int, count: int, timeout: float | None = None
    ) -> tuple[int, ...]:
        """The register values of one read."""
        return (await self.read_reply(start, count, timeout)).registers

    async def _read_versions(
        self, start: int, count: int, lengths: tuple[int, int]
    ) -> tuple[str | None, str | None]:
        try:
            reply = await self.read_reply(start, count, self.driver.probe_timeout)
        except (BmsTimeoutError, UnsupportedError):
            return None, None
        return d2.decode_version(reply.data, *lengths)


class D2Variant(ModbusVariant):
    """Modbus D2: the status block, the settings block and the balancer register.

    The switch states are read on every update, so a change made in the vendor
    app shows at once.
    """

    name = D2
    address = d2.D2_ADDRESS

    def __init__(self, driver: DalyDriver) -> None:
        """Nothing known yet of the optional blocks."""
        super().__init__(driver)
        self._long_status: bool | None = None
        self._mos_block: bool | None = None
        self._supported: dict[int, bool] = {}

    async def setup(self) -> None:
        """Find out once whether the unit answers the 80-register block."""
        if self._long_status is None:
            self._long_status = await self._supports_long_status()

    async def _supports_long_status(self) -> bool:
        try:
            reply = await self.read_reply(0, d2.STATUS_LONG, self.driver.probe_timeout)
        except (BmsTimeoutError, ProtocolError, UnsupportedError):
            return False
        return len(reply.registers) == d2.STATUS_LONG

    async def versions(self) -> tuple[str | None, str | None]:
        """Registers 0xA9 x 32: 16 bytes of software, 16 of hardware version."""
        return await self._read_versions(d2.VERSION_START, d2.VERSION_COUNT, (16, 16))

    async def read(self) -> DalyReading:
        """The status, then the settings and the balancer switch."""
        status = await self.read_status()
        settings = await self._read_settings()
        balancer = await self._read_balancer()
        return DalyReading(status, settings, balancer)

    async def read_status(self) -> DalyStatus:
        """The 80-register block, or the 62 registers and the MOS block."""
        if self._long_status:
            return d2.decode_status(await self.read_registers(0, d2.STATUS_LONG))
        regs = await self.read_registers(0, d2.STATUS_SHORT)
        if self._mos_block is not False:
            regs += await self._read_mos_block()
        return d2.decode_status(regs)

    async def _read_mos_block(self) -> tuple[int, ...]:
        """The 0x3E x 9 block; dropped for good if its first answer is empty."""
        known = self._mos_block
        try:
            block = await self.read_registers(
                d2.MOS_BLOCK_START,
                d2.MOS_BLOCK_COUNT,
                None if known else self.driver.probe_timeout,
            )
        except (BmsTimeoutError, UnsupportedError):
            if known:
                raise
            self._mos_block = False
            return ()
        if not known:
            self._mos_block = block[0x42 - d2.MOS_BLOCK_START] not in d2.ABSENT
        return block if self._mos_block else ()

    async def _read_optional(self, start: int, count: int) -> tuple[int, ...] | None:
        """Read a block that some units may not answer.

        Dropped for good after a first silence or refusal; once answered, a
        silence fails the update.
        """
        supported = self._supported.get(start)
        if supported is False:
            return None
        try:
            regs = await self.read_registers(
                start, count, None if supported else self.driver.probe_timeout
            )
        except (BmsTimeoutError, UnsupportedError):
            if supported:
                raise
            self._supported[start] = False
            return None
        self._supported[start] = True
        return regs

    async def _read_settings(self) -> d2.DalySettings | None:
        regs = await self._read_optional(d2.SETTINGS_START, d2.SETTINGS_COUNT)
        return None if regs is None else d2.decode_settings(regs)

    async def _read_balancer(self) -> bool | None:
        regs = await self._read_optional(d2.REG_BALANCER, 1)
        return None if regs is None else d2.decode_flag(regs[0], "balancer switch")

    def switch_states(self, reading: DalyReading) -> Switches:
        """The switch registers; the MOSFETs where the settings are not read."""
        status, settings = reading.status, reading.settings
        if settings is None:
            charge, discharge = status.charge_fet, status.discharge_fet
        else:
            charge, discharge = settings.charge_switch, settings.discharge_switch
        return {
            SwitchKind.CHARGE: charge,
            SwitchKind.DISCHARGE: discharge,
            SwitchKind.BALANCER: reading.balancer,
        }

    async def switch(self, kind: SwitchKind, on: bool) -> None:
        """Confirm by the switch's register; by the MOSFET without settings."""
        if kind is SwitchKind.BALANCER:
            await self._write(kind, on)
            await self.confirm(kind, on, self._read_balancer)
            return
        if d2.SETTINGS_START not in self._supported:
            await self._read_settings()
        if self._supported[d2.SETTINGS_START]:
            await self._write(kind, on)
            await self.confirm(kind, on, lambda: self._switch_register(kind))
            return

        async def mosfet() -> bool:
            status = await self.read_status()
            if kind is SwitchKind.CHARGE:
                return status.charge_fet
            return status.discharge_fet

        await self.confirm_by_mosfet(kind, on, lambda: self._write(kind, on), mosfet)

    async def _write(self, kind: SwitchKind, on: bool) -> None:
        request = d2.build_write(D2_SWITCH_REGISTERS[kind], int(on))
        echo = await self.driver.exchange(
            request, ModbusMatcher(d2.D2_ADDRESS, d2.WRITE), None
        )
        if echo != request:
            raise CommandNotConfirmedError(f"the BMS refused the {kind} command")

    async def _switch_register(self, kind: SwitchKind) -> bool:
        settings = d2.decode_settings(
            await self.read_registers(d2.SETTINGS_START, d2.SETTINGS_COUNT)
        )
        if kind is SwitchKind.CHARGE:
            return settings.charge_switch
        return settings.discharge_switch


class P81Variant(ModbusVariant):
    """Modbus P81 (ESS racks): two real-time blocks, read only."""

    name = P81
    address = d2.P81_ADDRESS

    async def versions(self) -> tuple[str | None, str | None]:
        """28 bytes of software, 14 of hardware version."""
        return await self._read_versions(*d2.P81_VERSION, (28, 14))

    async def read(self) -> DalyReading:
        """RT1 then RT2."""
        rt1 = await self.read_registers(*d2.P81_RT1)
        rt2 = await self.read_registers(*d2.P81_RT2)
        return DalyReading(d2.decode_p81(rt1, rt2))

    def switch_states(self, reading: DalyReading) -> Switches:
        """P81 has no switches."""
        return {}


class A5Variant(DalyVariant):
    """Legacy A5: up to seven commands per update; the MOSFETs are the switches."""

    host: int  # the host address the requests are sent from

    def __init__(self, driver: DalyDriver) -> None:
        """Nothing known yet of the optional commands."""
        super().__init__(driver)
        self._supported: dict[int, bool] = {}

    async def _command(self, command: int, timeout: float | None = None) -> bytes:
        frame = await self.driver.exchange(
            a5.build_request(command, self.host), A5Matcher(command), timeout
        )
        return a5.parse_frame(frame).data

    async def _optional(self, command: int) -> bytes | None:
        """A command some units ignore: dropped for good after a first silence."""
        supported = self._supported.get(command)
        if supported is False:
            return None
        try:
            data = await self._command(
                command, None if supported else self.driver.probe_timeout
            )
        except BmsTimeoutError:
            if supported:
                raise
            self._supported[command] = False
            return None
        self._supported[command] = True
        return data

    async def _frames(self, command: int, needed: int) -> list[bytes]:
        """Collect the first ``needed`` frames of a multi-frame reply.

        Stops early at a frame out of sequence or a silence after some frames;
        the decoder then reports the gap.
        """
        if not needed:
            return []
        driver = self.driver
        driver.inbox.clear()
        await driver.send(a5.build_request(command, self.host))
        expect = A5Matcher(command)
        frames: list[bytes] = []
        while len(frames) < needed:
            try:
                raw = await driver.inbox.wait_for(expect, driver.request_timeout)
            except BmsTimeoutError:
                if not frames:
                    raise
                break
            frames.append(a5.parse_frame(raw).data)
            if frames[-1][0] != len(frames):
                break
        return frames

    async def read(self) -> DalyReading:
        """0x90, 0x93, 0x94, 0x95, 0x96 and the optional 0x97, 0x98."""
        pack = a5.decode_pack(await self._command(a5.PACK))
        mosfet = a5.decode_mosfet(await self._command(a5.MOSFET))
        status = a5.decode_status(await self._command(a5.STATUS))
        cells = a5.decode_cells(
            await self._frames(
                a5.CELLS, a5.frames_needed(status.cell_count, a5.CELLS_PER_FRAME)
            ),
            status.cell_count,
        )
        temps = a5.decode_temperatures(
            await self._frames(
                a5.TEMPERATURES,
                a5.frames_needed(status.temperature_count, a5.TEMPERATURES_PER_FRAME),
            ),
            status.temperature_count,
        )
        balance = await self._optional(a5.BALANCING)
        failures = await self._optional(a5.FAILURES)
        balancing = (
            None if balance is None else a5.decode_balancing(balance, len(cells))
        )
        alarms, code = (
            (frozenset(), None) if failures is None else a5.decode_failures(failures)
        )
        return DalyReading(
            DalyStatus(
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
        )

    def switch_states(self, reading: DalyReading) -> Switches:
        """The MOSFETs: A5 reports no switch setting."""
        return {
            SwitchKind.CHARGE: reading.status.charge_fet,
            SwitchKind.DISCHARGE: reading.status.discharge_fet,
        }

    async def switch(self, kind: SwitchKind, on: bool) -> None:
        """Confirm by the MOSFET: A5 reports no switch setting."""
        if kind is SwitchKind.BALANCER:
            raise UnsupportedError("the legacy Daly protocol has no balancer switch")
        command = a5.CHARGE_SWITCH if kind is SwitchKind.CHARGE else a5.DISCHARGE_SWITCH

        async def send() -> None:
            # Some units send no acknowledgement; the read-back decides.
            with contextlib.suppress(BmsTimeoutError):
                await self.driver.exchange(
                    a5.build_request(command, self.host, bytes((int(on),))),
                    A5Matcher(command),
                    self.driver.ack_timeout,
                )

        async def mosfet() -> bool:
            state = a5.decode_mosfet(await self._command(a5.MOSFET))
            if kind is SwitchKind.CHARGE:
                return state.charge_fet
            return state.discharge_fet

        await self.confirm_by_mosfet(kind, on, send, mosfet)


class A5HostBle(A5Variant):
    """A5 with host address 0x80 (the Bluetooth host)."""

    name = A5_80
    host = a5.HOST_BLE


class A5HostUart(A5Variant):
    """A5 with host address 0x40 (the UART host)."""

    name = A5_40
    host = a5.HOST_UART


class A5Board(A5Variant):
    """A5 to one board of an RS485 line: host 0x3F + board, replies from it.

    The board is the driver's bus address; the reassembler refuses replies
    from every other board.
    """

    name = "a5_board"

    def __init__(self, driver: DalyDriver) -> None:
        """Ask the driver's board."""
        super().__init__(driver)
        self.host = a5.board_host(driver.options.bus_address or a5.BMS_ADDRESS)


VARIANT_TYPES: dict[str, type[DalyVariant]] = {
    variant.name: variant for variant in (D2Variant, P81Variant, A5HostBle, A5HostUart)
}
