"""Config entries for simulated devices, shared by the benchmark and the tests."""

from __future__ import annotations

from typing import Any

from homeassistant.const import CONF_ADDRESS
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bms_simulator.device import SimulatedBms
from custom_components.lithium_bms.const import CONF_FAMILY, DOMAIN


def make_entry(
    device: SimulatedBms, family: str, options: dict[str, Any] | None = None
) -> MockConfigEntry:
    """A config entry for a simulated device."""
    return MockConfigEntry(
        domain=DOMAIN,
        # As the config flow titles it (``config_flow._title``).
        title=device.advertising.name.strip(),
        unique_id=device.address,
        data={CONF_ADDRESS: device.address, CONF_FAMILY: family},
        options=options or {},
    )
