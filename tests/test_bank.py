"""Battery banks: aggregation, member outages, switch fan-out, member removal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from bms_simulator.device import Fault, SimulatedBms
from bms_simulator.families.jbd import JbdSimulator
from bms_simulator.families.jk import JkLayout, JkSimulator
from custom_components.lithium_bms.analytics.energy import EnergyCounter
from custom_components.lithium_bms.const import (
    CONF_KIND,
    CONF_MEMBERS,
    CONF_WIRING,
    DOMAIN,
)

from .conftest import setup_entry

BANK = "sensor.house_bank"


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


@pytest.fixture
async def packs(
    hass: HomeAssistant, add_device: Callable[[SimulatedBms], Any]
) -> list[tuple[JbdSimulator, MockConfigEntry]]:
    result = []
    for index, (cells, current, soc, full) in enumerate(
        [
            ([3.30, 3.31, 3.32, 3.29], -10.0, 80, 100.0),
            ([3.28, 3.34, 3.30, 3.30], -6.0, 50, 200.0),
        ]
    ):
        sim = JbdSimulator(f"A4:C1:37:00:00:0{index}", f"Pack {index + 1}")
        sim.pack.cell_voltages = cells
        sim.pack.current = current
        sim.pack.soc = soc
        sim.pack.full_capacity = full
        await add_device(sim)
        result.append((sim, await setup_entry(hass, sim, "jbd")))
    return result


async def _create_bank(
    hass: HomeAssistant, members: list[str], wiring: str
) -> MockConfigEntry:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["device", "wired", "can", "bank"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "bank"}
    )
    assert result["step_id"] == "bank"
    too_few = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"name": "House bank", CONF_MEMBERS: members[:1], CONF_WIRING: wiring},
    )
    assert too_few["errors"] == {CONF_MEMBERS: "too_few_members"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"name": "House bank", CONF_MEMBERS: members, CONF_WIRING: wiring},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_KIND: "bank",
        CONF_MEMBERS: members,
        CONF_WIRING: wiring,
    }
    await hass.async_block_till_done()
    return result["result"]


async def test_parallel_bank(
    hass: HomeAssistant, packs: list[tuple[JbdSimulator, MockConfigEntry]]
) -> None:
    bank = await _create_bank(hass, [e.entry_id for _, e in packs], "parallel")
    assert bank.state is ConfigEntryState.LOADED
    assert state(hass, f"{BANK}_voltage") == str(round((13.22 + 13.22) / 2, 3))
    assert state(hass, f"{BANK}_current") == "-16.0"
    # Capacity-weighted: (80 % x 100 Ah + 50 % x 200 Ah) / 300 Ah = 60 %.
    assert state(hass, f"{BANK}_battery") == "60.0"
    assert state(hass, f"{BANK}_remaining_capacity") == "180.0"
    assert state(hass, f"{BANK}_full_capacity") == "300.0"
    low = hass.states.get(f"{BANK}_minimum_cell_voltage")
    assert low.state == "3.28"
    assert low.attributes["member"] == "Pack 2"
    assert hass.states.get(f"{BANK}_maximum_cell_voltage").attributes["member"] == (
        "Pack 2"
    )
    assert state(hass, "binary_sensor.house_bank_problem") == STATE_OFF
    assert state(hass, "switch.house_bank_discharge_mosfet") == STATE_ON


async def test_series_bank(
    hass: HomeAssistant, packs: list[tuple[JbdSimulator, MockConfigEntry]]
) -> None:
    await _create_bank(hass, [e.entry_id for _, e in packs], "series")
    assert state(hass, f"{BANK}_voltage") == "26.44"
    assert state(hass, f"{BANK}_current") == "-8.0"
    # The pack holding the least charge limits the bank: 80 Ah of pack 1.
    assert state(hass, f"{BANK}_battery") == "80.0"
    assert state(hass, f"{BANK}_remaining_capacity") == "80.0"


async def test_member_unavailable(
    hass: HomeAssistant, packs: list[tuple[JbdSimulator, MockConfigEntry]]
) -> None:
    bank = await _create_bank(hass, [e.entry_id for _, e in packs], "parallel")
    (sim1, entry1), (_, entry2) = packs
    sim1.inject(Fault.NO_ANSWER, 10)
    await entry1.runtime_data.coordinator.async_refresh()
    await entry2.runtime_data.coordinator.async_refresh()
    packs[1][0].pack.alarms = {"cell_overvoltage"}
    await entry2.runtime_data.coordinator.async_refresh()
    await bank.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    for key in ("voltage", "current", "power", "battery", "remaining_capacity"):
        assert state(hass, f"{BANK}_{key}") == STATE_UNAVAILABLE, key
    # The available pack's problem is still reported.
    assert state(hass, "binary_sensor.house_bank_problem") == STATE_ON
    # Energy totals are still known: both members are loaded.
    assert state(hass, f"{BANK}_discharge_energy") != STATE_UNAVAILABLE
    sim1.faults.clear()
    await entry1.runtime_data.coordinator.async_refresh()
    await bank.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, f"{BANK}_current") == "-16.0"


async def test_switch_fan_out(
    hass: HomeAssistant, packs: list[tuple[JbdSimulator, MockConfigEntry]]
) -> None:
    await _create_bank(hass, [e.entry_id for _, e in packs], "parallel")
    entity_id = "switch.house_bank_charge_mosfet"
    await hass.services.async_call(
        "switch", SERVICE_TURN_OFF, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    assert [s.pack.charge_enabled for s, _ in packs] == [False, False]
    assert [s.pack.discharge_enabled for s, _ in packs] == [True, True]
    assert state(hass, entity_id) == STATE_OFF

    packs[0][0].inject(Fault.IGNORE_COMMAND)
    with pytest.raises(HomeAssistantError, match="Pack 1"):
        await hass.services.async_call(
            "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: entity_id}, blocking=True
        )
    # Pack 2 was still switched; the bank is on only when every pack is.
    assert [s.pack.charge_enabled for s, _ in packs] == [False, True]
    assert state(hass, entity_id) == STATE_OFF


async def test_removing_a_member(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    packs: list[tuple[JbdSimulator, MockConfigEntry]],
) -> None:
    bank = await _create_bank(hass, [e.entry_id for _, e in packs], "parallel")
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, bank)
    assert diagnostics["wiring"] == "parallel"
    assert diagnostics["state"]["member_names"] == ["Pack 1", "Pack 2"]
    await hass.config_entries.async_remove(packs[1][1].entry_id)
    await hass.async_block_till_done()
    assert bank.data[CONF_MEMBERS] == [packs[0][1].entry_id]
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"bank_too_small_{bank.entry_id}"
    )
    assert issue is not None
    assert bank.state is ConfigEntryState.LOADED
    assert state(hass, f"{BANK}_current") == "-10.0"
    await hass.config_entries.async_remove(bank.entry_id)
    await hass.async_block_till_done()
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, f"bank_too_small_{bank.entry_id}")
        is None
    )


def set_energy(entry: MockConfigEntry, charge: float, discharge: float) -> None:
    """Give a member's counters known totals (its pack stays idle: 0 A)."""
    entry.runtime_data.coordinator.tracker.energy = EnergyCounter.from_dict(
        {
            "charge_energy": charge,
            "discharge_energy": discharge,
            "last_time": None,
            "last_power": None,
        },
        10,
    )


