"""Topband / PowerXtreme: frames, reassembly and the BLE driver."""

from .driver import TopbandDriver

DRIVER = TopbandDriver

__all__ = ["DRIVER", "TopbandDriver"]
