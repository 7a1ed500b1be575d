"""Offgridtec LiFePo4 Smart Pro packs over BLE: the conversation.

Service FFF0: requests are written to FFF6, replies notified on FFF4. A
snapshot asks each register of the pack's type in turn (:mod:`.frames`), and
type B its cells from register 63 down until it answers ``Err``. The key that
scrambles the link and the type come from the advertised name, which is
remembered so the pack can be read while it is not advertising.

Read only: no public source documents a command.
"""

from __future__ import annotations

from ..driver import BmsDriver, DriverMemory, DriverOptions
from ..errors import FrameError, UnsupportedError
from ..matching import AdvertisementMatcher, uuid16
from ..plausibility import Limits
from ..snapshot import (
    BatterySnapshot,
    DeviceInfo,
    SwitchKind,
    Temperature,
    TemperatureKind,
)
from ..transport import GattProfile, Transport
from .frames import (
    CELL_SCALE,
    MAX_CELLS,
    Pack,
    decode_value,
    is_reply,
    pack_from_name,
    request,
    scaled,
    scramble_table,
)
from .stream import OgtReassembler

MODEL = "LiFePo4 Smart Pro"
# aiobmsble 0.31.0 ``matcher_dict_list()``.
NAMES = "SmartBat-[AB]*"
MEMORY_NAME = "name"


class OgtDriver(BmsDriver):
    """Reads an Offgridtec LiFePo4 Smart Pro pack (type A or B)."""

    family = "ogt"
    manufacturer = "Offgridtec"
    brand = "Offgridtec"
    # Its names are claimed by no other family: after the FFF0 families.
    claim_order = 367
    gatt = (GattProfile(service=0xFFF0, notify=0xFFF4, write=0xFFF6),)
    matchers = (AdvertisementMatcher(local_name=NAMES, service_uuid=uuid16(0xFFF0)),)
    # Type A reports no cell.
    limits = Limits(min_cells=0, max_cells=MAX_CELLS)

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Take the pack from the advertised name, else the remembered one."""
        remembered = (options.memory or {}).get(MEMORY_NAME)
        name = options.name if pack_from_name(options.name) else remembered
        self._name = name if isinstance(name, str) else None
        self._pack = pack_from_name(self._name)
        self._table = scramble_table(self._pack.key if self._pack else 0)
        super().__init__(transport, options)

    @property
    def memory(self) -> DriverMemory:
        """The name the key and the type come from."""
        return {MEMORY_NAME: self._name} if self._pack else {}

    def new_reassembler(self) -> OgtReassembler:
        """Lines descrambled with the pack's key."""
        return OgtReassembler(self._pack.key if self._pack else 0)

    def _known(self) -> Pack:
        if self._pack is None:
            raise UnsupportedError(
                "an Offgridtec pack is read with the key of its SmartBat-A/B name"
            )
        return self._pack

    async def read_device_info(self) -> DeviceInfo:
        """The type and the number from the name (the pack reports neither)."""
        pack = self._known()
        return DeviceInfo(
            manufacturer=self.manufacturer,
            model=f"{MODEL} type {pack.variant.letter}",
            serial_number=pack.number,
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """Each register of the pack's type, then type B's cells."""
        variant = self._known().variant
        values: dict[str, float] = {}
        for register in variant.registers:
            raw = await self._read(register.number, register.size)
            if raw is None:
                raise FrameError(f"Offgridtec refused register {register.number}")
            values[register.target] = scaled(register, raw)
        cells: list[float] = []
        for number in variant.cells:
            raw = await self._read(number, 2)
            if raw is None:
                break
            cells.append(round(raw * CELL_SCALE, 3))
        if variant.cells and not cells:
            raise FrameError("Offgridtec type B answered no cell")
        return BatterySnapshot(
            voltage=values["voltage"],
            current=values["current"],
            cell_voltages=tuple(cells),
            temperatures=(Temperature(TemperatureKind.CELL, values["temperature"]),),
            state_of_charge=values["soc"],
            remaining_capacity=values["remaining"],
            design_capacity=values["design"],
            cycles=int(values["cycles"]),
        )

    async def _read(self, number: int, size: int) -> int | None:
        """One register's integer, None when the pack answers ``Err``."""
        pack = self._known()
        plain = request(pack.variant, number, size)
        frame = await self.exchange(
            plain.translate(self._table),
            lambda f: is_reply(f, number),
        )
        return decode_value(frame)

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source documents a command."""
        raise UnsupportedError(f"Offgridtec has no {kind} command with a read-back")
