"""Import the protocol package where Home Assistant is not installed.

``custom_components/lithium_bms/__init__.py`` imports Home Assistant, and Python
runs it before any submodule. Without Home Assistant (the bleak 3.x test and
benchmark environment) the package is registered empty instead, so that
``custom_components.lithium_bms.protocol`` and its modules import on their own.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

PACKAGE = "custom_components.lithium_bms"
PACKAGE_DIR = (
    Path(__file__).resolve().parent.parent / "custom_components" / "lithium_bms"
)


def register_empty_package() -> None:
    """Register the integration package without running its ``__init__``."""
    package = types.ModuleType(PACKAGE)
    package.__path__ = [str(PACKAGE_DIR)]
    sys.modules[PACKAGE] = package


def without_home_assistant() -> bool:
    """Register the integration package empty unless Home Assistant is importable.

    Returns whether it did.
    """
    if PACKAGE in sys.modules or importlib.util.find_spec("homeassistant"):
        return False
    register_empty_package()
    return True
