"""A saved state that does not validate is replaced, reported, and never loops setup."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bms_simulator.families.jbd import JbdSimulator
from custom_components.lithium_bms import tracker
from custom_components.lithium_bms.analytics.chemistry import LIFEPO4
from custom_components.lithium_bms.const import DOMAIN

from .conftest import make_entry

PREFIX = "sensor.jbd_sp04s034"
NOW = 1_800_000_000.0
ENERGY_LOST = "energy totals"
SOC_LOST = "SOC estimate"
ENERGY = {
    "charge_energy": 1.5,
    "discharge_energy": 2.25,
    "last_time": NOW - 10,
    "last_power": -33.0,
}
SOC = {
    "charge": 40.0,
    "anchor": "full",
    "since_anchor": -60.0,
    "traverse_valid": True,
    "learned_capacity": None,
    "bms_capacity": 100.0,
    "bms_soc": 40.0,
    "last_time": NOW - 10,
    "last_current": -2.5,
    "drift_monitor": {"calibration_needed": False, "above_since": None},
}


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tracker's clock stands still, ten seconds after the saved samples."""
    monkeypatch.setattr(tracker, "now", lambda: NOW)


def _with(section: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**section, **changes}


def _without(section: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in section.items() if k != key}


BAD_STORES: list[Any] = [
    pytest.param({"version": 1, "data": []}, "both", id="data-empty-list"),
    pytest.param({"version": 1, "data": [ENERGY, SOC]}, "both", id="data-list"),
    pytest.param({"version": 1, "data": "energy"}, "both", id="data-string"),
    pytest.param({"version": 1, "data": 42}, "both", id="data-number"),
    pytest.param({"version": 1, "data": {}}, "both", id="data-empty-dict"),
    pytest.param({"version": 99, "data": "x"}, "both", id="future-version"),
    pytest.param(["data", "version"], "both", id="envelope-list"),
    pytest.param(
        {"version": 1, "data": {"energy": ENERGY, "soc": _with(SOC, anchor=[])}},
        "soc",
        id="anchor-list",
    ),
    pytest.param(
        {"version": 1, "data": {"energy": ENERGY, "soc": _with(SOC, anchor={})}},
        "soc",
        id="anchor-dict",
    ),
    pytest.param(
        {"version": 1, "data": {"energy": ENERGY, "soc": _with(SOC, charge="40")}},
        "soc",
        id="soc-number-as-string",
    ),
    pytest.param(
        {"version": 1, "data": {"energy": ENERGY, "soc": _without(SOC, "anchor")}},
        "soc",
        id="soc-missing-key",
    ),
    pytest.param(
        {"version": 1, "data": {"energy": ENERGY, "soc": _with(SOC, bms_soc=math.nan)}},
        "soc",
        id="soc-nan",
    ),
    pytest.param(
        {"version": 1, "data": {"energy": ENERGY, "soc": []}}, "soc", id="soc-list"
    ),
    pytest.param({"version": 1, "data": {"energy": ENERGY}}, "soc", id="soc-missing"),
    pytest.param(
        {
            "version": 1,
            "data": {"energy": _with(ENERGY, charge_energy="1.5"), "soc": SOC},
        },
        "energy",
        id="energy-number-as-string",
    ),
    pytest.param(
        {
            "version": 1,
            "data": {"energy": _with(ENERGY, discharge_energy=-2.0), "soc": SOC},
        },
        "energy",
        id="energy-negative-total",
    ),
    pytest.param(
        {
            "version": 1,
            "data": {"energy": _with(ENERGY, charge_energy=math.nan), "soc": SOC},
        },
        "energy",
        id="energy-nan",
    ),
    pytest.param(
        {
            "version": 1,
            "data": {"energy": _without(ENERGY, "charge_energy"), "soc": SOC},
        },
        "energy",
        id="energy-missing-key",
    ),
    pytest.param(
        {"version": 1, "data": {"energy": "1.5 kWh", "soc": SOC}},
        "energy",
        id="energy-string",
    ),
    pytest.param(
        {
            "version": 1,
            "data": {"energy": [ENERGY], "soc": _with(SOC, anchor=["full"])},
        },
        "both",
        id="both-sections",
    ),
]

