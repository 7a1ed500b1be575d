"""The virtual proxy the tests and ``scripts/develop`` advertise through."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from bms_simulator.device import SimulatedBms
from bms_simulator.proxy import READVERTISE_INTERVAL, VirtualProxy


async def test_it_advertises_again_from_the_event_loop(
    hass: HomeAssistant,
    proxy: VirtualProxy,
    jbd: SimulatedBms,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Home Assistant's Bluetooth stack is only ever called in its loop."""
    threads: list[int] = []
    advertise = proxy.advertise

    def recorded(device: SimulatedBms, *args: Any) -> None:
        threads.append(threading.get_ident())
        advertise(device, *args)

    monkeypatch.setattr(proxy, "advertise", recorded)
    async_fire_time_changed(hass, dt_util.utcnow() + READVERTISE_INTERVAL * 1.5)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert threads == [threading.get_ident()]
