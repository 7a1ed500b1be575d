"""Felicity Solar batteries: JSON replies, reassembly and the BLE driver."""

from .driver import FelicityDriver

DRIVER = FelicityDriver

__all__ = ["DRIVER", "FelicityDriver"]
