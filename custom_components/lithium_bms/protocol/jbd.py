"""JBD / Jiabaida / Xiaoxiang / Overkill Solar BMS over BLE.

Frames: ``DD <reg|cmd> … <CHK16> 77``; replies ``DD <reg> <status> <len> <data>
<CHK16> 77`` with CHK = 0x10000 - sum(status, len, data), big-endian. Values are
big-endian. Optional ``FF AA`` authentication on newer modules.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from dataclasses import dataclass, replace

from .driver import BmsDriver, DriverMemory, DriverOptions
from .errors import (
    AuthenticationError,
    BmsError,
    BmsTimeoutError,
    ChecksumError,
    CommandNotConfirmedError,
    CommandUnverifiableError,
    FrameError,
    ProtocolError,
    UnsupportedError,
)
from .matching import AdvertisementMatcher, uuid16
from .snapshot import (
    Alarm,
    BatterySnapshot,
    DeviceInfo,
    SwitchKind,
    Temperature,
    TemperatureKind,
)
from .transport import GattProfile, Transport

_LOGGER = logging.getLogger(__name__)

START = 0xDD
END = 0x77
READ = 0xA5
WRITE = 0x5A
REG_BASIC = 0x03
REG_CELLS = 0x04
REG_MODEL = 0x05
REG_MOSFET = 0xE1
# Driver-memory keys of the 0xE1 mask bits (True: switched off).
MASK_CHARGE = "mask_charge_off"
MASK_DISCHARGE = "mask_discharge_off"
STATUS_OK = 0x00
STATUS_ERROR = 0x80
MAX_PAYLOAD = 0x80
AUTH_HEADER = b"\xff\xaa"
AUTH_APP_KEY = 0x15
AUTH_RANDOM = 0x17
AUTH_PASSWORD = 0x18
AUTH_ROOT = 0x1D
# The vendor's fixed root password, recovered from a captured session
# (syssi/esphome-jbd-bms docs/ffaa-auth-flow/root-password.txt).
ROOT_PASSWORD = b"JBDbtpwd!@#2023"
APP_KEY = b"000000"
BASIC_FIXED_LEN = 23

PROTECTION_BITS: dict[int, Alarm] = {
    0: Alarm.CELL_OVERVOLTAGE,
    1: Alarm.CELL_UNDERVOLTAGE,
    2: Alarm.PACK_OVERVOLTAGE,
    3: Alarm.PACK_UNDERVOLTAGE,
    4: Alarm.CHARGE_OVERTEMPERATURE,
    5: Alarm.CHARGE_UNDERTEMPERATURE,
    6: Alarm.DISCHARGE_OVERTEMPERATURE,
    7: Alarm.DISCHARGE_UNDERTEMPERATURE,
    8: Alarm.CHARGE_OVERCURRENT,
    9: Alarm.DISCHARGE_OVERCURRENT,
    10: Alarm.SHORT_CIRCUIT,
    11: Alarm.FRONTEND_ERROR,
    12: Alarm.MOSFET_LOCK,
}
LOCK_BIT = 12
LOCK = 1 << LOCK_BIT
# One pass of the FF AA sequence can lose a reply; the whole sequence is then
# started again from the app key, as ESPHome does after its auth timeout
# (syssi/esphome-jbd-bms components/jbd_bms_ble/jbd_bms_ble.cpp
# check_auth_timeout_).
AUTH_ATTEMPTS = 3


def checksum(body: bytes) -> int:
    """JBD checksum of the bytes between the command/start and the checksum."""
    return (0x10000 - sum(body)) & 0xFFFF


def build_read(register: int) -> bytes:
    """A read request for one register."""
    body = bytes((register, 0))
    return bytes((START, READ)) + body + checksum(body).to_bytes(2, "big") + b"\x77"


def build_write(register: int, data: bytes) -> bytes:
    """A write request for one register."""
    body = bytes((register, len(data))) + data
    return bytes((START, WRITE)) + body + checksum(body).to_bytes(2, "big") + b"\x77"


def build_mosfet(charge_on: bool, discharge_on: bool) -> bytes:
    """Register 0xE1 write: a disable mask, bit0 charge, bit1 discharge."""
    mask = (0 if charge_on else 1) | (0 if discharge_on else 2)
    return build_write(REG_MOSFET, bytes((0, mask)))


def auth_frame(command: int, data: bytes) -> bytes:
    """An ``FF AA`` authentication frame."""
    body = bytes((command, len(data))) + data
    return AUTH_HEADER + body + bytes((sum(body) & 0xFF,))


def auth_secret(mac: bytes, secret: bytes, random: int) -> bytes:
    """An ``FF AA`` password field: ((key XOR secret) + random) per byte.

    The key is the MAC in printed order, padded with zeros to the secret's
    length (the 15-byte root password uses only the first six).
    """
    key = mac + bytes(max(0, len(secret) - len(mac)))
    return bytes(((k ^ c) + random) & 0xFF for k, c in zip(key, secret, strict=False))


@dataclass(frozen=True, slots=True)
class JbdFrame:
    """A validated reply frame."""

    register: int
    status: int
    payload: bytes


def parse_frame(frame: bytes) -> JbdFrame:
    """Validate one complete ``DD`` reply frame."""
    if len(frame) < 7 or frame[0] != START:
        raise FrameError("not a JBD frame")
    length = frame[3]
    if len(frame) != 7 + length:
        raise FrameError(f"JBD frame length {len(frame)} != {7 + length}")
    if frame[-1] != END:
        raise FrameError("JBD frame without 0x77 terminator")
    body = frame[2 : 4 + length]
    expected = int.from_bytes(frame[4 + length : 6 + length], "big")
    if checksum(body) != expected:
        raise ChecksumError("JBD checksum mismatch")
    return JbdFrame(frame[1], frame[2], bytes(frame[4 : 4 + length]))


class JbdReassembler:
    """Rebuilds reply frames from notifications, by length and checksum.

    Invalid candidates are reported and the search resumes one byte later, so
    garbage never hides a frame. A candidate still short of bytes is dropped as
    soon as a complete valid ``DD`` frame follows it, so a truncated reply or a
    fake header cannot hide the next reply.
    """

    def __init__(self) -> None:
        """Start with an empty buffer."""
        self._buf = bytearray()

    def reset(self) -> None:
        """Drop any partial frame."""
        self._buf.clear()

    def feed(self, data: bytes) -> tuple[list[bytes], list[ProtocolError]]:
        """Add bytes; return complete valid frames and the errors met."""
        self._buf += data
        frames: list[bytes] = []
        errors: list[ProtocolError] = []
        buf = self._buf
        while buf:
            if buf[0] not in (START, AUTH_HEADER[0]):
                start = buf.find(START)
                auth = buf.find(AUTH_HEADER[0])
                cut = min(i for i in (start, auth, len(buf)) if i >= 0)
                del buf[:cut]
                continue
            total = _candidate_length(buf)
            if total == 0:
                del buf[:1]
                continue
            if total < 0 or len(buf) < total:
                later = _next_complete_frame(buf)
                if later is None:
                    break
                errors.append(FrameError("incomplete JBD frame"))
                del buf[:later]
                continue
            frame = bytes(buf[:total])
            try:
                _validate(frame)
            except ProtocolError as err:
                errors.append(err)
                del buf[:1]
                continue
            frames.append(frame)
            del buf[:total]
        return frames, errors


def _candidate_length(buf: bytearray) -> int:
    """Length of the frame that may start at ``buf[0]``.

    0 when it cannot be a frame start, -1 when more bytes are needed to tell.
    """
    if buf[0] == AUTH_HEADER[0]:
        if len(buf) < 2:
            return -1
        if buf[1] != AUTH_HEADER[1]:
            return 0
        return 5 + buf[3] if len(buf) >= 4 else -1
    if len(buf) < 4:
        return -1
    if buf[2] not in (STATUS_OK, STATUS_ERROR) or buf[3] > MAX_PAYLOAD:
        return 0
    return 7 + buf[3]


def _validate(frame: bytes) -> None:
    """Raise unless ``frame`` is a valid ``DD`` reply or ``FF AA`` frame."""
    if frame[:2] == AUTH_HEADER:
        if sum(frame[2:-1]) & 0xFF != frame[-1]:
            raise ChecksumError("JBD auth checksum mismatch")
        return
    parse_frame(frame)


def _next_complete_frame(buf: bytearray) -> int | None:
    """Offset of the first complete valid ``DD`` frame after ``buf[0]``."""
    offset = buf.find(START, 1)
    while offset >= 0 and not _is_reply_at(buf, offset):
        offset = buf.find(START, offset + 1)
    return offset if offset >= 0 else None


def _is_reply_at(buf: bytearray, offset: int) -> bool:
    """Whether a complete valid ``DD`` reply starts at ``offset``."""
    rest = buf[offset:]
    total = _candidate_length(rest)
    if total <= 0 or len(rest) < total:
        return False
    try:
        parse_frame(bytes(rest[:total]))
    except ProtocolError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class BasicInfo:
    """Register 0x03."""

    voltage: float
    current: float
    remaining_capacity: float
    nominal_capacity: float
    cycles: int
    production_date: str
    balancing_cells: frozenset[int]
    protection: int
    software_version: str
    soc: int
    charge_fet: bool
    discharge_fet: bool
    cell_count: int
    temperatures: tuple[float, ...]


def decode_basic(payload: bytes) -> BasicInfo:
    """Decode the payload of register 0x03."""
    if len(payload) < BASIC_FIXED_LEN:
        raise FrameError("JBD basic info too short")
    ntc = payload[22]
    if len(payload) < BASIC_FIXED_LEN + 2 * ntc:
        raise FrameError("JBD basic info shorter than its NTC count")
    (volt, cur, rem, nom, cycles, date, bal_lo, bal_hi, prot) = struct.unpack_from(
        ">HhHHHHHHH", payload
    )
    version = payload[18]
    temps = tuple(
        round((int.from_bytes(payload[23 + 2 * i : 25 + 2 * i], "big") - 2731) / 10, 1)
        for i in range(ntc)
    )
    balancing = bal_lo | (bal_hi << 16)
    return BasicInfo(
        voltage=round(volt * 0.01, 2),
        current=round(cur * 0.01, 2),
        remaining_capacity=round(rem * 0.01, 2),
        nominal_capacity=round(nom * 0.01, 2),
        cycles=cycles,
        production_date=(
            f"{2000 + (date >> 9):04d}-{(date >> 5) & 0x0F:02d}-{date & 0x1F:02d}"
        ),
        balancing_cells=frozenset(i + 1 for i in range(32) if balancing >> i & 1),
        protection=prot,
        software_version=f"{version >> 4}.{version & 0x0F}",
        soc=payload[19],
        charge_fet=bool(payload[20] & 1),
        discharge_fet=bool(payload[20] & 2),
        cell_count=payload[21],
        temperatures=temps,
    )


def decode_cells(payload: bytes) -> tuple[float, ...]:
    """Decode the payload of register 0x04 (cell voltages in volts)."""
    if len(payload) % 2:
        raise FrameError("JBD cell payload has an odd length")
    return tuple(
        int.from_bytes(payload[i : i + 2], "big") / 1000
        for i in range(0, len(payload), 2)
    )


def decode_model(payload: bytes) -> str:
    """Decode register 0x05 (model name, ASCII)."""
    return payload.decode("ascii", errors="replace").strip("\x00 ").strip()


def decode_alarms(protection: int) -> frozenset[Alarm]:
    """Named alarms from the 0x03 protection bits."""
    return frozenset(a for bit, a in PROTECTION_BITS.items() if protection >> bit & 1)


@dataclass(frozen=True, slots=True)
class MosfetMask:
    """What is known of the 0xE1 disable mask, bit by bit.

    True: that MOSFET is switched off by the mask; False: it is not; None:
    unknown.
    """

    charge: bool | None = None
    discharge: bool | None = None

    def get(self, kind: SwitchKind) -> bool | None:
        """The bit of one MOSFET."""
        return self.charge if kind is SwitchKind.CHARGE else self.discharge

    def with_bit(self, kind: SwitchKind, disabled: bool | None) -> MosfetMask:
        """A copy with the bit of one MOSFET set."""
        if kind is SwitchKind.CHARGE:
            return replace(self, charge=disabled)
        return replace(self, discharge=disabled)

    def saved(self) -> dict[str, bool | None]:
        """The bits as driver memory."""
        return {MASK_CHARGE: self.charge, MASK_DISCHARGE: self.discharge}

    @classmethod
    def restore(cls, memory: DriverMemory) -> MosfetMask:
        """The bits from driver memory; anything but a bool is unknown."""
        charge, discharge = memory.get(MASK_CHARGE), memory.get(MASK_DISCHARGE)
        return cls(
            charge if isinstance(charge, bool) else None,
            discharge if isinstance(discharge, bool) else None,
        )


def observed_mask(basic: BasicInfo) -> MosfetMask:
    """The mask bits one 0x03 reply proves on its own.

    The BMS never reports the mask, only its traces (protocols.md 4.5, 4.6.1):
    a MOSFET that conducts is not switched off; without the software lock
    neither is; with it at least one is, and a MOSFET that is off while no
    protection is active can only be off by the mask. A MOSFET that is off
    while a protection is active stays unknown: the protection alone may hold
    it off.
    """
    if not basic.protection & LOCK:
        return MosfetMask(False, False)
    protected = bool(basic.protection & ~LOCK)
    charge = _seen_disabled(basic.charge_fet, protected)
    discharge = _seen_disabled(basic.discharge_fet, protected)
    if charge is False and discharge is None:
        discharge = True
    elif discharge is False and charge is None:
        charge = True
    return MosfetMask(charge, discharge)


def _seen_disabled(fet_on: bool, protected: bool) -> bool | None:
    if fet_on:
        return False
    return None if protected else True


def infer_mask(known: MosfetMask, basic: BasicInfo) -> MosfetMask:
    """Update what is known of the mask with one 0x03 reply.

    Bits the reply proves replace what was known; the others keep their known
    value unless that contradicts the software lock (the vendor app changed
    the mask meanwhile), in which case they become unknown. A power cycle,
    which clears the mask, shows as a missing lock.
    """
    seen = observed_mask(basic)
    merged = MosfetMask(
        known.charge if seen.charge is None else seen.charge,
        known.discharge if seen.discharge is None else seen.discharge,
    )
    if basic.protection & LOCK and merged.charge is False and merged.discharge is False:
        return seen
    return merged


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
    manufacturer = "Jiabaida (JBD)"
    gatt = (
        GattProfile(service=0xFF00, notify=0xFF01, write=0xFF02),
        GattProfile(service=0xFFF0, notify=0xFFF1, write=0xFFF2),
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
    )
    switches = frozenset({SwitchKind.CHARGE, SwitchKind.DISCHARGE})
    connect_delay = 0.5
    request_timeout = 5.0
    auth_timeout = 2.0
    switch_settle = 0.1
    # Six letters or digits, what JBD modules accept (syssi/esphome-jbd-bms
    # components/jbd_bms_ble/__init__.py validate_password).
    password_pattern = r"[0-9A-Za-z]{6}"  # noqa: S105 (a pattern, not a secret)

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Set up the reassembler and the state kept across connections."""
        super().__init__(transport, options)
        self._auth_probed = False
        # The module answered reads without the FF AA sequence.
        self._auth_absent = False
        self._auth_error: BmsError = BmsTimeoutError("no authentication reply")
        # The 0xE1 mask as last written, corrected by every 0x03 read; kept
        # across restarts (the BMS never reports it).
        self._mask = MosfetMask.restore(options.memory or {})

    @property
    def memory(self) -> DriverMemory:
        """The 0xE1 mask as known, so a restart does not forget it."""
        return self._mask.saved()

    def new_reassembler(self) -> JbdReassembler:
        """Frames by header, length and checksum."""
        return JbdReassembler()

    def is_sensitive(self, frame: bytes) -> bool:
        """FF AA frames carry the password, keyed with the MAC and a random."""
        return frame[:2] == AUTH_HEADER

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
        basic = decode_basic((await self._read(REG_BASIC)).payload)
        self._mask = infer_mask(self._mask, basic)
        return basic

    async def read_device_info(self) -> DeviceInfo:
        """Model from register 0x05, software version from 0x03."""
        model = decode_model((await self._read(REG_MODEL)).payload)
        basic = await self.read_basic()
        return DeviceInfo(
            manufacturer=self.manufacturer,
            model=model or None,
            sw_version=basic.software_version,
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """Read 0x03 then 0x04 and combine them."""
        basic = await self.read_basic()
        cells = decode_cells((await self._read(REG_CELLS)).payload)
        return self._snapshot(basic, cells)

    def _snapshot(self, basic: BasicInfo, cells: tuple[float, ...]) -> BatterySnapshot:
        current = -basic.current if self.options.invert_current else basic.current
        return BatterySnapshot(
            voltage=basic.voltage,
            current=current,
            cell_voltages=cells,
            reported_cell_count=basic.cell_count,
            temperatures=tuple(
                Temperature(TemperatureKind.CELL, t) for t in basic.temperatures
            ),
            state_of_charge=float(basic.soc),
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
            supported_alarms=frozenset(PROTECTION_BITS.values()),
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
        other = _OTHER[kind]
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
        _confirm(kind, on, before, after)
        cells = decode_cells((await self._read(REG_CELLS)).payload)
        return self._snapshot(after, cells)


_OTHER = {
    SwitchKind.CHARGE: SwitchKind.DISCHARGE,
    SwitchKind.DISCHARGE: SwitchKind.CHARGE,
}


def _fet(basic: BasicInfo, kind: SwitchKind) -> bool:
    return basic.charge_fet if kind is SwitchKind.CHARGE else basic.discharge_fet


def _confirm(kind: SwitchKind, on: bool, before: BasicInfo, after: BasicInfo) -> None:
    """Raise unless the read-back shows the MOSFET command applied.

    "On" needs the MOSFET on. "Off" needs it off and the software lock set,
    and evidence that the lock covers it: the reply alone proves it
    (:func:`observed_mask`), or the lock appeared with this command, or the
    MOSFET was on and went off while no new protection appeared. Without such
    evidence (a protection already held it off and the lock was already set)
    the BMS cannot tell an applied "off" from an ignored one.
    """
    if _fet(after, kind) is not on:
        if on and after.protection & ~LOCK:
            raise CommandNotConfirmedError("the MOSFET is off; a protection is active")
        raise CommandNotConfirmedError("the MOSFET did not change state")
    if on:
        return
    if not after.protection & LOCK:
        raise CommandNotConfirmedError("the BMS shows no software lock")
    if observed_mask(after).get(kind) or not before.protection & LOCK:
        return
    if _fet(before, kind) and not after.protection & ~before.protection & ~LOCK:
        return
    raise CommandUnverifiableError(
        "a protection already held the MOSFET off and the software lock was set"
    )


def _mac_bytes(address: str) -> bytes:
    """The six bytes of a printed MAC address, in printed order."""
    try:
        mac = bytes.fromhex(address.replace(":", ""))
    except ValueError:
        mac = b""
    if len(mac) != 6:
        raise AuthenticationError("the BMS address is not a MAC address")
    return mac
