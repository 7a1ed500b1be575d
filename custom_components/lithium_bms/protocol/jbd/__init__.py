"""JBD: frames, reassembly, MOSFET mask and driver."""

from .driver import JbdDriver

DRIVER = JbdDriver

__all__ = ["DRIVER", "JbdDriver"]
