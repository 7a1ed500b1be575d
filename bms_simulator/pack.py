"""The physical battery a simulated BMS reports on (the ground truth)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Alarm keys, as the integration names them.
CHARGE_BLOCKING = frozenset(
    {
        "cell_overvoltage",
        "pack_overvoltage",
        "charge_overtemperature",
        "charge_undertemperature",
        "charge_overcurrent",
        "short_circuit",
    }
)
DISCHARGE_BLOCKING = frozenset(
    {
        "cell_undervoltage",
        "pack_undervoltage",
        "discharge_overtemperature",
        "discharge_undertemperature",
        "discharge_overcurrent",
        "short_circuit",
    }
)


@dataclass
class PackModel:
    """Settable state of a simulated pack. Units: V, A (+ charging), Ah, °C."""

    cell_voltages: list[float] = field(default_factory=lambda: [3.300] * 4)
    current: float = 0.0
    soc: float = 50.0
    full_capacity: float = 100.0
    design_capacity: float = 100.0
    cycles: int = 3
    temperatures: list[float] = field(default_factory=lambda: [21.5, 22.0])
    mosfet_temperature: float = 25.0
    alarms: set[str] = field(default_factory=set)
    charge_enabled: bool = True
    discharge_enabled: bool = True
    balancer_enabled: bool = True
    balancing_cells: set[int] = field(default_factory=set)
    state_of_health: float = 100.0

    @property
    def voltage(self) -> float:
        """Pack voltage: the sum of the cells."""
        return sum(self.cell_voltages)

    @property
    def remaining_capacity(self) -> float:
        """Remaining charge, from SOC and full capacity."""
        return self.full_capacity * self.soc / 100

    @property
    def charge_fet(self) -> bool:
        """Whether the charge MOSFET conducts."""
        return self.charge_enabled and not (self.alarms & CHARGE_BLOCKING)

    @property
    def discharge_fet(self) -> bool:
        """Whether the discharge MOSFET conducts."""
        return self.discharge_enabled and not (self.alarms & DISCHARGE_BLOCKING)


def sixteen_cells() -> PackModel:
    """A 16-cell 280 Ah pack, the demo of the larger families."""
    pack = PackModel()
    pack.cell_voltages = [round(3.30 + 0.001 * (i % 5), 3) for i in range(16)]
    pack.temperatures = [19.5, 20.1]
    pack.full_capacity = 280.0
    pack.design_capacity = 280.0
    return pack
