"""Daly end to end through the virtual proxy: discovery, variants, switches, options."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_ADDRESS,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bms_simulator.device import Advertising, Fault, uuid16
from bms_simulator.families.daly import ALARM_BITS, FF01_HANDLE, DalySimulator
from bms_simulator.pack import PackModel
from custom_components.lithium_bms import tracker
from custom_components.lithium_bms.const import (
    CONF_FAMILY,
    CONF_INVERT_CURRENT,
    CONF_VARIANT,
    DOMAIN,
)
from custom_components.lithium_bms.protocol.daly.driver import PROBES, DalyDriver

from ..conftest import setup_entry
from .discovery import AddDevice, confirm_discovery

ADDRESS = "B4:E8:42:6A:00:01"
NAME = "DL-B4E8426A0001"
PREFIX = "dl_b4e8426a0001"
# The driver's own start-up timeouts, before the fixture below shortens them.
REAL_TIMEOUTS = {
    "request_timeout": DalyDriver.request_timeout,
    "first_probe_timeout": DalyDriver.first_probe_timeout,
    "probe_timeout": DalyDriver.probe_timeout,
}
KWH = 1e-6  # the energy sensors' resolution
# Remaining capacity: 0.1 Ah in the Modbus variants, 1 mAh in A5.
CAPACITY_RESOLUTION = {"d2": 0.1, "p81": 0.1, "a5": 0.001}


BASE_KEYS = {
    "voltage", "current", "power", "state_of_charge", "remaining_capacity",
    "cycles", "cell_voltage_min", "cell_voltage_max", "cell_voltage_delta",
    "cell_voltage_average", "runtime", "rssi", "charging", "discharging",
    "balancing", "problem", "charge_mosfet_active", "discharge_mosfet_active",
    "charge_energy", "discharge_energy", "estimated_state_of_charge",
    "state_of_charge_drift", "cell_imbalance",
    "weak_cell", "first_cell_at_knee", "standby_days_until_empty",
    *(f"estimated_cell_resistance_{i}" for i in range(1, 9)),
    *(f"cell_voltage_{i}" for i in range(1, 9)),
    *(f"temperature_{i}" for i in range(1, 4)),
}  # fmt: skip
ALARM_KEYS = set(ALARM_BITS)  # every alarm a Daly reports, by its entity key
D2_KEYS = BASE_KEYS | ALARM_KEYS | {
    "design_capacity", "mosfet_temperature", "mosfet_overheating_risk",
    "balance_current", "charge_mosfet", "discharge_mosfet", "balancer",
}  # fmt: skip
D2_SHORT_KEYS = BASE_KEYS | ALARM_KEYS | {
    "design_capacity", "charge_mosfet", "discharge_mosfet", "balancer"
}  # fmt: skip
A5_KEYS = BASE_KEYS | ALARM_KEYS | {"charge_mosfet", "discharge_mosfet"}
# No design capacity: the P81 0x100 block is not D2's settings layout. No
# problem either: no P81 register it reads holds the protection state.
P81_KEYS = BASE_KEYS - {"problem"} | {
    "mosfet_temperature", "mosfet_overheating_risk", "heater"
}  # fmt: skip


@pytest.fixture(autouse=True)
def fast_daly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short probe, acknowledgement and confirmation delays."""
    for name, value in {
        "first_probe_timeout": 0.5,
        "probe_timeout": 0.3,
        "ack_timeout": 0.2,
        "confirm_delay": 0.01,
    }.items():
        monkeypatch.setattr(DalyDriver, name, value)


class Clock:
    """The tracker's clock, advanced by hand."""

    def __init__(self) -> None:
        self.time = 1_800_000_000.0

    def __call__(self) -> float:
        return self.time


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    manual = Clock()
    monkeypatch.setattr(tracker, "now", manual)
    monkeypatch.setattr(tracker, "monotonic", manual)
    return manual


