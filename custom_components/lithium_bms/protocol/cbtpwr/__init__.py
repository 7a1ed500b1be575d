"""CBT Power (Creabest) classic and VB series: frames, reassembly, BLE driver."""

from .driver import CbtPowerDriver

DRIVER = CbtPowerDriver

__all__ = ["DRIVER", "CbtPowerDriver"]
