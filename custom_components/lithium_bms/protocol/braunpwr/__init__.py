"""Braun Power: frames, reassembly and the BLE driver."""

from .driver import BraunPowerDriver

DRIVER = BraunPowerDriver

__all__ = ["DRIVER", "BraunPowerDriver"]
