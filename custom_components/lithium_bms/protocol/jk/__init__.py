"""JK: frames, reassembly and driver."""

from .driver import JkDriver

DRIVER = JkDriver

__all__ = ["DRIVER", "JkDriver"]
