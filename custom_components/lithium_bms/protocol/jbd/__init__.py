"""JBD: frames, reassembly, MOSFET mask and driver; its UART protocol."""

from .driver import JbdDriver
from .wired import WIRED

DRIVER = JbdDriver

__all__ = ["DRIVER", "WIRED", "JbdDriver"]
