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

from ..driver import BmsDriver, DriverOptions
from ..errors import BmsTimeoutError, ProtocolError, UnsupportedError
from ..matching import AdvertisementMatcher
from ..snapshot import (
    BatterySnapshot,
    DeviceInfo,
    SwitchKind,
    Temperature,
    TemperatureKind,
)
from ..transport import GattProfile, Transport
from . import a5, d2
from .frames import SUPPORTED_ALARMS
from .stream import DalyReassembler
from .variants import (
    A5_40,
    A5_80,
    D2,
    P81,
    VARIANT_TYPES,
    A5Matcher,
    DalyReading,
    DalyVariant,
)

VARIANTS = tuple(VARIANT_TYPES)
MANUFACTURER_IDS = (258, 260, 770, 771, 1026)

PROBES = {
    D2: d2.build_read(0, d2.STATUS_SHORT),
    A5_80: a5.build_request(a5.PACK, a5.HOST_BLE),
    A5_40: a5.build_request(a5.PACK, a5.HOST_UART),
    P81: d2.build_read(*d2.P81_RT1, address=d2.P81_ADDRESS),
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


class DalyDriver(BmsDriver):
    """Reads and controls a Daly BMS in any of its protocol variants."""

    family = "daly"
    claim_order = 30
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
    variants = VARIANTS
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
        stored = self.stored_variant
        self._variant = VARIANT_TYPES[stored](self) if stored is not None else None
        self._device_info: DeviceInfo | None = None

    @property
    def variant(self) -> str | None:
        """``d2``, ``p81``, ``a5_80`` or ``a5_40`` once known."""
        return self._variant.name if self._variant is not None else None

    def new_reassembler(self) -> DalyReassembler:
        """Frames by header, length and checksum."""
        return DalyReassembler()

    def is_sensitive(self, frame: bytes) -> bool:
        """The version replies: they carry the unit's serial number."""
        return frame[:3] in SENSITIVE_HEADS

    async def initialize(self) -> None:
        """Probe the protocol variant (once), then let it set itself up."""
        await self._known_variant()

    async def _known_variant(self) -> DalyVariant:
        if self._variant is None:
            self._variant = VARIANT_TYPES[await self._probe()](self)
        await self._variant.setup()
        return self._variant

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
                await self.exchange(
                    PROBES[variant], A5Matcher(a5.PACK), self.probe_timeout
                )
            except (BmsTimeoutError, ProtocolError):
                continue
            return variant
        raise BmsTimeoutError("the Daly BMS stopped answering")

    async def read_device_info(self) -> DeviceInfo:
        """Versions from 0xA9 (D2) or 0x178 (P81), read once; A5 has none."""
        if self._device_info is not None:
            return self._device_info
        variant = self._variant or await self._known_variant()
        sw, hw = await variant.versions()
        self._device_info = DeviceInfo(
            manufacturer=self.manufacturer, sw_version=sw, hw_version=hw
        )
        return self._device_info

    async def read_snapshot(self) -> BatterySnapshot:
        """Read one snapshot in the detected variant."""
        variant = self._variant or await self._known_variant()
        return self._snapshot(variant, await variant.read())

    def _snapshot(self, variant: DalyVariant, reading: DalyReading) -> BatterySnapshot:
        status, settings = reading.status, reading.settings
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
            switches=variant.switch_states(reading),
            alarms=status.alarms,
            supported_alarms=(
                SUPPORTED_ALARMS if status.protection_code is not None else frozenset()
            ),
            protection_code=status.protection_code,
            reported_cell_count=status.cell_count,
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Write the switch, confirm it by read-back, then read a snapshot.

        Raises :class:`CommandUnverifiableError` for an "off" that only a
        MOSFET could confirm while that MOSFET was off already.
        """
        variant = self._variant or await self._known_variant()
        if kind not in self.switches:
            raise UnsupportedError(f"this Daly BMS has no {kind} switch")
        await variant.switch(kind, on)
        return await self.read_snapshot()
