"""The two CBT Power protocols behind one interface: classic and VB.

A variant knows its reassembler and how one snapshot is read; the driver
holds the variant of its pack and hands it the link.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Protocol

from ..codecs import ydt1363
from ..driver import FrameMatcher, Reassembler
from ..errors import FrameError, ProtocolError
from ..snapshot import BatterySnapshot, Temperature, TemperatureKind
from . import frames, vb
from .stream import CbtPowerReassembler, CbtPowerVbReassembler


class Link(Protocol):
    """What a variant needs of the driver: requests and their replies."""

    async def exchange(
        self, payload: bytes, expect: FrameMatcher, timeout: float | None = None
    ) -> bytes:
        """Send one request and wait for the frame it expects."""

    async def exchange_in_pieces(
        self, payload: bytes, expect: FrameMatcher, size: int
    ) -> bytes:
        """Send one request in writes of ``size`` bytes; wait for its reply."""


class CbtVariant(ABC):
    """One protocol of the family."""

    name: ClassVar[str]
    manufacturer: ClassVar[str]
    model: ClassVar[str | None] = None

    @abstractmethod
    def new_reassembler(self) -> Reassembler:
        """The variant's reassembler."""

    @abstractmethod
    async def read(self, link: Link) -> BatterySnapshot:
        """One complete snapshot."""


# Asks of a reply that only its sum guards, until two in a row agree.
CONFIRM_ASKS = 3


def _answers(command: int) -> FrameMatcher:
    def matches(frame: bytes) -> bool:
        return frames.command_of(frame) == command

    return matches


class Classic(CbtVariant):
    """``AA 55`` frames: one request per value group, five cells a reply."""

    name = "classic"
    manufacturer = "CBT Power"

    def new_reassembler(self) -> Reassembler:
        """Classic replies."""
        return CbtPowerReassembler()

    async def read(self, link: Link) -> BatterySnapshot:
        """Voltage and current, the cells, then the other groups."""
        voltage_current = await self._ask(link, frames.VOLTAGE_CURRENT)
        cells: list[bytes] = []
        for command in frames.CELL_COMMANDS:
            cells.append(await self._ask(link, command))
            # The next group is asked only after five cells [aiobmsble].
            if len(frames.cells_of(cells[-1])) < frames.CELLS_PER_FRAME:
                break
        status = frames.decode(
            frames.ClassicReplies(
                voltage_current=voltage_current,
                temperatures=await self._confirmed(link, frames.TEMPERATURES),
                soc=await self._confirmed(link, frames.SOC),
                capacity=await self._ask(link, frames.CAPACITY),
                warnings=await self._ask(link, frames.WARNINGS),
                cells=tuple(cells),
            )
        )
        return BatterySnapshot(
            voltage=status.voltage,
            current=status.current,
            cell_voltages=status.cell_voltages,
            temperatures=(Temperature(TemperatureKind.CELL, status.temperature),),
            state_of_charge=float(status.soc),
            design_capacity=float(status.design_capacity),
            cycles=status.cycles,
            protection_code=status.problem_code,
        )

    @staticmethod
    async def _ask(link: Link, command: int) -> bytes:
        return await link.exchange(frames.build_request(command), _answers(command))

    async def _confirmed(self, link: Link, command: int) -> bytes:
        """A reply whose one value only the one-byte sum guards.

        Its length is the only other check, so a damaged reply whose sum
        still fits would pass: the value is taken once two replies in a row
        agree (a value that changes between two asks costs a third ask).
        """
        previous = await self._ask(link, command)
        for _ in range(CONFIRM_ASKS - 1):
            reply = await self._ask(link, command)
            if reply == previous:
                return reply
            previous = reply
        raise FrameError(f"CBT Power replies to {command:#04x} disagree")


def _vb_answers(kind: str) -> FrameMatcher:
    """A VB reply of the ``kind`` of INFO, or one with a return code."""

    def matches(frame: bytes) -> bool:
        try:
            parsed = ydt1363.parse_frame(frame)
        except ProtocolError:
            return False
        if (parsed.ver, parsed.cid1) != (vb.REPLY_VER, vb.CID1):
            return False
        if parsed.cid2 != ydt1363.RTN_NORMAL:
            return True  # the read raises the return code
        if kind == "analog":
            return vb.is_analog(parsed.info)
        return vb.is_capacity(parsed.info)

    return matches


class Vb(CbtVariant):
    """YD/T1363 ASCII frames: the analog reply, then the design capacity."""

    name = "vb"
    manufacturer = "Creabest"
    model = "VB series"

    def new_reassembler(self) -> Reassembler:
        """YD/T1363 frames of device 1."""
        return CbtPowerVbReassembler()

    async def read(self, link: Link) -> BatterySnapshot:
        """0x42, then 0x81 ``01 00``."""
        analog = await link.exchange_in_pieces(
            vb.build_request(vb.ANALOG), _vb_answers("analog"), vb.WRITE_SIZE
        )
        status = vb.decode_analog(vb.reply_info(analog))
        capacity = await link.exchange_in_pieces(
            vb.build_request(vb.CAPACITY, vb.CAPACITY_INFO),
            _vb_answers("capacity"),
            vb.WRITE_SIZE,
        )
        return BatterySnapshot(
            voltage=status.voltage,
            current=status.current,
            cell_voltages=status.cell_voltages,
            temperatures=tuple(
                Temperature(TemperatureKind.CELL, t) for t in status.temperatures
            ),
            state_of_charge=float(status.soc),
            design_capacity=vb.decode_capacity(vb.reply_info(capacity)),
            cycles=status.cycles,
            protection_code=status.problem_code,
            reported_cell_count=status.reported_cells,
        )


CLASSIC = Classic()
VB = Vb()
VARIANTS: dict[str, CbtVariant] = {CLASSIC.name: CLASSIC, VB.name: VB}
