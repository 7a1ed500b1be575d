"""Offgridtec LiFePo4 Smart Pro (types A and B): frames, reassembly, BLE driver."""

from .driver import OgtDriver

DRIVER = OgtDriver

__all__ = ["DRIVER", "OgtDriver"]
