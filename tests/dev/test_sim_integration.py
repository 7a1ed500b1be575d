"""The development-only simulator integration, inside phacc's Home Assistant."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from bms_simulator.registry import DEMOS
from tests.e2e.realhass import free_port

DEV = Path(__file__).resolve().parents[2] / "dev"
SIM = "lithium_bms_sim"
ADDRESS = "A4:C1:37:00:11:22"


@pytest.fixture(autouse=True)
def dev_integrations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make dev/custom_components part of the custom_components package."""
    monkeypatch.syspath_prepend(str(DEV))


async def setup_sim(hass: HomeAssistant, conf: dict[str, Any]) -> bool:
    ok = await async_setup_component(hass, SIM, {SIM: conf})
    await hass.async_block_till_done(wait_background_tasks=True)
    return ok


async def sim_devices(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> list[dict[str, Any]]:
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "lithium_bms_sim/devices"})
    answer = await client.receive_json()
    assert answer["success"], answer
    devices: list[dict[str, Any]] = answer["result"]
    return devices


def proxy(hass: HomeAssistant) -> Any:
    from custom_components.lithium_bms_sim.websocket import (  # noqa: PLC0415
        DATA_PROXY,
    )

    return hass.data[DATA_PROXY]


async def test_default_is_one_demo_of_every_family_discovered(
    hass: HomeAssistant,
    enable_bluetooth: None,
    hass_ws_client: WebSocketGenerator,
) -> None:
    from custom_components.lithium_bms_sim.config import (  # noqa: PLC0415
        demo_address,
    )

    assert await setup_sim(hass, {})
    addresses = {demo_address(family, 0) for family in DEMOS}
    seen = {
        info.address
        for info in bluetooth.async_discovered_service_info(hass, connectable=True)
    }
    assert addresses <= seen
    flows = hass.config_entries.flow.async_progress_by_handler("lithium_bms")
    assert {flow["context"]["unique_id"] for flow in flows} == addresses
    devices = await sim_devices(hass, hass_ws_client)
    assert sorted(d["family"] for d in devices) == sorted(DEMOS)
    assert all(not d["connected"] for d in devices)


async def test_configured_device_holds_its_values_without_dynamics(
    hass: HomeAssistant,
    enable_bluetooth: None,
    hass_ws_client: WebSocketGenerator,
) -> None:
    pack = {
        "cell_voltages": [3.31, 3.32, 3.33, 3.34],
        "current": -2.5,
        "soc": 64,
        "alarms": ["charge_overtemperature"],
        "discharge_enabled": False,
    }
    conf = {
        "dynamics": False,
        "devices": [
            {
                "family": "jbd",
                "address": ADDRESS.lower(),
                "name": "JBD-GARAGE",
                "pack": pack,
            }
        ],
    }
    assert await setup_sim(hass, conf)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=5))
    await hass.async_block_till_done()
    (device,) = await sim_devices(hass, hass_ws_client)
    assert device["address"] == ADDRESS
    assert device["name"] == "JBD-GARAGE"
    values = device["pack"]
    assert {k: values[k] for k in pack} == {**pack, "soc": 64.0}
    assert values["voltage"] == pytest.approx(13.3)
    assert values["charge_fet"] is False
    assert values["discharge_fet"] is False
    info = bluetooth.async_last_service_info(hass, ADDRESS, connectable=True)
    assert info is not None
    assert info.name == "JBD-GARAGE"


async def test_dynamics_change_the_packs_every_interval(
    hass: HomeAssistant, enable_bluetooth: None
) -> None:
    conf = {
        "dynamics": {"interval": 2, "speed": 900, "seed": 3},
        "devices": [{"family": "jbd", "address": ADDRESS, "pack": {"soc": 60}}],
    }
    assert await setup_sim(hass, conf)
    pack = proxy(hass).devices[ADDRESS].pack
    assert pack.soc == 60
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2.5))
    await hass.async_block_till_done()
    # One step of 2 s x 900 = half an hour at the default 0.4 C discharge.
    assert pack.soc == pytest.approx(40, abs=1)
    assert pack.current < 0


@pytest.mark.parametrize(
    ("conf", "slots"),
    [
        ({}, max(3, len(DEMOS))),
        ({"devices": [{"family": "jbd"}] * 5}, 5),
        ({"slots": 1, "devices": [{"family": "jbd"}] * 2}, 1),
    ],
)
async def test_slots_default_to_three_or_one_per_device(
    hass: HomeAssistant, enable_bluetooth: None, conf: dict[str, Any], slots: int
) -> None:
    assert await setup_sim(hass, conf)
    assert proxy(hass).slot_counter.slots == slots


@pytest.mark.parametrize(
    "conf",
    [
        {"devices": [{"family": "no_such_bms"}]},
        {"devices": [{"family": "jbd", "address": "not-a-mac"}]},
        {"devices": [{"family": "jbd", "pack": {"alarms": ["on_fire"]}}]},
        {"devices": [{"family": "jbd", "pack": {"soc": 120}}]},
        {"devices": [{"family": "jbd", "address": ADDRESS}] * 2},
        {"dynamics": {"interval": 0}},
    ],
)
async def test_bad_configuration_is_refused(
    hass: HomeAssistant, enable_bluetooth: None, conf: dict[str, Any]
) -> None:
    assert not await setup_sim(hass, conf)


