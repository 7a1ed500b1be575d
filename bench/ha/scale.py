"""Many packs behind few proxies: 24 simulated devices, 3 proxies of 3 slots.

Each device is seen by one proxy only (8 per proxy), every family takes its
turn, and every device is a config entry with the default update interval. The
link costs what connecting through an ESPHome proxy costs (setup time, GATT
discovery on the first connection, seeded failures: ``ESPHOME_PROXY``). The
run measures how old each device's data gets and how often it connects.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from homeassistant.core import HomeAssistant

from bench.devices import bench_device, families
from bms_simulator.connecting import ESPHOME_PROXY
from bms_simulator.device import SimulatedBms
from bms_simulator.link import BleLink
from bms_simulator.proxy import VirtualProxy, async_start_proxy
from custom_components.lithium_bms.const import (
    CONF_UPDATE_INTERVAL,
    DEFAULT_UPDATE_INTERVAL,
)
from custom_components.lithium_bms.coordinator import LithiumBmsCoordinator
from custom_components.lithium_bms.slots import DATA_ARBITER

from .clock import VirtualClock
from .entries import make_entry


@dataclass
class ScaleFigures:
    """What a scale run measured (times in seconds of simulated time)."""

    devices: int
    proxies: int
    slots_per_proxy: int
    interval: float
    minutes: float
    worst_data_age: float = 0.0
    updates_min: int = 0
    updates_total: int = 0
    failed_updates: int = 0
    connection_attempts_per_minute: float = 0.0
    # Attempts the link model made fail (bleak-retry-connector retries them).
    modelled_connect_failures: int = 0
    connect_cost: dict[str, float] = field(default_factory=dict)
    slot_waits: int = 0
    held_connections: int = 0
    peak_slots_used: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return asdict(self)


# The test harness's mocked local adapter (hci0): every pack is on a virtual
# proxy, and the adapter's watchdog may try to restart its mock scanner (and
# stop its discovery) when a slow machine lets real time pass. Not a warning
# of the packs' links.
LOCAL_ADAPTER_LOGGERS = frozenset(
    {"habluetooth.scanner", "bleak_retry_connector.bluez"}
)


class _Collect(logging.Handler):
    """Keeps the text of every warning or error logged (but the mock adapter's)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name not in LOCAL_ADAPTER_LOGGERS:
            self.messages.append(f"{record.name}: {record.getMessage()}")


class _Watch:
    """Follows one coordinator: success times and failures."""

    def __init__(self, clock: VirtualClock, coordinator: LithiumBmsCoordinator) -> None:
        self.clock = clock
        self.coordinator = coordinator
        self.last_success = clock.now
        self.worst_age = 0.0
        self.updates = 0
        self.failures = 0
        # The coordinator tells of failures (and of changed data only); the
        # tracker integrates every snapshot read.
        coordinator.async_add_listener(self._changed)
        coordinator.tracker.async_add_listener(self._read)

    def _changed(self) -> None:
        if not self.coordinator.last_update_success:
            self.failures += 1

    def _read(self) -> None:
        self.worst_age = max(self.worst_age, self.clock.now - self.last_success)
        self.last_success = self.clock.now
        self.updates += 1

    def age_now(self) -> float:
        return self.clock.now - self.last_success

    def attempts(self) -> int:
        stats = self.coordinator.client.stats
        return stats.connects + stats.connect_failures


def _device(index: int, names: list[str], link: BleLink, run: int) -> SimulatedBms:
    family = names[index % len(names)]
    return link.apply(
        bench_device(family, f"A4:C1:38:{run:02X}:{index // 256:02X}:{index % 256:02X}")
    )


async def run_scale(
    hass: HomeAssistant,
    clock: VirtualClock,
    *,
    devices: int = 24,
    proxies: int = 3,
    slots: int = 3,
    minutes: float = 10,
    interval: int = DEFAULT_UPDATE_INTERVAL,
    link: BleLink | None = None,
    run: int = 0x5C,
) -> ScaleFigures:
    """Set everything up, run ``minutes`` of simulated time, tear down.

    ``run`` goes into every address (of packs and proxies), so that several
    runs in one Home Assistant do not meet each other's devices.
    """
    link = link or BleLink(connect=ESPHOME_PROXY)
    figures = ScaleFigures(devices, proxies, slots, interval, minutes)
    figures.connect_cost = asdict(link.connect)
    hubs = [
        VirtualProxy(f"AA:BB:CC:{run:02X}:10:{n:02X}", slots) for n in range(proxies)
    ]
    stoppers = [async_start_proxy(hass, hub) for hub in hubs]
    names = families()
    sims = [_device(i, names, link, run) for i in range(devices)]
    for index, sim in enumerate(sims):
        hub = hubs[index % proxies]
        hub.add(sim)
        hub.advertise(sim)
    entries = []
    for sim in sims:
        options = {CONF_UPDATE_INTERVAL: interval}
        entry = make_entry(sim, sim.family, options)
        entry.add_to_hass(hass)
        await clock.run(hass.config_entries.async_setup(entry.entry_id))
        entries.append(entry)
    watches = [_Watch(clock, entry.runtime_data.coordinator) for entry in entries]
    arbiter = hass.data[DATA_ARBITER]
    waits_before = arbiter.waits
    attempts_before = sum(w.attempts() for w in watches)
    failures_before = sum(sim.connect_model.failures for sim in sims)

    collect = _Collect()
    logging.getLogger().addHandler(collect)
    try:
        await clock.advance(minutes * 60)
    finally:
        logging.getLogger().removeHandler(collect)

    figures.worst_data_age = round(
        max(max(w.worst_age, w.age_now()) for w in watches), 1
    )
    figures.updates_min = min(w.updates for w in watches)
    figures.updates_total = sum(w.updates for w in watches)
    figures.failed_updates = sum(w.failures for w in watches)
    attempts = sum(w.attempts() for w in watches) - attempts_before
    figures.connection_attempts_per_minute = round(attempts / minutes, 1)
    figures.modelled_connect_failures = (
        sum(sim.connect_model.failures for sim in sims) - failures_before
    )
    figures.slot_waits = arbiter.waits - waits_before
    figures.held_connections = sum(hub.slot_counter.used for hub in hubs)
    figures.peak_slots_used = [hub.slot_counter.peak for hub in hubs]
    figures.warnings = collect.messages
    figures.leaks = _leaks(hubs, watches, sims)

    for entry in entries:
        await clock.run(hass.config_entries.async_remove(entry.entry_id))
    # Writes still on the modelled link reach their devices (as in run_soak).
    await clock.advance(link.write_latency)
    figures.leaks += [
        f"{hub.source} still holds {hub.slot_counter.holders} after unload"
        for hub in hubs
        if hub.slot_counter.used
    ]
    figures.leaks += [f"{sim.address} still connected" for sim in sims if sim.connected]
    for stop in stoppers:
        stop()
    return figures


def _leaks(
    hubs: list[VirtualProxy], watches: list[_Watch], sims: list[SimulatedBms]
) -> list[str]:
    """Slots held by no live session (nor by a connection being established)."""
    live = {w.coordinator.address for w in watches if w.coordinator.client.is_connected}
    live |= {sim.address for sim in sims if sim.connect_model.establishing}
    return [
        f"{hub.source}: {address} holds a slot without a session"
        for hub in hubs
        for address in hub.slot_counter.holders
        if address not in live
    ]


def within_bound(figures: ScaleFigures) -> bool:
    """Every pack updated at least once per 3 intervals, nothing failed or leaked."""
    return (
        figures.worst_data_age <= 3 * figures.interval
        and figures.failed_updates == 0
        and not figures.warnings
        and not figures.leaks
    )


@dataclass
class Capacity:
    """The most packs one proxy keeps within the bound, at one interval."""

    interval: int
    packs: int
    # Packs per proxy tried -> worst data age (s), or None where not within.
    tried: dict[int, float | None] = field(default_factory=dict)


async def packs_per_proxy(
    hass: HomeAssistant,
    clock: VirtualClock,
    interval: int,
    tries: tuple[int, ...],
    *,
    minutes: float,
    link: BleLink | None = None,
    first_run: int = 0x60,
) -> Capacity:
    """Scale runs on one 3-slot proxy with more and more packs, until one fails.

    ``packs`` is the largest count tried that kept the bound (0 if none did).
    """
    result = Capacity(interval, 0)
    for run, packs in enumerate(sorted(tries), start=first_run):
        figures = await run_scale(
            hass,
            clock,
            devices=packs,
            proxies=1,
            minutes=minutes,
            interval=interval,
            link=link,
            run=run,
        )
        if not within_bound(figures):
            result.tried[packs] = None
            break
        result.tried[packs] = figures.worst_data_age
        result.packs = packs
    return result
