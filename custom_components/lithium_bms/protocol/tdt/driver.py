"""TDT (XDZN) modules over BLE, as in WattCycle packs: the conversation.

Service FFF0: requests are written to FFF2, replies notified on FFF1. A
snapshot is the analog quantity (0x8C) and the warning info (0x8D); the
product info (0x92) gives the device info. Some modules answer only a
request headed 0x1E instead of 0x7E: the first request that gets no answer
is tried with the other head, which is kept from then on (patman15/aiobmsble
``aiobmsble/bms/tdt_bms.py`` @ b0567331025033d33729385fa89a1198275d6486).
Some modules also want ``HiLink`` written to FFFA first; its GATT profile
asks the transport for it (qume/wattcycle_ble ``PROTOCOL.md``
@ 433a2e39ec4731a17423fab2f564a4882d42f3e6).

Read only: [qume/wattcycle_ble] names a charge/discharge switch data point
(0x82) from the app, but no public source shows its payload with a
read-back that confirms it.
"""

from __future__ import annotations

from ..driver import BmsDriver, DriverOptions
from ..errors import BmsTimeoutError, FrameError, UnsupportedError
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
    ANALOG,
    HEADS,
    MAX_CELLS,
    OVERHEAD,
    PRODUCT,
    SUPPORTED_ALARMS,
    WARNING,
    TdtAnalog,
    TdtWarning,
    build_request,
    data_point,
    decode_analog,
    decode_product,
    decode_warning,
)
from .stream import TdtReassembler

# The modules' company ID 0xD6C0; its data carries the MAC's last four bytes
# (aiobmsble ``matcher_dict_list()`` and ``test_data/tdt_bms.json``).
COMPANY_ID = 54976
# WattCycle's own names, advertised with service FFF0: ``WTDH*`` and
# ``WT???AZ*`` in aiobmsble 0.31.0 ``matcher_dict_list()``; Home Assistant
# indexes a name by its first three characters, so the second is spelt as the
# one seen, ``WTaHdAZ…`` (BMS_BLE-HA #730, #807).
NAMES = ("WTDH*", "WTaHdAZ*")
UNLOCK = b"HiLink"
# Ambient, MOSFET, then the cells (aiobmsble ``tdt_bms.py``).
PROBE_KINDS = (TemperatureKind.AMBIENT, TemperatureKind.MOSFET)


class TdtDriver(BmsDriver):
    """Reads a TDT BMS."""

    family = "tdt"
    manufacturer = "TDT"
    brand = "TDT / WattCycle"
    # Its company ID and the WattCycle names are claimed by no other family.
    # After the older families that also use FFF0 (Daly, PACE, Seplos V3,
    # Renogy), so an unclaimed device is probed for those first, as before:
    # a silent TDT probe waits for both request heads.
    claim_order = 345
    gatt = (
        GattProfile(
            service=0xFFF0, notify=0xFFF1, write=0xFFF2, unlock=(0xFFFA, UNLOCK)
        ),
    )
    matchers = (
        AdvertisementMatcher(manufacturer_id=COMPANY_ID),
        *(
            AdvertisementMatcher(local_name=name, service_uuid=uuid16(0xFFF0))
            for name in NAMES
        ),
    )
    limits = Limits(max_cells=MAX_CELLS)

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """The request head is unknown until a module answers one."""
        super().__init__(transport, options)
        self._head: int | None = None

    def new_reassembler(self) -> TdtReassembler:
        """Frames by head, length and CRC."""
        return TdtReassembler()

    def is_sensitive(self, frame: bytes) -> bool:
        """The product info reply carries the serial number."""
        return len(frame) > OVERHEAD and data_point(frame) == PRODUCT

    async def read_device_info(self) -> DeviceInfo:
        """Software version, manufacturer and serial number (0x92)."""
        try:
            product = decode_product(await self._read(PRODUCT))
        except (BmsTimeoutError, FrameError):
            # Not every module answers it (aiobmsble ``_fetch_device_info``),
            # nor with the 60 bytes [qume/wattcycle_ble] expects.
            return DeviceInfo(manufacturer=self.manufacturer)
        return DeviceInfo(
            manufacturer=product.manufacturer or self.manufacturer,
            sw_version=product.sw_version or None,
            serial_number=product.serial_number or None,
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """The analog quantity and the warning info."""
        analog = decode_analog(await self._read(ANALOG))
        warning = decode_warning(await self._read(WARNING))
        if (warning.cell_count, warning.probe_count) != (
            len(analog.cell_voltages),
            len(analog.probes),
        ):
            raise FrameError("TDT replies disagree on the cell or probe count")
        return _snapshot(analog, warning)

    async def _read(self, command: int) -> bytes:
        """One read, with the other head once when the first is not answered."""
        heads = (self._head,) if self._head is not None else HEADS
        for head in heads[:-1]:
            try:
                return await self._read_with(command, head)
            except BmsTimeoutError:
                continue
        return await self._read_with(command, heads[-1])

    async def _read_with(self, command: int, head: int) -> bytes:
        frame = await self.exchange(
            build_request(command, head), lambda frame: data_point(frame) == command
        )
        self._head = head
        return frame

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source confirms a command by read-back."""
        raise UnsupportedError(f"TDT has no {kind} command with a read-back")


def _snapshot(analog: TdtAnalog, warning: TdtWarning) -> BatterySnapshot:
    temperatures = tuple(
        Temperature(
            PROBE_KINDS[i] if i < len(PROBE_KINDS) else TemperatureKind.CELL, value
        )
        for i, value in enumerate(analog.probes)
    )
    return BatterySnapshot(
        voltage=analog.voltage,
        current=analog.current,
        cell_voltages=analog.cell_voltages,
        temperatures=temperatures,
        state_of_charge=float(analog.soc),
        state_of_health=None if analog.soh is None else float(analog.soh),
        remaining_capacity=analog.remaining,
        full_capacity=analog.full,
        design_capacity=analog.design,
        cycles=analog.cycles,
        balancing=bool(warning.balancing_cells),
        balancing_cells=warning.balancing_cells,
        balance_current=analog.balance_current,
        charge_mosfet=warning.charge_enabled,
        discharge_mosfet=warning.discharge_enabled,
        alarms=warning.alarms,
        supported_alarms=SUPPORTED_ALARMS,
        protection_code=warning.protection_code,
        reported_cell_count=warning.cell_count,
    )
