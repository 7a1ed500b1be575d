"""E&J Technology (AG, Chins, Lithtech, ...): frames, reassembly and the BLE driver."""

from .driver import EjDriver

DRIVER = EjDriver

__all__ = ["DRIVER", "EjDriver"]
