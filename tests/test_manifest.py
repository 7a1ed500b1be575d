"""One source of truth: manifest matchers, translations and entity keys agree."""

from __future__ import annotations

import json
from pathlib import Path

from packaging.version import Version

from custom_components.lithium_bms.protocol.registry import DRIVERS
from custom_components.lithium_bms.protocol.snapshot import Alarm, SwitchKind
from custom_components.lithium_bms.sensor import PACK_SENSORS, RSSI_SENSOR

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "lithium_bms"


def _load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((INTEGRATION / name).read_text())


def test_manifest_matchers_cover_every_driver() -> None:
    manifest = _load("manifest.json")["bluetooth"]
    for driver in DRIVERS:
        for matcher in driver.matchers:
            assert matcher.as_manifest() in manifest, (driver.family, matcher)
    expected = {
        json.dumps(m.as_manifest(), sort_keys=True) for d in DRIVERS for m in d.matchers
    }
    assert {json.dumps(m, sort_keys=True) for m in manifest} == expected, (
        "stale matcher in manifest.json: run scripts/sync_manifest.py"
    )


def test_manifest_key_order_and_fields() -> None:
    manifest = _load("manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == "lithium_bms"
    assert manifest["dependencies"] == ["bluetooth_adapters"]
    # The serial transport's library, which Home Assistant itself pins: a lower
    # bound only, the oldest pin of a Home Assistant we test on (2026.10.4 pins
    # 1.11.0, 2026.11 pins 1.15.1), so that every such pin satisfies it.
    # python-can reads a CAN bus, pyserial serves its slcan adapters (the
    # newest Home Assistant tested does not install it by itself), gs-usb its
    # gs_usb interface (candleLight adapters without the kernel driver).
    assert manifest["requirements"] == [
        "gs-usb==0.3.1",
        "pyserial>=3.5",
        "python-can==4.6.1",
        "serialx>=1.11.0",
    ]
    for matcher in manifest["bluetooth"]:
        assert matcher["connectable"] is True
        if "local_name" in matcher:
            assert "*" not in matcher["local_name"][:3]


def test_manifest_requirement_holds_for_the_test_pins() -> None:
    # The floor itself is what the newest-HA run installs (HA 2026.10.4's pin);
    # these environments test HA 2026.11's pin.
    requirements = _load("manifest.json")["requirements"]
    for pins in ("requirements_bluetooth.txt", "requirements_bleak3.txt"):
        lines = (ROOT / pins).read_text().splitlines()
        for requirement in requirements:
            if "==" in requirement:  # an exact pin is the pin the tests install
                assert requirement in lines, pins
                continue
            name, floor = requirement.split(">=")
            (pin,) = (
                line.split("==")[1] for line in lines if line.startswith(f"{name}==")
            )
            assert Version(pin) >= Version(floor), pins


def test_translations_match_strings() -> None:
    assert _load("strings.json") == _load("translations/en.json")


def test_every_entity_key_is_translated() -> None:
    entity = _load("strings.json")["entity"]
    for alarm in Alarm:
        assert alarm.value in entity["binary_sensor"], alarm
    for kind in SwitchKind:
        assert kind.value in entity["switch"], kind
    for description in (*PACK_SENSORS, RSSI_SENSOR):
        if description.translation_key:
            assert description.translation_key in entity["sensor"]
    for key in ("cell_voltage_n", "temperature_n", "cell_resistance_n"):
        assert "{index}" in entity["sensor"][key]["name"]


def test_hacs_manifest() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert hacs["name"] == "Lithium BMS"
    assert hacs["homeassistant"] == "2026.2.0"
