"""The supported BMS families and how an advertisement picks one."""

from __future__ import annotations

from .daly import DalyDriver
from .driver import BmsDriver
from .jbd import JbdDriver
from .jk import JkDriver
from .matching import Advertisement

# Most specific first: the first family that claims an advertisement wins.
# JBD comes before Daly: a JBD module's company ID is the end of its MAC, so it
# can equal one of Daly's IDs, while JBD's claim needs FF00 and a name or OUI.
DRIVERS: tuple[type[BmsDriver], ...] = (JkDriver, JbdDriver, DalyDriver)


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
