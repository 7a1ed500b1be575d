"""The Home Assistant side of ``scripts/bench`` (skipped unless it runs them).

Per family, with a 16-cell pack behind a virtual proxy and every entity
enabled: CPU time per update in Home Assistant (coordinator, entity updates,
state writes), state writes per update, CPU time of a whole refresh through
the proxy, memory per configured device; then the many-packs scale run and
the recorder footprint of a pack over an accelerated day (default entities,
a real SQLite recorder with statistics).
Figures go to the JSON file named by ``BENCH_OUT``; ``BENCH_MODE=full``
measures longer. Nothing here is timed against a limit.
"""

from __future__ import annotations

import json
import logging
import os
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.core import Recorder
from homeassistant.config_entries import RELOAD_AFTER_UPDATE_DELAY, ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from bench.devices import bench_device, families, vary
from bench.ha.clock import VirtualClock
from bench.ha.entries import make_entry
from bench.ha.recorder import measure_day, start_charge_cycles
from bench.ha.scale import packs_per_proxy, run_scale
from bench.ha.soak import traced_memory
from bench.ha.switching import switch_latency
from bms_simulator.connecting import ESPHOME_PROXY, ConnectCost
from bms_simulator.link import BleLink
from bms_simulator.proxy import VirtualProxy
from custom_components.lithium_bms.const import (
    CONF_UPDATE_INTERVAL,
    DEFAULT_UPDATE_INTERVAL,
    MAX_UPDATE_INTERVAL,
)
from custom_components.lithium_bms.protocol.registry import DRIVERS, driver_by_family
from custom_components.lithium_bms.protocol.snapshot import BatterySnapshot
from custom_components.lithium_bms.sensor import MILLIVOLT_DIGITS

OUT = os.environ.get("BENCH_OUT")
SETTLE_SECONDS = 30
FULL = os.environ.get("BENCH_MODE") == "full"
UPDATES = 300 if FULL else 30
EXTRA_DEVICES = 6 if FULL else 2
SCALE_MINUTES = 60 if FULL else 10
STATISTICS_WARMUP = 600
QUIET = {CONF_UPDATE_INTERVAL: MAX_UPDATE_INTERVAL}
# What connecting costs (scripts/bench's options; an ESPHome proxy by default).
CONNECT = (
    ConnectCost(**json.loads(os.environ["BENCH_CONNECT"]))
    if "BENCH_CONNECT" in os.environ
    else ESPHOME_PROXY
)
SWITCH_COMMANDS = 20 if FULL else 6
SWITCHED = [family for family in families() if driver_by_family(family).switches]
# Packs per proxy tried at each interval (full mode), and minutes per try.
CAPACITY_TRIES = {10: (16, 20, 24), 30: (36, 48, 60, 72), 60: (60, 90, 120)}
CAPACITY_MINUTES = {10: 5, 30: 8, 60: 12}
# The drivers' own settle time after connecting (the tests' fixture zeroes it).
SETTLE = {driver: driver.connect_delay for driver in DRIVERS}

pytestmark = pytest.mark.skipif(not OUT, reason="run by scripts/bench")
RESULTS: dict[str, Any] = {}


@pytest.fixture(scope="module", autouse=True)
def write_results() -> Iterator[None]:
    """Write every figure measured in this module to ``BENCH_OUT``."""
    yield
    if OUT:
        Path(OUT).write_text(json.dumps(RESULTS, indent=2) + "\n")


@pytest.fixture
def mock_recorder_before_hass(request: pytest.FixtureRequest) -> None:
    """Prepare the recorder's database before Home Assistant, where one records."""
    if "recorder_mock" in request.fixturenames:
        request.getfixturevalue("async_test_recorder")


@pytest.fixture
def quiet_sql() -> Iterator[None]:
    """No log record per SQL statement (the test harness logs every one)."""
    logger = logging.getLogger("sqlalchemy.engine")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


