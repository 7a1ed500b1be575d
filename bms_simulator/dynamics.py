"""Slow, plausible changes of a simulated pack, so a demo looks alive.

A pack cycles between two SOC limits at a fixed C-rate; SOC moves by coulomb
counting, cell voltages follow an open-circuit-voltage curve plus an IR drop,
cells drift apart (a balancer pulls the highest one back while charging),
temperatures follow the load and, rarely, a protection alarm trips for a few
steps. Off by default, for the pack health insights: one weaker cell (more
internal resistance), a load that steps between levels, a MOSFET that heats
with the square of the current, rests at each turn and a standby drain while no
current flows. The enable flags belong to whoever switches the MOSFETs: they are read,
never written, and no current flows while the conducting FET is off.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from itertools import pairwise

from .pack import PackModel

# Open-circuit voltage per cell over SOC (%): LiFePO4 and NMC.
LFP_CURVE = (
    (0.0, 2.90),
    (5.0, 3.15),
    (10.0, 3.21),
    (20.0, 3.25),
    (40.0, 3.28),
    (60.0, 3.30),
    (80.0, 3.32),
    (90.0, 3.34),
    (95.0, 3.37),
    (100.0, 3.45),
)
NMC_CURVE = (
    (0.0, 3.30),
    (10.0, 3.55),
    (20.0, 3.62),
    (40.0, 3.72),
    (60.0, 3.85),
    (80.0, 4.00),
    (90.0, 4.08),
    (100.0, 4.18),
)
# Cells above this average open-circuit voltage are taken for NMC.
NMC_ABOVE = 3.45
# How far (V) a pack's cells may sit off the curve.
MAX_SHIFT = 0.05
# Probe readings at or below this are disconnected probes: left alone.
MISSING_PROBE_BELOW = -100.0


def open_circuit_voltage(curve: tuple[tuple[float, float], ...], soc: float) -> float:
    """Linear interpolation of ``curve`` at ``soc`` (clamped to 0..100)."""
    soc = min(max(soc, curve[0][0]), curve[-1][0])
    for (soc_a, volt_a), (soc_b, volt_b) in pairwise(curve):
        if soc <= soc_b:
            return volt_a + (volt_b - volt_a) * (soc - soc_a) / (soc_b - soc_a)
    return curve[-1][1]


@dataclass(frozen=True)
class DynamicsSettings:
    """How a pack behaves; rates in C (capacities per hour).

    ``ir_drop_per_c`` is the cell voltage lost (or gained while charging) per
    C of current, so it fits packs of any capacity.
    """

    soc_low: float = 20.0
    soc_high: float = 90.0
    charge_rate: float = 0.3
    discharge_rate: float = 0.4
    current_noise: float = 0.02
    ir_drop_per_c: float = 0.1
    drift_per_hour: float = 0.004
    max_drift: float = 0.030
    balance_above: float = 0.010
    balance_per_hour: float = 0.020
    heating_per_c: float = 8.0
    thermal_minutes: float = 10.0
    event_probability: float = 0.01
    event_steps: tuple[int, int] = (3, 6)
    events: tuple[str, ...] = ("discharge_overcurrent", "charge_overtemperature")
    # Pack health (all off by default). ``weak_cell`` (from 1) has
    # ``weak_cell_factor`` times the others' resistance; each step the current
    # is the rate times one of ``load_levels``; the MOSFET settles
    # ``mosfet_heating_per_c2`` K per C squared above its surroundings (instead
    # of following the cells); at each turn the pack rests ``rest_minutes``,
    # and while no current flows it loses ``standby_per_day`` % of its
    # capacity a day (the BMS's own supply).
    weak_cell: int | None = None
    weak_cell_factor: float = 2.0
    load_levels: tuple[float, ...] = ()
    mosfet_heating_per_c2: float | None = None
    rest_minutes: float = 0.0
    standby_per_day: float = 0.0


HEALTH_DEMO = DynamicsSettings(
    weak_cell=2,
    load_levels=(0.25, 1.0, 1.75),
    mosfet_heating_per_c2=40.0,
    rest_minutes=24 * 60.0,
    standby_per_day=2.4,
)
"""The development setup's packs: every pack health insight gets data."""