async def refresh(hass: HomeAssistant, *entries: MockConfigEntry) -> None:
    for entry in entries:
        await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


async def idle_packs_with_energy(
    hass: HomeAssistant, packs: list[tuple[JbdSimulator, MockConfigEntry]]
) -> MockConfigEntry:
    """A parallel bank of two idle packs holding 1 + 2 kWh in and 3 + 3 kWh out."""
    for sim, _ in packs:
        sim.pack.current = 0.0
    bank = await _create_bank(hass, [e.entry_id for _, e in packs], "parallel")
    set_energy(packs[0][1], 1.0, 3.0)
    set_energy(packs[1][1], 2.0, 3.0)
    await refresh(hass, *(e for _, e in packs), bank)
    assert state(hass, f"{BANK}_charge_energy") == "3.0"
    assert state(hass, f"{BANK}_discharge_energy") == "6.0"
    return bank


async def test_removing_a_member_keeps_its_energy(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    packs: list[tuple[JbdSimulator, MockConfigEntry]],
) -> None:
    bank = await idle_packs_with_energy(hass, packs)
    await hass.config_entries.async_remove(packs[1][1].entry_id)
    await hass.async_block_till_done()
    assert bank.state is ConfigEntryState.LOADED
    # A drop would read as a meter reset: the departed pack's share stays.
    assert state(hass, f"{BANK}_discharge_energy") == "6.0"
    assert state(hass, f"{BANK}_charge_energy") == "3.0"
    set_energy(packs[0][1], 1.5, 3.0)
    await refresh(hass, packs[0][1], bank)
    assert state(hass, f"{BANK}_charge_energy") == "3.5"
    # The share is saved: it survives a restart of the bank.
    await hass.config_entries.async_reload(bank.entry_id)
    await hass.async_block_till_done()
    assert state(hass, f"{BANK}_charge_energy") == "3.5"
    assert state(hass, f"{BANK}_discharge_energy") == "6.0"
    key = f"{DOMAIN}.bank.{bank.entry_id}"
    assert key in hass_storage
    await hass.config_entries.async_remove(bank.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


async def test_energy_holds_while_a_member_is_away(
    hass: HomeAssistant, packs: list[tuple[JbdSimulator, MockConfigEntry]]
) -> None:
    bank = await idle_packs_with_energy(hass, packs)
    await hass.config_entries.async_unload(packs[1][1].entry_id)
    await refresh(hass, bank)
    assert state(hass, f"{BANK}_current") == STATE_UNAVAILABLE
    # The away pack counts with what it had; the total neither drops nor hides.
    assert state(hass, f"{BANK}_discharge_energy") == "6.0"
    await hass.config_entries.async_reload(bank.entry_id)
    await hass.async_block_till_done()
    assert state(hass, f"{BANK}_discharge_energy") == "6.0"
    await hass.config_entries.async_setup(packs[1][1].entry_id)
    await hass.async_block_till_done()
    set_energy(packs[1][1], 2.0, 3.5)
    await refresh(hass, bank)
    assert state(hass, f"{BANK}_discharge_energy") == "6.5"


async def test_bank_with_duplicate_members_counts_each_pack_once(
    hass: HomeAssistant, packs: list[tuple[JbdSimulator, MockConfigEntry]]
) -> None:
    """A bank saved before duplicates were refused."""
    first, second = (e.entry_id for _, e in packs)
    bank = MockConfigEntry(
        domain=DOMAIN,
        title="House bank",
        data={
            CONF_KIND: "bank",
            CONF_MEMBERS: [first, second, first],
            CONF_WIRING: "parallel",
        },
    )
    bank.add_to_hass(hass)
    await hass.config_entries.async_setup(bank.entry_id)
    await hass.async_block_till_done()
    assert state(hass, f"{BANK}_current") == "-16.0"
    assert state(hass, f"{BANK}_full_capacity") == "300.0"


@pytest.mark.parametrize("wiring", ["series", "parallel"])
async def test_member_without_current_sensor(
    hass: HomeAssistant,
    add_device: Callable[[SimulatedBms], Any],
    packs: list[tuple[JbdSimulator, MockConfigEntry]],
    wiring: str,
) -> None:
    balancer = JkSimulator("C8:47:80:00:00:04", "JK balancer", layout=JkLayout.JK04)
    balancer.pack.cell_voltages = [3.30, 3.31, 3.32, 3.29]
    await add_device(balancer)
    jk04 = await setup_entry(hass, balancer, "jk")
    assert jk04.runtime_data.coordinator.data.measures_current is False
    await _create_bank(hass, [packs[0][1].entry_id, jk04.entry_id], wiring)
    # The balancer's 0 A placeholder would halve (series) or hide part of the
    # current: the current and all that derives from it are unavailable.
    for key in ("current", "power", "charge_energy", "discharge_energy"):
        assert state(hass, f"{BANK}_{key}") == STATE_UNAVAILABLE, key
    assert state(hass, f"{BANK}_voltage") != STATE_UNAVAILABLE


async def test_invalid_saved_shares_are_dropped_with_a_warning(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    packs: list[tuple[JbdSimulator, MockConfigEntry]],
) -> None:
    bank = MockConfigEntry(
        domain=DOMAIN,
        title="House bank",
        data={
            CONF_KIND: "bank",
            CONF_MEMBERS: [e.entry_id for _, e in packs],
            CONF_WIRING: "parallel",
        },
    )
    key = f"{DOMAIN}.bank.{bank.entry_id}"
    hass_storage[key] = {"version": 1, "key": key, "data": ["not", "shares"]}
    bank.add_to_hass(hass)
    await hass.config_entries.async_setup(bank.entry_id)
    await hass.async_block_till_done()
    assert bank.state is ConfigEntryState.LOADED
    assert "Dropped invalid saved energy shares of bank House bank" in caplog.text
    assert state(hass, f"{BANK}_discharge_energy") != STATE_UNAVAILABLE


async def test_bank_follows_its_members_without_polling(
    hass: HomeAssistant, packs: list[tuple[JbdSimulator, MockConfigEntry]]
) -> None:
    await _create_bank(hass, [e.entry_id for _, e in packs], "parallel")
    (sim1, entry1), (_, entry2) = packs
    sim1.pack.current = -4.0
    await refresh(hass, entry1)  # only the member: the bank follows at once
    assert state(hass, f"{BANK}_current") == "-10.0"
    await hass.config_entries.async_unload(entry2.entry_id)
    await hass.async_block_till_done()
    assert state(hass, f"{BANK}_current") == STATE_UNAVAILABLE
    # The member comes back: the bank follows its new coordinator.
    await hass.config_entries.async_setup(entry2.entry_id)
    await hass.async_block_till_done()
    assert state(hass, f"{BANK}_current") == "-10.0"
    packs[1][0].pack.current = -1.0
    await refresh(hass, entry2)
    assert state(hass, f"{BANK}_current") == "-5.0"
    await hass.config_entries.async_reload(entry2.entry_id)
    await hass.async_block_till_done()
    packs[1][0].pack.current = -2.0
    await refresh(hass, entry2)
    assert state(hass, f"{BANK}_current") == "-6.0"


async def test_a_bank_saved_by_the_previous_version_loads_unchanged(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    packs: list[tuple[JbdSimulator, MockConfigEntry]],
) -> None:
    """Entry data and saved shares as the polling bank wrote them."""
    first, second = (e.entry_id for _, e in packs)
    bank = MockConfigEntry(
        domain=DOMAIN,
        title="House bank",
        data={CONF_KIND: "bank", CONF_MEMBERS: [first, second], CONF_WIRING: "series"},
    )
    key = f"{DOMAIN}.bank.{bank.entry_id}"
    saved = {"charge": 1.0, "discharge": 2.0}
    hass_storage[key] = {
        "version": 1,
        "key": key,
        "data": {
            "departed": {"charge": 0.5, "discharge": 0.25},
            "members": {
                member: {"credited": saved, "last": {"charge": 0.0, "discharge": 0.0}}
                for member in (first, second)
            },
        },
    }
    bank.add_to_hass(hass)
    await hass.config_entries.async_setup(bank.entry_id)
    await hass.async_block_till_done()
    assert bank.state is ConfigEntryState.LOADED
    assert state(hass, f"{BANK}_voltage") == "26.44"
    # The members' counters restart from 0 here, so all they count is new.
    assert state(hass, f"{BANK}_charge_energy") == "2.5"
    assert float(state(hass, f"{BANK}_discharge_energy")) >= 4.25


async def test_an_update_ending_after_shutdown_schedules_no_poll(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    # A bank listens to its members' coordinators, so a member's coordinator
    # keeps a listener after its own entities are gone.
    entry = await setup_entry(hass, jbd, "jbd")
    coordinator = entry.runtime_data.coordinator
    coordinator.async_add_listener(lambda: None)
    await coordinator.async_shutdown()
    coordinator.async_set_updated_data(coordinator.data)
    assert coordinator._unsub_refresh is None, "no poll after the shutdown"
