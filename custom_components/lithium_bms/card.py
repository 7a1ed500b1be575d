"""The battery dashboard card: served from the integration and registered.

The card (``frontend/lithium-bms-card.js``) is a plain web component. It asks
the ``lithium_bms/card`` WebSocket command which entity of a device holds
which value (the integration's entity keys), the chemistry's cell window, the
cells that balance and, for a bank, its packs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import voluptuous as vol
from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.components.websocket_api import async_register_command
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import ERR_NOT_FOUND
from homeassistant.components.websocket_api.decorators import websocket_command
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_platform
from homeassistant.helpers.entity import Entity

from .bank.entities import BankEntity
from .const import DOMAIN
from .devices import entry_device
from .entity import LithiumBmsEntity

CARD_FILE = Path(__file__).parent / "frontend" / "lithium-bms-card.js"
CARD_URL = f"/{DOMAIN}/lithium-bms-card.js"


def _version(path: Path) -> str:
    """A short hash of the card's file, so browsers load a changed card."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


async def async_register_card(hass: HomeAssistant) -> None:
    """Serve the card and load it in every frontend; add its command."""
    async_register_command(hass, ws_card)
    if not {"http", "frontend"} <= hass.config.components:
        return
    version = await hass.async_add_executor_job(_version, CARD_FILE)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL, str(CARD_FILE), cache_headers=True)]
    )
    add_extra_js_url(hass, f"{CARD_URL}?v={version}")


def _device_entities(hass: HomeAssistant, device_id: str) -> list[Entity]:
    """The integration's live entities on one device."""
    return [
        entity
        for platform in entity_platform.async_get_platforms(hass, DOMAIN)
        for entity in platform.entities.values()
        if entity.registry_entry is not None
        and entity.registry_entry.device_id == device_id
    ]


def _pack(entities: list[Entity]) -> dict[str, Any] | None:
    """A pack device's entity keys, cell window and balancing cells."""
    packs = [e for e in entities if isinstance(e, LithiumBmsEntity)]
    if not packs:
        return None
    coordinator = packs[0].coordinator
    keys = {e.entity_key: e.entity_id for e in packs}
    thresholds = coordinator.tracker.thresholds
    snapshot = coordinator.data if coordinator.last_update_success else None
    cells = snapshot.balancing_cells if snapshot is not None else None
    return {
        "kind": "pack",
        "entities": keys,
        "cell_window": {
            "empty": thresholds.empty_cell_voltage,
            "full": thresholds.full_cell_voltage,
            "imbalance": thresholds.imbalance_voltage,
        },
        "balancing_cells": sorted(cells) if cells is not None else None,
    }


def _bank(hass: HomeAssistant, entities: list[Entity]) -> dict[str, Any] | None:
    """A bank device's entity keys and its packs (each with its entity keys)."""
    banks = [e for e in entities if isinstance(e, BankEntity)]
    if not banks:
        return None
    coordinator = banks[0].coordinator
    members: list[dict[str, Any]] = []
    for member_id, member in zip(
        coordinator.member_ids, coordinator.members(), strict=True
    ):
        device = (
            None
            if member is None
            else entry_device(hass, member.config_entry.entry_id, member.pack.key)
        )
        pack = None if device is None else _pack(_device_entities(hass, device.id))
        members.append(
            {
                "name": member.pack.name if member is not None else member_id,
                "device_id": device.id if device is not None else None,
                "entities": pack["entities"] if pack is not None else {},
            }
        )
    return {
        "kind": "bank",
        "entities": {e.entity_description.key: e.entity_id for e in banks},
        "members": members,
    }


@websocket_command(
    {vol.Required("type"): f"{DOMAIN}/card", vol.Required("device_id"): str}
)
@callback
def ws_card(
    hass: HomeAssistant,
    connection: ActiveConnection,
    msg: dict[str, Any],
) -> None:
    """Describe one device for the card."""
    device_id: str = msg["device_id"]
    if dr.async_get(hass).async_get(device_id) is None:
        connection.send_error(
            msg["id"],
            ERR_NOT_FOUND,
            "Unknown device",
            translation_domain=DOMAIN,
            translation_key="card_unknown_device",
        )
        return
    entities = _device_entities(hass, device_id)
    found = _pack(entities) or _bank(hass, entities)
    connection.send_result(msg["id"], found or {"kind": "none", "entities": {}})