async def _add(
    hass: HomeAssistant,
    clock: VirtualClock,
    proxy: VirtualProxy,
    family: str,
    index: int,
) -> Any:
    device = BleLink().apply(bench_device(family, f"A4:C1:38:BE:{index:02X}:01"))
    proxy.add(device)
    proxy.advertise(device)
    entry = make_entry(device, family, QUIET)
    entry.add_to_hass(hass)
    await clock.run(hass.config_entries.async_setup(entry.entry_id))
    return device, entry


@pytest.mark.parametrize("family", families())
async def test_home_assistant_costs(
    hass: HomeAssistant,
    proxy: VirtualProxy,
    freezer: FrozenDateTimeFactory,
    family: str,
) -> None:
    clock = VirtualClock(hass, freezer)
    device, entry = await _add(hass, clock, proxy, family, 0)
    registry = er.async_get(hass)
    for item in er.async_entries_for_config_entry(registry, entry.entry_id):
        if item.disabled_by is not None:
            registry.async_update_entity(item.entity_id, disabled_by=None)
    # Home Assistant reloads the entry itself, a while after entities change;
    # the new setup takes a few seconds of its own (JK waits for its stream).
    await clock.advance(RELOAD_AFTER_UPDATE_DELAY + 1)
    for _ in range(SETTLE_SECONDS):
        if entry.state is ConfigEntryState.LOADED:
            break
        await clock.advance(1)
    assert entry.state is ConfigEntryState.LOADED
    entities = er.async_entries_for_config_entry(registry, entry.entry_id)
    assert all(item.disabled_by is None for item in entities)
    coordinator = entry.runtime_data.coordinator

    snapshots: list[BatterySnapshot] = []
    for step in range(UPDATES):
        vary(device, step)
        snapshots.append(await clock.run(coordinator.client.read_snapshot()))

    writes = changes = 0

    @callback
    def _written(event: Event[Any]) -> None:
        nonlocal writes, changes
        writes += 1
        changes += event.event_type == EVENT_STATE_CHANGED

    unsubscribe = [
        hass.bus.async_listen(EVENT_STATE_CHANGED, _written),
        hass.bus.async_listen(
            EVENT_STATE_REPORTED, _written, event_filter=callback(lambda _: True)
        ),
    ]
    started = time.process_time()
    for snapshot in snapshots:
        coordinator.async_set_updated_data(snapshot)
    ha_cpu = (time.process_time() - started) / UPDATES
    for stop in unsubscribe:
        stop()
    assert writes == changes, "an entity writes only what changed"

    started = time.process_time()
    for step in range(UPDATES):
        vary(device, step + UPDATES)
        await clock.run(coordinator.async_refresh())
    refresh_cpu = (time.process_time() - started) / UPDATES
    assert coordinator.last_update_success

    memory = await _memory_per_device(hass, clock, proxy, family)
    RESULTS.setdefault("families", {})[family] = {
        "entities": len(entities),
        "ha_cpu_us": round(ha_cpu * 1e6, 1),
        "state_writes": round(writes / UPDATES, 1),
        "state_changes": round(changes / UPDATES, 1),
        "refresh_cpu_us": round(refresh_cpu * 1e6, 1),
        "memory_kib": round(memory / 1024, 1),
    }


async def _memory_per_device(
    hass: HomeAssistant, clock: VirtualClock, proxy: VirtualProxy, family: str
) -> float:
    """Traced memory a further configured device adds (default entities)."""
    tracemalloc.start()
    try:
        before = traced_memory()
        for index in range(1, EXTRA_DEVICES + 1):
            await _add(hass, clock, proxy, family, index)
        grown = traced_memory().compare_to(before, "filename")
    finally:
        tracemalloc.stop()
    return sum(stat.size_diff for stat in grown) / EXTRA_DEVICES


