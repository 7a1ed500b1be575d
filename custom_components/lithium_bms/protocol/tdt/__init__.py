"""TDT (XDZN, WattCycle): frames, reassembly and the BLE driver."""

from .driver import TdtDriver

DRIVER = TdtDriver

__all__ = ["DRIVER", "TdtDriver"]