def test_made_up_addresses_are_stable_and_distinct() -> None:
    from custom_components.lithium_bms_sim.config import (  # noqa: PLC0415
        demo_address,
        mac_address,
    )

    first = demo_address("jbd", 0)
    assert first == demo_address("jbd", 0)
    assert mac_address(first) == first
    assert len({demo_address(f, i) for f in ("jbd", "jk") for i in range(3)}) == 6


async def test_the_wired_bus_serves_its_packs_on_loopback(
    hass: HomeAssistant, enable_bluetooth: None, socket_enabled: None
) -> None:
    from custom_components.lithium_bms.protocol.registry import (  # noqa: PLC0415
        wired_protocol,
    )
    from custom_components.lithium_bms.protocol.serial.bus import (  # noqa: PLC0415
        SerialBus,
    )
    from custom_components.lithium_bms.protocol.wired import scan_bus  # noqa: PLC0415

    port = free_port()
    wired = {"protocol": "seplos_v2", "port": port, "addresses": [1, 2]}
    assert await setup_sim(hass, {"devices": [], "wired": wired})
    protocol = wired_protocol("seplos_v2")
    bus = SerialBus(protocol.settings(f"socket://127.0.0.1:{port}"))
    result = await scan_bus(bus, protocol, (1, 2, 3))
    assert [pack.address for pack in result.packs] == [1, 2]
    hass.bus.async_fire("homeassistant_stop")
    await hass.async_block_till_done()


def test_the_wired_bus_is_off_unless_configured() -> None:
    from custom_components.lithium_bms_sim.config import (  # noqa: PLC0415
        CONFIG_SCHEMA,
    )

    assert CONFIG_SCHEMA({SIM: {}})[SIM]["wired"] is None
    assert CONFIG_SCHEMA({SIM: {"wired": True}})[SIM]["wired"]["protocol"] == "pace"


async def test_a_fault_is_injected_over_the_websocket(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, enable_bluetooth: None
) -> None:
    conf = {"dynamics": False, "devices": [{"family": "jbd", "address": ADDRESS}]}
    assert await setup_sim(hass, conf)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "lithium_bms_sim/inject",
            "address": ADDRESS.lower(),
            "fault": "ignore_command",
            "count": 2,
        }
    )
    assert (await client.receive_json())["success"]
    assert [f.value for f in proxy(hass).devices[ADDRESS].faults] == [
        "ignore_command",
        "ignore_command",
    ]
    await client.send_json_auto_id(
        {
            "type": "lithium_bms_sim/inject",
            "address": "00:00:00:00:00:00",
            "fault": "no_answer",
        }
    )
    answer = await client.receive_json()
    assert answer["error"]["code"] == "not_found"


@pytest.mark.parametrize("version", ["1.2", "1.3", "jk", "growatt"])
async def test_the_can_bus_broadcasts_in_process(
    hass: HomeAssistant, enable_bluetooth: None, version: str
) -> None:
    from custom_components.lithium_bms.protocol.can.driver import (  # noqa: PLC0415
        PylonCanDriver,
    )
    from custom_components.lithium_bms.protocol.can.transport import (  # noqa: PLC0415
        CanSettings,
        CanTransport,
    )
    from custom_components.lithium_bms.protocol.client import (  # noqa: PLC0415
        BmsClient,
    )
    from custom_components.lithium_bms.protocol.driver import (  # noqa: PLC0415
        DriverOptions,
    )

    can = {
        "channel": "lithium_bms_sim_test",
        "manufacturer": "DEYE",
        "version": version,
        "jk_cells": version == "1.3",
        "jk_address": 3 if version == "jk" else 0,
    }
    assert await setup_sim(hass, {"devices": [], "can": can, "dynamics": False})
    client = BmsClient(
        PylonCanDriver(
            CanTransport(CanSettings("virtual", "lithium_bms_sim_test")),
            DriverOptions(),
            jk_address=None,
        )
    )
    try:
        info = await client.read_device_info()
        snapshot = await client.read_snapshot()
    finally:
        await client.close()
    assert 40 < snapshot.voltage < 60
    # JK's and Growatt's frames carry the cells; the V1.3 battery sends JK's
    # beside its own.
    assert len(snapshot.cell_voltages) == (0 if version == "1.2" else 16)
    if version == "jk":
        assert (info.manufacturer, info.model) == ("JK BMS", "JK CAN, address 3")
        assert snapshot.cycles is not None
    elif version == "growatt":
        assert (info.manufacturer, info.model) == ("DE", "Growatt CAN, 2 packs")
        assert snapshot.charge_voltage_limit is not None
    else:
        assert info.manufacturer == "DEYE"
        # V1.3 adds the capacities (0x35F, 0x379); V1.2 sends the request flags.
        assert (snapshot.design_capacity is not None) == (version == "1.3")
        assert (snapshot.charge_enabled is None) == (version == "1.3")
    hass.bus.async_fire("homeassistant_stop")
    await hass.async_block_till_done()


def test_the_can_bus_is_off_unless_configured() -> None:
    from custom_components.lithium_bms_sim.config import (  # noqa: PLC0415
        CONFIG_SCHEMA,
    )

    assert CONFIG_SCHEMA({SIM: {}})[SIM]["can"] is None
    assert CONFIG_SCHEMA({SIM: {"can": True}})[SIM]["can"] == {
        "channel": "lithium_bms_sim",
        "manufacturer": "PYLON",
        "version": "1.2",
        "jk_cells": False,
        "jk_address": 0,
    }
