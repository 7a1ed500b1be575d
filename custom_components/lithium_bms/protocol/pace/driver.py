"""PACE packs on an RS485 bus, by address, or over their Bluetooth module.

On the bus each pack is read by its own requests (ADR and the INFO pack
number are its address): 0x42 analog values, 0x44 alarms and MOSFET states,
C1 and C2 its version and production text. The MOSFETs switch with 0x9A and
0x9B, and a 0x44 read-back confirms them. Frames are in :mod:`.frames`.

Without a bus address the pack is on Bluetooth: a PACEEX / PeiCheng module
(service FFF0, notify FFF1, write FFF2) speaking the binary frames of
:mod:`.ble_frames`, read only (:mod:`.ble`).
"""

from __future__ import annotations

from ..codecs import ydt1363
from ..driver import BmsDriver, DriverOptions, Reassembler
from ..errors import (
    BusOwnedError,
    CommandNotConfirmedError,
    CommandUnverifiableError,
    FrameError,
    UnsupportedError,
)
from ..matching import AdvertisementMatcher
from ..plausibility import Limits
from ..snapshot import BatterySnapshot, DeviceInfo, SwitchKind
from ..transport import GattProfile, Transport
from .ble import PaceBleLink
from .ble_frames import BleCommand
from .frames import (
    MOSFET_COMMANDS,
    SUPPORTED_ALARMS,
    Analog,
    Command,
    Status,
    decode_analog,
    decode_status,
    decode_text,
    is_reply,
    mosfet_request,
    pack_request,
    request,
)
from .stream import PaceBleReassembler, PaceReassembler

DEFAULT_ADDRESS = 1
WIRED_SWITCHES = frozenset({SwitchKind.CHARGE, SwitchKind.DISCHARGE})
# What holds a MOSFET off whatever it is switched to (the protections of each
# direction, PDF charts A.19 and A.20).
BLOCKING = {
    SwitchKind.CHARGE: frozenset(
        {
            "cell_overvoltage",
            "pack_overvoltage",
            "charge_overcurrent",
            "short_circuit",
            "charge_overtemperature",
            "charge_undertemperature",
            "mosfet_overtemperature",
        }
    ),
    SwitchKind.DISCHARGE: frozenset(
        {
            "cell_undervoltage",
            "pack_undervoltage",
            "discharge_overcurrent",
            "short_circuit",
            "discharge_overtemperature",
            "discharge_undertemperature",
            "mosfet_overtemperature",
        }
    ),
}


class _LinkSwitches:
    """``switches``: the MOSFETs on a bus, none over Bluetooth (the class's)."""

    def __get__(
        self, driver: PaceDriver | None, owner: type[PaceDriver]
    ) -> frozenset[SwitchKind]:
        if driver is None or driver.ble is not None:
            return frozenset()
        return WIRED_SWITCHES


