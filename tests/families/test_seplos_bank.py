"""A Seplos V3 master over Bluetooth: its packs as devices under it, and the bank.

Against the simulated master (no public capture of a real bank exists).
"""

from __future__ import annotations

import re

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bms_simulator.families.seplos import SeplosV3Ble, demo, demo_bank, demo_pack
from custom_components.lithium_bms import async_remove_config_entry_device
from custom_components.lithium_bms.const import (
    CONF_PACKS,
    CONF_VARIANT,
    CONF_WIRING,
    DOMAIN,
)
from custom_components.lithium_bms.devices import entry_device
from custom_components.lithium_bms.reported.kind import MasterData

from ..conftest import setup_entry
from .discovery import AddDevice

ADDRESS = "C0:D6:3C:00:11:22"


def unique_ids(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    registry = er.async_get(hass)
    return {
        e.unique_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)
    }


def entity_ids(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    registry = er.async_get(hass)
    return [
        e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)
    ]


def state(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert entity_id is not None, unique_id
    found = hass.states.get(entity_id)
    assert found is not None, unique_id
    return found.state


async def refresh(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """One update of the master (it reads its packs too)."""
    data: MasterData = entry.runtime_data
    await data.coordinator.async_refresh()
    await hass.async_block_till_done()


async def set_up_bank(
    hass: HomeAssistant, add_device: AddDevice, count: int = 3
) -> tuple[SeplosV3Ble, MockConfigEntry]:
    """A master reporting ``count`` packs, set up; the packs join at once."""
    sim = demo_bank(ADDRESS, count)
    await add_device(sim)
    entry = await setup_entry(hass, sim, "seplos")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    return sim, entry


async def test_a_single_pack_stays_as_it_was(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    """Count 1: no pack record, no bank, one device, the unique ids of before."""
    sim = demo(ADDRESS)
    await add_device(sim)
    entry = await setup_entry(hass, sim, "seplos")
    assert entry.state is ConfigEntryState.LOADED
    assert CONF_PACKS not in entry.data
    ids = unique_ids(hass, entry)
    assert ids, "no entity"
    assert all(i.startswith(f"{ADDRESS}_") for i in ids)
    assert not any(re.search(r"_pack\d", i) for i in ids)
    assert {f"{ADDRESS}_voltage", f"{ADDRESS}_cell_voltage_16"} <= ids
    assert not any(i.startswith("bank_") for i in ids)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert [d.identifiers for d in devices] == [{(DOMAIN, ADDRESS)}]
    # A read later changes nothing either.
    await refresh(hass, entry)
    assert unique_ids(hass, entry) == ids
    assert CONF_PACKS not in entry.data


async def test_each_pack_is_a_device_under_the_master_and_the_bank_forms(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim, entry = await set_up_bank(hass, add_device)
    assert entry.data[CONF_PACKS] == [{"bus_address": 2}, {"bus_address": 3}]
    assert entry.data[CONF_VARIANT] == "v3"
    master = entry_device(hass, entry.entry_id, ADDRESS)
    assert master is not None
    for number in (2, 3):
        pack = entry_device(hass, entry.entry_id, f"{ADDRESS}_pack{number}")
        assert pack is not None
        assert pack.via_device_id == master.id
        assert pack.name == f"SP05B2312190075 pack {number}"
    bank = entry_device(hass, entry.entry_id, f"bank_{entry.entry_id}")
    assert bank is not None
    assert bank.via_device_id == master.id
    assert bank.model == "Battery bank (parallel)"

    ids = unique_ids(hass, entry)
    assert f"{ADDRESS}_voltage" in ids  # the master's own, as before
    for number, pack in ((2, sim.others[0]), (3, sim.others[1])):
        key = f"{ADDRESS}_pack{number}"
        assert f"{key}_cell_voltage_16" in ids
        assert (
            float(state(hass, "sensor", f"{key}_cell_voltage_1"))
            == (pack.cell_voltages[0])
        )
        assert float(state(hass, "sensor", f"{key}_current")) == pack.current
    assert not any(i.startswith("switch.") for i in entity_ids(hass, entry))
    total = sum(p.current for p in (sim.pack, *sim.others))
    bank_current = state(hass, "sensor", f"bank_{entry.entry_id}_current")
    assert float(bank_current) == pytest.approx(total)


async def test_a_pack_that_leaves_goes_unavailable_and_comes_back(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim, entry = await set_up_bank(hass, add_device)
    gone = f"{ADDRESS}_pack3_voltage"
    bank_voltage = f"bank_{entry.entry_id}_voltage"
    sim.set_others(sim.others[:1])
    await refresh(hass, entry)
    assert state(hass, "sensor", gone) == STATE_UNAVAILABLE
    assert state(hass, "sensor", f"{ADDRESS}_pack2_voltage") != STATE_UNAVAILABLE
    assert state(hass, "sensor", bank_voltage) == STATE_UNAVAILABLE
    # Not removed: the device and the record stay.
    assert entry.data[CONF_PACKS] == [{"bus_address": 2}, {"bus_address": 3}]
    assert entry_device(hass, entry.entry_id, f"{ADDRESS}_pack3")
    sim.set_others([sim.others[0], demo_pack(3)])
    await refresh(hass, entry)
    assert float(state(hass, "sensor", gone)) == pytest.approx(
        sim.others[1].voltage, abs=0.01
    )
    assert state(hass, "sensor", bank_voltage) != STATE_UNAVAILABLE


async def test_a_lost_master_makes_every_pack_unavailable(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim, entry = await set_up_bank(hass, add_device)
    sim.hung = True
    await refresh(hass, entry)
    for unique_id in (f"{ADDRESS}_voltage", f"{ADDRESS}_pack2_voltage"):
        assert state(hass, "sensor", unique_id) == STATE_UNAVAILABLE
    sim.hung = False
    await refresh(hass, entry)
    assert state(hass, "sensor", f"{ADDRESS}_pack2_voltage") != STATE_UNAVAILABLE


async def test_a_pack_that_joins_later_adds_its_device(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim, entry = await set_up_bank(hass, add_device, count=2)
    assert entry.data[CONF_PACKS] == [{"bus_address": 2}]
    sim.set_others([*sim.others, demo_pack(3)])
    await refresh(hass, entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_PACKS] == [{"bus_address": 2}, {"bus_address": 3}]
    assert state(hass, "sensor", f"{ADDRESS}_pack3_voltage") != STATE_UNAVAILABLE


async def test_a_restart_keeps_devices_and_ids_and_a_missing_pack_waits(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim, entry = await set_up_bank(hass, add_device)
    before = unique_ids(hass, entry)
    devices = {
        d.id
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    }
    await hass.config_entries.async_unload(entry.entry_id)
    sim.set_others(sim.others[:1])  # pack 3 is away while Home Assistant restarts
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert unique_ids(hass, entry) == before
    assert {
        d.id
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    } == devices
    assert state(hass, "sensor", f"{ADDRESS}_pack3_voltage") == STATE_UNAVAILABLE
    assert state(hass, "sensor", f"{ADDRESS}_pack2_voltage") != STATE_UNAVAILABLE
    sim.set_others([sim.others[0], demo_pack(3)])
    await refresh(hass, entry)
    assert state(hass, "sensor", f"{ADDRESS}_pack3_voltage") != STATE_UNAVAILABLE


async def test_the_options_offer_the_wiring_of_a_master_only(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    single = demo("C0:D6:3C:00:11:33")
    await add_device(single)
    plain = await setup_entry(hass, single, "seplos")
    form = await hass.config_entries.options.async_init(plain.entry_id)
    assert CONF_WIRING not in form["data_schema"].schema
    hass.config_entries.options.async_abort(form["flow_id"])

    sim, entry = await set_up_bank(hass, add_device)
    form = await hass.config_entries.options.async_init(entry.entry_id)
    assert CONF_WIRING in form["data_schema"].schema
    result = await hass.config_entries.options.async_configure(
        form["flow_id"],
        {
            "update_interval": 10,
            "keep_connected": True,
            "invert_current": False,
            CONF_WIRING: "series",
        },
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options[CONF_WIRING] == "series"
    bank = entry_device(hass, entry.entry_id, f"bank_{entry.entry_id}")
    assert bank is not None
    assert bank.model == "Battery bank (series)"
    total = sum(p.voltage for p in (sim.pack, *sim.others))
    voltage = state(hass, "sensor", f"bank_{entry.entry_id}_voltage")
    assert float(voltage) == pytest.approx(total, abs=0.05)


async def test_the_diagnostics_show_the_reported_packs(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    _, entry = await set_up_bank(hass, add_device)
    data: MasterData = entry.runtime_data
    found = data.diagnostics(hass)
    assert sorted(found["reported_packs"]) == ["2", "3"]
    assert ADDRESS not in str(found)


async def test_only_a_pack_that_left_may_be_deleted(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim, entry = await set_up_bank(hass, add_device)
    master = entry_device(hass, entry.entry_id, ADDRESS)
    pack3 = entry_device(hass, entry.entry_id, f"{ADDRESS}_pack3")
    assert master is not None
    assert pack3 is not None
    assert not await async_remove_config_entry_device(hass, entry, pack3)
    assert not await async_remove_config_entry_device(hass, entry, master)
    sim.set_others(sim.others[:1])
    await refresh(hass, entry)
    assert await async_remove_config_entry_device(hass, entry, pack3)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.data[CONF_PACKS] == [{"bus_address": 2}]
    assert entry.state is ConfigEntryState.LOADED
    assert state(hass, "sensor", f"{ADDRESS}_pack2_voltage") != STATE_UNAVAILABLE
