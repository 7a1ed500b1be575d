"""ABC-BMS (SOK): frames, reassembly and the BLE driver."""

from .driver import AbcDriver

DRIVER = AbcDriver

__all__ = ["DRIVER", "AbcDriver"]
