"""The accelerated clock of the soak, scale and benchmark tests."""

from __future__ import annotations

import asyncio
import threading

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant

from bench.ha.clock import VirtualClock


async def test_timers_run_at_their_time_and_no_callback_looks_slow(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Debug mode reports a callback that takes longer than this in loop time
    # (phcc switches it on from 0.13.375; here it is on for every version).
    hass.loop.set_debug(True)
    hass.loop.slow_callback_duration = 0.1
    clock = VirtualClock(hass, freezer)
    start = clock.now
    fired: list[float] = []
    hass.loop.call_later(4.5, lambda: fired.append(clock.now - start))
    hass.loop.call_later(30, lambda: fired.append(clock.now - start))

    await clock.advance(10)
    assert fired == [pytest.approx(4.5)]
    assert clock.now - start == pytest.approx(10)
    assert await clock.run(asyncio.sleep(25, "slept")) == "slept"
    assert fired == [pytest.approx(4.5), pytest.approx(30)]

    slow = [r for r in caplog.records if r.name == "asyncio" and "took" in r.message]
    assert slow == [], "moving the clock is no callback's run time"


async def test_the_clock_stands_while_an_executor_job_runs(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A job's real run time costs no loop time, however slow the machine."""
    clock = VirtualClock(hass, freezer)
    start = clock.now
    timer = hass.loop.call_later(30, lambda: None)  # a timer to jump to
    release = threading.Event()

    async def setup() -> float:
        await hass.async_add_executor_job(release.wait, 5)
        return clock.now - start

    # The job ends only when the loop has spun a while: a clock that moved
    # to its next timer meanwhile would already stand at 30 s.
    hass.loop.call_soon(lambda: threading.Timer(0.2, release.set).start())
    assert await clock.run(setup()) == 0
    timer.cancel()
