"""An event loop on virtual time: sleeping costs nothing, latencies are exact.

When the loop would block waiting for its next timer, the clock jumps to that
timer instead. Only for code that does no real I/O (simulators in-process).
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any


class _JumpingSelector(selectors.DefaultSelector):
    """Never blocks: a wait for ``timeout`` advances the clock instead."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(
        self, timeout: float | None = None
    ) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is not None and timeout > 0:
            self.now += timeout
        return super().select(0)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose ``time()`` is the virtual clock."""

    def __init__(self) -> None:
        """Create the loop with its clock at zero."""
        self._clock = _JumpingSelector()
        super().__init__(self._clock)

    def time(self) -> float:
        """The virtual time in seconds."""
        return self._clock.now


def run_virtual[T](main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh virtual-time loop."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main)
