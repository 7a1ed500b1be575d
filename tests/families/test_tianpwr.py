"""TianPower end to end through the virtual proxy.

The packs advertise their name and nothing else (aiobmsble test_data/
tianpwr_bms.json): the name alone finds them. The two public decoders swap
the charge and discharge MOSFET bits, so a MOSFET entity is unknown while the
two bits differ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from bms_simulator.device import SimulatedBms
from bms_simulator.families.tianpwr import demo
from custom_components.lithium_bms.const import CONF_FAMILY, DOMAIN

from ..conftest import setup_entry

type AddDevice = Callable[[SimulatedBms], Any]
CHARGE = "binary_sensor.tp_123456_charge_mosfet_active"
DISCHARGE = "binary_sensor.tp_123456_discharge_mosfet_active"


async def test_the_name_alone_is_discovered(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim = demo("90:A6:BF:00:11:22")
    assert sim.advertising.service_uuids == []
    sim.pack.current = -6.0
    await add_device(sim)
    assert sim.connections == 0, "no connection before the user confirms"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["unique_id"] for flow in flows] == [sim.address]
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_FAMILY] == "tianpwr"
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    current = hass.states.get("sensor.tp_123456_current")
    assert current is not None
    assert current.state == "-6.0"
    await hass.config_entries.async_unload(result["result"].entry_id)
    await hass.async_block_till_done()


async def test_a_mosfet_is_unknown_while_its_bits_differ(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim = await add_device(demo("90:A6:BF:00:33:44"))
    entry = await setup_entry(hass, sim, "tianpwr")
    states = [hass.states.get(CHARGE), hass.states.get(DISCHARGE)]
    assert [s.state if s else None for s in states] == [STATE_ON, STATE_ON]
    sim.pack.alarms = {"cell_undervoltage"}  # the discharge MOSFET opens
    coordinator = entry.runtime_data.coordinator
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    states = [hass.states.get(CHARGE), hass.states.get(DISCHARGE)]
    assert [s.state if s else None for s in states] == [STATE_UNKNOWN] * 2
    sim.pack.alarms = set()
    sim.pack.charge_enabled = sim.pack.discharge_enabled = False
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    states = [hass.states.get(CHARGE), hass.states.get(DISCHARGE)]
    assert [s.state if s else None for s in states] == [STATE_OFF, STATE_OFF]
