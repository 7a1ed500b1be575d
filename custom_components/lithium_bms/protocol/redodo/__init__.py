"""Redodo / LiTime / Power Queen: frames, reassembly and the BLE driver."""

from .driver import RedodoDriver

DRIVER = RedodoDriver

__all__ = ["DRIVER", "RedodoDriver"]
