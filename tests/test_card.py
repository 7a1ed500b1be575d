"""The battery card: served, registered with the frontend, and its command."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from bms_simulator.device import SimulatedBms
from bms_simulator.families.jbd import JbdSimulator
from custom_components.lithium_bms.card import CARD_FILE, CARD_URL
from custom_components.lithium_bms.const import (
    CONF_KIND,
    CONF_MEMBERS,
    CONF_WIRING,
    DOMAIN,
)

from .conftest import setup_entry

TRANSLATIONS = Path(CARD_FILE).parents[1] / "translations"
STRINGS = re.compile(r"/\* strings \*/(.*?)/\* end strings \*/", re.DOTALL)
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def card_strings() -> dict[str, dict[str, str]]:
    """The card's own words, per language."""
    found = STRINGS.search(CARD_FILE.read_text(encoding="utf-8"))
    assert found is not None
    strings: dict[str, dict[str, str]] = json.loads(found[1])
    return strings


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def device_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert len(devices) == 1
    return devices[0].id


async def test_card_is_served_and_loaded_by_the_frontend(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    assert await async_setup_component(hass, "frontend", {})
    assert await async_setup_component(hass, DOMAIN, {})
    urls = [url for url in hass.data[DATA_EXTRA_MODULE_URL].urls if CARD_URL in url]
    assert len(urls) == 1
    assert re.fullmatch(rf"{re.escape(CARD_URL)}\?v=[0-9a-f]{{12}}", urls[0])

    client = await hass_client()
    response = await client.get(urls[0])
    assert response.status == 200
    assert await response.text() == CARD_FILE.read_text(encoding="utf-8")
    assert "javascript" in response.headers["Content-Type"]


async def test_without_the_frontend_only_the_command_is_added(
    hass: HomeAssistant,
) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    assert DATA_EXTRA_MODULE_URL not in hass.data


async def test_the_card_command_describes_a_pack(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    jbd: JbdSimulator,
) -> None:
    jbd.pack.balancing_cells = {2, 4}
    entry = await setup_entry(hass, jbd, "jbd", {"chemistry": "nmc"})
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/card", "device_id": device_id(hass, entry)}
    )
    answer = await client.receive_json()
    assert answer["success"], answer
    result = answer["result"]
    assert result["kind"] == "pack"
    assert result["cell_window"] == {"empty": 3.0, "full": 4.15, "imbalance": 0.1}
    assert result["balancing_cells"] == [2, 4]
    keys = result["entities"]
    assert {f"cell_voltage_{i}" for i in range(1, 5)} <= keys.keys()
    assert "cell_voltage_5" not in keys
    for key in ("voltage", "current", "state_of_charge", "problem", "charge_mosfet"):
        state = hass.states.get(keys[key])
        assert state is not None, key
    cell = hass.states.get(keys["cell_voltage_3"])
    assert cell is not None
    assert cell.state == "3.299"


async def test_a_pack_that_cannot_be_read_has_no_balancing_cells(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    jbd: JbdSimulator,
) -> None:
    entry = await setup_entry(hass, jbd, "jbd")
    jbd.hung = True
    coordinator = entry.runtime_data.coordinator
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/card", "device_id": device_id(hass, entry)}
    )
    result = (await client.receive_json())["result"]
    assert result["kind"] == "pack"
    assert result["balancing_cells"] is None
    assert "cell_voltage_1" in result["entities"]


async def test_the_card_command_describes_a_bank(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    add_device: Callable[[SimulatedBms], Any],
) -> None:
    packs = []
    for index in range(2):
        sim = JbdSimulator(f"A4:C1:37:00:00:0{index}", f"Pack {index + 1}")
        await add_device(sim)
        packs.append(await setup_entry(hass, sim, "jbd"))
    bank = MockConfigEntry(
        domain=DOMAIN,
        title="House bank",
        data={
            CONF_KIND: "bank",
            CONF_MEMBERS: [p.entry_id for p in packs],
            CONF_WIRING: "parallel",
        },
    )
    bank.add_to_hass(hass)
    await hass.config_entries.async_setup(bank.entry_id)
    await hass.async_block_till_done()

    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/card", "device_id": device_id(hass, bank)}
    )
    result = (await client.receive_json())["result"]
    assert result["kind"] == "bank"
    assert {"voltage", "state_of_charge", "problem"} <= result["entities"].keys()
    assert [m["name"] for m in result["members"]] == ["Pack 1", "Pack 2"]
    for member, pack in zip(result["members"], packs, strict=True):
        assert member["device_id"] == device_id(hass, pack)
        assert "cell_voltage_min" in member["entities"]

    # A pack that is not loaded is still a row, without values.
    assert await hass.config_entries.async_unload(packs[1].entry_id)
    await hass.async_block_till_done()
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/card", "device_id": device_id(hass, bank)}
    )
    members = (await client.receive_json())["result"]["members"]
    assert members[1] == {
        "name": packs[1].entry_id,
        "device_id": None,
        "entities": {},
    }


async def test_the_card_command_refuses_an_unknown_device(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": f"{DOMAIN}/card", "device_id": "nope"})
    answer = await client.receive_json()
    assert not answer["success"]
    assert answer["error"]["code"] == "not_found"
    assert answer["error"]["translation_key"] == "card_unknown_device"


async def test_the_card_command_on_a_device_without_battery_values(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other", "x")}
    )
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": f"{DOMAIN}/card", "device_id": device.id})
    answer = await client.receive_json()
    assert answer["result"] == {"kind": "none", "entities": {}}


def test_card_strings_in_every_language_of_the_integration() -> None:
    strings = card_strings()
    languages = {path.stem for path in TRANSLATIONS.glob("*.json")}
    assert strings.keys() == languages
    english = strings["en"]
    assert english["name"] == "Lithium BMS battery"
    for language, words in strings.items():
        assert words.keys() == english.keys(), language
        assert all(words.values()), language


def test_card_strings_keep_the_english_placeholders() -> None:
    """Each translated card string uses exactly the placeholders of the English one."""
    strings = card_strings()
    english = strings["en"]
    wrong = [
        f"{language}.{key}: {_placeholders(text)}"
        for language, words in strings.items()
        for key, text in words.items()
        if _placeholders(text) != _placeholders(english[key])
    ]
    assert not wrong, "\n".join(wrong)
    assert PLACEHOLDER.findall(english["cell"]) == ["index"]
    assert PLACEHOLDER.findall(english["not_found"]) == ["device"]


def test_card_makes_no_external_request() -> None:
    text = CARD_FILE.read_text(encoding="utf-8")
    urls = re.findall(r"https?://[^\s\"'`]+", text)
    # Only the documentation link the card picker shows; nothing is fetched.
    assert urls == ["https://github.com/lithium-bms/lithium-bms-ha#battery-card"]
    assert "fetch(" not in text
    assert "import " not in text.split("*/", 1)[-1].split("STRINGS", 1)[0]
