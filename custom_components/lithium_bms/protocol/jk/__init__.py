"""JK: frames, reassembly and driver."""

from .driver import JkDriver

__all__ = ["JkDriver"]
