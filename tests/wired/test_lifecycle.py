"""A bus entry's life: device information read late, diagnostics, removal."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from bms_simulator.device import Fault
from custom_components.lithium_bms.bus.kind import BusData
from custom_components.lithium_bms.const import DOMAIN
from custom_components.lithium_bms.devices import entry_device
from custom_components.lithium_bms.diagnostics import (
    async_get_config_entry_diagnostics,
)

from .conftest import Line, bus_entry, setup_bus

pytestmark = pytest.mark.usefixtures("socket_enabled")

type StartLine = Callable[..., Awaitable[Line]]


async def test_device_information_missed_at_first_is_read_with_the_next_reading(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("jbd", (0,))
    simulator = line.packs[0].device  # type: ignore[attr-defined]
    simulator.inject(Fault.NO_ANSWER)  # the first request: the model (0x05)
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    assert not simulator.faults  # the model request did go unanswered
    data = entry.runtime_data
    assert isinstance(data, BusData)
    pack = data.packs[0]
    assert pack.device_info is not None
    device = entry_device(hass, entry.entry_id, pack.pack.key)
    assert device is not None
    assert device.model == pack.device_info.model == simulator.model


async def test_diagnostics_show_the_bus_and_each_pack_without_the_port(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("daly_a5", (1, 2), tcp=True)
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    found = await async_get_config_entry_diagnostics(hass, entry)
    text = json.dumps(found)
    assert line.url not in text
    assert "127.0.0.1" not in text
    assert found["protocol"] == "daly_a5"
    assert found["listening"] is False
    assert found["bus"]["open"] is True
    assert found["bus"]["baudrate"] == 9600
    assert sorted(found["packs"]) == ["1", "2"]
    for address in (1, 2):
        pack = found["packs"][str(address)]
        voltage = pack["snapshot"]["voltage"]
        assert voltage == pytest.approx(line.packs[address].pack.voltage, abs=0.1)
        assert pack["raw_frames"]


async def test_removing_the_bus_forgets_every_pack_s_saved_state(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("daly_a5", (1, 2))
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    keys = [f"{DOMAIN}.{entry.entry_id}_{a}" for a in (1, 2)]

    async def saved() -> list[object]:
        return [await Store[dict[str, object]](hass, 1, k).async_load() for k in keys]

    assert await hass.config_entries.async_unload(entry.entry_id)
    assert all(await saved())
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not any(await saved())
