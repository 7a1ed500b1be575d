"""Adding a BMS by hand: any device in range, identified by probing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from homeassistant.const import CONF_ADDRESS, CONF_PASSWORD
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from bms_simulator.device import Advertising, Fault, SimulatedBms
from bms_simulator.families.jbd import JbdSimulator
from bms_simulator.families.jk import JkSimulator
from bms_simulator.families.seplos_v2_ble import ble_demo
from custom_components.lithium_bms import config_flow
from custom_components.lithium_bms.const import CONF_FAMILY, DOMAIN
from custom_components.lithium_bms.protocol.daly import DalyDriver
from custom_components.lithium_bms.protocol.matching import uuid16
from custom_components.lithium_bms.protocol.registry import BLUETOOTH_DRIVERS
from tests.flows import user_flow

from .conftest import setup_entry

RENAMED = "12:34:56:78:9A:BC"
SILENT = "12:34:56:78:9A:BD"

AddDevice = Callable[[SimulatedBms], Any]


@pytest.fixture(autouse=True)
def short_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Daly's sleepy-dongle waits and the per-family ceiling, shortened."""
    monkeypatch.setattr(DalyDriver, "first_probe_timeout", 0.5)
    monkeypatch.setattr(DalyDriver, "probe_timeout", 0.5)
    monkeypatch.setattr(config_flow, "PROBE_TIMEOUT", 5.0)


async def _renamed_jbd(add_device: AddDevice, address: str = RENAMED) -> JbdSimulator:
    """A JBD pack whose advertisement no matcher claims."""
    sim = JbdSimulator(address, "Garage battery")
    sim.advertising = Advertising(name="Garage battery", service_uuids=[])
    await add_device(sim)
    return sim


async def _pick(hass: HomeAssistant, address: str) -> dict[str, Any]:
    result = await user_flow(hass)
    assert result["step_id"] == "device"
    assert address in result["data_schema"].schema[CONF_ADDRESS].container
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADDRESS: address}
    )


async def test_unclaimed_jbd_is_offered_and_found_by_probing(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim = await _renamed_jbd(add_device)
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    result = await _pick(hass, RENAMED)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage battery"
    assert result["data"] == {CONF_ADDRESS: RENAMED, CONF_FAMILY: "jbd"}
    assert result["result"].unique_id == RENAMED
    # JK is tried first and fails on the missing FFE0 service, JBD answers;
    # then the new entry's own setup connects.
    assert sim.connections == 3


async def test_the_device_step_names_every_bluetooth_family(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    await _renamed_jbd(add_device)
    result = await user_flow(hass)
    names = result["description_placeholders"]["protocols"].split(", ")
    assert len(names) == len(set(names))
    for driver in BLUETOOTH_DRIVERS:
        assert (driver.brand or driver.manufacturer) in names


async def test_advertised_service_orders_the_probes(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim = JbdSimulator(RENAMED, "Garage battery")
    sim.advertising = Advertising(name="Garage battery", service_uuids=[uuid16(0xFF00)])
    await add_device(sim)
    result = await _pick(hass, RENAMED)
    assert result["data"][CONF_FAMILY] == "jbd"
    assert sim.connections == 2, "JBD probed first, then the entry's setup"


async def test_device_that_speaks_no_protocol_gets_an_error(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim = await _renamed_jbd(add_device, SILENT)
    sim.inject(Fault.NO_ANSWER, 1000)
    result = await _pick(hass, SILENT)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_supported_protocol"}
    assert sim.connections <= len(BLUETOOTH_DRIVERS), "one connection per family"
    sim.faults.clear()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADDRESS: SILENT}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_FAMILY] == "jbd"


async def test_probe_that_meets_a_password_asks_for_it(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim = await _renamed_jbd(add_device)
    sim.password = "123456"
    result = await _pick(hass, RENAMED)
    assert result["errors"] == {"base": "invalid_auth"}
    assert CONF_PASSWORD in result["data_schema"].schema
    connections = sim.connections
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADDRESS: RENAMED, CONF_PASSWORD: "123456"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_ADDRESS: RENAMED, CONF_FAMILY: "jbd"}
    assert result["options"] == {CONF_PASSWORD: "123456"}
    # JBD only (the family found is kept), then the entry's setup.
    assert sim.connections == connections + 2


async def test_configured_devices_are_not_offered(
    hass: HomeAssistant, jbd: JbdSimulator, add_device: AddDevice
) -> None:
    await setup_entry(hass, jbd, "jbd")
    await _renamed_jbd(add_device)
    result = await user_flow(hass)
    choices = result["data_schema"].schema[CONF_ADDRESS].container
    assert list(choices) == [RENAMED]


async def test_discovered_devices_come_first_and_still_work(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    await _renamed_jbd(add_device)
    jk = JkSimulator("C8:47:8C:12:34:56", "JK-B2A24S15P")
    await add_device(jk)
    result = await user_flow(hass)
    choices = result["data_schema"].schema[CONF_ADDRESS].container
    assert list(choices) == ["C8:47:8C:12:34:56", RENAMED]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADDRESS: "C8:47:8C:12:34:56"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_FAMILY] == "jk"
    # Its own family's probe, then the entry's setup.
    assert jk.connections == 2


async def test_other_brand_on_ff00_is_not_discovered(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    # A Humsienk advertises FF00 and its own name (corpus: humsienk).
    other = JbdSimulator("13:C2:A7:16:72:CD", "HS30A3")
    await add_device(other)
    assert other.advertising.service_uuids == [uuid16(0xFF00)]
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)


async def test_seplos_v2_on_ff00_is_discovered_as_seplos(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    # A Seplos V2 advertises FF00 and a BPxx name (BMS_BLE-HA #101).
    await add_device(ble_demo("60:6E:41:16:72:CD"))
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["bluetooth"]
