"""Daly: the D2 / P81 and A5 frames, reassembly and driver; its wired protocols."""

from .driver import DalyDriver
from .wired import WIRED

DRIVER = DalyDriver

__all__ = ["DRIVER", "WIRED", "DalyDriver"]
