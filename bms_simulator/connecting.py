"""What establishing a Bluetooth LE connection costs: time, discovery, failures.

A :class:`ConnectCost` is part of a modelled link; :class:`ConnectModel` is its
state on one simulated device: a seeded random source (the failures are the
same in every run) and whether the host already holds the device's GATT table
(the first connection discovers it; later ones use the cache, as Home
Assistant's bleak-retry-connector and an ESPHome proxy with ``cache_services``
do). The figures of the presets and their sources are in docs/performance.md.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConnectCost:
    """Seconds to connect, seconds of first-time discovery, share that fails."""

    setup: float = 0.0
    discovery: float = 0.0
    failure_rate: float = 0.0
    seed: int = 19

    @property
    def free(self) -> bool:
        """Whether connecting costs nothing and never fails."""
        return not (self.setup or self.discovery or self.failure_rate)


# Free: what every test that does not model connecting gets.
FREE = ConnectCost()
# An ESPHome proxy: about a second with cached services, a few more seconds
# the first time, and a tenth of the attempts failing to establish.
ESPHOME_PROXY = ConnectCost(setup=1.0, discovery=2.0, failure_rate=0.1)
# A local BlueZ adapter: a little faster, fails about as often.
BLUEZ_ADAPTER = ConnectCost(setup=0.7, discovery=1.5, failure_rate=0.1)

# The text of a modelled failure: what an ESPHome proxy reports, which
# bleak-retry-connector treats as transient (it backs off and tries again).
FAILURE_TEXT = "ESP_GATT_CONN_FAIL_ESTABLISH: Connection failed to establish"


class ConnectFailedError(Exception):
    """A modelled connection attempt failed."""


class ConnectModel:
    """The connection cost of one device, with its own seeded failures."""

    def __init__(self, cost: ConnectCost, address: str) -> None:
        """Seed the failures from the cost's seed and the device's address."""
        self.cost = cost
        self._random = random.Random(f"{cost.seed}:{address.upper()}")
        self.discovered = False
        # A connection attempt under way (its slot is taken, no session yet).
        self.establishing = False
        self.attempts = 0
        self.failures = 0

    def time_needed(self) -> float:
        """Seconds the next successful connection takes."""
        return self.cost.setup + (0.0 if self.discovered else self.cost.discovery)

    async def establish(self) -> None:
        """Spend the connection's time; raise :class:`ConnectFailedError` if drawn.

        A failed attempt costs the setup time (the proxy tried and gave up)
        and discovers nothing.
        """
        self.attempts += 1
        self.establishing = True
        try:
            if (
                self.cost.failure_rate
                and self._random.random() < self.cost.failure_rate
            ):
                self.failures += 1
                if self.cost.setup:
                    await asyncio.sleep(self.cost.setup)
                raise ConnectFailedError(FAILURE_TEXT)
            needed = self.time_needed()
            if needed:
                await asyncio.sleep(needed)
            self.discovered = True
        finally:
            self.establishing = False
