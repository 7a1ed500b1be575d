"""The simulated packs every measurement uses: each family's demo, as 16S."""

from __future__ import annotations

from bms_simulator.device import SimulatedBms
from bms_simulator.registry import DEMOS
from custom_components.lithium_bms.protocol.registry import DRIVERS

CELLS = 16


def families() -> list[str]:
    """Every family with both a driver and a simulator, in driver order."""
    return [driver.family for driver in DRIVERS if driver.family in DEMOS]


def bench_device(family: str, address: str) -> SimulatedBms:
    """The family's demo device with a 16-cell pack, discharging."""
    device = DEMOS[family](address)
    pack = device.pack
    pack.cell_voltages = [round(3.300 + 0.001 * i, 3) for i in range(CELLS)]
    pack.current = -12.5
    pack.soc = 73
    pack.balancing_cells = {5}
    return device


def vary(device: SimulatedBms, step: int) -> None:
    """Change the pack a little, as a live battery does between two updates."""
    pack = device.pack
    pack.current = round(-12.5 + (step % 7) * 0.3, 1)
    pack.cell_voltages[step % CELLS] = round(3.300 + 0.001 * (step % 40), 3)
