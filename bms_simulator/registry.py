"""Every simulated BMS family, with a ready-made demo device for each.

Every module of ``bms_simulator.families`` is a family's simulator. One that
speaks over Bluetooth exports ``demo(address)``; a new family joins the
development setup, the end-to-end test and the benchmark by its module alone.
A wired-only family exports ``WIRED_DEMOS`` instead (``serial/registry.py``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from . import families
from .device import SimulatedBms

type DemoFactory = Callable[[str], SimulatedBms]


def _demos() -> dict[str, DemoFactory]:
    """Family -> factory of its demo device at a given address."""
    found: dict[str, DemoFactory] = {}
    for module in sorted(pkgutil.iter_modules(families.__path__)):
        simulator = importlib.import_module(f"{families.__name__}.{module.name}")
        if hasattr(simulator, "demo"):
            found[module.name] = simulator.demo
    return found


DEMOS: dict[str, DemoFactory] = _demos()
