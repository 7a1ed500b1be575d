"""Assembling the broadcast frames into one battery reading.

Each frame ID carries a part of the state; a Pylontech reading needs the
measurement (0x356) and the charge state (0x355), both heard within
:data:`FRESH_FOR`. Alarms come from 0x359 (protocol V1.2) or 0x35A (V1.3,
SMA / Victron), the capacities from 0x35F (remaining) and 0x379 (installed)
where sent. On a bus without them, the Growatt protocol's measurement
(0x313) is the reading, with its cells (0x315 to 0x318) where all of the
count 0x312 states came; else JK's own status frame (0x2F4). JK's cell
frames join a Pylontech or a JK reading: the cells of groups heard in a row
from the first, without the trailing cells that read 0 (not fitted).
JK's frames are read from one BMS address: the entry's, or while the flow
listens the lowest heard (the others are other packs).
The other parts join when they were heard recently too; a part that stopped
coming is dropped rather than shown stale.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from ..errors import ProtocolError
from ..snapshot import Alarm, BatterySnapshot, Temperature, TemperatureKind
from .frames import (
    SUPPORTED_ALARMS,
    V13_SUPPORTED_ALARMS,
    AlarmFlags,
    BatteryInfo,
    ChargeLimits,
    ChargeState,
    Decoded,
    InstalledCapacity,
    Measurement,
    Protection,
    Requests,
    decode,
    unpack,
)
from .growatt_frames import CELL_GROUPS as GROWATT_GROUPS
from .growatt_frames import (
    GrowattCells,
    GrowattCounts,
    GrowattDecoded,
    GrowattLimits,
    GrowattMaker,
    GrowattMeasurement,
    decode_growatt,
)
from .jk_frames import (
    CELL_GROUPS,
    JkCapacity,
    JkCells,
    JkDecoded,
    JkStatus,
    JkTemperatures,
    decode_jk,
)

# Frames come about once a second: a part older than this is not shown.
FRESH_FOR = 10.0
PYLONTECH = "Pylontech CAN"
GROWATT = "Growatt CAN"
JK = "JK CAN"

type Part = Decoded | GrowattDecoded | JkDecoded
# The part each protocol's reading is made of: heard twice, a cycle was.
MEASUREMENTS = (Measurement, GrowattMeasurement, JkStatus)


@dataclass(slots=True)
class DecoderStats:
    """What the decoder heard (diagnostics, and the flow's verdict)."""

    frames: int = 0
    decoded: int = 0
    unknown: int = 0
    malformed: int = 0
    last_malformed: str | None = None


@dataclass(slots=True)
class PylonDecoder:
    """The newest valid content of each frame ID, with when it came.

    ``jk_address`` is the address of the JK BMS whose frames are read; None
    reads the lowest address heard.
    """

    jk_address: int | None = 0
    stats: DecoderStats = field(default_factory=DecoderStats)
    # The addresses of every JK BMS heard.
    jk_heard: set[int] = field(default_factory=set)
    _parts: dict[object, tuple[float, Part]] = field(default_factory=dict)
    _measured: Counter[type] = field(default_factory=Counter)
    _cell_bursts: int = 0

    def _now(self) -> float:
        return time.monotonic()

    def feed(self, packet: bytes) -> bool:
        """Take one packed frame; whether it carried a part of the protocol.

        A malformed frame of a known ID is counted and raised, never kept.
        """
        self.stats.frames += 1
        arbitration_id, extended, data = unpack(packet)
        try:
            jk = decode_jk(arbitration_id, extended, data)
            part: Part | None = jk[1] if jk else None
            if jk is None and not extended:
                part = decode(arbitration_id, data) or decode_growatt(
                    arbitration_id, data
                )
        except ProtocolError as err:
            self.stats.malformed += 1
            self.stats.last_malformed = str(err)
            raise
        if part is None or (jk is not None and not self._jk_ours(jk[0])):
            self.stats.unknown += 1
            return False
        self.stats.decoded += 1
        key: object = type(part)
        if isinstance(part, MEASUREMENTS):
            self._measured[type(part)] += 1
        elif isinstance(part, JkCells | GrowattCells):
            key = (type(part), part.group)
            self._cell_bursts += part.group == 0
        self._parts[key] = (self._now(), part)
        return True

    @property
    def jk_bound(self) -> int | None:
        """The address of the JK BMS read; None while none was heard."""
        if self.jk_address is not None:
            return self.jk_address
        return min(self.jk_heard, default=None)

    def _jk_ours(self, address: int) -> bool:
        """Whether the frame is the read JK BMS's; a lower address rebinds."""
        if address not in self.jk_heard:
            before = self.jk_bound
            self.jk_heard.add(address)
            if before is not None and self.jk_bound != before:
                self._forget_jk()
        return address == self.jk_bound

    def _forget_jk(self) -> None:
        """Drop the parts of the JK BMS read so far (another is read now)."""
        for key, (_, part) in list(self._parts.items()):
            if isinstance(part, JkStatus | JkTemperatures | JkCapacity | JkCells):
                del self._parts[key]
        self._measured[JkStatus] = 0
        self._cell_bursts = 0

    def reset(self) -> None:
        """Forget every part (a new connection)."""
        self._parts.clear()
        self.jk_heard.clear()
        self._measured.clear()
        self._cell_bursts = 0

    @property
    def cycle_heard(self) -> bool:
        """Whether a whole broadcast cycle was heard since the reset.

        A protocol's measurement came twice, and the first cell group twice
        where cells are sent, so every frame of the cycle came in between:
        the first reading shows every part the battery sends.
        """
        measured = max(self._measured[kind] for kind in MEASUREMENTS) >= 2
        cells_sent = any(isinstance(key, tuple) for key in self._parts)
        return measured and (not cells_sent or self._cell_bursts >= 2)

    def _fresh[T](self, kind: type[T], key: object = None) -> T | None:
        found = self._parts.get(kind if key is None else key)
        if found is None or self._now() - found[0] > FRESH_FOR:
            return None
        part = found[1]
        return part if isinstance(part, kind) else None

    @property
    def protocol(self) -> str:
        """The protocol the reading comes from: Pylontech's, Growatt's or JK's."""
        if self._fresh(Measurement) is not None:
            return PYLONTECH
        if self._fresh(GrowattMeasurement) is not None:
            return GROWATT
        if self._fresh(JkStatus) is not None:
            return JK
        return PYLONTECH

    def _group_cells(
        self, kind: type[JkCells | GrowattCells], groups: int
    ) -> list[float]:
        """The cells of the groups of ``kind`` fresh in a row from the first."""
        cells: list[float] = []
        for group in range(groups):
            part = self._fresh(kind, (kind, group))
            if part is None:
                break
            cells.extend(part.voltages)
        return cells

    def _cells(self) -> tuple[float, ...]:
        """JK's cells fresh in a row, trailing 0 V cells (not fitted) dropped."""
        cells = self._group_cells(JkCells, CELL_GROUPS)
        while cells and cells[-1] == 0:
            cells.pop()
        return tuple(cells)

    def _growatt_cells(self) -> tuple[float, ...]:
        """Growatt's cells, all of the count 0x312 states, or none."""
        counts = self._fresh(GrowattCounts)
        cells = self._group_cells(GrowattCells, GROWATT_GROUPS)
        if counts is None or len(cells) < counts.cells:
            return ()
        return tuple(cells[: counts.cells])

    @property
    def manufacturer(self) -> str | None:
        """The name in 0x35E (or Growatt's maker in 0x320), once heard."""
        maker = self._fresh(GrowattMaker)
        return self._fresh(str) or (maker.name if maker else None)

    @property
    def modules(self) -> int | None:
        """The module count 0x359 states, once heard."""
        protection = self._fresh(Protection)
        return protection.modules if protection is not None else None

    @property
    def growatt_packs(self) -> int | None:
        """The pack count Growatt's 0x312 states, once heard."""
        counts = self._fresh(GrowattCounts)
        return counts.packs if counts is not None else None

    def _alarms(self) -> tuple[frozenset[Alarm], frozenset[Alarm], int | None]:
        """Active and supported alarms and the raw code, from 0x359 and 0x35A."""
        protection = self._fresh(Protection)
        flags = self._fresh(AlarmFlags)
        active: frozenset[Alarm] = frozenset()
        supported: frozenset[Alarm] = frozenset()
        code = None
        if flags is not None:
            active, supported, code = flags.alarms, V13_SUPPORTED_ALARMS, flags.code
        if protection is not None:
            active |= protection.alarms
            supported |= SUPPORTED_ALARMS
            code = protection.code
        return active, supported, code

    def snapshot(self) -> BatterySnapshot | None:
        """A reading from the fresh parts; None until 0x355 and 0x356 are fresh.

        Without them, JK's status frame makes the reading.
        """
        measurement = self._fresh(Measurement)
        state = self._fresh(ChargeState)
        if measurement is None or state is None:
            return self._growatt_snapshot() or self._jk_snapshot()
        limits = self._fresh(ChargeLimits)
        requests = self._fresh(Requests)
        info = self._fresh(BatteryInfo)
        installed = self._fresh(InstalledCapacity)
        alarms, supported, code = self._alarms()
        return BatterySnapshot(
            voltage=measurement.voltage,
            current=measurement.current,
            cell_voltages=self._cells(),
            temperatures=(Temperature(TemperatureKind.CELL, measurement.temperature),),
            state_of_charge=state.state_of_charge,
            state_of_health=state.state_of_health,
            remaining_capacity=info.remaining_capacity if info else None,
            design_capacity=installed.capacity if installed else None,
            alarms=alarms,
            supported_alarms=supported,
            protection_code=code,
            charge_voltage_limit=limits.charge_voltage if limits else None,
            charge_current_limit=limits.charge_current if limits else None,
            discharge_current_limit=limits.discharge_current if limits else None,
            discharge_voltage_limit=limits.discharge_voltage if limits else None,
            charge_enabled=requests.charge_enabled if requests else None,
            discharge_enabled=requests.discharge_enabled if requests else None,
            force_charge=requests.force_charge if requests else None,
            full_charge_request=requests.full_charge_request if requests else None,
            manufacturer_name=self.manufacturer,
        )

    def _growatt_snapshot(self) -> BatterySnapshot | None:
        """A reading from Growatt's frames; None until 0x313 is fresh."""
        measurement = self._fresh(GrowattMeasurement)
        if measurement is None:
            return None
        limits = self._fresh(GrowattLimits)
        return BatterySnapshot(
            voltage=measurement.voltage,
            current=measurement.current,
            cell_voltages=self._growatt_cells(),
            temperatures=(Temperature(TemperatureKind.CELL, measurement.temperature),),
            state_of_charge=measurement.state_of_charge,
            state_of_health=measurement.state_of_health,
            charge_voltage_limit=limits.charge_voltage if limits else None,
            charge_current_limit=limits.charge_current if limits else None,
            discharge_current_limit=limits.discharge_current if limits else None,
            manufacturer_name=self.manufacturer,
        )

    def _jk_snapshot(self) -> BatterySnapshot | None:
        """A reading from JK's frames; None until 0x2F4 is fresh."""
        status = self._fresh(JkStatus)
        if status is None:
            return None
        temperatures = self._fresh(JkTemperatures)
        capacity = self._fresh(JkCapacity)
        return BatterySnapshot(
            voltage=status.voltage,
            current=status.current,
            cell_voltages=self._cells(),
            temperatures=(
                (Temperature(TemperatureKind.CELL, temperatures.average),)
                if temperatures
                else ()
            ),
            state_of_charge=status.state_of_charge,
            remaining_capacity=capacity.remaining_capacity if capacity else None,
            design_capacity=capacity.rated_capacity if capacity else None,
            cycles=capacity.cycles if capacity else None,
            manufacturer_name=self.manufacturer,
        )