# The repair issue names the sensors that start afresh, in HA's language.
LOST = {
    "both": "Charge energy, Discharge energy, Estimated state of charge",
    "energy": "Charge energy, Discharge energy",
    "soc": "Estimated state of charge",
}


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == tracker.__name__ and r.levelno == logging.WARNING
    ]


@pytest.mark.parametrize(("stored", "lost"), BAD_STORES)
async def test_a_store_that_does_not_validate_is_replaced(
    hass: HomeAssistant,
    jbd: JbdSimulator,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    *,
    stored: Any,
    lost: str,
) -> None:
    entry = make_entry(jbd, "jbd")
    key = f"{DOMAIN}.{entry.entry_id}"
    hass_storage[key] = stored
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    for sensor in ("charge_energy", "discharge_energy", "estimated_state_of_charge"):
        assert hass.states.get(f"{PREFIX}_{sensor}") is not None
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"storage_reset_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_key == "storage_reset"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert not issue.is_fixable
    assert issue.translation_placeholders == {"name": entry.title, "lost": LOST[lost]}
    assert len(_warnings(caplog)) == 1

    charge = hass.states.get(f"{PREFIX}_charge_energy")
    assert charge is not None
    assert float(charge.state) == (0.0 if lost in {"both", "energy"} else 1.5)
    estimate = hass.states.get(f"{PREFIX}_estimated_state_of_charge")
    assert estimate is not None
    # A fresh estimate starts from the BMS (64 %); a kept one continues from 40 %
    # (2.5 A out for 10 s).
    kept = pytest.approx(40.0 - 2.5 * 10 / 3600, abs=0.01)
    assert float(estimate.state) == (64.0 if lost in {"both", "soc"} else kept)

    # The fresh state was saved at once: a reload neither warns nor reports again.
    ir.async_delete_issue(hass, DOMAIN, f"storage_reset_{entry.entry_id}")
    caplog.clear()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert not _warnings(caplog)
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, f"storage_reset_{entry.entry_id}")
        is None
    )


async def test_a_valid_store_raises_no_issue(
    hass: HomeAssistant,
    jbd: JbdSimulator,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = make_entry(jbd, "jbd")
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": 1,
        "data": {"energy": ENERGY, "soc": SOC},
    }
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert float(hass.states.get(f"{PREFIX}_charge_energy").state) == 1.5
    assert float(
        hass.states.get(f"{PREFIX}_estimated_state_of_charge").state
    ) == pytest.approx(40.0, abs=0.01)
    assert not ir.async_get(hass).async_get_issue(
        DOMAIN, f"storage_reset_{entry.entry_id}"
    )
    assert not _warnings(caplog)


async def test_removing_the_entry_deletes_the_issue(
    hass: HomeAssistant, jbd: JbdSimulator, hass_storage: dict[str, Any]
) -> None:
    entry = make_entry(jbd, "jbd")
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {"version": 1, "data": "x"}
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    issue_id = f"storage_reset_{entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(["full", "empty"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _near(section: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts with the section's keys (some dropped), each valid or random."""
    return st.fixed_dictionaries(
        {},
        optional={k: st.just(v) | JSON for k, v in section.items()},
    )


STORED = (
    JSON
    | st.fixed_dictionaries({}, optional={"energy": _near(ENERGY) | JSON})
    | st.fixed_dictionaries(
        {"energy": _near(ENERGY), "soc": _near(SOC) | JSON},
    )
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STORED)
def test_random_json_never_raises_from_restore(stored: Any) -> None:
    energy, soc, lost = tracker.restore_state(stored, LIFEPO4, 30)
    assert set(lost) <= {ENERGY_LOST, SOC_LOST}
    assert energy.charge_energy >= 0
    assert energy.discharge_energy >= 0
    estimate = soc.state_of_charge
    assert estimate is None or 0 <= estimate <= 100
