"""Accelerated time for Home Assistant tests: the loop jumps to its next timer.

With the ``freezer`` fixture, Home Assistant's test loop reads frozen time, so
timers run only when the test moves the clock. :class:`VirtualClock` lets the
loop run until nothing is ready, then moves the clock to the next timer: an
update interval, a request timeout or a modelled link latency costs no waiting.
Do not call ``hass.async_block_till_done`` meanwhile: a task that sleeps would
keep it waiting forever; :meth:`VirtualClock.run` replaces it.

The clock moves where a real one passes while the loop is idle: in the loop's
selector wait, between two callbacks. It never moves while an executor job
runs: that thread takes real time, and a clock that jumped meanwhile would make
a run depend on how fast the machine is. Moved inside a callback (the test's task),
the jump would count as that callback's run time, and asyncio's debug mode
would report "Executing <Task ...> took 4.5 seconds" for no work at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant

# Timers due now run only once the clock has moved past them.
MIN_STEP = 1e-6
MAX_SPINS = 100_000


class VirtualClock:
    """Drives ``hass.loop`` on frozen time."""

    def __init__(self, hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
        """Bind to the test's loop and freezer."""
        self._loop = hass.loop
        self._freezer = freezer
        self._jump = 0.0
        self._executor_jobs: set[asyncio.Future[Any]] = set()
        self._track_executor_jobs()
        selector: Any = self._loop._selector  # type: ignore[attr-defined]
        select = selector.select

        def select_after_jump(timeout: float | None) -> Any:
            if self._jump:
                self._freezer.tick(self._jump)
                self._jump = 0.0
                timeout = 0  # timers are due now
            return select(timeout)

        selector.select = select_after_jump

    def _track_executor_jobs(self) -> None:
        """Note each job handed to an executor until it is done."""
        run_in_executor = self._loop.run_in_executor
        jobs = self._executor_jobs

        def tracked(executor: Any, func: Any, *args: Any) -> asyncio.Future[Any]:
            job = run_in_executor(executor, func, *args)
            jobs.add(job)
            job.add_done_callback(jobs.discard)
            return job

        setattr(self._loop, "run_in_executor", tracked)  # noqa: B010

    @property
    def now(self) -> float:
        """The loop's time in seconds."""
        return self._loop.time()

    async def run[T](self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` while moving the clock as far as it needs."""
        task = asyncio.ensure_future(awaitable)
        while True:
            await self._settle()
            if task.done():
                return task.result()
            if not await self._step(None):
                task.cancel()
                raise RuntimeError("the awaited task waits for nothing scheduled")

    async def advance(self, seconds: float) -> None:
        """Let ``seconds`` of loop time pass, running every timer due."""
        until = self.now + seconds
        while True:
            await self._settle()
            if not await self._step(until):
                return

    async def _settle(self) -> None:
        """Run every ready callback, until only timers are left."""
        loop: Any = self._loop
        for _ in range(MAX_SPINS):
            await asyncio.sleep(0)
            if not loop._ready:
                return
        raise RuntimeError("the loop never went idle")

    async def _step(self, until: float | None) -> bool:
        """Move to the next timer (not past ``until``); False if none is left.

        While an executor job runs, the clock waits for it instead.
        """
        if self._executor_jobs:
            await asyncio.wait(set(self._executor_jobs))
            return True
        loop: Any = self._loop
        timers = [t.when() for t in loop._scheduled if not t.cancelled()]
        due = min(timers, default=None)
        if due is None or (until is not None and due > until):
            if until is not None and until > self.now:
                await self._tick(until - self.now)
            return False
        await self._tick(max(MIN_STEP, due - self.now))
        return True

    async def _tick(self, seconds: float) -> None:
        """Move the clock at the loop's next selector wait, before resuming."""
        self._jump = seconds
        # This task resumes in the loop's next iteration, after its select.
        await asyncio.sleep(0)
