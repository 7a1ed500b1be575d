"""Finding an entry's device by its identifier, on every supported HA version.

From Home Assistant 2026.10 an identifier is unique per config entry only, and
``DeviceRegistry.async_get_device`` is deprecated; the entry's own devices are
looked up instead.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN


def entry_device(
    hass: HomeAssistant, entry_id: str, identifier: str
) -> dr.DeviceEntry | None:
    """The entry's device with ``(DOMAIN, identifier)``, if it has one."""
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, entry_id):
        if (DOMAIN, identifier) in device.identifiers:
            return device
    return None
