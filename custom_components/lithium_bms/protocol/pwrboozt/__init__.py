"""PowerBoozt / Dörr Power: frames, reassembly and the BLE driver."""

from .driver import PwrbooztDriver

DRIVER = PwrbooztDriver

__all__ = ["DRIVER", "PwrbooztDriver"]
