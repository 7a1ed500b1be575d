"""Switches of every family: each one confirmed, the others untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from syrupy.assertion import SnapshotAssertion

from bms_simulator.device import Fault

from .conftest import SWITCH_ATTRIBUTES, FamilySetup, entity_snapshot

PLATFORM = Platform.SWITCH
GERMAN = (
    Path(__file__).parents[2] / "custom_components/lithium_bms/translations/de.json"
)


def switch_states(family: FamilySetup) -> dict[str, bool]:
    """What the simulated BMS has applied, for every switch there is."""
    pack = family.device.pack
    return {
        key: getattr(pack, attribute) for key, attribute in SWITCH_ATTRIBUTES.items()
    }


async def turn(family: FamilySetup, key: str, on: bool) -> None:
    await family.hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON if on else SERVICE_TURN_OFF,
        {ATTR_ENTITY_ID: family.entity_id("switch", key)},
        blocking=True,
    )


async def test_entities_and_states(
    hass: HomeAssistant,
    family: FamilySetup,
    only_platform: None,
    snapshot: SnapshotAssertion,
) -> None:
    entry = await family.setup()
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    keys = {entity.unique_id.removeprefix(f"{entry.unique_id}_") for entity in entities}
    assert keys == set(family.case.switches)
    if keys:
        assert entity_snapshot(hass, entry) == snapshot


async def test_each_switch_is_confirmed_and_touches_no_other(
    hass: HomeAssistant, family: FamilySetup
) -> None:
    if not family.case.switches:
        pytest.skip(f"{family.case.name} has no switch")
    await family.setup()
    for key in family.case.switches:
        before = switch_states(family)
        await turn(family, key, on=False)
        assert switch_states(family) == before | {key: False}
        assert family.state("switch", key) == STATE_OFF
        if key != "balancer":
            # What the BMS reports of its MOSFET follows, from the same read.
            active = key.replace("mosfet", "mosfet_active")
            assert family.state("binary_sensor", active) == STATE_OFF
        await turn(family, key, on=True)
        assert switch_states(family) == before
        assert family.state("switch", key) == STATE_ON


async def test_an_ignored_command_raises_and_shows_the_state_read(
    hass: HomeAssistant, family: FamilySetup, only_platform: None
) -> None:
    if not family.case.switches:
        pytest.skip(f"{family.case.name} has no switch")
    await family.setup()
    key = family.case.switches[0]
    family.device.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(HomeAssistantError):
        await turn(family, key, on=False)
    await hass.async_block_till_done()
    assert switch_states(family)[key] is True
    assert family.state("switch", key) == STATE_ON


async def test_the_message_names_the_switch_in_the_users_language(
    hass: HomeAssistant, family: FamilySetup, only_platform: None
) -> None:
    if not family.case.switches:
        pytest.skip(f"{family.case.name} has no switch")
    hass.config.language = "de"
    await family.setup()
    key = family.case.switches[-1]
    german = json.loads(GERMAN.read_text())["entity"]["switch"][key]["name"]
    family.device.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(HomeAssistantError) as raised:
        await turn(family, key, on=False)
    assert raised.value.translation_placeholders is not None
    assert raised.value.translation_placeholders["switch"] == german
