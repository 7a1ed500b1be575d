"""Renogy smart batteries over Bluetooth: the classic BT-TH line and the Pro series."""

from .driver import RenogyDriver

DRIVER = RenogyDriver

__all__ = ["DRIVER", "RenogyDriver"]
