"""Fault soak: random faults over many updates, in accelerated time.

The short form runs in the normal test run; the long form is
``SOAK_STEPS=5000 SOAK_OUT=bench-results/soak-long.json .venv/bin/pytest
tests/bench/test_soak.py --no-cov`` (see the README, "Reliability"); ``SOAK_SEED``
picks another random run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant

from bench.devices import families
from bench.ha.clock import VirtualClock
from bench.ha.soak import MEMORY_SLACK, run_soak
from bms_simulator.proxy import VirtualProxy
from custom_components.lithium_bms.protocol.registry import driver_by_family

SEED = 20240607
SHORT_STEPS = 400


def _record(path: Path, family: str, figures: dict[str, object]) -> None:
    """Add one family's figures to the JSON file of the run."""
    results = json.loads(path.read_text()) if path.exists() else {}
    results[family] = figures
    path.write_text(json.dumps(results, indent=2) + "\n")


@pytest.mark.parametrize("family", families())
async def test_fault_soak(
    hass: HomeAssistant,
    proxy: VirtualProxy,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    family: str,
) -> None:
    steps = int(os.environ.get("SOAK_STEPS", SHORT_STEPS))
    seed = int(os.environ.get("SOAK_SEED", SEED))
    clock = VirtualClock(hass, freezer)
    figures = await run_soak(
        hass, clock, proxy, family, steps=steps, seed=seed, storage=hass_storage
    )
    if out := os.environ.get("SOAK_OUT"):
        _record(Path(out), family, figures.as_dict())

    assert figures.problems == []
    assert figures.errors_logged == figures.outages, "logged once per outage"
    # The run met every kind of trouble it is about.
    assert figures.outages > 0
    assert figures.gone_periods > 0
    # A read-only family (Seplos) has no command to confirm or reject.
    switching = bool(driver_by_family(family).switches)
    assert (figures.commands_confirmed > 0) is switching
    assert (figures.commands_rejected > 0) is switching
    # ... and the faults of issue 10: lost notifications inside frames,
    # garbage with valid checksums, late and duplicated answers, protections
    # holding a MOSFET while switching, clock jumps and a corrupt store.
    assert figures.lost_notifications > 0
    assert figures.forged_frames > 0
    assert figures.late_answers > 0
    assert figures.duplicated_answers > 0
    assert figures.protections > 0
    assert (figures.commands_under_protection > 0) is switching
    assert figures.clock_jumps > 0
    assert figures.store_corruptions == 1
    assert figures.store_resets_logged == figures.store_corruptions
    assert 0 < figures.energy_counted_kwh <= figures.energy_bound_kwh
    assert figures.memory_growth < MEMORY_SLACK
    assert figures.task_growth <= 1
