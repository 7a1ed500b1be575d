"""The Pylontech low-voltage CAN protocol: one decoder per frame ID.

The battery (or the master of a stack) broadcasts these 11-bit frames about
once a second at 500 kbit/s; every value is little-endian. Layouts and
scales, checked against captured frames:

- setfirelabs.com, "Pylontech Battery CAN comms - V1.2 vs V1.3" (US5000
  captures of both protocol versions) and "Pylontech CAN reading, CAN
  replication" (a sample set; the 0x351 discharge voltage 46.0 V and the
  0x359 module count are stated in hoylabs/OpenDTU-OnBattery commit
  191cc8007d, "parse additional Pylontech CAN protocol fields");
- hoylabs/OpenDTU-OnBattery src/PylontechCanReceiver.cpp: the 0x359
  protection and warning bits and the 0x35C charge / discharge enable and
  force-charge bits;
- the Pylontech LV DBC (``pylontech_battery_lv_charge_request``): 0x35C bit 4
  force charge II and bit 3 full charge request.

Protocol V1.3 (setfirelabs.com's page above) drops 0x359 and 0x35C for the
SMA / Victron frames 0x35A and 0x35F; BYD and Pytes batteries send those too,
with 0x379. Their layouts, in three sources that agree:

- OpenDTU-OnBattery src/battery/pytes/Provider.cpp (0x35A alarm and warning
  bits, 0x35F firmware and available capacity, 0x379 installed Ah);
- dfch/BydCanProtocol README.md and lib/Byd/Messages (a BYD Battery-Box LVS
  on a Victron GX: 0x35A all pairs ``10`` = OK, 0x35F "Ah available",
  0x379 "Installed Ah");
- AndreasBoehm/PytesCANProtocol README.md (a Pytes V5 on a Victron GX).

0x35A holds two bits per condition, alarms in bytes 0-3 and the same
conditions as warnings in bytes 4-7; the lower bit of a pair set (``01``)
means active, ``10`` cleared, ``00`` not reported (stuartpittaway/diyBMSv4ESP32
victron_canbus.cpp, which also names the pairs of byte 2: high charge current,
contactor, short circuit, BMS internal). The capacity of 0x35F tracks the
charge (BYD: 105 Ah at 67 % of 156 Ah installed; Pytes: 50 Ah at 51 % of
100 Ah): it is the remaining capacity, not the pack's size.

A frame shorter than its layout is malformed and refused whole.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..errors import FrameError
from ..snapshot import Alarm

LIMITS_ID = 0x351
STATE_ID = 0x355
MEASUREMENT_ID = 0x356
PROTECTION_ID = 0x359
ALARM_ID = 0x35A
REQUEST_ID = 0x35C
NAME_ID = 0x35E
INFO_ID = 0x35F
INSTALLED_ID = 0x379

# 0x359 byte 0 and byte 1: protections (the battery acts); bytes 2 and 3
# carry the same bits as warnings, shown in the protection code only.
PROTECTION_BITS: dict[tuple[int, int], Alarm] = {
    (0, 1): Alarm.PACK_OVERVOLTAGE,
    (0, 2): Alarm.PACK_UNDERVOLTAGE,
    (0, 3): Alarm.CHARGE_OVERTEMPERATURE,
    (0, 4): Alarm.CHARGE_UNDERTEMPERATURE,
    (0, 7): Alarm.DISCHARGE_OVERCURRENT,
    (1, 0): Alarm.CHARGE_OVERCURRENT,
    (1, 3): Alarm.HARDWARE_FAULT,
}
SUPPORTED_ALARMS = frozenset(PROTECTION_BITS.values())

# 0x35A bytes 0-3: (byte, lower bit of the pair) of each alarm that means the
# same as one of ours. The plain high and low temperature (0, 6) and (1, 0)
# hold whenever charging has no pair of its own: they show as the discharge
# over- and under-temperature, so that an active one is never hidden. Not
# mapped (no key of ours means them): the general alarm (0, 0) and the
# contactor (2, 2).
ALARM_PAIRS: dict[tuple[int, int], Alarm] = {
    (0, 2): Alarm.PACK_OVERVOLTAGE,
    (0, 4): Alarm.PACK_UNDERVOLTAGE,
    (0, 6): Alarm.DISCHARGE_OVERTEMPERATURE,
    (1, 0): Alarm.DISCHARGE_UNDERTEMPERATURE,
    (1, 2): Alarm.CHARGE_OVERTEMPERATURE,
    (1, 4): Alarm.CHARGE_UNDERTEMPERATURE,
    (1, 6): Alarm.DISCHARGE_OVERCURRENT,
    (2, 0): Alarm.CHARGE_OVERCURRENT,
    (2, 4): Alarm.SHORT_CIRCUIT,
    (2, 6): Alarm.HARDWARE_FAULT,
    (3, 0): Alarm.CELL_VOLTAGE_DIFFERENCE,
}
V13_SUPPORTED_ALARMS = frozenset(ALARM_PAIRS.values())


@dataclass(frozen=True, slots=True)
class ChargeLimits:
    """0x351: what the battery lets the inverter do (V and A)."""

    charge_voltage: float
    charge_current: float
    discharge_current: float
    discharge_voltage: float | None


@dataclass(frozen=True, slots=True)
class ChargeState:
    """0x355: state of charge and health (percent)."""

    state_of_charge: int
    state_of_health: int


@dataclass(frozen=True, slots=True)
class Measurement:
    """0x356: pack voltage (V), current (A, + charging), temperature (°C)."""

    voltage: float
    current: float
    temperature: float


@dataclass(frozen=True, slots=True)
class Protection:
    """0x359: the active protections, the raw 32 flag bits, the module count."""

    alarms: frozenset[Alarm]
    code: int
    modules: int | None


@dataclass(frozen=True, slots=True)
class AlarmFlags:
    """0x35A: the active alarms and the raw 64 bits (alarms, then warnings)."""

    alarms: frozenset[Alarm]
    code: int


@dataclass(frozen=True, slots=True)
class BatteryInfo:
    """0x35F: the capacity still available (Ah)."""

    remaining_capacity: int


@dataclass(frozen=True, slots=True)
class InstalledCapacity:
    """0x379: the capacity installed on the bus (Ah)."""

    capacity: int


@dataclass(frozen=True, slots=True)
class Requests:
    """0x35C: what the battery allows and asks of the inverter."""

    charge_enabled: bool
    discharge_enabled: bool
    force_charge: bool
    full_charge_request: bool


type Decoded = (
    ChargeLimits
    | ChargeState
    | Measurement
    | Protection
    | AlarmFlags
    | Requests
    | BatteryInfo
    | InstalledCapacity
    | str
)


def need(data: bytes, length: int, name: str) -> None:
    """Raise :class:`FrameError` when ``data`` is shorter than ``length``."""
    if len(data) < length:
        raise FrameError(f"{name}: {len(data)} bytes, {length} needed")


def decode_limits(data: bytes) -> ChargeLimits:
    """0x351; the discharge voltage is absent from 6-byte frames."""
    need(data, 6, "0x351")
    volts, charge, discharge = struct.unpack_from("<Hhh", data)
    discharge_voltage = (
        struct.unpack_from("<H", data, 6)[0] / 10 if len(data) >= 8 else None
    )
    return ChargeLimits(volts / 10, charge / 10, discharge / 10, discharge_voltage)


def decode_state(data: bytes) -> ChargeState:
    """0x355: SOC then SOH, 16 bits each (V1.3 appends two bytes, unused)."""
    need(data, 4, "0x355")
    soc, soh = struct.unpack_from("<HH", data)
    if soc > 100 or soh > 100:
        raise FrameError(f"0x355: SOC {soc} / SOH {soh} over 100 %")
    return ChargeState(soc, soh)


def decode_measurement(data: bytes) -> Measurement:
    """0x356: 0.01 V, 0.1 A, 0.1 °C, all signed."""
    need(data, 6, "0x356")
    volts, amps, tenths = struct.unpack_from("<hhh", data)
    if volts < 0:
        raise FrameError(f"0x356: negative pack voltage {volts}")
    return Measurement(volts / 100, amps / 10, tenths / 10)


def decode_protection(data: bytes) -> Protection:
    """0x359: protection bytes 0-1, warning bytes 2-3, module count byte 4."""
    need(data, 4, "0x359")
    alarms = frozenset(
        alarm for (byte, bit), alarm in PROTECTION_BITS.items() if data[byte] >> bit & 1
    )
    code = int.from_bytes(data[:4], "little")
    return Protection(alarms, code, data[4] if len(data) >= 5 else None)


def decode_alarms(data: bytes) -> AlarmFlags:
    """0x35A: an alarm is active when its pair reads ``01``."""
    need(data, 8, "0x35A")
    alarms = frozenset(
        alarm
        for (byte, bit), alarm in ALARM_PAIRS.items()
        if data[byte] >> bit & 0b11 == 0b01
    )
    return AlarmFlags(alarms, int.from_bytes(data[:8], "little"))


def decode_info(data: bytes) -> BatteryInfo:
    """0x35F: the available capacity in bytes 4-5 (the rest is not read)."""
    need(data, 6, "0x35F")
    return BatteryInfo(struct.unpack_from("<H", data, 4)[0])


def decode_installed(data: bytes) -> InstalledCapacity:
    """0x379: the installed capacity in bytes 0-1; none installed is malformed."""
    need(data, 2, "0x379")
    capacity = struct.unpack_from("<H", data)[0]
    if capacity == 0:
        raise FrameError("0x379: an installed capacity of 0 Ah")
    return InstalledCapacity(capacity)


def decode_requests(data: bytes) -> Requests:
    """0x35C byte 0: 7 charge, 6 discharge enable, 5 and 4 force charge, 3 full."""
    need(data, 1, "0x35C")
    flags = data[0]
    return Requests(
        charge_enabled=bool(flags & 0x80),
        discharge_enabled=bool(flags & 0x40),
        force_charge=bool(flags & 0x30),
        full_charge_request=bool(flags & 0x08),
    )


def decode_name(data: bytes) -> str:
    """0x35E: the manufacturer in ASCII, padded with spaces (or NULs)."""
    name = data.rstrip(b" \x00")
    if not name or any(byte < 0x20 or byte > 0x7E for byte in name):
        raise FrameError(f"0x35E: not a printable name: {data.hex()}")
    return name.decode("ascii")


DECODERS: dict[int, Callable[[bytes], Decoded]] = {
    LIMITS_ID: decode_limits,
    STATE_ID: decode_state,
    MEASUREMENT_ID: decode_measurement,
    PROTECTION_ID: decode_protection,
    ALARM_ID: decode_alarms,
    REQUEST_ID: decode_requests,
    NAME_ID: decode_name,
    INFO_ID: decode_info,
    INSTALLED_ID: decode_installed,
}


def decode_by_id[T](
    decoders: Mapping[int, Callable[[bytes], T]],
    arbitration_id: int,
    data: bytes,
    label: str,
) -> T | None:
    """The frame's content by the decoder of its ID; None for an ID not there.

    Raises :class:`FrameError` for a malformed frame of a known ID (more than
    the 8 bytes of a classic CAN frame, or what its decoder refuses).
    """
    decoder = decoders.get(arbitration_id)
    if decoder is None:
        return None
    if len(data) > 8:
        raise FrameError(f"{label}: {len(data)} bytes, at most 8")
    return decoder(data)


def decode(arbitration_id: int, data: bytes) -> Decoded | None:
    """The frame's content; None for an ID the protocol does not define.

    Raises :class:`FrameError` for a malformed frame of a known ID.
    """
    return decode_by_id(DECODERS, arbitration_id, data, f"0x{arbitration_id:03X}")


EXTENDED_FLAG = 1 << 31
ID_MASK = 0x1FFFFFFF


def pack(arbitration_id: int, data: bytes, *, extended: bool = False) -> bytes:
    """One CAN frame as the transport hands it on: the ID (4 bytes) and the data."""
    head = arbitration_id & ID_MASK | (EXTENDED_FLAG if extended else 0)
    return head.to_bytes(4, "big") + data


def unpack(packet: bytes) -> tuple[int, bool, bytes]:
    """The ID, whether it is a 29-bit one, and the data of a packed frame."""
    if len(packet) < 4:
        raise FrameError(f"a CAN frame of {len(packet)} bytes has no ID")
    head = int.from_bytes(packet[:4], "big")
    return head & ID_MASK, bool(head & EXTENDED_FLAG), packet[4:]
