"""Repairs: remove a pack that left its bus."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.components.repairs import RepairsFlow
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult
from homeassistant.helpers import issue_registry as ir

from .bus.removal import async_remove_bus_pack
from .const import DOMAIN


class RemoveGonePackFlow(RepairsFlow):
    """Confirm, then forget the pack (its record, saved state and device)."""

    def __init__(self, entry_id: str, address: int) -> None:
        """Remember which pack of which bus."""
        self._entry_id = entry_id
        self._address = address

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> FlowResult:
        """Ask before removing."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> FlowResult:
        """Remove the pack once confirmed (the bus reloads without it)."""
        if user_input is not None:
            entry = self.hass.config_entries.async_get_entry(self._entry_id)
            if entry is not None:
                await async_remove_bus_pack(self.hass, entry, self._address)
            return self.async_create_entry(data={})
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id)
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({}),
            description_placeholders=dict(
                issue.translation_placeholders or {} if issue else {}
            ),
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The fix of a ``pack_gone`` issue."""
    if data is None or not issue_id.startswith("pack_gone_"):
        raise ValueError(f"no fix for {issue_id}")
    return RemoveGonePackFlow(str(data["entry_id"]), int(data["address"] or 0))
