"""Saihang (Anenji): frames, reassembly and the BLE driver."""

from .driver import SaihangDriver

DRIVER = SaihangDriver

__all__ = ["DRIVER", "SaihangDriver"]
