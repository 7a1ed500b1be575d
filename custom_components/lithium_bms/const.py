"""Constants of the Lithium BMS integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "lithium_bms"

CONF_FAMILY: Final = "family"
CONF_KIND: Final = "kind"
CONF_MEMBERS: Final = "members"
CONF_WIRING: Final = "wiring"
KIND_BANK: Final = "bank"
KIND_BUS: Final = "bus"
KIND_CAN: Final = "can"
CONF_CAN_INTERFACE: Final = "can_interface"
CONF_CAN_CHANNEL: Final = "can_channel"
CONF_CAN_BITRATE: Final = "can_bitrate"
# The CAN address of the JK BMS whose own frames are read (absent: 0).
CONF_CAN_JK_ADDRESS: Final = "can_jk_address"
CONF_SERIAL_PORT: Final = "serial_port"
CONF_PROTOCOL: Final = "protocol"
CONF_BAUDRATE: Final = "baudrate"
CONF_PACKS: Final = "packs"
CONF_BUS_ADDRESS: Final = "bus_address"
CONF_LISTEN: Final = "listen"
MIN_BANK_MEMBERS: Final = 2
CONF_VARIANT: Final = "variant"
CONF_DRIVER_MEMORY: Final = "driver_memory"
CONF_UPDATE_INTERVAL: Final = "update_interval"
CONF_KEEP_CONNECTED: Final = "keep_connected"
CONF_INVERT_CURRENT: Final = "invert_current"
CONF_CHEMISTRY: Final = "chemistry"
CONF_FULL_CELL_VOLTAGE: Final = "full_cell_voltage"
CONF_EMPTY_CELL_VOLTAGE: Final = "empty_cell_voltage"
CONF_IMBALANCE_THRESHOLD: Final = "imbalance_threshold"
CONF_PACK_CAPACITY: Final = "pack_capacity"
CONF_STORAGE_WARNING_DAYS: Final = "storage_warning_days"

DEFAULT_UPDATE_INTERVAL: Final = 10
MIN_UPDATE_INTERVAL: Final = 2
MAX_UPDATE_INTERVAL: Final = 3600
DEFAULT_KEEP_CONNECTED: Final = True
# Days until empty at the standby drain below which a repair suggests
# disconnecting the pack for storage.
DEFAULT_STORAGE_WARNING_DAYS: Final = 60

# Currents smaller than this (A) count as idle for charging/discharging.
CURRENT_DEADBAND: Final = 0.05


def update_interval(seconds: int) -> timedelta:
    """The coordinator interval for an option value."""
    return timedelta(seconds=max(MIN_UPDATE_INTERVAL, seconds))
