"""ECO-WORTHY (BW02 / DCHOUSE modules): frames, reassembly and the BLE driver."""

from .driver import EcoworthyDriver

DRIVER = EcoworthyDriver

__all__ = ["DRIVER", "EcoworthyDriver"]
