"""The low battery load shedding blueprint, run by a real automation."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_capture_events

BLUEPRINT = (
    Path(__file__).parent.parent
    / "blueprints"
    / "automation"
    / "lithium_bms"
    / "low_battery_load_shedding.yaml"
)
SOC = "sensor.house_battery_state_of_charge"
CELL = "sensor.house_battery_cell_voltage_min"
LOADS = ["input_boolean.heater", "input_boolean.pump"]
NOTIFIED = "lithium_bms_test_notified"


@pytest.fixture(autouse=True)
def blueprint_in_config(hass: HomeAssistant, tmp_path: Path) -> None:
    """A private config dir holding the blueprint (not the shared test config)."""
    hass.config.config_dir = str(tmp_path)
    folder = Path(hass.config.path("blueprints/automation/lithium_bms"))
    folder.mkdir(parents=True)
    shutil.copy(BLUEPRINT, folder / BLUEPRINT.name)


async def _setup(hass: HomeAssistant, **extra_inputs: Any) -> None:
    hass.states.async_set(SOC, "50", {"device_class": "battery"})
    hass.states.async_set(CELL, "3.30", {"device_class": "voltage"})
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(
        hass,
        "input_boolean",
        {"input_boolean": {"heater": {"initial": True}, "pump": {"initial": True}}},
    )
    inputs = {
        "soc_sensor": SOC,
        "shed_threshold": 20,
        "restore_threshold": 40,
        "loads": {"entity_id": LOADS},
        **extra_inputs,
    }
    config = {
        "automation": {
            "id": "shedding",
            "alias": "Load shedding",
            "use_blueprint": {
                "path": f"lithium_bms/{BLUEPRINT.name}",
                "input": inputs,
            },
        }
    }
    assert await async_setup_component(hass, "automation", config)
    await hass.async_block_till_done()
    assert hass.states.get("automation.load_shedding").state == "on"


async def _set(hass: HomeAssistant, entity_id: str, value: str) -> None:
    hass.states.async_set(entity_id, value, hass.states.get(entity_id).attributes)
    await hass.async_block_till_done()


def _loads(hass: HomeAssistant) -> list[str]:
    return [hass.states.get(entity_id).state for entity_id in LOADS]


async def test_sheds_below_and_restores_above_with_hysteresis(
    hass: HomeAssistant,
) -> None:
    notified = async_capture_events(hass, NOTIFIED)
    await _setup(
        hass,
        notify_action=[{"event": NOTIFIED, "event_data": {"soc": "{{ soc }}"}}],
    )
    assert _loads(hass) == ["on", "on"]

    await _set(hass, SOC, "25")
    assert _loads(hass) == ["on", "on"]
    assert notified == []

    await _set(hass, SOC, "19")
    assert _loads(hass) == ["off", "off"]
    assert [event.data["soc"] for event in notified] == [19]

    for soc in ("15", "25", "35", "40"):
        await _set(hass, SOC, soc)
        assert _loads(hass) == ["off", "off"], soc

    await _set(hass, SOC, "41")
    assert _loads(hass) == ["on", "on"]
    assert len(notified) == 1


async def test_does_nothing_between_thresholds(hass: HomeAssistant) -> None:
    await _setup(hass)
    await _set(hass, SOC, "10")
    assert _loads(hass) == ["off", "off"]

    # Turned back on by hand between the thresholds: the automation leaves them.
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": LOADS}, blocking=True
    )
    for soc in ("30", "22", "35"):
        await _set(hass, SOC, soc)
        assert _loads(hass) == ["on", "on"], soc


async def test_sheds_on_low_cell_voltage_and_waits_for_it(
    hass: HomeAssistant,
) -> None:
    notified = async_capture_events(hass, NOTIFIED)
    await _setup(
        hass,
        cell_voltage_sensor=CELL,
        cell_voltage_threshold=3.0,
        notify_action=[
            {"event": NOTIFIED, "event_data": {"cell": "{{ cell_voltage }}"}}
        ],
    )
    await _set(hass, CELL, "3.05")
    assert _loads(hass) == ["on", "on"]

    await _set(hass, CELL, "2.95")
    assert _loads(hass) == ["off", "off"]
    assert [event.data["cell"] for event in notified] == [2.95]

    # SOC rising above restore while the cell is still low keeps the loads off.
    await _set(hass, SOC, "30")
    await _set(hass, SOC, "45")
    assert _loads(hass) == ["off", "off"]

    await _set(hass, CELL, "3.30")
    assert _loads(hass) == ["off", "off"]
    await _set(hass, SOC, "30")
    await _set(hass, SOC, "45")
    assert _loads(hass) == ["on", "on"]


async def test_cell_voltage_check_disabled_by_zero_threshold(
    hass: HomeAssistant,
) -> None:
    await _setup(hass, cell_voltage_sensor=CELL)
    await _set(hass, CELL, "2.50")
    assert _loads(hass) == ["on", "on"]
