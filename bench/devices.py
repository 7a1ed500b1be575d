"""The simulated packs every measurement uses: each family's demo, as 16S."""

from __future__ import annotations

from collections.abc import Callable

from bms_simulator.device import SimulatedBms
from bms_simulator.families.cbtpwr import vb_demo
from bms_simulator.families.seplos_v2_ble import ble_demo
from bms_simulator.families.vatrer import demo_c4s
from bms_simulator.registry import DEMOS
from custom_components.lithium_bms.protocol.registry import DRIVERS

CELLS = 16


# Variants measured beside their family's demo: case -> (family, device).
VARIANT_DEMOS: dict[str, tuple[str, Callable[[str], SimulatedBms]]] = {
    "seplos_v2_ble": ("seplos", ble_demo),
    "cbtpwr_vb": ("cbtpwr", vb_demo),
    "vatrer_c4s": ("vatrer", demo_c4s),
}


def families() -> list[str]:
    """Every family with both a driver and a simulator, in driver order."""
    return [driver.family for driver in DRIVERS if driver.family in DEMOS]


def family_of(case: str) -> str:
    """The family a bench case (a family or a variant case) belongs to."""
    return VARIANT_DEMOS[case][0] if case in VARIANT_DEMOS else case


def bench_device(family: str, address: str) -> SimulatedBms:
    """The family's (or variant case's) demo device, 16 cells, discharging."""
    factory = VARIANT_DEMOS[family][1] if family in VARIANT_DEMOS else DEMOS[family]
    device = factory(address)
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