def pack_model() -> PackModel:
    return PackModel(
        cell_voltages=[3.301, 3.312, 3.298, 3.305, 3.333, 3.289, 3.3, 3.31],
        current=-12.34,
        soc=67.8,
        full_capacity=280.0,
        design_capacity=280.0,
        cycles=42,
        temperatures=[21.4, 22.6, 19.5],
        mosfet_temperature=31.2,
        balancing_cells={2, 5},
    )


def daly(
    mode: str = "d2",
    *,
    newer_gatt: bool = False,
    refuse_fff1_notify: bool = False,
    **attributes: Any,
) -> DalySimulator:
    """A simulator of ``pack_model`` with the given settable attributes."""
    sim = DalySimulator(
        ADDRESS,
        mode=mode,
        pack=pack_model(),
        newer_gatt=newer_gatt,
        refuse_fff1_notify=refuse_fff1_notify,
    )
    for name, value in attributes.items():
        setattr(sim, name, value)
    return sim


def entity_id(hass: HomeAssistant, platform: str, key: str) -> str:
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{ADDRESS}_{key}")
    assert found is not None, f"{platform} {key}"
    return found


def state(hass: HomeAssistant, platform: str, key: str) -> str:
    current = hass.states.get(entity_id(hass, platform, key))
    assert current is not None, key
    return current.state


def number(hass: HomeAssistant, key: str) -> float:
    return float(state(hass, "sensor", key))


def on_off(value: bool) -> str:
    return STATE_ON if value else STATE_OFF


def entity_keys(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    return {e.unique_id.removeprefix(f"{ADDRESS}_") for e in entities}


def assert_matches_pack(
    hass: HomeAssistant, sim: DalySimulator, capacity_resolution: float
) -> None:
    """The entities equal the pack model within the protocol's resolution."""
    pack = sim.pack
    assert number(hass, "voltage") == pytest.approx(pack.voltage, abs=0.05)
    assert number(hass, "current") == pytest.approx(pack.current, abs=0.05)
    assert number(hass, "power") == pytest.approx(
        number(hass, "voltage") * number(hass, "current"), abs=0.01
    )
    assert number(hass, "state_of_charge") == pytest.approx(pack.soc, abs=0.05)
    assert number(hass, "remaining_capacity") == pytest.approx(
        pack.remaining_capacity, abs=capacity_resolution / 2
    )
    assert state(hass, "sensor", "cycles") == str(pack.cycles)
    for index, volts in enumerate(pack.cell_voltages, start=1):
        assert state(hass, "sensor", f"cell_voltage_{index}") == str(volts)
    for index, celsius in enumerate(pack.temperatures, start=1):
        assert number(hass, f"temperature_{index}") == pytest.approx(celsius, abs=0.5)
    assert state(hass, "binary_sensor", "charging") == on_off(pack.current > 0)
    assert state(hass, "binary_sensor", "discharging") == on_off(pack.current < 0)
    assert state(hass, "binary_sensor", "charge_mosfet_active") == on_off(
        pack.charge_fet
    )
    assert state(hass, "binary_sensor", "discharge_mosfet_active") == on_off(
        pack.discharge_fet
    )


def assert_alarms(hass: HomeAssistant, alarms: set[str]) -> None:
    for key in ALARM_KEYS:
        assert state(hass, "binary_sensor", key) == on_off(key in alarms), key
    assert state(hass, "binary_sensor", "problem") == on_off(bool(alarms))


async def refresh(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


# Discovery and the config flow.


@pytest.mark.parametrize(
    "advertising",
    [
        Advertising(NAME),
        Advertising(NAME, [uuid16(0xFFF0)]),
        # Newer firmware advertises FF00, which JBD claims: the name says Daly.
        Advertising(NAME, [uuid16(0xFF00)]),
        *(
            # A renamed unit: only its manufacturer id gives it away.
            Advertising("BT270-2", [], {company: b"\xb4\xe8\x42\x6a\x00\x01DL"})
            for company in (258, 260, 770, 771, 1026)
        ),
    ],
    ids=lambda a: (
        f"{a.name}-{a.service_uuids[0][4:8] if a.service_uuids else ''}"
        f"-{next(iter(a.manufacturer_data), '')}"
    ),
)
async def test_discovery_creates_daly_entry(
    hass: HomeAssistant, add_device: AddDevice, advertising: Advertising
) -> None:
    sim = daly(newer_gatt=uuid16(0xFF00) in advertising.service_uuids)
    sim.advertising = advertising
    await add_device(sim)
    assert sim.connections == 0, "no connection before the user confirms"
    result = await confirm_discovery(hass, ADDRESS)
    assert result["title"] == advertising.name
    assert result["data"] == {
        CONF_ADDRESS: ADDRESS,
        CONF_FAMILY: "daly",
        CONF_VARIANT: "d2",
    }
    assert result["result"].state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    ("spec", "variant"),
    [
        ({"mode": "d2"}, "d2"),
        ({"mode": "d2", "status_registers": 62}, "d2"),
        ({"mode": "p81"}, "p81"),
        ({"mode": "a5"}, "a5_80"),
        ({"mode": "a5", "a5_hosts": {0x40}}, "a5_40"),
    ],
)
async def test_flow_stores_variant_and_reload_does_not_probe(
    hass: HomeAssistant, add_device: AddDevice, spec: dict[str, Any], variant: str
) -> None:
    sim = daly(**spec)
    await add_device(sim)
    result = await confirm_discovery(hass, ADDRESS)
    entry = result["result"]
    assert entry.data[CONF_VARIANT] == variant
    assert entry.state is ConfigEntryState.LOADED

    sim.writes.clear()
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_VARIANT] == variant
    assert sim.writes, "the reload read the BMS"
    # Every request is in the stored variant: no probe of another one.
    heads = {bytes(w[:2]) for w in sim.writes}
    expected = {
        "d2": {b"\xd2\x03"},
        "p81": {b"\x81\x03"},
        "a5_80": {b"\xa5\x80"},
        "a5_40": {b"\xa5\x40"},
    }[variant]
    assert heads == expected
    if spec == {"mode": "d2"}:
        # An 80-register D2 is read in one request; its 62-register read is
        # only ever the probe.
        assert PROBES["d2"] not in sim.writes


