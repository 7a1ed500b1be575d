"""Fixtures: a battery broadcasting Pylontech CAN frames on python-can's virtual bus."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator, Callable

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bms_simulator.can import CanBroadcaster, demo_pack
from bms_simulator.can import broadcaster as broadcaster_module
from custom_components.lithium_bms.canbus import flow as flow_module
from custom_components.lithium_bms.const import (
    CONF_CAN_BITRATE,
    CONF_CAN_CHANNEL,
    CONF_CAN_INTERFACE,
    CONF_KIND,
    DOMAIN,
    KIND_CAN,
)
from custom_components.lithium_bms.protocol.can import decoder as decoder_module
from custom_components.lithium_bms.protocol.can.driver import PylonCanDriver

_CHANNELS = itertools.count()


@pytest.fixture(autouse=True)
def _bluetooth(enable_bluetooth: None) -> None:
    """The integration depends on the Bluetooth adapters even for a CAN bus."""


@pytest.fixture(autouse=True)
def fast_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fast broadcast, short waits: silence shows within a second."""
    monkeypatch.setattr(broadcaster_module, "PERIOD", 0.05)
    monkeypatch.setattr(decoder_module, "FRESH_FOR", 0.4)
    monkeypatch.setattr(PylonCanDriver, "request_timeout", 0.6)
    monkeypatch.setattr(flow_module, "LISTEN_SECONDS", 0.6)


@pytest.fixture
def channel() -> str:
    """A virtual bus of the test's own."""
    return f"lithium_bms_ha_{next(_CHANNELS)}"


@pytest.fixture
async def battery(channel: str) -> AsyncGenerator[CanBroadcaster]:
    """A battery that broadcasts on the channel until the test ends."""
    sim = CanBroadcaster(demo_pack())
    sim.start("virtual", channel)
    yield sim
    await sim.stop()


def can_entry(channel: str, **options: object) -> MockConfigEntry:
    """The entry the flow creates for ``channel``."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"PYLON ({channel})",
        unique_id=f"virtual:{channel}",
        data={
            CONF_KIND: KIND_CAN,
            CONF_CAN_INTERFACE: "virtual",
            CONF_CAN_CHANNEL: channel,
            CONF_CAN_BITRATE: 500_000,
        },
        options=options,
    )


@pytest.fixture
async def entry(
    hass: HomeAssistant, channel: str, battery: CanBroadcaster
) -> MockConfigEntry:
    """The battery, set up on the test's channel."""
    added = can_entry(channel)
    await setup_can(hass, added)
    return added


async def setup_can(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up a CAN entry."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
def state(hass: HomeAssistant) -> Callable[[MockConfigEntry, str, str], str | None]:
    """The state of the entry's entity of ``platform`` and ``key``, if it exists."""

    def _state(entry: MockConfigEntry, platform: str, key: str) -> str | None:
        entity_id = er.async_get(hass).async_get_entity_id(
            platform, DOMAIN, f"{entry.unique_id}_{key}"
        )
        if entity_id is None:
            return None
        found = hass.states.get(entity_id)
        return found.state if found is not None else None

    return _state


async def until(condition: Callable[[], object], attempts: int = 200) -> None:
    """Wait for ``condition`` with a bounded number of short steps."""
    for _ in range(attempts):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met")