@pytest.fixture
def real_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every driver waits after connecting as it does on a real link."""
    for driver, delay in SETTLE.items():
        monkeypatch.setattr(driver, "connect_delay", delay)


async def test_scale(
    hass: HomeAssistant,
    enable_bluetooth: None,
    freezer: FrozenDateTimeFactory,
    real_settle: None,
) -> None:
    figures = await run_scale(
        hass,
        VirtualClock(hass, freezer),
        minutes=SCALE_MINUTES,
        link=BleLink(connect=CONNECT),
    )
    assert figures.leaks == []
    RESULTS["scale"] = figures.as_dict()


# Hours of accelerated time per family: a whole day for JBD, a quarter of
# one (one and a half charge cycles) for the others; the short form 2 hours.
RECORDER_HOURS = {"jbd": 24.0, "daly": 6.0, "jk": 6.0} if FULL else {"jbd": 2.0}
# What an ESPHome proxy negotiates: the stored figures do not depend on it.
RECORDER_LINK = BleLink(mtu=244)
# Attributes (device class, unit, state class, name) stay below this, bytes.
LARGE_ATTRIBUTES = 256


# Home Assistant's own commit interval (the test harness commits every event).
@pytest.mark.parametrize("recorder_config", [{"commit_interval": 5}])
@pytest.mark.parametrize("persistent_database", [True])
@pytest.mark.parametrize("enable_statistics", [True])
@pytest.mark.parametrize("family", RECORDER_HOURS)
@pytest.mark.usefixtures("quiet_sql")
async def test_recorder_footprint(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    proxy: VirtualProxy,
    freezer: FrozenDateTimeFactory,
    family: str,
) -> None:
    clock = VirtualClock(hass, freezer)
    device = RECORDER_LINK.apply(bench_device(family, "A4:C1:38:BE:10:01"))
    proxy.add(device)
    proxy.advertise(device)
    entry = make_entry(device, family)
    entry.add_to_hass(hass)
    stop = start_charge_cycles(hass, device.pack, seed=19)
    await clock.run(hass.config_entries.async_setup(entry.entry_id))
    assert entry.state is ConfigEntryState.LOADED
    # The first states and the statistics metadata are written meanwhile.
    await clock.advance(STATISTICS_WARMUP)
    hours = RECORDER_HOURS[family]
    footprint = await measure_day(hass, clock, recorder_mock, entry, hours)
    stop()
    await clock.run(hass.config_entries.async_unload(entry.entry_id))
    assert footprint.updates >= hours * 3600 / DEFAULT_UPDATE_INTERVAL - 2
    assert footprint.added.other_states == 0
    assert footprint.extremes["cell_voltage_decimals"] <= MILLIVOLT_DIGITS
    assert footprint.extremes["longest_attributes"] < LARGE_ATTRIBUTES
    RESULTS.setdefault("recorder", {})[family] = footprint.as_dict()


@pytest.mark.skipif(not FULL, reason="full mode only (several minutes)")
@pytest.mark.timeout(1800)
async def test_packs_per_proxy(
    hass: HomeAssistant,
    enable_bluetooth: None,
    freezer: FrozenDateTimeFactory,
    real_settle: None,
) -> None:
    clock = VirtualClock(hass, freezer)
    found = RESULTS.setdefault("packs_per_proxy", {})
    for run, (interval, tries) in enumerate(CAPACITY_TRIES.items()):
        capacity = await packs_per_proxy(
            hass,
            clock,
            interval,
            tries,
            minutes=CAPACITY_MINUTES[interval],
            link=BleLink(connect=CONNECT),
            first_run=0x60 + 0x10 * run,
        )
        found[str(interval)] = {"packs": capacity.packs, "tried": capacity.tried}


@pytest.mark.parametrize("held", [True, False], ids=["held", "per_update"])
@pytest.mark.parametrize("family", SWITCHED)
async def test_switch_latency(
    hass: HomeAssistant,
    *,
    proxy: VirtualProxy,
    freezer: FrozenDateTimeFactory,
    real_settle: None,
    family: str,
    held: bool,
) -> None:
    figures = await switch_latency(
        hass,
        VirtualClock(hass, freezer),
        proxy,
        family,
        keep_connected=held,
        commands=SWITCH_COMMANDS,
        link=BleLink(connect=CONNECT),
        # One address per family: each draws its own seeded failures.
        address=f"A4:C1:38:5E:{SWITCHED.index(family):02X}:01",
    )
    mode = "held" if held else "per_update"
    RESULTS.setdefault("switch_latency", {}).setdefault(family, {})[mode] = figures
