"""JBD / Jiabaida / Xiaoxiang / Overkill Solar BMS over BLE.

Frames: ``DD <reg|cmd> … <CHK16> 77``; replies ``DD <reg> <status> <len> <data>
<CHK16> 77`` with CHK = 0x10000 - sum(status, len, data), big-endian. Values are
big-endian. Optional ``FF AA`` authentication on newer modules.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

from .driver import BmsDriver, DriverOptions
from .errors import (
    AuthenticationError,
    BmsTimeoutError,
    ChecksumError,
    CommandNotConfirmedError,
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

START = 0xDD
END = 0x77
READ = 0xA5
WRITE = 0x5A
REG_BASIC = 0x03
REG_CELLS = 0x04
REG_MODEL = 0x05
REG_MOSFET = 0xE1
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

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Set up the reassembler."""
        super().__init__(transport, options)
        self._authenticated = False
        self._auth_probed = False

    def new_reassembler(self) -> JbdReassembler:
        """Frames by header, length and checksum."""
        return JbdReassembler()

    def reset(self) -> None:
        """Drop partial frames; authentication must be redone."""
        super().reset()
        self._authenticated = False

    async def initialize(self) -> None:
        """Authenticate first when a password is configured."""
        if self.options.password:
            await self._authenticate()

    async def _authenticate(self) -> None:
        try:
            reply = await self._auth_exchange(AUTH_APP_KEY, APP_KEY)
        except BmsTimeoutError:
            return  # an older module without authentication: nothing to do
        if reply == 0x02:
            self._authenticated = True
            return
        if reply != 0x00:
            raise AuthenticationError("the BMS rejected the app key")
        password = (self.options.password or "").encode("ascii", errors="replace")
        if len(password) != 6:
            raise AuthenticationError("the BMS needs its 6-character password")
        mac = _mac_bytes(self.options.address)
        random = await self._auth_exchange(AUTH_RANDOM, b"")
        secret = auth_secret(mac, password, random)
        if await self._auth_exchange(AUTH_PASSWORD, secret) != 0x00:
            raise AuthenticationError("the BMS rejected the password")
        await self._authenticate_root(mac)
        self._authenticated = True

    async def _authenticate_root(self, mac: bytes) -> None:
        """Step 4: the vendor root password, keyed with the MAC and a new random."""
        try:
            random = await self._auth_exchange(AUTH_RANDOM, b"")
        except BmsTimeoutError:
            return  # modules that stop after the user password
        secret = auth_secret(mac, ROOT_PASSWORD, random)
        if await self._auth_exchange(AUTH_ROOT, secret) != 0x00:
            raise AuthenticationError("the BMS rejected the root password")

    async def _auth_exchange(self, command: int, data: bytes) -> int:
        frame = await self.exchange(
            auth_frame(command, data), _AuthMatcher(command), self.auth_timeout
        )
        if frame[3] < 1:
            raise FrameError("empty JBD auth reply")
        return frame[4]

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
        """After a silent BMS, ask once whether it waits for authentication."""
        if self._auth_probed or self._authenticated:
            return
        self._auth_probed = True
        try:
            reply = await self._auth_exchange(AUTH_APP_KEY, APP_KEY)
        except (BmsTimeoutError, ProtocolError):
            return
        if reply == 0x00:
            raise AuthenticationError("the BMS requires a password")

    async def read_basic(self) -> BasicInfo:
        """Read register 0x03."""
        return decode_basic((await self._read(REG_BASIC)).payload)

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
        """Write 0xE1 keeping the other MOSFET as it is, then read back."""
        if kind not in self.switches:
            raise UnsupportedError(f"JBD has no {kind} switch")
        basic = await self.read_basic()
        charge_on = _kept_enabled(basic.charge_fet, basic.protection)
        discharge_on = _kept_enabled(basic.discharge_fet, basic.protection)
        if kind is SwitchKind.CHARGE:
            charge_on = on
        else:
            discharge_on = on
        ack = await self.exchange(
            build_mosfet(charge_on, discharge_on), _Matcher(REG_MOSFET)
        )
        if parse_frame(ack).status != STATUS_OK:
            raise CommandNotConfirmedError("the BMS refused the MOSFET command")
        await asyncio.sleep(0.1)
        after = await self.read_basic()
        state = after.charge_fet if kind is SwitchKind.CHARGE else after.discharge_fet
        if state != on:
            raise CommandNotConfirmedError("the MOSFET did not change state")
        cells = decode_cells((await self._read(REG_CELLS)).payload)
        return self._snapshot(after, cells)


def _mac_bytes(address: str) -> bytes:
    """The six bytes of a printed MAC address, in printed order."""
    try:
        mac = bytes.fromhex(address.replace(":", ""))
    except ValueError:
        mac = b""
    if len(mac) != 6:
        raise AuthenticationError("the BMS address is not a MAC address")
    return mac


def _kept_enabled(fet_on: bool, protection: int) -> bool:
    """Whether the other MOSFET should stay enabled in the 0xE1 mask.

    A MOSFET that is on stays on. One that is off stays disabled when the
    software lock is set (someone switched it off) or when nothing else
    explains it; one held off by a protection alone stays enabled, so that it
    comes back when the protection clears.
    """
    if fet_on:
        return True
    protections = protection & ~(1 << LOCK_BIT)
    locked = bool(protection >> LOCK_BIT & 1)
    return bool(protections) and not locked
