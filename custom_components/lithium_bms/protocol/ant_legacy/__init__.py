"""ANT smart BMS, legacy protocol: frames, reassembly and the BLE driver."""

from .driver import AntLegacyDriver

DRIVER = AntLegacyDriver

__all__ = ["DRIVER", "AntLegacyDriver"]