# Entities and states of every variant.


@pytest.mark.parametrize(
    ("spec", "keys"),
    [
        ({"mode": "d2"}, D2_KEYS),
        ({"mode": "d2", "status_registers": 62}, D2_KEYS),
        ({"mode": "d2", "status_registers": 62, "mos_block": False}, D2_SHORT_KEYS),
        ({"mode": "a5"}, A5_KEYS),
        ({"mode": "a5", "a5_hosts": {0x40}}, A5_KEYS),
        ({"mode": "p81"}, P81_KEYS),
    ],
    ids=["d2-80", "d2-62-mos", "d2-62", "a5-80", "a5-40", "p81"],
)
async def test_entities_and_states(
    hass: HomeAssistant, add_device: AddDevice, spec: dict[str, Any], keys: set[str]
) -> None:
    sim = daly(**spec)
    capacity_resolution = CAPACITY_RESOLUTION[sim.mode]
    await add_device(sim)
    entry = await setup_entry(hass, sim, "daly")
    assert entry.state is ConfigEntryState.LOADED
    assert entity_keys(hass, entry) == keys
    assert_matches_pack(hass, sim, capacity_resolution)
    assert state(hass, "binary_sensor", "balancing") == STATE_ON
    if "mosfet_temperature" in keys:
        assert number(hass, "mosfet_temperature") == 31.0
    if "design_capacity" in keys:
        assert number(hass, "design_capacity") == 280.0
    if sim.mode == "p81":
        assert state(hass, "binary_sensor", "heater") == STATE_OFF
        return

    assert_alarms(hass, set())
    alarms = {"cell_overvoltage", "soc_low", "temperature_sensor_fault"}
    sim.pack.alarms = alarms
    sim.pack.current = 3.5
    await refresh(hass, entry)
    assert_alarms(hass, alarms)
    # Over-voltage cuts the charge MOSFET; the entities follow the BMS.
    assert_matches_pack(hass, sim, capacity_resolution)
    assert state(hass, "binary_sensor", "charge_mosfet_active") == STATE_OFF

    for alarm in sorted(ALARM_KEYS):
        sim.pack.alarms = {alarm}
        await refresh(hass, entry)
        assert_alarms(hass, {alarm})


