"""The supported BMS families and how an advertisement picks one.

Every subpackage of ``protocol`` except the shared core ones
(:data:`CORE_PACKAGES`) is a family: its ``__init__`` exports ``DRIVER``. A new
family joins discovery, setup and the manifest by its folder alone.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from .driver import BmsDriver
from .matching import Advertisement

# Subpackages shared by the families, not families: codecs several families
# speak, and the serial transport.
CORE_PACKAGES = frozenset({"codecs", "serial"})


def _family_drivers() -> tuple[type[BmsDriver], ...]:
    """The driver of every family folder, most specific claim first."""
    drivers: list[type[BmsDriver]] = []
    for found in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if not found.ispkg or found.name in CORE_PACKAGES:
            continue
        driver = importlib.import_module(f"{__package__}.{found.name}").DRIVER
        if not (isinstance(driver, type) and issubclass(driver, BmsDriver)):
            raise TypeError(f"protocol.{found.name}.DRIVER is not a BmsDriver")
        drivers.append(driver)
    return tuple(sorted(drivers, key=lambda driver: driver.claim_order))


# The first family that claims an advertisement wins (see ``claim_order``).
DRIVERS: tuple[type[BmsDriver], ...] = _family_drivers()


def driver_for_advertisement(adv: Advertisement) -> type[BmsDriver] | None:
    """The driver class that handles a device, or None if unsupported."""
    for driver in DRIVERS:
        if driver.claims(adv):
            return driver
    return None


def driver_by_family(family: str) -> type[BmsDriver]:
    """Look a driver up by its family name (as stored in a config entry)."""
    for driver in DRIVERS:
        if driver.family == family:
            return driver
    raise KeyError(family)
