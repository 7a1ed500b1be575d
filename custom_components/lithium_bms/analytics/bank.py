"""A bank of packs wired in parallel or in series, read as one battery.

Parallel: voltage is the mean of the members, current the sum, SOC the mean
weighted by each member's full capacity (a plain mean when any member does not
report one), remaining and full capacity the sums.

Series: voltage is the sum, current the mean (the same current flows through
every pack; the mean evens out sensor differences). The limiting member is the
one holding the least charge (lowest remaining Ah; lowest SOC when any member
does not report remaining Ah): the bank's SOC, remaining and full capacity are
that member's, as it is the first to run empty.

Power is the sum of the members' V * I in both wirings. A member without a
current sensor (JK04 balancers report a placeholder 0 A) makes the bank's
current and power unknown in both wirings: a sum or mean that includes the
placeholder is a wrong value.

While any member is unavailable (None), the bank's voltage, current, power,
SOC, capacities and cell extremes are unknown (None): a partial sum or mean is a
wrong value, and an extreme over part of the bank may hide the very cell that
matters. The flags are still reported where the available members settle them:
``any_alarm`` is True as soon as one available member has a problem, and a
bank switch (:func:`all_on`) is off as soon as one member reports off. They are
True / False only when every member reports, and None otherwise; a pack
that reports no protection state at all settles no alarm.

The bank's energy totals (:class:`BankEnergy`) are total-increasing and never
go down: a member that is away counts with the totals it had, and a member that
left the bank keeps its share. Home Assistant reads a drop of more than 10 % in
such a sensor as a meter reset and would count the remaining total again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Self

from ..protocol.snapshot import BatterySnapshot
from .integrator import finite


class Wiring(StrEnum):
    """How the packs of a bank are connected."""

    PARALLEL = "parallel"
    SERIES = "series"


@dataclass(frozen=True, slots=True, kw_only=True)
class BankReading:
    """The bank as one battery; member numbers are indexes into the member list."""

    members: int
    available: int
    voltage: float | None = None
    current: float | None = None
    power: float | None = None
    state_of_charge: float | None = None
    remaining_capacity: float | None = None
    full_capacity: float | None = None
    cell_voltage_min: float | None = None
    cell_voltage_min_member: int | None = None
    cell_voltage_max: float | None = None
    cell_voltage_max_member: int | None = None
    any_alarm: bool | None = None


def aggregate(members: Sequence[BatterySnapshot | None], wiring: Wiring) -> BankReading:
    """Combine the members' snapshots; None stands for an unavailable member."""
    if not members:
        raise ValueError("a bank needs at least one member")
    available = [m for m in members if m is not None]
    flags = BankReading(
        members=len(members),
        available=len(available),
        any_alarm=_any_alarm(members),
    )
    if len(available) < len(members):
        return flags
    cell_min, cell_min_member = _extreme(available, lambda m: m.cell_voltage_min, min)
    cell_max, cell_max_member = _extreme(available, lambda m: m.cell_voltage_max, max)
    voltages = [m.voltage for m in available]
    currents = [m.current for m in available]
    if wiring is Wiring.PARALLEL:
        voltage, current = sum(voltages) / len(available), sum(currents)
        soc, remaining, full = _parallel_charge(available)
    else:
        voltage, current = sum(voltages), sum(currents) / len(available)
        soc, remaining, full = _series_charge(available)
    measured = all(m.measures_current for m in available)
    return replace(
        flags,
        voltage=voltage,
        current=current if measured else None,
        power=sum(m.power for m in available) if measured else None,
        state_of_charge=soc,
        remaining_capacity=remaining,
        full_capacity=full,
        cell_voltage_min=cell_min,
        cell_voltage_min_member=cell_min_member,
        cell_voltage_max=cell_max,
        cell_voltage_max_member=cell_max_member,
    )


def _any_alarm(members: Sequence[BatterySnapshot | None]) -> bool | None:
    if any(m is not None and m.problem for m in members):
        return True
    read = [m for m in members if m is not None]
    if len(read) < len(members):
        return None
    # A pack that reports no protection state settles nothing.
    return False if any(m.problem is not None for m in read) else None


def all_on(states: Sequence[bool | None]) -> bool | None:
    """A bank switch: off once one member is off, on only when every one is on."""
    if False in states:
        return False
    return None if None in states else True


def _known(values: Sequence[float | None]) -> list[float] | None:
    """The values when every one is known, else None."""
    known = [v for v in values if v is not None]
    return known if len(known) == len(values) else None


def _extreme(
    packs: Sequence[BatterySnapshot],
    value: Callable[[BatterySnapshot], float | None],
    pick: Callable[[Sequence[float]], float],
) -> tuple[float | None, int | None]:
    """The extreme value over all packs and the first member holding it."""
    values = _known([value(m) for m in packs])
    if not values:
        return None, None
    best = pick(values)
    return best, values.index(best)


