"""Config flow: discovery, confirmation, manual pick, aborts, re-auth, options."""

from __future__ import annotations

from homeassistant.components.bluetooth import async_discovered_service_info
from homeassistant.config_entries import SOURCE_BLUETOOTH
from homeassistant.const import CONF_ADDRESS, CONF_PASSWORD
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from bms_simulator.device import Advertising, Fault
from bms_simulator.families.jbd import JbdSimulator
from bms_simulator.proxy import VirtualProxy
from custom_components.lithium_bms.const import (
    CONF_CHEMISTRY,
    CONF_EMPTY_CELL_VOLTAGE,
    CONF_FAMILY,
    CONF_FULL_CELL_VOLTAGE,
    CONF_IMBALANCE_THRESHOLD,
    CONF_INVERT_CURRENT,
    CONF_KEEP_CONNECTED,
    CONF_UPDATE_INTERVAL,
    DOMAIN,
)
from tests.flows import user_flow

from .conftest import JBD_ADDRESS, setup_entry


def _service_info(hass: HomeAssistant, address: str):
    return next(i for i in async_discovered_service_info(hass) if i.address == address)


async def test_discovery_starts_a_flow(hass: HomeAssistant, jbd: JbdSimulator) -> None:
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert len(flows) == 1
    assert flows[0]["context"]["source"] == SOURCE_BLUETOOTH
    assert flows[0]["context"]["unique_id"] == JBD_ADDRESS
    assert jbd.connections == 0, "no connection before the user confirms"


async def test_discovery_confirm_creates_entry(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    flow = hass.config_entries.flow.async_progress_by_handler(DOMAIN)[0]
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "JBD-SP04S034"
    assert result["data"] == {CONF_ADDRESS: JBD_ADDRESS, CONF_FAMILY: "jbd"}
    assert result["result"].unique_id == JBD_ADDRESS
    await hass.async_block_till_done()
    assert hass.states.get("sensor.jbd_sp04s034_voltage") is not None


async def test_confirm_cannot_connect_then_succeeds(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    flow = hass.config_entries.flow.async_progress_by_handler(DOMAIN)[0]
    jbd.inject(Fault.NO_ANSWER, 4)
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    jbd.faults.clear()
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_confirm_asks_for_password(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    jbd.password = "123456"
    flow = hass.config_entries.flow.async_progress_by_handler(DOMAIN)[0]
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["errors"] == {"base": "invalid_auth"}
    assert CONF_PASSWORD in result["data_schema"].schema
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_PASSWORD: "654321"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_PASSWORD: "123456"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"] == {CONF_PASSWORD: "123456"}


async def test_discovery_of_configured_device_aborts(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN):
        hass.config_entries.flow.async_abort(flow["flow_id"])
    await setup_entry(hass, jbd, "jbd")
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_BLUETOOTH},
        data=_service_info(hass, JBD_ADDRESS),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_unsupported_device_aborts(
    hass: HomeAssistant, proxy: VirtualProxy
) -> None:
    other = JbdSimulator("11:22:33:44:55:66", "Thermometer")
    other.advertising = Advertising(name="Thermometer", service_uuids=[])
    proxy.add(other)
    proxy.advertise(other)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_BLUETOOTH},
        data=_service_info(hass, "11:22:33:44:55:66"),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_supported"


async def test_user_step_lists_discovered_devices(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    result = await user_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "device"
    choices = result["data_schema"].schema[CONF_ADDRESS].container
    assert choices == {JBD_ADDRESS: f"JBD-SP04S034 ({JBD_ADDRESS})"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADDRESS: JBD_ADDRESS}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_FAMILY] == "jbd"
    # The discovery flow for the same device went away with the new entry.
    await hass.async_block_till_done()
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)


async def test_user_step_password_and_cannot_connect(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    jbd.password = "123456"
    result = await user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADDRESS: JBD_ADDRESS}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    assert CONF_PASSWORD in result["data_schema"].schema
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADDRESS: JBD_ADDRESS, CONF_PASSWORD: "123456"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"] == {CONF_PASSWORD: "123456"}


async def test_user_step_without_devices_aborts(
    hass: HomeAssistant, proxy: VirtualProxy
) -> None:
    result = await user_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_devices_found"


async def test_user_step_skips_configured_devices(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    await setup_entry(hass, jbd, "jbd")
    result = await user_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_devices_found"


async def test_reauth(hass: HomeAssistant, jbd: JbdSimulator) -> None:
    entry = await setup_entry(hass, jbd, "jbd")
    jbd.password = "123456"
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    flows = [
        f
        for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if f["context"]["source"] == "reauth"
    ]
    assert len(flows) == 1
    flow_id = flows[0]["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PASSWORD: "000000"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    jbd.gone = True
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PASSWORD: "123456"}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    jbd.gone = False
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PASSWORD: "123456"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.options[CONF_PASSWORD] == "123456"
    await hass.async_block_till_done()
    assert entry.state.name == "LOADED"


async def test_options_flow_reloads(hass: HomeAssistant, jbd: JbdSimulator) -> None:
    entry = await setup_entry(hass, jbd, "jbd")
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_UPDATE_INTERVAL: 2.0,
            CONF_KEEP_CONNECTED: False,
            CONF_INVERT_CURRENT: True,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {
        CONF_UPDATE_INTERVAL: 2,
        CONF_KEEP_CONNECTED: False,
        CONF_INVERT_CURRENT: True,
        CONF_CHEMISTRY: "lifepo4",
    }
    coordinator = entry.runtime_data.coordinator
    assert coordinator.update_interval.total_seconds() == 2
    assert coordinator.client.keep_connected is False
    # Inverted: the simulator discharges at 2.5 A, the entity shows +2.5 A.
    assert float(hass.states.get("sensor.jbd_sp04s034_current").state) == 2.5
    assert not jbd.connected, "connection released between updates"


async def test_options_thresholds(hass: HomeAssistant, jbd: JbdSimulator) -> None:
    entry = await setup_entry(hass, jbd, "jbd")
    base = {
        CONF_UPDATE_INTERVAL: 10,
        CONF_KEEP_CONNECTED: True,
        CONF_INVERT_CURRENT: False,
        CONF_CHEMISTRY: "nmc",
    }
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**base, CONF_EMPTY_CELL_VOLTAGE: 3.9}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_thresholds"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**base, CONF_FULL_CELL_VOLTAGE: 4.1, CONF_IMBALANCE_THRESHOLD: 80},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    thresholds = entry.runtime_data.coordinator.tracker.thresholds
    assert thresholds.full_cell_voltage == 4.1
    assert thresholds.empty_cell_voltage == 3.0  # NMC default kept
    assert thresholds.imbalance_voltage == 0.08
