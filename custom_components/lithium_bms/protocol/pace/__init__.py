"""PACE (PACEEX and its rebrands): YD/T1363 frames over RS485 and the driver."""

from .driver import PaceDriver
from .wired import WIRED

DRIVER = PaceDriver

__all__ = ["DRIVER", "WIRED", "PaceDriver"]