class PackDynamics:
    """Advances one :class:`PackModel` by simulated time, step by step."""

    def __init__(
        self,
        pack: PackModel,
        settings: DynamicsSettings | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Take the pack's present values as the starting point."""
        self.pack = pack
        self.settings = settings or DynamicsSettings()
        self.rng = rng or random.Random()
        cells = pack.cell_voltages
        mean = sum(cells) / len(cells)
        self.curve = NMC_CURVE if mean > NMC_ABOVE else LFP_CURVE
        # Each cell keeps its configured distance from the pack's mean; the
        # mean may sit a little off the curve, not more.
        expected = open_circuit_voltage(self.curve, pack.soc)
        expected += self._ir_drop()
        shift = min(MAX_SHIFT, max(-MAX_SHIFT, mean - expected))
        self.offsets = [volt - mean + shift for volt in cells]
        self.drift = [0.0] * len(cells)
        self.charging = pack.current > 0
        self.ambient = list(pack.temperatures)
        self.mosfet_ambient = pack.mosfet_temperature
        self.event: str | None = None
        self.event_left = 0
        self.rest_left = 0.0

    def step(self, seconds: float) -> None:
        """Advance by ``seconds`` of simulated time."""
        self._protection_event()
        self._direction()
        self._current(seconds)
        self._count_charge(seconds)
        self._cells(seconds / 3600)
        self._temperatures(seconds / 60)

    def _ir_drop(self) -> float:
        pack = self.pack
        return pack.current / pack.full_capacity * self.settings.ir_drop_per_c

    def _protection_event(self) -> None:
        pack = self.pack
        if self.event is not None:
            self.event_left -= 1
            if self.event_left <= 0:
                pack.alarms.discard(self.event)
                self.event = None
            return
        candidates = [a for a in self.settings.events if a not in pack.alarms]
        if candidates and self.rng.random() < self.settings.event_probability:
            self.event = self.rng.choice(candidates)
            self.event_left = self.rng.randint(*self.settings.event_steps)
            pack.alarms.add(self.event)

    def _direction(self) -> None:
        pack, settings = self.pack, self.settings
        if self.charging and pack.soc >= settings.soc_high:
            self.charging = False
            self.rest_left = settings.rest_minutes * 60
        elif not self.charging and pack.soc <= settings.soc_low:
            self.charging = True
            self.rest_left = settings.rest_minutes * 60
            pack.cycles += 1

    def _current(self, seconds: float) -> None:
        pack, settings = self.pack, self.settings
        conducting = pack.charge_fet if self.charging else pack.discharge_fet
        if self.rest_left > 0:
            self.rest_left -= seconds
            conducting = False
        if not conducting:
            pack.current = 0.0
            return
        rate = settings.charge_rate if self.charging else -settings.discharge_rate
        if settings.load_levels:
            rate *= self.rng.choice(settings.load_levels)
        noise = 1 + self.rng.gauss(0, settings.current_noise)
        pack.current = round(rate * pack.full_capacity * noise, 2)

    def _count_charge(self, seconds: float) -> None:
        pack = self.pack
        moved = pack.current * seconds / 3600 / pack.full_capacity * 100
        if pack.current == 0:
            moved = -self.settings.standby_per_day * seconds / 86400
        pack.soc = min(100.0, max(0.0, pack.soc + moved))

    def _cells(self, hours: float) -> None:
        pack, settings = self.pack, self.settings
        spread = settings.drift_per_hour * math.sqrt(hours)
        self.drift = [
            min(
                settings.max_drift,
                max(-settings.max_drift, d + self.rng.gauss(0, spread)),
            )
            for d in self.drift
        ]
        level = [o + d for o, d in zip(self.offsets, self.drift, strict=True)]
        top = max(range(len(level)), key=level.__getitem__)
        balancing = (
            pack.balancer_enabled
            and pack.current > 0
            and level[top] - min(level) > settings.balance_above
        )
        if balancing:
            self.drift[top] -= settings.balance_per_hour * hours
            pack.balancing_cells = {top + 1}
        else:
            pack.balancing_cells = set()
        base = open_circuit_voltage(self.curve, pack.soc)
        drop = self._ir_drop()
        pack.cell_voltages = [
            round(base + o + d + drop * self._resistance(cell), 3)
            for cell, (o, d) in enumerate(zip(self.offsets, self.drift, strict=True))
        ]

    def _resistance(self, index: int) -> float:
        """The cell's resistance relative to the others'."""
        weak = self.settings.weak_cell
        return self.settings.weak_cell_factor if weak == index + 1 else 1.0

    def _temperatures(self, minutes: float) -> None:
        pack, settings = self.pack, self.settings
        heat = settings.heating_per_c * abs(pack.current) / pack.full_capacity
        follow = min(1.0, minutes / settings.thermal_minutes)

        def approach(value: float, target: float) -> float:
            moved = value + (target - value) * follow + self.rng.gauss(0, 0.05)
            return round(moved, 1)

        pack.temperatures = [
            value if value <= MISSING_PROBE_BELOW else approach(value, base + heat)
            for value, base in zip(pack.temperatures, self.ambient, strict=True)
        ]
        mosfet_heat = 1.5 * heat
        if settings.mosfet_heating_per_c2 is not None:
            c_rate = pack.current / pack.full_capacity
            mosfet_heat = settings.mosfet_heating_per_c2 * c_rate**2
        pack.mosfet_temperature = approach(
            pack.mosfet_temperature, self.mosfet_ambient + mosfet_heat
        )
