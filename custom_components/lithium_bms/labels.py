"""Entity names in Home Assistant's language, for the placeholders of messages.

A placeholder is filled in by us, not by the frontend, so a raw key would show
in English (or as a key) inside a translated message.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN


async def async_entity_names(
    hass: HomeAssistant, platform: str, keys: list[str]
) -> str:
    """The translated names of entity keys of ours, joined by commas.

    A key without a translated name stands for itself.
    """
    translations = await async_get_translations(
        hass, hass.config.language, "entity", {DOMAIN}
    )
    return ", ".join(
        translations.get(f"component.{DOMAIN}.entity.{platform}.{key}.name", key)
        for key in keys
    )
