"""RoyPow (Epoch, PowerUrus, Lion Energy): frames, reassembly and the BLE driver."""

from .driver import RoyPowDriver

DRIVER = RoyPowDriver

__all__ = ["DRIVER", "RoyPowDriver"]