def _parallel_charge(
    packs: Sequence[BatterySnapshot],
) -> tuple[float | None, float | None, float | None]:
    """SOC weighted by full capacity, summed remaining and full capacity."""
    remaining = _known([m.remaining_capacity for m in packs])
    fulls = _known([m.full_capacity for m in packs])
    socs = _known([m.state_of_charge for m in packs])
    total_remaining = None if remaining is None else sum(remaining)
    total_full = None if fulls is None else sum(fulls)
    soc: float | None = None
    if socs is not None and fulls is not None and total_full:
        soc = sum(s * f for s, f in zip(socs, fulls, strict=True)) / total_full
    elif socs is not None:
        soc = sum(socs) / len(socs)
    return soc, total_remaining, total_full


def _series_charge(
    packs: Sequence[BatterySnapshot],
) -> tuple[float | None, float | None, float | None]:
    """SOC, remaining and full capacity of the member holding the least charge."""
    remaining = _known([m.remaining_capacity for m in packs])
    socs = _known([m.state_of_charge for m in packs])
    held = remaining if remaining is not None else socs
    if held is None:
        return None, None, None
    limiting = packs[held.index(min(held))]
    return (
        limiting.state_of_charge,
        limiting.remaining_capacity,
        limiting.full_capacity,
    )


@dataclass(frozen=True, slots=True)
class Energy:
    """Charge and discharge totals, in kWh."""

    charge: float = 0.0
    discharge: float = 0.0

    def __add__(self, other: Energy) -> Energy:
        """Both totals added."""
        return Energy(self.charge + other.charge, self.discharge + other.discharge)

    def rise_to(self, now: Energy) -> Energy:
        """How far counters read as ``self`` rose to ``now``.

        A counter below its last value started again from zero, so all of its
        new value is new.
        """
        return Energy(
            _rise(self.charge, now.charge), _rise(self.discharge, now.discharge)
        )

    def to_dict(self) -> dict[str, float]:
        """For storage."""
        return {"charge": self.charge, "discharge": self.discharge}

    @classmethod
    def from_dict(cls, data: object) -> Energy | None:
        """The totals ``to_dict`` saved; None when they are not valid."""
        if not isinstance(data, dict):
            return None
        charge, discharge = finite(data.get("charge")), finite(data.get("discharge"))
        if charge is None or discharge is None or min(charge, discharge) < 0:
            return None
        return cls(charge, discharge)


def _rise(last: float, now: float) -> float:
    return now - last if now >= last else now


@dataclass(frozen=True, slots=True)
class _Share:
    """What the bank counted for one member, and its counters when last seen."""

    credited: Energy
    last: Energy


class BankEnergy:
    """A bank's energy totals, which never go down.

    The bank's first members count with all their counters hold; a member
    that joins later (or comes back) only with what it counts from then on,
    so the totals do not leap by energy that did not pass through the bank.
    """

    def __init__(self) -> None:
        """Start with no member seen and nothing departed."""
        self._departed = Energy()
        self._shares: dict[str, _Share] = {}
        # The members counted in full once seen (None: the first update's).
        self._founders: set[str] | None = None

    def update(self, readings: Mapping[str, Energy | None]) -> Energy | None:
        """The totals for every present member's counters (None: member away).

        Members missing from ``readings`` have left the bank: their share moves
        to the departed total. The totals are None while a present member was
        never seen.
        """
        if self._founders is None:
            self._founders = set(readings)
        for member, now in readings.items():
            if now is not None:
                self._see(member, now)
        for member in [m for m in self._shares if m not in readings]:
            self._departed += self._shares.pop(member).credited
        self._founders.intersection_update(readings)
        if any(member not in self._shares for member in readings):
            return None
        total = self._departed
        for member in readings:
            total += self._shares[member].credited
        return total

    def _see(self, member: str, now: Energy) -> None:
        """Credit the member with how far its counters rose since last seen."""
        share = self._shares.get(member)
        if share is not None:
            credited = share.credited + share.last.rise_to(now)
        elif self._founders is not None and member in self._founders:
            credited = now
        else:
            credited = Energy()
        self._shares[member] = _Share(credited, now)

    def to_dict(self) -> dict[str, Any]:
        """For storage."""
        data: dict[str, Any] = {
            "departed": self._departed.to_dict(),
            "members": {
                member: {
                    "credited": share.credited.to_dict(),
                    "last": share.last.to_dict(),
                }
                for member, share in self._shares.items()
            },
        }
        if self._founders is not None:
            data["founders"] = sorted(self._founders)
        return data

    @classmethod
    def from_dict(cls, data: object) -> Self:
        """Totals that continue from ``to_dict`` output; invalid parts are dropped."""
        energy = cls()
        if not isinstance(data, dict):
            return energy
        energy._departed = Energy.from_dict(data.get("departed")) or Energy()
        founders = data.get("founders")
        if isinstance(founders, list) and all(isinstance(m, str) for m in founders):
            energy._founders = set(founders)
        members = data.get("members")
        for member, saved in members.items() if isinstance(members, dict) else ():
            if not isinstance(saved, dict):
                continue
            credited = Energy.from_dict(saved.get("credited"))
            last = Energy.from_dict(saved.get("last"))
            if credited is not None and last is not None:
                energy._shares[str(member)] = _Share(credited, last)
        return energy
