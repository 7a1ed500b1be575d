"""Diagnostics never carry a secret: addresses, passwords, passcodes, serials."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from bms_simulator.device import SimulatedBms
from bms_simulator.families.daly import DalySimulator
from bms_simulator.families.jbd import JbdSimulator
from bms_simulator.families.jk import JkSimulator
from bms_simulator.registry import DEMOS
from custom_components.lithium_bms.redaction import (
    REDACTED,
    Redactor,
    address_spellings,
)

from .conftest import PROXY_SOURCE, setup_entry

type AddDevice = Callable[[SimulatedBms], Any]

JBD_PASSWORD = "Ab12cd"


def secret_spellings(address: str, values: list[str]) -> set[str]:
    """Every spelling of the secrets a diagnostics dump must not contain."""
    found = address_spellings(address) | address_spellings(PROXY_SOURCE)
    for value in values:
        found |= {value.lower(), value.encode().hex()}
    return found


def jbd_device() -> tuple[SimulatedBms, str, dict[str, Any], list[str]]:
    device = JbdSimulator("A4:C1:38:5E:91:07", "JBD-SP04S034")
    device.password = JBD_PASSWORD
    return device, "jbd", {"password": JBD_PASSWORD}, [JBD_PASSWORD]


def jk_device() -> tuple[SimulatedBms, str, dict[str, Any], list[str]]:
    device = JkSimulator("C8:47:8C:E1:52:9A", "JK-B2A24S15P")
    device.period = 0.05
    # The simulator's device-info frame carries two passcodes and the serial.
    return device, "jk", {}, ["123456", device.serial_number]


def daly_device() -> tuple[SimulatedBms, str, dict[str, Any], list[str]]:
    # Daly names carry the address (DL-<address>); its version replies carry
    # the serial number and the Bluetooth password.
    device = DalySimulator("40:D6:3C:7A:0B:11")
    return device, "daly", {}, [device.serial_number, device.password]


@pytest.mark.parametrize("make", [jbd_device, jk_device, daly_device])
async def test_no_secret_anywhere_in_the_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    add_device: AddDevice,
    make: Callable[[], tuple[SimulatedBms, str, dict[str, Any], list[str]]],
) -> None:
    device, family, options, values = make()
    await add_device(device)
    entry = await setup_entry(hass, device, family, options)
    assert entry.runtime_data.coordinator.last_update_success
    dump = json.dumps(
        await get_diagnostics_for_config_entry(hass, hass_client, entry)
    ).lower()
    leaks = {s for s in secret_spellings(device.address, values) if s in dump}
    assert not leaks
    # JBD's FF AA frames hold the password XOR the address: never kept.
    assert '"hex": "ffaa' not in dump
    assert REDACTED.lower() in dump
    # Still useful: the frames are there, only the secret ones masked.
    assert '"direction": "rx"' in dump


@pytest.mark.parametrize("demo", sorted(DEMOS))
async def test_no_address_in_the_diagnostics_of_any_family(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    add_device: AddDevice,
    demo: str,
) -> None:
    # Some modules put their own MAC into every frame (ECO-WORTHY V2) or
    # their name (Daly): no spelling of it may reach the dump.
    device = DEMOS[demo]("C4:D3:6A:5E:91:07")
    await add_device(device)
    entry = await setup_entry(hass, device, device.family, {})
    assert entry.runtime_data.coordinator.last_update_success
    dump = json.dumps(
        await get_diagnostics_for_config_entry(hass, hass_client, entry)
    ).lower()
    assert not {s for s in secret_spellings(device.address, []) if s in dump}
    assert '"direction": "rx"' in dump


def test_redactor_masks_every_spelling_and_any_mac() -> None:
    redact = Redactor(["40:D6:3C:7A:0B:11"], ["Ab12cd", "42"])
    data = {
        "title": "Garage",
        "name": "DL-40D63C7A0B11",
        "manufacturer_data": {"770": "110b7a3cd640444c"},
        "discovery_keys": {"bluetooth": [("bluetooth", "40-d6-3c-7a-0b-11", 1)]},
        "note": "proxy aa:bb:cc:00:00:01 and password AB12CD",
        "hex": "41623132636400",
        "cycles": 42,
        "short": "42",
    }
    assert redact(data) == {
        "title": REDACTED,
        "name": f"DL-{REDACTED}",
        "manufacturer_data": {"770": f"{REDACTED}444c"},
        "discovery_keys": {"bluetooth": [["bluetooth", REDACTED, 1]]},
        "note": f"proxy {REDACTED} and password {REDACTED}",
        "hex": f"{REDACTED}00",
        "cycles": 42,
        "short": "42",  # too short to be a secret worth masking everywhere
    }
