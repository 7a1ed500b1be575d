"""Seplos BMS: V2 (YD/T1363 ASCII) and V3 (Modbus RTU) on RS485, both over BLE.

On a wired bus the protocol variant comes with the wired protocol
(``seplos_v2`` or ``seplos_v3``) and the pack by its bus address. Over
Bluetooth a V3 pack's module (service FFF0, notify FFF1, write FFF2) carries
the same Modbus RTU frames as the wire; the driver reads PIA, PIB and PIC of
Modbus device 0x01, the first pack, as the public BLE readers do: they read
PIA, PIB (and PIC) of packs 0x01 to the pack count (syssi/esphome-seplos-bms
``components/seplos_bms_v3_ble/seplos_bms_v3_ble.cpp``
@ 0840c50a874fea8df43e1ce18fe039ed7ca26c92, patman15/aiobmsble
``aiobmsble/bms/seplos_bms.py`` @ b0567331025033d33729385fa89a1198275d6486,
whose test's PIA1 / PIB1 replies come from device 0x01; the capture
``docs/pdus/v3/SP05B2312190075-all-frames.txt`` of the former, named after a
module's BLE name, holds PIC replies of device 0x01). When that pack is the master
of a bank, EIA of device 0x00 gives the pack count and the other packs are
read as devices 0x02 onwards (:class:`~.variants.V3BleVariant`,
:attr:`reported_packs`). Read only: neither
public source documents a MOSFET command together with a read-back that
confirms it (the V3 map lists write-only FET "control off" registers,
0x1510-0x1515, with no capture of their use).

A V2 pack's module (``BP0x``, service FF00, notify FF01, write FF02) speaks a
binary form of the V2 frames (``v2ble``). Which of the two a new Bluetooth
pack speaks is probed after the first connect (``ble``) and then stored.
Read only over FF00 too: syssi/esphome-seplos-bms (#146) sends a 0xAA MOSFET
command, but no public capture shows it, its reply or a read-back after it,
and aiobmsble does not send it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..driver import BmsDriver, DriverOptions, Reassembler
from ..errors import BusOwnedError, UnsupportedError
from ..matching import AdvertisementMatcher, uuid16
from ..plausibility import Limits
from ..snapshot import BatterySnapshot, DeviceInfo, SwitchKind
from ..transport import GattProfile, Transport
from . import ble
from .frames import MAX_CELLS
from .stream import SeplosBleProbe
from .variants import VARIANT_TYPES, SeplosVariant, V3BleVariant

# The Modbus device a V3 module answers for over Bluetooth: the first pack.
BLE_DEVICE = 0x01


class SeplosDriver(BmsDriver):
    """Reads one Seplos pack on a wired bus or over BLE (either variant)."""

    family = "seplos"
    manufacturer = "Seplos"
    brand = "Seplos"
    # After JBD: JBD's module names ``SP0?S*`` / ``SP1?S*`` start as Seplos'
    # ``SP??B*`` do; neither claims the other's records (corpus test).
    claim_order = 310
    gatt = (
        GattProfile(service=0xFFF0, notify=0xFFF1, write=0xFFF2),
        GattProfile(service=0xFF00, notify=0xFF01, write=0xFF02),
    )
    # Seplos V3 modules: ``SP<model>B<date><serial>`` (SP05B, SP47B-A,
    # SP112B...), XZH ``XZHX*`` and ``CSY*``, always with service FFF0. Source:
    # the matcher table of patman15/aiobmsble ``aiobmsble/bms/seplos_bms.py``
    # and its ``aiobmsble/test_data/seplos_bms.json``
    # @ b0567331025033d33729385fa89a1198275d6486 (BMS_BLE-HA issues #142,
    # #214, #231, #454, #547), in tests/protocol/data/advertisements.json.
    # Seplos V2 modules: ``BP00`` to ``BP2?`` with service FF00 (the matchers
    # of ``aiobmsble/bms/seplos_v2_bms.py``, same commit; BMS_BLE-HA #101,
    # #418); JBD's FF00 names start otherwise.
    matchers = (
        *(
            AdvertisementMatcher(local_name=name, service_uuid=uuid16(0xFFF0))
            for name in (
                # Home Assistant wants three literal characters first: SP??B*
                # is spelt out per first digit.
                *(f"SP{digit}?B*" for digit in range(10)),
                "SP1??B*",
                "XZHX*",
                "CSY*",
            )
        ),
        *(
            AdvertisementMatcher(local_name=name, service_uuid=uuid16(0xFF00))
            for name in ("BP0?", "BP1?", "BP2?")
        ),
    )
    variants = tuple(VARIANT_TYPES)
    limits = Limits(max_cells=MAX_CELLS)

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Pick the variant object before the base class asks for a reassembler.

        Without a bus address the pack is on Bluetooth: its stored variant,
        or None until the probe tells.
        """
        self._variant: SeplosVariant | None
        if options.bus_address is None:
            self._variant = ble.known_variant(self, options.variant, BLE_DEVICE)
        else:
            variant = VARIANT_TYPES.get(options.variant or "")
            if variant is None:
                raise UnsupportedError("a wired Seplos pack needs its protocol")
            self._variant = variant(self, options.bus_address)
        super().__init__(transport, options)

    @property
    def variant(self) -> str | None:
        """``v2`` or ``v3`` (None over BLE until probed)."""
        return None if self._variant is None else self._variant.name

    @property
    def reported_packs(self) -> Mapping[int, BatterySnapshot | None]:
        """The other packs a V3 master reports over Bluetooth (by device)."""
        if isinstance(self._variant, V3BleVariant):
            return self._variant.reported
        return {}

    def new_reassembler(self) -> Reassembler:
        """The variant's frames of this pack (both BLE forms while probing)."""
        if self._variant is None:
            return SeplosBleProbe(BLE_DEVICE)
        return self._variant.new_reassembler()

    def is_sensitive(self, frame: bytes) -> bool:
        """Frames that carry a serial number."""
        return self._variant is not None and self._variant.is_sensitive(frame)

    async def _known(self) -> SeplosVariant:
        """The variant, probed once over BLE when none is stored."""
        if self._variant is None:
            self._variant = await ble.probe(self, BLE_DEVICE)
            self.reassembler = self._variant.new_reassembler()
        return self._variant

    async def initialize(self) -> None:
        """Probe a new Bluetooth pack's variant."""
        await self._known()

    async def read_device_info(self) -> DeviceInfo:
        """Model and versions, where the variant reports them."""
        return await (await self._known()).device_info()

    async def read_snapshot(self) -> BatterySnapshot:
        """One complete reading."""
        return await (await self._known()).read()

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Seplos is read only here; a listener may not even try."""
        if self.options.listen:
            raise BusOwnedError("the master pack owns the bus: listening only")
        raise UnsupportedError(f"Seplos has no {kind} command with a read-back")
