"""Super-B Epsilon: frames, reassembly and the BLE driver."""

from .driver import SuperbDriver

DRIVER = SuperbDriver

__all__ = ["DRIVER", "SuperbDriver"]
