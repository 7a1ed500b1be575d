"""A real Home Assistant with every simulated family, driven through its API.

Discovery through the virtual proxy, the config flow, entity states against
the simulators' own values, a MOSFET switch, a restart and a clean stop.
Dynamics are off so that the simulators hold their configured values.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import defaultdict
from typing import Any

import aiohttp
import pytest

from bms_simulator.registry import DEMOS
from custom_components.lithium_bms.protocol.snapshot import Alarm

from .realhass import RESTART_EXIT_CODE, RealHass, StartHass

# A backstop: every wait inside is bounded much tighter.
pytestmark = pytest.mark.timeout(300)

DOMAIN = "lithium_bms"
ALARM = "charge_overtemperature"
# A family whose protocol has no charge over-temperature raises another one.
FAMILY_ALARM = {"neey": "mosfet_overtemperature"}
# The coarsest resolution among the supported families (Daly reports 0.1 V,
# 0.1 A, 0.1 Ah and whole °C; JK and JBD whole percent).
TOLERANCE = {
    "voltage": 0.1,
    "current": 0.1,
    "state_of_charge": 1.0,
    "remaining_capacity": 0.1,
    "full_capacity": 0.1,
    "mosfet_temperature": 1.0,
}
TEMPERATURE_TOLERANCE = 1.0
PROBE = re.compile(r"temperature_(\d+)")
PACK_VOLTAGE = re.compile(r"sensor\.pace_pack_\d+_voltage")
# Not a protection: JBD shows its software lock while a MOSFET is switched off.
ALARM_KEYS = frozenset(a.value for a in Alarm) - {Alarm.MOSFET_LOCK.value}
# Their protocol carries no cell voltage (see each driver's docstring).
# Families whose protocol carries no cell voltage (Pylontech RT: the highest
# and lowest only; Super-B: none).
WITHOUT_CELLS = frozenset(
    family for family, demo in DEMOS.items() if not demo("C0:DE:00:00:00:01").per_cell
)
FLOW_TIMEOUT = 60.0
ENTITY_TIMEOUT = 90.0
SWITCH_TIMEOUT = 30.0

type Keys = dict[str, str]


def sim_yaml() -> str:
    """One device per family with known values; no dynamics (JSON is YAML)."""
    pack = {"current": -3.25, "soc": 64}
    devices = [
        {"family": family, "pack": pack | {"alarms": [FAMILY_ALARM.get(family, ALARM)]}}
        for family in DEMOS
    ]
    return json.dumps({"dynamics": False, "devices": devices})


async def discovery_flows(hass: RealHass, addresses: set[str]) -> dict[str, Any]:
    """The Bluetooth discovery flow of every address, once all exist."""
    flows = {
        flow["context"]["unique_id"]: flow
        for flow in await hass.ws("config_entries/flow/progress")
        if flow["handler"] == DOMAIN and flow["context"]["source"] == "bluetooth"
    }
    return flows if addresses <= flows.keys() else {}


async def entity_keys(hass: RealHass) -> dict[str, Keys]:
    """Address -> entity key -> entity id, for the enabled entities."""
    keys: dict[str, Keys] = defaultdict(dict)
    for entry in await hass.ws("config/entity_registry/list"):
        if entry["platform"] == DOMAIN and not entry["disabled_by"]:
            address, _, key = entry["unique_id"].partition("_")
            keys[address][key] = entry["entity_id"]
    return keys


async def states(hass: RealHass) -> dict[str, str]:
    """Entity id -> state."""
    return {s["entity_id"]: s["state"] for s in await hass.rest("GET", "/api/states")}


async def loaded_entries(hass: RealHass, count: int) -> list[dict[str, Any]]:
    """The integration's config entries, once ``count`` of them are loaded."""
    entries = await hass.ws("config_entries/get", domain=DOMAIN)
    loaded = [e for e in entries if e["state"] == "loaded"]
    return loaded if len(loaded) == count == len(entries) else []


def required_keys(family: str) -> tuple[str, ...]:
    """The entities that show a device of ``family`` has been read."""
    if family in WITHOUT_CELLS:
        return ("voltage", "current")
    return ("voltage", "current", "cell_voltage_1")


async def wait_entities(hass: RealHass, families: dict[str, str]) -> dict[str, Keys]:
    """Wait until every device's entities exist and report a state.

    ``families`` maps each simulated device's address to its family.
    """

    async def _ready() -> dict[str, Keys]:
        keys = await entity_keys(hass)
        current = await states(hass)
        for address, family in families.items():
            ids = keys.get(address, {})
            required = required_keys(family)
            if any(k not in ids for k in required) or any(
                current.get(ids[k]) in (None, "unavailable", "unknown")
                for k in required
            ):
                return {}
        return keys

    return await hass.until(_ready, "the entities of every BMS", ENTITY_TIMEOUT)


