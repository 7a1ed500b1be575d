"""Daly: the D2 / P81 and A5 frames, reassembly and driver."""

from .driver import DalyDriver

__all__ = ["DalyDriver"]
