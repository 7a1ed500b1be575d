"""ANT smart BMS: frames, reassembly and the BLE driver."""

from .driver import AntDriver

DRIVER = AntDriver

__all__ = ["DRIVER", "AntDriver"]
