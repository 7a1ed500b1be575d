"""The development dashboard holds the battery card of every demo device."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from bms_simulator.registry import DEMOS

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "dev_config.py"
CONFIG = SCRIPT.parents[1] / "dev" / "config" / "configuration.yaml"


def test_every_demo_device_and_the_bus_have_a_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location("dev_config", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    dev_config = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev_config)
    monkeypatch.setenv("HASS_DEV_WIRED_PORT", "9911")

    dev_config.write_dashboard(tmp_path)

    dashboard = json.loads((tmp_path / dev_config.DASHBOARD_FILE).read_text())
    (view,) = dashboard["views"]
    cards = view["cards"]
    assert {c["type"] for c in cards} == {"custom:lithium-bms-card"}
    names = [c["device"] for c in cards]
    assert len(names) == len(DEMOS) + 1
    assert names[-1] == "PACE (RS485) (socket://127.0.0.1:9911)"
    assert f"filename: {dev_config.DASHBOARD_FILE}" in CONFIG.read_text()
