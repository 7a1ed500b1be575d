"""The options of a bus: its settings, and a rescan that adds new packs."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlowResult,
    OptionsFlowWithReload,
)

from ..const import (
    CONF_BAUDRATE,
    CONF_BUS_ADDRESS,
    CONF_PACKS,
    CONF_SERIAL_PORT,
    CONF_UPDATE_INTERVAL,
)
from ..option_fields import (
    analytics_fields,
    interval_field,
    invert_current_field,
    wiring_field,
)
from ..protocol.wired import FoundPack
from ..tracker import thresholds_from_options
from .flow import async_scan, packs_schema, protocol_of
from .packs import pack_addresses, stored_packs, with_packs


class BusOptionsFlow(OptionsFlowWithReload):
    """The bus's settings, or a rescan for packs added since."""

    _found: tuple[FoundPack, ...] = ()

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Settings, or a rescan."""
        return self.async_show_menu(step_id="init", menu_options=["settings", "rescan"])

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Interval, current sign, the bank's wiring, the analytics thresholds."""
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_UPDATE_INTERVAL] = int(user_input[CONF_UPDATE_INTERVAL])
            try:
                thresholds_from_options(user_input)
            except ValueError:
                errors["base"] = "invalid_thresholds"
            else:
                return self.async_create_entry(data=user_input)
        options = user_input or self.config_entry.options
        schema = vol.Schema(
            {
                **interval_field(options),
                **invert_current_field(options),
                **wiring_field(options),
                **analytics_fields(options),
            }
        )
        return self.async_show_form(
            step_id="settings", data_schema=schema, errors=errors
        )

    async def async_step_rescan(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Scan the addresses no pack has yet (the packs keep reading meanwhile)."""
        entry = self.config_entry
        protocol = protocol_of(dict(entry.data))
        known = set(pack_addresses(entry))
        wanted = [a for a in protocol.addresses if a not in known]
        bus = entry.runtime_data.bus if entry.state is ConfigEntryState.LOADED else None
        result, error = await async_scan(
            protocol,
            entry.data[CONF_SERIAL_PORT],
            entry.data[CONF_BAUDRATE],
            bus=bus,
            addresses=wanted,
        )
        if error is not None:
            return self.async_abort(reason=error)
        if result is None or not result.packs:
            return self.async_abort(reason="no_new_packs")
        self._found = result.packs
        return await self.async_step_add_packs()

    async def async_step_add_packs(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the new packs the user confirms; the bus reloads with them."""
        if user_input is not None:
            entry = self.config_entry
            added = [{CONF_BUS_ADDRESS: int(a)} for a in user_input[CONF_PACKS]]
            self.hass.config_entries.async_update_entry(
                entry, data=with_packs(entry.data, [*stored_packs(entry), *added])
            )
            if added:
                self.hass.config_entries.async_schedule_reload(entry.entry_id)
            return self.async_abort(reason="packs_added")
        return self.async_show_form(
            step_id="add_packs",
            data_schema=packs_schema(self._found),
            description_placeholders={"count": str(len(self._found))},
        )
