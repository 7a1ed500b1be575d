"""Humsienk (and ECO-WORTHY packs with its module): frames and the BLE driver."""

from .driver import HumsienkDriver

DRIVER = HumsienkDriver

__all__ = ["DRIVER", "HumsienkDriver"]