class PaceDriver(BmsDriver):
    """Reads a PACE pack (on a bus or over BLE); on a bus switches its MOSFETs."""

    family = "pace"
    manufacturer = "PACE"
    brand = "PACE"
    gatt = (GattProfile(service=0xFFF0, notify=0xFFF1, write=0xFFF2),)
    # PACEEX modules advertise as ``PC-`` and four characters, with no service
    # UUID in the advertisement (patman15/aiobmsble aiobmsble/bms/pace_bms.py
    # and aiobmsble/test_data/pace_bms.json
    # @ b0567331025033d33729385fa89a1198275d6486, BMS_BLE-HA issue #521).
    matchers = (AdvertisementMatcher(local_name="PC-????"),)
    claim_order = 300
    switches = _LinkSwitches()
    # The base's 5 s over BLE (aiobmsble's TIMEOUT); on a bus the wired
    # protocol's reply timeout replaces it.
    # Up to 16 cells in 48 V class packs; current is 16 bits of 10 mA and the
    # capacities 16 bits of 10 mAh (PDF chart A.4).
    limits = Limits(
        pack_voltage=(0.0, 80.0),
        current=(-327.68, 327.67),
        capacity=(0.0, 655.35),
        cycles=(0, 65535),
        max_cells=16,
    )

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Bind to the pack at ``options.bus_address``; without one, over BLE."""
        self.ble = PaceBleLink(self) if options.bus_address is None else None
        self.bus_address = (
            DEFAULT_ADDRESS if options.bus_address is None else options.bus_address
        )
        super().__init__(transport, options)
        self._asked: Command | None = None

    def new_reassembler(self) -> Reassembler:
        """BLE frames, or on a bus the frames of this pack's address only."""
        if self.ble is not None:
            return PaceBleReassembler()
        return PaceReassembler(self.bus_address)

    def is_sensitive(self, frame: bytes) -> bool:
        """C2 (bus) and 0x0002 (BLE) carry the serial number, both ways."""
        if self.ble is not None:
            return self.ble.asked is BleCommand.SERIAL
        return self._asked is Command.PRODUCT_INFO

    async def _ask(self, command: Command, payload: bytes) -> bytes:
        """One exchange; the reply's INFO. A refusal (RTN not 00) raises."""
        self._asked = command
        try:
            # The reassembler keeps our address only; is_reply drops echoed requests.
            frame = await self.exchange(payload, is_reply)
        finally:
            self._asked = None
        reply = ydt1363.parse_frame(frame)
        if reply.cid2 != ydt1363.RTN_NORMAL:
            raise UnsupportedError(
                f"PACE pack {self.bus_address} refused {command.name} "
                f"(RTN {reply.cid2:#04x})"
            )
        return reply.info

    async def read_analog(self) -> Analog:
        """0x42 of this pack; a reply for another pack number is refused."""
        info = await self._ask(
            Command.ANALOG, pack_request(self.bus_address, Command.ANALOG)
        )
        analog = decode_analog(info)
        self._own(analog.pack)
        return analog

    async def read_status(self) -> Status:
        """0x44 of this pack; a reply for another pack number is refused."""
        info = await self._ask(
            Command.STATUS, pack_request(self.bus_address, Command.STATUS)
        )
        status = decode_status(info)
        self._own(status.pack)
        return status

    def _own(self, pack: int) -> None:
        if pack != self.bus_address:
            raise FrameError(f"PACE reply for pack {pack}, not pack {self.bus_address}")

    async def read_device_info(self) -> DeviceInfo:
        """C1 (version, its first field the board model) and C2 (serial)."""
        if self.ble is not None:
            return await self.ble.device_info()
        version = decode_text(
            await self._ask(
                Command.SOFTWARE_VERSION,
                request(self.bus_address, Command.SOFTWARE_VERSION),
            )
        )
        serial = decode_text(
            await self._ask(
                Command.PRODUCT_INFO, request(self.bus_address, Command.PRODUCT_INFO)
            )
        )
        return DeviceInfo(
            manufacturer=self.manufacturer,
            model=version.split("-", 1)[0] or None,
            sw_version=version or None,
            serial_number=serial or None,
            name=f"PACE {self.bus_address}",
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """0x42 then 0x44 of this pack, combined (over BLE its own reads)."""
        if self.ble is not None:
            return await self.ble.snapshot()
        analog = await self.read_analog()
        status = await self.read_status()
        return self._snapshot(analog, status)

    def _snapshot(self, analog: Analog, status: Status) -> BatterySnapshot:
        if len(status.cell_warnings) != len(analog.cells):
            raise FrameError(
                f"PACE status of {len(status.cell_warnings)} cells, "
                f"analog of {len(analog.cells)}"
            )
        return BatterySnapshot(
            voltage=analog.voltage,
            current=analog.current,
            cell_voltages=analog.cells,
            temperatures=analog.probes(),
            state_of_charge=analog.state_of_charge,
            state_of_health=analog.state_of_health,
            remaining_capacity=analog.remaining_capacity,
            full_capacity=analog.full_capacity,
            design_capacity=analog.design_capacity,
            cycles=analog.cycles,
            balancing=bool(status.balancing_cells),
            balancing_cells=status.balancing_cells,
            charge_mosfet=status.charge_mosfet,
            discharge_mosfet=status.discharge_mosfet,
            switches={
                SwitchKind.CHARGE: status.charge_mosfet,
                SwitchKind.DISCHARGE: status.discharge_mosfet,
            },
            alarms=status.alarms,
            supported_alarms=SUPPORTED_ALARMS,
            protection_code=status.code,
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """0x9A or 0x9B, then a read-back whose MOSFET state must agree.

        The BMS reports only whether the MOSFET conducts: when "on" is asked
        while a protection of that direction holds it off, the read-back cannot
        tell, and :class:`CommandUnverifiableError` is raised.
        """
        if self.options.listen:
            raise BusOwnedError("another master owns the bus: listening only")
        if kind not in self.switches:  # none over BLE
            raise UnsupportedError(f"PACE has no {kind} switch")
        try:
            await self._ask(
                MOSFET_COMMANDS[kind], mosfet_request(self.bus_address, kind, on)
            )
        except UnsupportedError as err:
            raise CommandNotConfirmedError(str(err)) from err
        after = await self.read_snapshot()
        if after.switches[kind] == on:
            return after
        if on and {a.value for a in after.alarms} & BLOCKING[kind]:
            raise CommandUnverifiableError(
                f"a protection holds the PACE {kind.value} off"
            )
        raise CommandNotConfirmedError(
            f"the PACE {kind.value} did not turn {'on' if on else 'off'}"
        )
