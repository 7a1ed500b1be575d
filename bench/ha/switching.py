"""Switch latency: from the service call to the confirmed state, on the clock.

One pack behind a virtual proxy, on a modelled link that costs what an ESPHome
proxy costs to connect; the switch is toggled again and again through Home
Assistant's ``switch`` service. With the connection held, a command costs its
bytes, the driver's settle time and the read that confirms it; with a
connection per update, it first connects (and may fail and retry, seeded).
Beside it, in the same run: the least time the command's bytes need on the
link (every write back to back, the notifications one after another) plus,
without a held connection, the modelled connection setup.
"""

from __future__ import annotations

from typing import Any

from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from bench.devices import bench_device
from bench.stats import median, p95
from bms_simulator.link import BleLink
from bms_simulator.proxy import VirtualProxy
from custom_components.lithium_bms.const import (
    CONF_KEEP_CONNECTED,
    CONF_UPDATE_INTERVAL,
    MAX_UPDATE_INTERVAL,
)

from .clock import VirtualClock
from .entries import make_entry


async def switch_latency(
    hass: HomeAssistant,
    clock: VirtualClock,
    proxy: VirtualProxy,
    family: str,
    *,
    keep_connected: bool,
    commands: int,
    link: BleLink,
    address: str,
) -> dict[str, Any]:
    """Toggle the pack's first switch ``commands`` times; latencies in ms."""
    device = link.apply(bench_device(family, address))
    proxy.add(device)
    proxy.advertise(device)
    options = {
        CONF_UPDATE_INTERVAL: MAX_UPDATE_INTERVAL,
        CONF_KEEP_CONNECTED: keep_connected,
    }
    entry = make_entry(device, family, options)
    entry.add_to_hass(hass)
    await clock.run(hass.config_entries.async_setup(entry.entry_id))
    registry = er.async_get(hass)
    entity_id = next(
        item.entity_id
        for item in er.async_entries_for_config_entry(registry, entry.entry_id)
        if item.domain == "switch" and item.disabled_by is None
    )
    latencies: list[float] = []
    limits: list[float] = []
    for _ in range(commands):
        state = hass.states.get(entity_id)
        target = (
            STATE_OFF if state is not None and state.state == STATE_ON else STATE_ON
        )
        writes, notified = len(device.writes), device.notified
        started = clock.now
        await clock.run(
            hass.services.async_call(
                "switch",
                f"turn_{target}",
                {ATTR_ENTITY_ID: entity_id},
                blocking=True,
            )
        )
        latencies.append(clock.now - started)
        shown = hass.states.get(entity_id)
        if shown is None or shown.state != target:
            raise AssertionError(f"{family}: {entity_id} did not confirm {target}")
        least = link.least_time(len(device.writes) - writes, device.notified - notified)
        limits.append(least + (0.0 if keep_connected else link.connect.setup))
    await clock.run(hass.config_entries.async_remove(entry.entry_id))
    return {
        "entity": entity_id,
        "median_ms": round(median(latencies) * 1e3, 1),
        "p95_ms": round(p95(latencies) * 1e3, 1),
        "link_limit_ms": round(median(limits) * 1e3, 1),
    }
