"""Protocol-level figures per family: traffic, latency and CPU per update.

A driver talks to its simulator through :class:`LinkTransport` on a
virtual-time loop, so the modelled latencies are exact and cost no waiting.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from bms_simulator.link import BleLink, Exchange, LinkCounters, LinkTransport
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import BmsDriver, DriverOptions
from custom_components.lithium_bms.protocol.registry import driver_by_family

from .devices import bench_device, family_of, vary
from .replay import ReplayTransport, time_cycles
from .stats import median, p95
from .vclock import run_virtual

ADDRESS = "C0:FF:EE:00:00:01"


@dataclass(frozen=True, slots=True)
class Settings:
    """How long to measure."""

    updates: int
    replays: int
    interval: float
    link: BleLink


def _traffic(counters: LinkCounters, updates: int = 1) -> dict[str, float]:
    return {
        "requests": round(counters.writes / updates, 2),
        "bytes_sent": round(counters.bytes_written / updates, 1),
        "notifications": round(counters.notifications / updates, 2),
        "bytes_received": round(counters.bytes_received / updates, 1),
        "bytes": round(counters.bytes_total / updates, 1),
    }


async def _measure(family: str, settings: Settings) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    device = settings.link.apply(bench_device(family, ADDRESS))
    transport = LinkTransport(SimulatorTransport(device))
    driver = driver_by_family(family_of(family))(
        transport, DriverOptions(address=ADDRESS, name=device.advertising.name)
    )
    client = BmsClient(driver)

    started = loop.time()
    await client.read_device_info()
    await client.read_snapshot()
    first = transport.counters.copy()
    first_latency = loop.time() - started

    latencies: list[float] = []
    limits: list[float] = []
    round_trips: list[float] = []
    mark = transport.counters.copy()
    recording = transport.start_recording()
    last: list[Exchange] = recording
    snapshot: object = None
    for step in range(settings.updates):
        await asyncio.sleep(settings.interval)
        vary(device, step)
        asked = loop.time()
        before = transport.counters.copy()
        snapshot = await client.read_snapshot()
        latencies.append(loop.time() - asked)
        during = transport.counters.since(before)
        limits.append(settings.link.least_time(during.writes, during.notifications))
        round_trips.append(_round_trips(settings.link, during))
        last, recording = recording, transport.start_recording()
    steady = transport.counters.since(mark)
    transport.recording = None

    cpu = await _replay_cpu(driver, last, settings.replays, snapshot)
    await client.close()
    return {
        "first_connect": _traffic(first) | {"latency_ms": round(first_latency * 1e3)},
        "steady": _traffic(steady, settings.updates),
        "latency_ms": {
            "median": round(median(latencies) * 1e3, 1),
            "p95": round(p95(latencies) * 1e3, 1),
        },
        "link_limit_ms": _limit(latencies, limits),
        "round_trip_limit_ms": _limit(latencies, round_trips),
        "protocol_cpu_us": cpu,
    }


def _round_trips(link: BleLink, during: LinkCounters) -> float:
    """The least time when each request waits for the answer before it."""
    return during.writes * link.write_latency + during.notifications * (
        link.notify_latency
    )


def _limit(latencies: list[float], limits: list[float]) -> dict[str, float | None]:
    """The median limit of the updates and the median update's ratio to it."""
    limit = median(limits)
    ratio = round(median(latencies) / limit, 2) if limit else None
    return {"median": round(limit * 1e3, 1), "ratio": ratio}


async def _replay_cpu(
    driver: BmsDriver, recording: list[Exchange], replays: int, expected: object
) -> float:
    """CPU microseconds per update, replaying the last update's traffic.

    The driver's attributes are restored before each cycle (counters such as
    "settings due in n reads" would otherwise ask for more than was recorded),
    and each replayed snapshot must equal the live one: the replay cannot
    drift from what the driver really does.
    """
    live_transport = driver.transport
    replay = ReplayTransport(recording, driver.feed)
    driver.transport = replay
    state = vars(driver).copy()

    async def cycle() -> object:
        vars(driver).update(state)
        replay.rewind()
        return await driver.read_snapshot()

    try:
        return await time_cycles(cycle, replays, expected)
    finally:
        vars(driver).update(state)
        driver.transport = live_transport


def measure_families(families: list[str], settings: Settings) -> dict[str, Any]:
    """Figures of every family, each on its own virtual-time loop."""
    return {
        family: run_virtual(_measure(family, settings))
        | {"link": asdict(settings.link)}
        for family in families
    }