async def test_newer_gatt_with_refused_fff1_notify(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim = daly(newer_gatt=True, refuse_fff1_notify=True)
    await add_device(sim)
    entry = await setup_entry(hass, sim, "daly")
    assert entry.state is ConfigEntryState.LOADED
    # The simulator answers on the notify characteristic of the service written
    # to: FF01 means the requests went to FF02.
    assert sim.notify_handle == FF01_HANDLE
    assert_matches_pack(hass, sim, 0.1)
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_OFF,
        {ATTR_ENTITY_ID: f"switch.{PREFIX}_balancer"},
        blocking=True,
    )
    assert sim.pack.balancer_enabled is False


@pytest.mark.parametrize(
    ("spec", "variant"),
    [
        ({"mode": "d2"}, None),  # probed at the first connect
        ({"mode": "a5", "a5_hosts": {0x40}}, "a5_40"),  # stored: no probe
    ],
)
async def test_slow_first_answer_sets_up(
    hass: HomeAssistant,
    add_device: AddDevice,
    monkeypatch: pytest.MonkeyPatch,
    spec: dict[str, Any],
    variant: str | None,
) -> None:
    for name, value in REAL_TIMEOUTS.items():
        monkeypatch.setattr(DalyDriver, name, value)
    sim = daly(**spec)
    sim.first_answer_delay = 1.0
    await add_device(sim)
    data = {CONF_ADDRESS: ADDRESS, CONF_FAMILY: "daly"}
    if variant:
        data[CONF_VARIANT] = variant
    entry = MockConfigEntry(domain=DOMAIN, title=NAME, unique_id=ADDRESS, data=data)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert sim.connections == 1, "no retry was needed"
    assert entry.data[CONF_VARIANT] == (variant or "d2")
    assert_matches_pack(hass, sim, CAPACITY_RESOLUTION[sim.mode])


# Switches.


@pytest.mark.parametrize("mode", ["d2", "a5"])
async def test_ignored_command_shows_state_read_back(
    hass: HomeAssistant, add_device: AddDevice, mode: str
) -> None:
    sim = await add_device(daly(mode))
    entry = await setup_entry(hass, sim, "daly")
    switch = f"switch.{PREFIX}_discharge_mosfet"
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(HomeAssistantError, match="did not confirm"):
        await hass.services.async_call(
            SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: switch}, blocking=True
        )
    await hass.async_block_till_done()
    assert sim.pack.discharge_enabled is True
    assert state(hass, "switch", "discharge_mosfet") == STATE_ON

    # Switched off behind HA's back, then an ignored "on": the read-back wins
    # over both the state shown before and the state asked for.
    sim.pack.discharge_enabled = False
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(HomeAssistantError, match="did not confirm"):
        await hass.services.async_call(
            SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: switch}, blocking=True
        )
    await hass.async_block_till_done()
    assert state(hass, "switch", "discharge_mosfet") == STATE_OFF
    sim.pack.discharge_enabled = True
    await refresh(hass, entry)

    sim.refuse_commands = True
    with pytest.raises(HomeAssistantError, match="did not confirm"):
        await hass.services.async_call(
            SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: switch}, blocking=True
        )
    await hass.async_block_till_done()
    assert state(hass, "switch", "discharge_mosfet") == STATE_ON


