"""Option fields shared by the options of a BMS and of a bus."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
)

from .analytics.bank import Wiring
from .analytics.chemistry import Chemistry
from .const import (
    CONF_CHEMISTRY,
    CONF_EMPTY_CELL_VOLTAGE,
    CONF_FULL_CELL_VOLTAGE,
    CONF_IMBALANCE_THRESHOLD,
    CONF_INVERT_CURRENT,
    CONF_PACK_CAPACITY,
    CONF_STORAGE_WARNING_DAYS,
    CONF_UPDATE_INTERVAL,
    CONF_WIRING,
    DEFAULT_UPDATE_INTERVAL,
    MAX_UPDATE_INTERVAL,
    MIN_UPDATE_INTERVAL,
)

ANALYTICS_NUMBERS = (
    (CONF_FULL_CELL_VOLTAGE, 1.5, 4.5, 0.01, "V"),
    (CONF_EMPTY_CELL_VOLTAGE, 1.0, 4.0, 0.01, "V"),
    (CONF_IMBALANCE_THRESHOLD, 5, 500, 1, "mV"),
    # For a BMS that reports no capacity (a CAN battery): the SOC estimate's.
    (CONF_PACK_CAPACITY, 1, 10000, 0.1, "Ah"),
    (CONF_STORAGE_WARNING_DAYS, 1, 3650, 1, "d"),
)


def interval_field(options: Mapping[str, Any]) -> dict[Any, Any]:
    """The update interval, in seconds."""
    return {
        vol.Required(
            CONF_UPDATE_INTERVAL,
            default=options.get(CONF_UPDATE_INTERVAL, DEFAULT_UPDATE_INTERVAL),
        ): NumberSelector(
            NumberSelectorConfig(
                min=MIN_UPDATE_INTERVAL,
                max=MAX_UPDATE_INTERVAL,
                step=1,
                unit_of_measurement="s",
                mode=NumberSelectorMode.BOX,
            )
        )
    }


def invert_current_field(options: Mapping[str, Any]) -> dict[Any, Any]:
    """Whether the current's sign is flipped (a shunt mounted the other way)."""
    return {
        vol.Required(
            CONF_INVERT_CURRENT, default=options.get(CONF_INVERT_CURRENT, False)
        ): BooleanSelector()
    }


def analytics_fields(options: Mapping[str, Any]) -> dict[Any, Any]:
    """Chemistry, SOC and imbalance thresholds, capacity, storage warning."""
    thresholds: dict[Any, Any] = {
        vol.Optional(
            key, description={"suggested_value": options.get(key)}
        ): NumberSelector(
            NumberSelectorConfig(
                min=low,
                max=high,
                step=step,
                unit_of_measurement=unit,
                mode=NumberSelectorMode.BOX,
            )
        )
        for key, low, high, step, unit in ANALYTICS_NUMBERS
    }
    return {
        vol.Required(
            CONF_CHEMISTRY,
            default=options.get(CONF_CHEMISTRY, Chemistry.LIFEPO4.value),
        ): SelectSelector(
            SelectSelectorConfig(
                options=[c.value for c in Chemistry], translation_key=CONF_CHEMISTRY
            )
        ),
        **thresholds,
    }


def wiring_field(options: Mapping[str, Any]) -> dict[Any, Any]:
    """How the packs of a bus, or those a master reports, are wired."""
    return {
        vol.Required(
            CONF_WIRING, default=options.get(CONF_WIRING, Wiring.PARALLEL.value)
        ): SelectSelector(
            SelectSelectorConfig(
                options=[w.value for w in Wiring], translation_key=CONF_WIRING
            )
        )
    }
