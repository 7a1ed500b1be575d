"""Seplos BMS on a wired RS485 bus: V2 (YD/T1363 ASCII) and V3 (Modbus RTU).

Wired only for now (no Bluetooth profile, no matchers). The protocol variant
comes with the wired protocol (``seplos_v2`` or ``seplos_v3``) and the pack by
its bus address. Read only: neither public source documents a MOSFET command
together with a read-back that confirms it (the V3 map lists write-only FET
"control off" registers, 0x1510-0x1515, with no capture of their use).
"""

from __future__ import annotations

from ..driver import BmsDriver, DriverOptions, Reassembler
from ..errors import BusOwnedError, UnsupportedError
from ..plausibility import Limits
from ..snapshot import BatterySnapshot, DeviceInfo, SwitchKind
from ..transport import Transport
from .frames import MAX_CELLS
from .variants import VARIANT_TYPES, SeplosVariant


class SeplosDriver(BmsDriver):
    """Reads one Seplos pack on a wired bus, in its protocol variant."""

    family = "seplos"
    manufacturer = "Seplos"
    claim_order = 310
    gatt = ()
    matchers = ()
    variants = tuple(VARIANT_TYPES)
    limits = Limits(max_cells=MAX_CELLS)

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Pick the variant object before the base class asks for a reassembler."""
        variant = VARIANT_TYPES.get(options.variant or "")
        if variant is None or options.bus_address is None:
            raise UnsupportedError("a Seplos pack needs its wired protocol and address")
        self._variant: SeplosVariant = variant(self, options.bus_address)
        super().__init__(transport, options)

    @property
    def variant(self) -> str:
        """``v2`` or ``v3``."""
        return self._variant.name

    def new_reassembler(self) -> Reassembler:
        """The variant's frames of this pack."""
        return self._variant.new_reassembler()

    def is_sensitive(self, frame: bytes) -> bool:
        """Frames that carry a serial number."""
        return self._variant.is_sensitive(frame)

    async def read_device_info(self) -> DeviceInfo:
        """Model and versions, where the variant reports them."""
        return await self._variant.device_info()

    async def read_snapshot(self) -> BatterySnapshot:
        """One complete reading."""
        return await self._variant.read()

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Seplos is read only here; a listener may not even try."""
        if self.options.listen:
            raise BusOwnedError("the master pack owns the bus: listening only")
        raise UnsupportedError(f"Seplos has no {kind} command with a read-back")
