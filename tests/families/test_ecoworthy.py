"""ECO-WORTHY end to end through the virtual proxy: which board a pack has.

ECO-WORTHY sells packs with its BW02 / DCHOUSE module and packs with a JBD
board; the advertisement tells them apart (tests/protocol/data/
advertisements.json), so the discovery already names the right family. A JBD
board behind an ECO-WORTHY name would be found by the probe after the user
confirms (``probe_also``), and the flow says so.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from bms_simulator.device import SimulatedBms, uuid16
from bms_simulator.families.ecoworthy import EcoworthySimulator, demo
from bms_simulator.families.jbd import JbdSimulator
from custom_components.lithium_bms.const import CONF_FAMILY, DOMAIN
from custom_components.lithium_bms.protocol.ecoworthy import EcoworthyDriver
from custom_components.lithium_bms.protocol.jbd import JbdDriver
from tests.flows import user_flow

from .discovery import AddDevice, confirm_discovery


def _bw02_without_service() -> SimulatedBms:
    """An ``ECO-WORTHY 02_`` module advertising no service (BMS_BLE-HA #253)."""
    sim = EcoworthySimulator("E2:E0:ED:00:50:DB", "ECO-WORTHY 02_50DB")
    sim.advertising.service_uuids = []
    return sim


@pytest.mark.parametrize(
    ("build", "family"),
    [
        (lambda: demo("E2:E0:5A:78:3C:31"), "ecoworthy"),
        (_bw02_without_service, "ecoworthy"),
        # ECO-WORTHY 12 V 100 Ah with a JBD board (BMS_BLE-HA #144).
        (lambda: JbdSimulator("A5:C2:37:00:11:22", "DP04S007L4S100A"), "jbd"),
        # ECO-WORTHY 48 V server rack V3 with a JBD board (BMS_BLE-HA #284).
        (lambda: JbdSimulator("AA:C2:37:00:11:22", "ECO-LFP48100-3U-8EC7"), "jbd"),
    ],
    ids=["bw0b", "bw02 no service", "jbd 12v", "jbd rack"],
)
async def test_the_discovery_names_the_board(
    hass: HomeAssistant,
    add_device: AddDevice,
    build: Callable[[], SimulatedBms],
    family: str,
) -> None:
    sim = build()
    sim.pack.current = -6.0
    await add_device(sim)
    assert sim.connections == 0, "no connection before the user confirms"
    result = await confirm_discovery(hass, sim.address)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_ADDRESS: sim.address, CONF_FAMILY: family}
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    current = next(
        state
        for state in hass.states.async_all("sensor")
        if state.entity_id.endswith("_current")
    )
    assert current.state == "-6.0"
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
def fast_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short replies, so a probe that fails fails quickly."""
    monkeypatch.setattr(EcoworthyDriver, "request_timeout", 0.2)
    monkeypatch.setattr(JbdDriver, "request_timeout", 0.2)


def _jbd_named_eco_worthy() -> JbdSimulator:
    """A JBD board behind a module with an ECO-WORTHY name on FFF0."""
    sim = JbdSimulator("E2:E0:5A:00:11:22", "ECO-WORTHY 0B_1122")
    sim.advertising.service_uuids = [uuid16(0xFFF0)]
    return sim


@pytest.mark.usefixtures("fast_probes")
async def test_a_jbd_board_behind_an_eco_worthy_name_is_found_by_probing(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim = await add_device(_jbd_named_eco_worthy())
    result = await confirm_discovery(hass, sim.address)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_ADDRESS: sim.address, CONF_FAMILY: "jbd"}
    # The flow says which brand answered.
    assert result["description"] == "found_other"
    assert result["description_placeholders"] == {
        "name": "ECO-WORTHY 0B_1122",
        "claimed": "ECO-WORTHY",
        "brand": "JBD",
    }
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.mark.usefixtures("fast_probes")
async def test_neither_board_answering_is_a_clear_error(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim = demo("E2:E0:5A:78:3C:31")
    sim.hung = True
    await add_device(sim)
    result = await confirm_discovery(hass, sim.address)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_answer_as_brand"}
    assert result["description_placeholders"] == {
        "name": "ECO-WORTHY 0B_3C31",
        "brand": "ECO-WORTHY",
        "fallbacks": "JBD",
    }
    assert not hass.config_entries.async_entries(DOMAIN)
    # Once it answers, the same confirmation adds it as ECO-WORTHY.
    sim.hung = False
    flow_id = result["flow_id"]
    result = dict(await hass.config_entries.flow.async_configure(flow_id, {}))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_ADDRESS: sim.address, CONF_FAMILY: "ecoworthy"}
    assert "description" not in result or result["description"] is None
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)
    await hass.async_block_till_done()


@pytest.mark.usefixtures("fast_probes")
async def test_picked_by_hand_the_error_names_the_brands_too(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim = demo("E2:E0:5A:78:3C:31")
    sim.hung = True
    await add_device(sim)
    result = await user_flow(hass)
    assert result["step_id"] == "device"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADDRESS: sim.address}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_answer_as_brand"}
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert (placeholders["brand"], placeholders["fallbacks"]) == ("ECO-WORTHY", "JBD")
    assert "ECO-WORTHY" in placeholders["protocols"]
