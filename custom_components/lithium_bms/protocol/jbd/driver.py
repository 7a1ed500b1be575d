"""JBD / Jiabaida / Xiaoxiang / Overkill Solar BMS over BLE: the conversation.

Reads registers 0x03 and 0x04, runs the optional ``FF AA`` authentication and
writes the 0xE1 MOSFET mask; the frames are in :mod:`.frames`, the layouts
(JBD's own and Daren's) in :mod:`.variants`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from ..driver import BmsDriver, DriverMemory, DriverOptions
from ..errors import (
    AuthenticationError,
    BmsError,
    BmsTimeoutError,
    CommandNotConfirmedError,
    FrameError,
    ProtocolError,
    UnsupportedError,
)
from ..matching import AdvertisementMatcher, uuid16
from ..snapshot import (
    BatterySnapshot,
    DeviceInfo,
    SwitchKind,
    Temperature,
    TemperatureKind,
)
from ..transport import GattProfile, Transport
from .frames import (
    APP_KEY,
    AUTH_APP_KEY,
    AUTH_HEADER,
    AUTH_PASSWORD,
    AUTH_RANDOM,
    AUTH_ROOT,
    REG_BASIC,
    REG_CELLS,
    REG_MOSFET,
    ROOT_PASSWORD,
    START,
    STATUS_OK,
    SUPPORTED_ALARMS,
    BasicInfo,
    JbdFrame,
    auth_frame,
    auth_secret,
    build_mosfet,
    build_read,
    decode_alarms,
    decode_cells,
    parse_frame,
)
from .mask import OTHER, MosfetMask, confirm_switch, infer_mask
from .stream import JbdReassembler
from .variants import STANDARD, VARIANTS, JbdVariant, variant_by_name

_LOGGER = logging.getLogger(__name__)

# One pass of the FF AA sequence can lose a reply; the whole sequence is then
# started again from the app key, as ESPHome does after its auth timeout
# (syssi/esphome-jbd-bms components/jbd_bms_ble/jbd_bms_ble.cpp
# check_auth_timeout_).
AUTH_ATTEMPTS = 3
ELEKSOL_SERVICE = 0xFF06


@dataclass(frozen=True, slots=True)
class _Matcher:
    register: int

    def __call__(self, frame: bytes) -> bool:
        return frame[0] == START and frame[1] == self.register


@dataclass(frozen=True, slots=True)
class _AuthMatcher:
    command: int

    def __call__(self, frame: bytes) -> bool:
        return frame[:2] == AUTH_HEADER and frame[2] == self.command


class JbdDriver(BmsDriver):
    """Reads and controls a JBD BMS."""

    family = "jbd"
    # Before Daly: a JBD module's company ID is the end of its MAC, so it can
    # equal one of Daly's IDs, while JBD's claim needs FF00 and a name or OUI.
    claim_order = 20
    manufacturer = "Jiabaida (JBD)"
    brand = "JBD"
    gatt = (
        GattProfile(service=0xFF00, notify=0xFF01, write=0xFF02),
        GattProfile(service=0xFFF0, notify=0xFFF1, write=0xFFF2),
        # Eleksol packs (aiobmsble 0.31.0 (PyPI sdist) aiobmsble/bms/eleksol_bms.py).
        GattProfile(service=ELEKSOL_SERVICE, notify=0xFF07, write=0xFF08),
    )
    # Service FF00 alone is no proof: Seplos V2, Humsienk, Braun Power and other
    # brands advertise it too. Claim it with a JBD name or a JBD module OUI.
    # Sources: names and OUIs of the real advertisements in
    # tests/protocol/data/advertisements.json (patman15/aiobmsble
    # aiobmsble/test_data/jbd_bms.json and BMS_BLE-HA issues).
    matchers = (
        AdvertisementMatcher(local_name="JBD-*"),
        *(
            AdvertisementMatcher(local_name=name, service_uuid=uuid16(0xFF00))
            for name in (
                *("SP0?S*", "SP1?S*", "SP2?S*", "DP0?S*", "AP2?S*"),  # JBD models
                "xiaoxiang*",
                "DWF*",  # Daren, Docan
                "GJ-*",  # Accurat
                "LSG-*",  # Lossigy
                "N-1????BL*",  # Nordström
                "OGR-*",  # OGRPHY
                "SBL-*",  # SBL
                "SX1*",  # Supervolt
                "SX60*",  # Supervolt Ultra
                "TZ-H*",  # CERRNSS
            )
        ),
        AdvertisementMatcher(
            service_uuid=uuid16(0xFF00),
            address_prefixes=(
                *("A4:C1:37", "A4:C1:38", "A5:C2:37", "A5:C2:39", "A5:C2:3A"),
                *("AA:C2:37", "70:3E:97", "10:A5:62"),
            ),
        ),
        # Eleksol: service FF06 with a JBD module OUI (eleksol_bms.py).
        AdvertisementMatcher(
            service_uuid=uuid16(ELEKSOL_SERVICE),
            address_prefixes=(
                "A4:C1:37",
                "A4:C1:38",
                "A5:C2:37",
                "A5:C2:39",
                "AA:C2:37",
            ),
        ),
    )
    switches = frozenset({SwitchKind.CHARGE, SwitchKind.DISCHARGE})
    connect_delay = 0.5
    request_timeout = 5.0
    auth_timeout = 2.0
    switch_settle = 0.1
    # Six letters or digits, what JBD modules accept (syssi/esphome-jbd-bms
    # components/jbd_bms_ble/__init__.py validate_password).
    password_pattern = r"[0-9A-Za-z]{6}"  # noqa: S105 (a pattern, not a secret)
    # JBD's own layout is the default, stored as no variant.
    variants = tuple(name for name, v in VARIANTS.items() if v is not STANDARD)

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Set up the reassembler and the state kept across connections."""
        super().__init__(transport, options)
        self._variant: JbdVariant = VARIANTS.get(
            self.stored_variant or ""
        ) or variant_by_name(options.name)
        self._auth_probed = False
        # The module answered reads without the FF AA sequence.
        self._auth_absent = False
        self._auth_error: BmsError = BmsTimeoutError("no authentication reply")
        # The 0xE1 mask as last written, corrected by every 0x03 read; kept
        # across restarts (the BMS never reports it).
        self._mask = MosfetMask.restore(options.memory or {})

    @property
    def variant(self) -> str | None:
        """A layout other than JBD's own (entries before Daren store none)."""
        return None if self._variant is STANDARD else self._variant.name

    @property
    def memory(self) -> DriverMemory:
        """The 0xE1 mask as known, so a restart does not forget it."""
        return self._mask.saved()

    def new_reassembler(self) -> JbdReassembler:
        """Frames by header, length and checksum."""
        return JbdReassembler()

    def is_sensitive(self, frame: bytes) -> bool:
        """FF AA frames carry the password, keyed with the MAC and a random.

        Daren's device texts hold what reads like the serial number.
        """
        if frame[:2] == AUTH_HEADER:
            return True
        info = self._variant.info_register
        return self._variant.info_is_sensitive and frame[:2] == bytes((START, info))

    async def initialize(self) -> None:
        """Authenticate first when a password is configured."""
        if self.options.password and not self._auth_absent:
            await self._authenticate()

    async def _authenticate(self) -> None:
        """Run the FF AA sequence, from the start again when a reply is lost.

        Only an explicit rejection raises :class:`AuthenticationError`. After
        the last attempt the last lost reply's error is raised (a timeout).
        """
        self._auth_error = BmsTimeoutError("no authentication reply")
        for _ in range(AUTH_ATTEMPTS):
            if await self._auth_pass():
                return
        raise self._auth_error

    async def _auth_pass(self) -> bool:
        """One pass of the sequence; False when a reply was lost.

        A module that does not answer the app key but answers a read has no
        authentication; one that answers neither lost the reply (or is
        silent), and the pass fails.
        """
        key = await self._auth_step(AUTH_APP_KEY, APP_KEY)
        if key is None:
            self._auth_absent = await self._answers_reads()
            return self._auth_absent
        if key == 0x02:
            return True
        if key != 0x00:
            raise AuthenticationError("the BMS rejected the app key")
        password = (self.options.password or "").encode("ascii", errors="replace")
        if len(password) != 6:
            raise AuthenticationError("the BMS needs its 6-character password")
        mac = _mac_bytes(self.options.address)
        random = await self._auth_step(AUTH_RANDOM, b"")
        if random is None:
            return False
        reply = await self._auth_step(AUTH_PASSWORD, auth_secret(mac, password, random))
        if reply is None:
            return False
        if reply != 0x00:
            raise AuthenticationError("the BMS rejected the password")
        return await self._authenticate_root(mac)

    async def _authenticate_root(self, mac: bytes) -> bool:
        """Step 4: the vendor root password, keyed with the MAC and a new random.

        Modules that stop after the user password never answer this random;
        they answer reads instead.
        """
        random = await self._auth_step(AUTH_RANDOM, b"")
        if random is None:
            return await self._answers_reads()
        reply = await self._auth_step(
            AUTH_ROOT, auth_secret(mac, ROOT_PASSWORD, random)
        )
        if reply is None:
            return False
        if reply != 0x00:
            raise AuthenticationError("the BMS rejected the root password")
        return True

    async def _auth_step(self, command: int, data: bytes) -> int | None:
        """One FF AA exchange; the reply's value, None when it was lost."""
        try:
            return await self._auth_exchange(command, data)
        except (BmsTimeoutError, ProtocolError) as err:
            self._auth_error = err
            return None

    async def _auth_exchange(self, command: int, data: bytes) -> int:
        frame = await self.exchange(
            auth_frame(command, data), _AuthMatcher(command), self.auth_timeout
        )
        if frame[3] < 1:
            raise FrameError("empty JBD auth reply")
        return frame[4]

    async def _answers_reads(self) -> bool:
        """Whether the BMS answers a read of 0x03 now."""
        try:
            await self.exchange(build_read(REG_BASIC), _Matcher(REG_BASIC))
        except (BmsTimeoutError, ProtocolError):
            return False
        return True

    async def _read(self, register: int) -> JbdFrame:
        try:
            raw = await self.exchange(build_read(register), _Matcher(register))
        except BmsTimeoutError:
            await self._explain_silence()
            raise
        frame = parse_frame(raw)
        if frame.status != STATUS_OK:
            raise FrameError(f"JBD register {register:#04x} answered with an error")
        return frame

    async def _explain_silence(self) -> None:
        """After a silent BMS, find out whether it waits for authentication.

        With a password, the next connection authenticates again even if the
        module answered without it before; without one, ask the BMS once.
        """
        if self.options.password:
            self._auth_absent = False
            return
        if self._auth_probed:
            return
        self._auth_probed = True
        try:
            reply = await self._auth_exchange(AUTH_APP_KEY, APP_KEY)
        except (BmsTimeoutError, ProtocolError):
            return
        if reply == 0x00:
            raise AuthenticationError("the BMS requires a password")

    async def read_basic(self) -> BasicInfo:
        """Read register 0x03; learn what it shows of the 0xE1 mask."""
        basic = self._variant.decode_basic((await self._read(REG_BASIC)).payload)
        self._mask = infer_mask(self._mask, basic)
        return basic

    async def read_device_info(self) -> DeviceInfo:
        """The layout's texts (0x05 or 0x08); else the version in 0x03."""
        variant = self._variant
        texts = variant.decode_info((await self._read(variant.info_register)).payload)
        basic = await self.read_basic()
        return DeviceInfo(
            manufacturer=variant.manufacturer,
            model=texts.model,
            hw_version=texts.hw_version,
            sw_version=texts.sw_version or basic.software_version,
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """Read 0x03 then 0x04 and combine them."""
        basic = await self.read_basic()
        cells = decode_cells((await self._read(REG_CELLS)).payload)
        return self._snapshot(basic, cells)

    def _snapshot(self, basic: BasicInfo, cells: tuple[float, ...]) -> BatterySnapshot:
        return BatterySnapshot(
            voltage=basic.voltage,
            current=basic.current,
            cell_voltages=cells,
            reported_cell_count=basic.cell_count,
            temperatures=_temperatures(basic),
            state_of_charge=float(basic.soc),
            state_of_health=basic.state_of_health,
            remaining_capacity=basic.remaining_capacity,
            full_capacity=basic.nominal_capacity,
            design_capacity=basic.nominal_capacity,
            cycles=basic.cycles,
            balancing=bool(basic.balancing_cells),
            balancing_cells=basic.balancing_cells,
            charge_mosfet=basic.charge_fet,
            discharge_mosfet=basic.discharge_fet,
            switches={
                SwitchKind.CHARGE: basic.charge_fet,
                SwitchKind.DISCHARGE: basic.discharge_fet,
            },
            alarms=decode_alarms(basic.protection),
            supported_alarms=SUPPORTED_ALARMS,
            protection_code=basic.protection,
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Write 0xE1 changing only ``kind``, then confirm by read-back.

        The other MOSFET's bit is the one last written, as corrected by every
        0x03 read since (:func:`infer_mask`). The BMS does not report the mask,
        and a MOSFET that a protection holds off looks the same whether it is
        switched off or not. When that bit is unknown (nothing written by this
        driver since it started, or the mask changed elsewhere, while the BMS
        showed nothing that tells) the other MOSFET is written as enabled: a
        command never disables a MOSFET that was not switched, and enabling
        never overrides the protection that holds it off.
        """
        if kind not in self.switches:
            raise UnsupportedError(f"JBD has no {kind} switch")
        before = await self.read_basic()
        mask = self._mask.with_bit(kind, not on)
        other = OTHER[kind]
        if mask.get(other) is None:
            _LOGGER.warning(
                "Whether the JBD %s is switched off is unknown (a protection "
                "holds it off); leaving it enabled",
                other.value,
            )
            mask = mask.with_bit(other, False)
        command = build_mosfet(not mask.charge, not mask.discharge)
        # Once sent, the BMS may have applied it even if its answer is lost:
        # the mask is the one written (reads correct it), unless refused.
        known, self._mask = self._mask, mask
        ack = await self.exchange(command, _Matcher(REG_MOSFET))
        if parse_frame(ack).status != STATUS_OK:
            self._mask = known
            raise CommandNotConfirmedError("the BMS refused the MOSFET command")
        await asyncio.sleep(self.switch_settle)
        after = await self.read_basic()
        confirm_switch(kind, on, before, after)
        cells = decode_cells((await self._read(REG_CELLS)).payload)
        return self._snapshot(after, cells)


def _temperatures(basic: BasicInfo) -> tuple[Temperature, ...]:
    """The cell probes, then the MOSFET and ambient ones where reported."""
    cells = tuple(Temperature(TemperatureKind.CELL, t) for t in basic.temperatures)
    others = (
        (TemperatureKind.MOSFET, basic.mosfet_temperature),
        (TemperatureKind.AMBIENT, basic.ambient_temperature),
    )
    return cells + tuple(Temperature(k, t) for k, t in others if t is not None)


def _mac_bytes(address: str) -> bytes:
    """The six bytes of a printed MAC address, in printed order."""
    try:
        mac = bytes.fromhex(address.replace(":", ""))
    except ValueError:
        mac = b""
    if len(mac) != 6:
        raise AuthenticationError("the BMS address is not a MAC address")
    return mac
