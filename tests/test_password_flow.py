"""The flows check a password against the family's ``password_pattern``."""

from __future__ import annotations

import pytest
from homeassistant.const import CONF_ADDRESS, CONF_PASSWORD
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bms_simulator.families.jbd import JbdSimulator
from custom_components.lithium_bms.const import (
    CONF_CHEMISTRY,
    CONF_FAMILY,
    CONF_INVERT_CURRENT,
    CONF_KEEP_CONNECTED,
    CONF_UPDATE_INTERVAL,
    DOMAIN,
)
from custom_components.lithium_bms.protocol.jbd import JbdDriver
from custom_components.lithium_bms.protocol.registry import driver_by_family

from .conftest import setup_entry

OPTIONS = {
    CONF_UPDATE_INTERVAL: 10,
    CONF_KEEP_CONNECTED: True,
    CONF_INVERT_CURRENT: False,
    CONF_CHEMISTRY: "lifepo4",
}
WRONG_FORM = ["12345", "1234567", "12a456"]


@pytest.fixture(autouse=True)
def six_digits(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pattern of the test's own, independent of the JBD driver's."""
    monkeypatch.setattr(JbdDriver, "password_pattern", r"\d{6}")


def _reauth_flow(hass: HomeAssistant) -> str:
    (flow,) = [
        f
        for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if f["context"]["source"] == "reauth"
    ]
    return flow["flow_id"]


async def test_options_refuse_a_password_of_the_wrong_form(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    entry = await setup_entry(hass, jbd, "jbd")
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert CONF_PASSWORD in result["data_schema"].schema
    for password in WRONG_FORM:
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {**OPTIONS, CONF_PASSWORD: password}
        )
        assert result["type"] is FlowResultType.FORM, password
        assert result["errors"] == {CONF_PASSWORD: "invalid_password"}
    assert entry.options == {}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, CONF_PASSWORD: "123456"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_PASSWORD] == "123456"


async def test_options_of_a_family_without_password(hass: HomeAssistant) -> None:
    assert driver_by_family("daly").password_pattern is None
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_ADDRESS: "AA:BB:CC:DD:EE:FF", CONF_FAMILY: "daly"},
        options={CONF_PASSWORD: "left over"},
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert CONF_PASSWORD not in result["data_schema"].schema
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {**OPTIONS, CONF_PASSWORD: "123456"}
        )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], OPTIONS
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_PASSWORD not in entry.options


async def test_reauth_refuses_a_password_of_the_wrong_form(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    entry = await setup_entry(hass, jbd, "jbd")
    jbd.password = "123456"
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    flow_id = _reauth_flow(hass)
    connections = jbd.connections
    for password in WRONG_FORM:
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_PASSWORD: password}
        )
        assert result["errors"] == {CONF_PASSWORD: "invalid_password"}, password
    assert jbd.connections == connections, "no connection for a malformed password"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PASSWORD: "123456"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"


async def test_reauth_of_a_family_without_password(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, data={CONF_ADDRESS: "AA:BB:CC:DD:EE:FF", CONF_FAMILY: "jk"}
    )
    entry.add_to_hass(hass)
    entry.async_start_reauth(hass)
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(
        _reauth_flow(hass), {CONF_PASSWORD: "123456"}
    )
    assert result["errors"] == {CONF_PASSWORD: "invalid_password"}


async def test_confirm_refuses_a_password_of_the_wrong_form(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    jbd.password = "123456"
    flow = hass.config_entries.flow.async_progress_by_handler(DOMAIN)[0]
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["errors"] == {"base": "invalid_auth"}
    connections = jbd.connections
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_PASSWORD: "12345"}
    )
    assert result["errors"] == {CONF_PASSWORD: "invalid_password"}
    assert CONF_PASSWORD in result["data_schema"].schema
    assert jbd.connections == connections
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_PASSWORD: "123456"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"] == {CONF_PASSWORD: "123456"}
