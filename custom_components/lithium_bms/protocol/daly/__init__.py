"""Daly: the D2 / P81 and A5 frames, reassembly and driver."""

from .driver import DalyDriver

DRIVER = DalyDriver

__all__ = ["DRIVER", "DalyDriver"]
