"""TianPower: frames, reassembly and the BLE driver."""

from .driver import TianpwrDriver

DRIVER = TianpwrDriver

__all__ = ["DRIVER", "TianpwrDriver"]
