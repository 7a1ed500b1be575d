"""The config-flow steps of a bank: its forms, its checks, its reconfiguring."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_NAME
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
)

from ..analytics.bank import Wiring
from ..const import (
    CONF_KIND,
    CONF_MEMBERS,
    CONF_WIRING,
    DOMAIN,
    KIND_BANK,
    KIND_BUS,
    MIN_BANK_MEMBERS,
)
from .coordinator import too_small_issue_id


def bms_entries(entries: Iterable[ConfigEntry[Any]]) -> list[ConfigEntry[Any]]:
    """The entries that are one BMS each (what a bank can combine)."""
    return [e for e in entries if e.data.get(CONF_KIND) not in {KIND_BANK, KIND_BUS}]


def _bank_fields(packs: Sequence[ConfigEntry[Any]]) -> dict[Any, Any]:
    """The member packs and the wiring."""
    options = [SelectOptionDict(value=e.entry_id, label=e.title) for e in packs]
    return {
        vol.Required(CONF_MEMBERS): SelectSelector(
            SelectSelectorConfig(options=options, multiple=True)
        ),
        vol.Required(CONF_WIRING, default=Wiring.PARALLEL.value): SelectSelector(
            SelectSelectorConfig(
                options=[w.value for w in Wiring], translation_key=CONF_WIRING
            )
        ),
    }


def bank_schema(packs: Sequence[ConfigEntry[Any]]) -> vol.Schema:
    """The form that adds a bank: a name, the member packs, the wiring."""
    return vol.Schema(
        {
            vol.Required(CONF_NAME, default="Battery bank"): TextSelector(),
            **_bank_fields(packs),
        }
    )


def bank_errors(members: Sequence[str]) -> dict[str, str]:
    """What is wrong with a choice of members (nothing: empty)."""
    if len(set(members)) < len(members):
        # A pack counted twice doubles its current and capacity.
        return {CONF_MEMBERS: "duplicate_members"}
    if len(members) < MIN_BANK_MEMBERS:
        return {CONF_MEMBERS: "too_few_members"}
    return {}


def bank_entry_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The config entry data of the bank the form describes."""
    return {
        CONF_KIND: KIND_BANK,
        CONF_MEMBERS: list(user_input[CONF_MEMBERS]),
        CONF_WIRING: user_input[CONF_WIRING],
    }


class BankReconfigureFlow(ConfigFlow):
    """The reconfigure step of a bank entry (part of the integration's flow)."""

    async def async_step_reconfigure_bank(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Other members or another wiring.

        The bank keeps its entities (all of the whole bank, none of a member)
        and its energy totals: a pack taken out leaves its share in them, a
        pack added counts from then on.
        """
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = bank_errors(user_input[CONF_MEMBERS])
            if not errors:
                ir.async_delete_issue(self.hass, DOMAIN, too_small_issue_id(entry))
                return self.async_update_reload_and_abort(
                    entry, data=bank_entry_data(user_input)
                )
        packs = bms_entries(self._async_current_entries(include_ignore=False))
        schema = self.add_suggested_values_to_schema(
            vol.Schema(_bank_fields(packs)), user_input or entry.data
        )
        return self.async_show_form(
            step_id="reconfigure_bank",
            data_schema=schema,
            errors=errors,
            description_placeholders={"name": entry.title},
        )
