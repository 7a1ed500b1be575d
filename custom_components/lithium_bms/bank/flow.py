"""The config-flow step that adds a bank: its form and its checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_NAME
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
)

from ..analytics.bank import Wiring
from ..const import CONF_KIND, CONF_MEMBERS, CONF_WIRING, KIND_BANK, MIN_BANK_MEMBERS


def bank_schema(packs: Sequence[ConfigEntry[Any]]) -> vol.Schema:
    """The form: a name, the member packs, the wiring."""
    options = [SelectOptionDict(value=e.entry_id, label=e.title) for e in packs]
    return vol.Schema(
        {
            vol.Required(CONF_NAME, default="Battery bank"): TextSelector(),
            vol.Required(CONF_MEMBERS): SelectSelector(
                SelectSelectorConfig(options=options, multiple=True)
            ),
            vol.Required(CONF_WIRING, default=Wiring.PARALLEL.value): SelectSelector(
                SelectSelectorConfig(
                    options=[w.value for w in Wiring], translation_key=CONF_WIRING
                )
            ),
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


def bank_entry_data(user_input: dict[str, Any]) -> dict[str, Any]:
    """The config entry data of the bank the form describes."""
    return {
        CONF_KIND: KIND_BANK,
        CONF_MEMBERS: list(user_input[CONF_MEMBERS]),
        CONF_WIRING: user_input[CONF_WIRING],
    }
