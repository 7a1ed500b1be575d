"""Neey / Heltec active balancers: frames, reassembly and the BLE driver."""

from .driver import NeeyDriver

DRIVER = NeeyDriver

__all__ = ["DRIVER", "NeeyDriver"]
