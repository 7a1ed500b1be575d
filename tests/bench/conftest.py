"""Fixtures of the benchmark's Home Assistant tests (cost, scale, soak)."""

from __future__ import annotations

import pytest

from bench.devices import bench_device, families
from custom_components.lithium_bms.protocol.registry import driver_by_family

BENCH_ADDRESS = "A4:C1:38:BE:00:00"


@pytest.fixture(autouse=True)
def streams_in_the_timeout(fast_drivers: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' short request timeout, plus one period of a streaming device.

    A read of an ECO-WORTHY or Topband pack waits for the next frame the
    device streams on its own, up to one ``period`` away: the timeout of the
    tests (0.5 s, tests/conftest.py) is shorter than the simulators' 1 s
    period (the drivers' own 5 s are not), so such a read timed out whenever
    it started in the wrong half of the period.
    """
    for family in families():
        period = float(getattr(bench_device(family, BENCH_ADDRESS), "period", 0.0))
        driver = driver_by_family(family)
        monkeypatch.setattr(driver, "request_timeout", driver.request_timeout + period)
