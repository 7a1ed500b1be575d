"""The supported BMS families and how an advertisement picks one.

Every subpackage of ``protocol`` except the shared core ones
(:data:`CORE_PACKAGES`) is a family: its ``__init__`` exports ``DRIVER``, and
``WIRED`` (its :class:`WiredProtocol` tuple) when it speaks on a serial line.
A new family joins discovery, setup and the manifest by its folder alone.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from .driver import BmsDriver
from .matching import Advertisement
from .wired import WiredProtocol

# Subpackages shared by the families, not families: codecs several families
# speak, and the serial transport.
CORE_PACKAGES = frozenset({"can", "codecs", "serial"})


def _families() -> tuple[tuple[type[BmsDriver], ...], tuple[WiredProtocol, ...]]:
    """Every family folder's driver, and the wired protocols of the folders."""
    drivers: list[type[BmsDriver]] = []
    wired: list[WiredProtocol] = []
    for found in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if not found.ispkg or found.name in CORE_PACKAGES:
            continue
        package = importlib.import_module(f"{__package__}.{found.name}")
        driver = package.DRIVER
        if not (isinstance(driver, type) and issubclass(driver, BmsDriver)):
            raise TypeError(f"protocol.{found.name}.DRIVER is not a BmsDriver")
        drivers.append(driver)
        wired.extend(getattr(package, "WIRED", ()))
    drivers.sort(key=lambda driver: driver.claim_order)
    wired.sort(key=lambda protocol: protocol.key)
    return tuple(drivers), tuple(wired)


# The first family that claims an advertisement wins (see ``claim_order``).
DRIVERS, WIRED_PROTOCOLS = _families()
# The families reached over Bluetooth (the others are wired only, so far).
BLUETOOTH_DRIVERS = tuple(driver for driver in DRIVERS if driver.gatt)


def wired_protocol(key: str) -> WiredProtocol:
    """Look a wired protocol up by its key (as stored in a bus entry)."""
    for protocol in WIRED_PROTOCOLS:
        if protocol.key == key:
            return protocol
    raise KeyError(key)


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
