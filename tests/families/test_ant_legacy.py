"""ANT and ANT legacy end to end: the name picks a protocol, the probe corrects it.

Both protocols come on the same module (service FFE0, write and notify FFE1)
and the sources show names of one protocol close to the other's (the legacy
``ANT-BLE24C``, aiobmsble's current ``ANT-BLE24C-001``), so a name can point
at the wrong one. When the user confirms and the named protocol does not
answer, the flow probes the other (``probe_also``) and says which answered.
"""

from __future__ import annotations

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from bms_simulator.device import SimulatedBms
from bms_simulator.families.ant import AntSimulator
from bms_simulator.families.ant_legacy import AntLegacySimulator
from custom_components.lithium_bms.const import CONF_FAMILY
from custom_components.lithium_bms.protocol.ant import AntDriver
from custom_components.lithium_bms.protocol.ant_legacy import AntLegacyDriver

from .discovery import AddDevice, confirm_discovery


@pytest.fixture
def fast_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short replies, so a probe that fails fails quickly."""
    monkeypatch.setattr(AntDriver, "request_timeout", 0.2)
    monkeypatch.setattr(AntLegacyDriver, "request_timeout", 0.2)


@pytest.mark.usefixtures("fast_probes")
@pytest.mark.parametrize(
    ("sim", "claimed", "family", "brand"),
    [
        (
            AntLegacySimulator("AA:BB:CC:00:11:22", "ANT-BLE24CHUB-0001"),
            "ANT",
            "ant_legacy",
            "ANT legacy",
        ),
        (
            AntSimulator("88:A0:80:00:11:22", "ANT-BLE16S"),
            "ANT legacy",
            "ant",
            "ANT",
        ),
    ],
    ids=["legacy board, current name", "current board, legacy name"],
)
async def test_the_other_protocol_is_found_by_probing(
    hass: HomeAssistant,
    add_device: AddDevice,
    *,
    sim: SimulatedBms,
    claimed: str,
    family: str,
    brand: str,
) -> None:
    await add_device(sim)
    result = await confirm_discovery(hass, sim.address)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_ADDRESS: sim.address, CONF_FAMILY: family}
    assert result["description"] == "found_other"
    assert result["description_placeholders"] == {
        "name": sim.advertising.name,
        "claimed": claimed,
        "brand": brand,
    }
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
