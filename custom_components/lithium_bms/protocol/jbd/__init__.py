"""JBD: frames, reassembly, MOSFET mask and driver."""

from .driver import JbdDriver

__all__ = ["JbdDriver"]
