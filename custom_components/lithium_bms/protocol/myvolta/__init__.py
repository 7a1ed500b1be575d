"""MyVolta (Volta Power Systems): frames, reassembly and the BLE driver."""

from .driver import MyvoltaDriver

DRIVER = MyvoltaDriver

__all__ = ["DRIVER", "MyvoltaDriver"]
