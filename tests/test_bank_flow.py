"""The bank step of the config flow, driven through the flow API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bms_simulator.device import SimulatedBms
from bms_simulator.families.jbd import JbdSimulator
from custom_components.lithium_bms.const import CONF_MEMBERS, CONF_WIRING, DOMAIN

from .conftest import setup_entry


@pytest.fixture
async def members(
    hass: HomeAssistant, add_device: Callable[[SimulatedBms], Any]
) -> list[MockConfigEntry]:
    entries = []
    for index in range(2):
        sim = JbdSimulator(f"A4:C1:37:00:00:1{index}", f"Pack {index + 1}")
        await add_device(sim)
        entries.append(await setup_entry(hass, sim, "jbd"))
    return entries


async def _bank_step(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "bank"}
    )
    assert result["step_id"] == "bank"
    return result["flow_id"]


@pytest.mark.parametrize(
    "chosen", [[0, 0], [0, 1, 0], [1, 1, 0]], ids=["twice", "between", "first"]
)
async def test_bank_refuses_a_pack_twice(
    hass: HomeAssistant, members: list[MockConfigEntry], chosen: list[int]
) -> None:
    flow_id = await _bank_step(hass)
    ids = [members[i].entry_id for i in chosen]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_NAME: "Bank", CONF_MEMBERS: ids, CONF_WIRING: "series"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_MEMBERS: "duplicate_members"}
    assert len(hass.config_entries.async_entries(DOMAIN)) == len(members)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            CONF_NAME: "Bank",
            CONF_MEMBERS: [m.entry_id for m in members],
            CONF_WIRING: "series",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_MEMBERS] == [m.entry_id for m in members]


async def test_bank_refuses_a_member_that_is_not_a_configured_bms(
    hass: HomeAssistant, members: list[MockConfigEntry]
) -> None:
    flow_id = await _bank_step(hass)
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(
            flow_id,
            {
                CONF_NAME: "Bank",
                CONF_MEMBERS: [members[0].entry_id, "not-an-entry"],
                CONF_WIRING: "parallel",
            },
        )
