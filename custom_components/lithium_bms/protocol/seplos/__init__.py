"""Seplos: V2 (YD/T1363) and V3 (Modbus) packs on a wired RS485 bus."""

from .driver import SeplosDriver
from .wired import WIRED

DRIVER = SeplosDriver

__all__ = ["DRIVER", "WIRED", "SeplosDriver"]
