"""Starting the user's config flow at one of its menu's steps."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.lithium_bms.const import DOMAIN


async def user_flow(hass: HomeAssistant, step: str = "device") -> dict[str, Any]:
    """Open "Add integration" and pick ``step`` from its menu."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert step in result["menu_options"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
