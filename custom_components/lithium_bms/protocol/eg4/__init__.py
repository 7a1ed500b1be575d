"""EG4: LL and LifePower packs (and Sungold rebrands) over Bluetooth."""

from .driver import Eg4Driver

DRIVER = Eg4Driver

__all__ = ["DRIVER", "Eg4Driver"]
