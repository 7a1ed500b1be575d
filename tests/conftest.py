"""Fixtures: Home Assistant with a virtual Bluetooth proxy hosting simulators."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_bluetooth
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.lithium_bms  # noqa: F401  (load ours, not phacc's)
from bench.ha.entries import make_entry
from bms_simulator.device import SimulatedBms
from bms_simulator.families.jbd import JbdSimulator
from bms_simulator.proxy import VirtualProxy, async_start_proxy
from custom_components.lithium_bms.protocol.registry import DRIVERS

JBD_ADDRESS = "A4:C1:37:00:11:22"
PROXY_SOURCE = "AA:BB:CC:00:00:01"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom integrations in every test."""


@pytest.fixture(autouse=True)
def fast_drivers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts and no settle delay, so fault tests run quickly."""
    for driver in DRIVERS:
        monkeypatch.setattr(driver, "request_timeout", 0.5)
        monkeypatch.setattr(driver, "connect_delay", 0.0)


@pytest.fixture
async def proxy(
    hass: HomeAssistant, enable_bluetooth: None
) -> AsyncGenerator[VirtualProxy]:
    """A virtual ESPHome-like proxy registered with HA's Bluetooth stack."""
    virtual = VirtualProxy(PROXY_SOURCE)
    stop = async_start_proxy(hass, virtual)
    yield virtual
    stop()


@pytest.fixture
def add_device(
    hass: HomeAssistant, proxy: VirtualProxy
) -> Callable[[SimulatedBms], Any]:
    """Host a simulator on the proxy and advertise it."""

    async def _add(device: SimulatedBms) -> SimulatedBms:
        proxy.add(device)
        proxy.advertise(device)
        await hass.async_block_till_done(wait_background_tasks=True)
        return device

    return _add


@pytest.fixture
async def jbd(add_device: Callable[[SimulatedBms], Any]) -> JbdSimulator:
    """A simulated 4S JBD pack, advertised through the proxy."""
    device = JbdSimulator(JBD_ADDRESS, "JBD-SP04S034")
    device.pack.cell_voltages = [3.301, 3.302, 3.299, 3.305]
    device.pack.current = -2.5
    device.pack.soc = 64
    device.pack.temperatures = [21.5, 22.0, 23.1]
    await add_device(device)
    return device


async def setup_entry(
    hass: HomeAssistant,
    device: SimulatedBms,
    family: str,
    options: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """Add and set up an entry for a simulated device."""
    entry = make_entry(device, family, options)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
def without_kegtron_and_ibeacon() -> Iterator[None]:
    """Home Assistant's kegtron and ibeacon match these advertisements too.

    Their libraries are not installed in the test environment, so their
    discovery flows would fail; they play no part in whether we claim a device.
    """

    async def matchers(hass: HomeAssistant) -> list[Any]:
        found = await async_get_bluetooth(hass)
        return [m for m in found if m["domain"] not in {"kegtron", "ibeacon"}]

    with patch("homeassistant.components.bluetooth.async_get_bluetooth", matchers):
        yield
