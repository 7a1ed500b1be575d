"""Reconfiguring a bank: other members or another wiring, same entities and totals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bms_simulator.device import SimulatedBms
from bms_simulator.families.jbd import JbdSimulator
from custom_components.lithium_bms.const import (
    CONF_KIND,
    CONF_MEMBERS,
    CONF_WIRING,
    DOMAIN,
    KIND_BANK,
)

from .conftest import setup_entry
from .test_bank import refresh, set_energy, state

BANK = "sensor.house_bank"


@pytest.fixture
async def packs(
    hass: HomeAssistant, add_device: Callable[[SimulatedBms], Any]
) -> list[MockConfigEntry]:
    """Three idle packs: 10, 20 and 40 V-ish packs of 100 Ah each."""
    entries = []
    for index in range(3):
        sim = JbdSimulator(f"A4:C1:37:00:00:2{index}", f"Pack {index + 1}")
        sim.pack.current = 0.0
        await add_device(sim)
        entries.append(await setup_entry(hass, sim, "jbd"))
    return entries


async def _bank(hass: HomeAssistant, members: list[MockConfigEntry]) -> MockConfigEntry:
    bank = MockConfigEntry(
        domain=DOMAIN,
        title="House bank",
        data={
            CONF_KIND: KIND_BANK,
            CONF_MEMBERS: [m.entry_id for m in members],
            CONF_WIRING: "parallel",
        },
    )
    bank.add_to_hass(hass)
    await hass.config_entries.async_setup(bank.entry_id)
    await hass.async_block_till_done()
    return bank


async def _reconfigure(
    hass: HomeAssistant, bank: MockConfigEntry, members: list[str], wiring: str
) -> ConfigFlowResult:
    result = await bank.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_bank"
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MEMBERS: members, CONF_WIRING: wiring}
    )


def _bank_entities(hass: HomeAssistant, bank: MockConfigEntry) -> dict[str, str]:
    return {
        e.unique_id: e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), bank.entry_id)
    }


async def test_the_form_shows_the_bank_as_it_is(
    hass: HomeAssistant, packs: list[MockConfigEntry]
) -> None:
    bank = await _bank(hass, packs[:2])
    result = await bank.start_reconfigure_flow(hass)
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
    }
    assert suggested == {
        CONF_MEMBERS: [packs[0].entry_id, packs[1].entry_id],
        CONF_WIRING: "parallel",
    }
    options = result["data_schema"].schema[CONF_MEMBERS].config["options"]
    assert [o["value"] for o in options] == [p.entry_id for p in packs]


async def test_a_member_swapped_keeps_the_entities_and_the_totals(
    hass: HomeAssistant, packs: list[MockConfigEntry]
) -> None:
    bank = await _bank(hass, packs[:2])
    set_energy(packs[0], 1.0, 3.0)
    set_energy(packs[1], 2.0, 3.0)
    set_energy(packs[2], 5.0, 5.0)
    await refresh(hass, *packs, bank)
    assert state(hass, f"{BANK}_charge_energy") == "3.0"
    entities = _bank_entities(hass, bank)
    result = await _reconfigure(
        hass, bank, [packs[0].entry_id, packs[2].entry_id], "parallel"
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert bank.state is ConfigEntryState.LOADED
    assert bank.data[CONF_MEMBERS] == [packs[0].entry_id, packs[2].entry_id]
    # The bank's entities describe the whole bank, none a member: all stay.
    assert _bank_entities(hass, bank) == entities
    # The removed pack's share stays; the new one adds only what it does from now.
    assert state(hass, f"{BANK}_charge_energy") == "3.0"
    set_energy(packs[2], 5.5, 5.0)
    set_energy(packs[1], 9.0, 9.0)  # no longer a member: not counted
    await refresh(hass, *packs, bank)
    assert state(hass, f"{BANK}_charge_energy") == "3.5"
    assert state(hass, f"{BANK}_discharge_energy") == "6.0"
    names = bank.runtime_data.coordinator.data.member_names
    assert names == ("Pack 1", "Pack 3")


async def test_another_wiring_renames_the_device_model(
    hass: HomeAssistant, packs: list[MockConfigEntry]
) -> None:
    bank = await _bank(hass, packs[:2])
    parallel_voltage = float(state(hass, f"{BANK}_voltage"))
    result = await _reconfigure(hass, bank, [p.entry_id for p in packs[:2]], "series")
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert bank.data[CONF_WIRING] == "series"
    assert float(state(hass, f"{BANK}_voltage")) == pytest.approx(
        2 * parallel_voltage, abs=0.01
    )
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), bank.entry_id)
    assert [d.model for d in devices] == ["Battery bank (series)"]


@pytest.mark.parametrize(
    ("chosen", "error"),
    [([0], "too_few_members"), ([0, 0], "duplicate_members")],
)
async def test_invalid_members_change_nothing(
    hass: HomeAssistant,
    packs: list[MockConfigEntry],
    chosen: list[int],
    error: str,
) -> None:
    bank = await _bank(hass, packs[:2])
    before = dict(bank.data)
    result = await _reconfigure(
        hass, bank, [packs[i].entry_id for i in chosen], "series"
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_MEMBERS: error}
    assert dict(bank.data) == before
    assert bank.state is ConfigEntryState.LOADED


async def test_a_member_that_is_not_a_bms_is_refused(
    hass: HomeAssistant, packs: list[MockConfigEntry]
) -> None:
    bank = await _bank(hass, packs[:2])
    result = await bank.start_reconfigure_flow(hass)
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_MEMBERS: [packs[0].entry_id, bank.entry_id], CONF_WIRING: "series"},
        )


async def test_choosing_packs_again_clears_the_too_small_repair(
    hass: HomeAssistant, packs: list[MockConfigEntry]
) -> None:
    bank = await _bank(hass, packs[:2])
    await hass.config_entries.async_remove(packs[1].entry_id)
    await hass.async_block_till_done()
    issues = ir.async_get(hass)
    issue_id = f"bank_too_small_{bank.entry_id}"
    assert issues.async_get_issue(DOMAIN, issue_id) is not None
    result = await _reconfigure(
        hass, bank, [packs[0].entry_id, packs[2].entry_id], "parallel"
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    assert bank.data[CONF_MEMBERS] == [packs[0].entry_id, packs[2].entry_id]