@pytest.mark.parametrize(
    ("key", "attribute"),
    [
        ("charge_mosfet", "charge_enabled"),
        ("discharge_mosfet", "discharge_enabled"),
        ("balancer", "balancer_enabled"),
    ],
)
async def test_d2_switch_changed_in_the_vendor_app_shows_at_the_next_update(
    hass: HomeAssistant, add_device: AddDevice, key: str, attribute: str
) -> None:
    sim = await add_device(daly("d2"))
    entry = await setup_entry(hass, sim, "daly")
    assert state(hass, "switch", key) == STATE_ON
    setattr(sim.pack, attribute, False)
    await refresh(hass, entry)
    assert state(hass, "switch", key) == STATE_OFF


async def test_a5_off_under_protection_says_it_cannot_be_confirmed(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim = await add_device(daly("a5"))
    entry = await setup_entry(hass, sim, "daly")
    sim.pack.alarms = {"cell_undervoltage"}  # holds the discharge MOSFET off
    await refresh(hass, entry)
    assert state(hass, "switch", "discharge_mosfet") == STATE_OFF
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(HomeAssistantError, match="shows nothing that confirms"):
        await hass.services.async_call(
            SWITCH_DOMAIN,
            SERVICE_TURN_OFF,
            {ATTR_ENTITY_ID: f"switch.{PREFIX}_discharge_mosfet"},
            blocking=True,
        )
    await hass.async_block_till_done()
    assert sim.pack.discharge_enabled is True
    # What was read: the MOSFET, off.
    assert state(hass, "switch", "discharge_mosfet") == STATE_OFF


# Options and faults.


@pytest.mark.parametrize("mode", ["d2", "a5"])
@pytest.mark.parametrize("invert", [False, True])
async def test_invert_current(
    hass: HomeAssistant, add_device: AddDevice, clock: Clock, mode: str, invert: bool
) -> None:
    sim = daly(mode)
    sim.pack.current = 5.0  # what the BMS reports: charging
    await add_device(sim)
    entry = await setup_entry(hass, sim, "daly", {CONF_INVERT_CURRENT: invert})
    sign = -1 if invert else 1
    voltage = number(hass, "voltage")
    assert number(hass, "current") == sign * 5.0
    assert number(hass, "power") == pytest.approx(sign * 5.0 * voltage, abs=0.01)
    assert state(hass, "binary_sensor", "charging") == on_off(not invert)
    assert state(hass, "binary_sensor", "discharging") == on_off(invert)
    for _ in range(6):
        clock.time += 10
        await refresh(hass, entry)
    moved = voltage * 5.0 * 60 / 3_600_000
    charged, discharged = (0.0, moved) if invert else (moved, 0.0)
    assert number(hass, "charge_energy") == pytest.approx(charged, abs=KWH)
    assert number(hass, "discharge_energy") == pytest.approx(discharged, abs=KWH)


@pytest.mark.parametrize("dropped", [1, 2, 3])
async def test_a5_missing_frame_makes_entities_unavailable(
    hass: HomeAssistant, add_device: AddDevice, dropped: int
) -> None:
    sim = await add_device(daly("a5"))
    entry = await setup_entry(hass, sim, "daly")
    registry = er.async_get(hass)
    entities = [
        e.entity_id
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if hass.states.get(e.entity_id) is not None
    ]
    # Eight cells take three 0x95 frames; one of them does not arrive.
    sim.pack.cell_voltages[7] = 3.444
    sim.drop_frame = dropped
    await refresh(hass, entry)
    assert sim.drop_frame is None, "the reply was sent with a frame missing"
    shown = {e: getattr(hass.states.get(e), "state", None) for e in entities}
    assert set(shown.values()) == {STATE_UNAVAILABLE}, shown
    failure = entry.runtime_data.coordinator.last_exception
    assert getattr(failure, "translation_key", None) == "bad_data", failure

    await refresh(hass, entry)
    assert state(hass, "sensor", "cell_voltage_8") == "3.444"
    assert_matches_pack(hass, sim, 0.001)