def mismatches(sim: dict[str, Any], keys: Keys, current: dict[str, str]) -> list[str]:
    """Where the entity states differ from the simulator's pack values."""
    pack = sim["pack"]
    found: list[str] = []

    def state(key: str) -> str | None:
        return current.get(keys[key]) if key in keys else None

    def near(key: str, expected: float, tolerance: float) -> None:
        actual = state(key)
        try:
            ok = abs(float(actual or "nan") - expected) <= tolerance + 1e-9
        except ValueError:
            ok = False
        if not ok:
            found.append(f"{key}: {actual} (simulator {expected} ± {tolerance})")

    def exactly(key: str, expected: str) -> None:
        if (actual := state(key)) != expected:
            found.append(f"{key}: {actual} (simulator {expected})")

    if sim["family"] in WITHOUT_CELLS:
        found += [
            f"{key}: an entity the protocol has no value for"
            for key in keys
            if key.startswith("cell_voltage_")
        ]
    else:
        for index, volts in enumerate(pack["cell_voltages"], start=1):
            key = f"cell_voltage_{index}"
            if state(key) is None or float(state(key) or "nan") != volts:
                found.append(f"{key}: {state(key)} (simulator {volts}, exact)")
    for key in ("voltage", "current", "state_of_charge"):
        near(key, pack[key if key != "state_of_charge" else "soc"], TOLERANCE[key])
    for key in ("remaining_capacity", "full_capacity", "mosfet_temperature"):
        if key in keys:
            near(key, pack[key], TOLERANCE[key])
    probes = {k: int(m[1]) for k in keys if (m := PROBE.fullmatch(k))}
    if not probes and sim["probes"]:
        found.append("no temperature entity")
    for key, index in probes.items():
        if index > len(sim["probes"]):  # a disconnected probe
            if state(key) not in ("unknown", "unavailable"):
                found.append(f"{key}: {state(key)} (simulator: no probe)")
        else:
            near(key, sim["probes"][index - 1], TEMPERATURE_TOLERANCE)
    if "cycles" in keys:
        exactly("cycles", str(pack["cycles"]))
    if ALARM_KEYS & keys.keys():  # a family that reports no alarm has no entity
        found += [f"alarm {a}: no entity" for a in pack["alarms"] if a not in keys]
    for key in ALARM_KEYS & keys.keys():
        exactly(key, "on" if key in pack["alarms"] else "off")
    for key, fet in (
        ("charge_mosfet_active", "charge_fet"),
        ("discharge_mosfet_active", "discharge_fet"),
    ):
        if key in keys:
            exactly(key, "on" if pack[fet] else "off")
    return found


async def assert_states_match(hass: RealHass, keys: dict[str, Keys]) -> None:
    """Every device's entities show what its simulator holds."""
    current = await states(hass)
    report = {
        f"{sim['family']} {sim['address']}": problems
        for sim in await hass.ws("lithium_bms_sim/devices")
        if (problems := mismatches(sim, keys[sim["address"]], current))
    }
    assert not report, report


async def simulator(hass: RealHass, address: str) -> dict[str, Any]:
    """One simulator's description."""
    sims = await hass.ws("lithium_bms_sim/devices")
    return next(s for s in sims if s["address"] == address)


async def switch_discharge(hass: RealHass, address: str, keys: Keys, on: bool) -> None:
    """Switch the discharge MOSFET; the simulator and the entities follow."""
    service = "turn_on" if on else "turn_off"
    await hass.rest(
        "POST",
        f"/api/services/switch/{service}",
        {"entity_id": keys["discharge_mosfet"]},
    )
    expected = "on" if on else "off"

    async def _followed() -> bool:
        pack = (await simulator(hass, address))["pack"]
        current = await states(hass)
        return (
            pack["discharge_enabled"] is on
            and current[keys["discharge_mosfet"]] == expected
            and current.get(keys.get("discharge_mosfet_active", ""), expected)
            == expected
        )

    await hass.until(
        _followed, f"discharge MOSFET {expected} ({address})", SWITCH_TIMEOUT
    )


async def restart(hass: RealHass) -> None:
    """Restart through the service, as the UI does, and wait until it runs."""
    # The connection may close while Home Assistant stops.
    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
        await hass.rest("POST", "/api/services/homeassistant/restart", {})
    assert await hass.wait_exit() == RESTART_EXIT_CODE
    hass.start()
    await hass.wait_running()


def integration_errors(log: str) -> list[str]:
    """Error lines our integrations logged."""
    return [
        line for line in log.splitlines() if " ERROR " in line and "lithium_bms" in line
    ]


