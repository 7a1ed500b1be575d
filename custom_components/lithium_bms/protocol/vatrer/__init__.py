"""Vatrer smart BMS and the C4S100 (RC6621A) BMS: Modbus RTU over the Nordic UART."""

from .driver import VatrerDriver

DRIVER = VatrerDriver

__all__ = ["DRIVER", "VatrerDriver"]
