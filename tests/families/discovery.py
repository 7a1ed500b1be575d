"""Discovery through the virtual proxy, as the family tests walk it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant

from bms_simulator.device import SimulatedBms
from custom_components.lithium_bms.const import DOMAIN

# The ``add_device`` fixture: advertise a simulated BMS, return it.
type AddDevice = Callable[[SimulatedBms], Any]


async def confirm_discovery(hass: HomeAssistant, address: str) -> dict[str, Any]:
    """Confirm the only discovery flow, the one of ``address``; its result."""
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["unique_id"] for flow in flows] == [address]
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {})
    await hass.async_block_till_done()
    return dict(result)