async def test_discover_add_read_switch_restart(start_hass: StartHass) -> None:
    hass = await start_hass(sim_yaml())
    sims = await hass.ws("lithium_bms_sim/devices")
    assert sorted(s["family"] for s in sims) == sorted(DEMOS)
    families = {s["address"]: s["family"] for s in sims}
    addresses = set(families)

    flows = await hass.until(
        lambda: discovery_flows(hass, addresses),
        "a discovery flow per simulated BMS",
        FLOW_TIMEOUT,
    )
    for address in sorted(addresses):
        flow_id = flows[address]["flow_id"]
        result = await hass.rest(
            "POST", f"/api/config/config_entries/flow/{flow_id}", {}
        )
        assert result["type"] == "create_entry", result
    await hass.until(
        lambda: loaded_entries(hass, len(addresses)), "loaded entries", FLOW_TIMEOUT
    )
    keys = await wait_entities(hass, families)
    await assert_states_match(hass, keys)

    switchable = [a for a in sorted(addresses) if "discharge_mosfet" in keys[a]]
    assert switchable, "no simulated family has a discharge switch"
    for address in switchable:
        await switch_discharge(hass, address, keys[address], on=False)
        assert not (await simulator(hass, address))["pack"]["discharge_fet"]
        await switch_discharge(hass, address, keys[address], on=True)

    await restart(hass)
    await hass.until(
        lambda: loaded_entries(hass, len(addresses)),
        "the entries after the restart",
        ENTITY_TIMEOUT,
    )
    assert await wait_entities(hass, families) == keys
    await assert_states_match(hass, keys)

    assert await hass.stop() == 0
    assert not integration_errors(hass.log_path.read_text(encoding="utf-8"))


async def test_the_development_bus_is_added_with_its_three_packs(
    start_hass: StartHass,
) -> None:
    hass = await start_hass(None)  # the development configuration as it is
    url = f"socket://127.0.0.1:{hass.wired_port}"
    flow = await hass.rest(
        "POST", "/api/config/config_entries/flow", {"handler": DOMAIN}
    )
    assert flow["type"] == "menu", flow
    assert "wired" in flow["menu_options"]
    path = f"/api/config/config_entries/flow/{flow['flow_id']}"
    flow = await hass.rest("POST", path, {"next_step_id": "wired"})
    flow = await hass.rest("POST", path, {"protocol": "pace"})
    assert flow["step_id"] == "wired_port", flow
    flow = await hass.rest("POST", path, {"serial_port": url, "baudrate": "9600"})
    assert flow["step_id"] == "wired_packs", flow
    assert flow["description_placeholders"] == {"count": "3"}
    flow = await hass.rest("POST", path, {"packs": ["1", "2", "3"]})
    assert flow["type"] == "create_entry", flow
    entry_id = flow["result"]["entry_id"]

    async def pack_voltages() -> list[str]:
        found = [
            s["state"]
            for s in await hass.rest("GET", "/api/states")
            if PACK_VOLTAGE.fullmatch(s["entity_id"])
            and s["state"] not in ("unavailable", "unknown")
        ]
        return found if len(found) == 3 else []

    voltages = await hass.until(pack_voltages, "the packs' voltages", ENTITY_TIMEOUT)
    assert all(40 < float(v) < 60 for v in voltages), voltages
    devices = [
        d
        for d in await hass.ws("config/device_registry/list")
        if entry_id in d["config_entries"]
    ]
    bus = [d for d in devices if d["via_device_id"] is None]
    packs = [d for d in devices if d["via_device_id"] is not None]
    assert len(bus) == 1
    assert len(packs) == 3
    assert {d["via_device_id"] for d in packs} == {bus[0]["id"]}
    assert await hass.stop() == 0
    assert not integration_errors(hass.log_path.read_text(encoding="utf-8"))


async def test_the_development_can_battery_is_added_from_the_flow(
    start_hass: StartHass,
) -> None:
    hass = await start_hass(None)  # the development configuration as it is
    flow = await hass.rest(
        "POST", "/api/config/config_entries/flow", {"handler": DOMAIN}
    )
    assert "can" in flow["menu_options"], flow
    path = f"/api/config/config_entries/flow/{flow['flow_id']}"
    flow = await hass.rest("POST", path, {"next_step_id": "can"})
    assert flow["step_id"] == "can", flow
    flow = await hass.rest(
        "POST",
        path,
        {
            "can_interface": "virtual",
            "can_channel": "lithium_bms_sim",
            "can_bitrate": "500000",
        },
    )
    assert flow["step_id"] == "can_confirm", flow
    assert flow["description_placeholders"]["manufacturer"] == "PYLON"
    flow = await hass.rest("POST", path, {})
    assert flow["type"] == "create_entry", flow
    assert flow["title"] == "PYLON (lithium_bms_sim)"

    async def voltage() -> str | None:
        for state in await hass.rest("GET", "/api/states"):
            if state["entity_id"] == "sensor.pylon_lithium_bms_sim_voltage" and state[
                "state"
            ] not in ("unavailable", "unknown"):
                return str(state["state"])
        return None

    shown = await hass.until(voltage, "the CAN battery's voltage", ENTITY_TIMEOUT)
    assert 40 < float(shown) < 60
    assert await hass.stop() == 0
    assert not integration_errors(hass.log_path.read_text(encoding="utf-8"))
