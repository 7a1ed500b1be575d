"""Development only: simulated BMS devices behind a virtual Bluetooth proxy.

Not shipped with the integration. Configured in YAML (see ``config.py``): it
registers one virtual proxy with Home Assistant's Bluetooth stack, hosts the
configured simulators on it, serves a simulated RS485 bus of several packs at
``socket://127.0.0.1:<port>``, broadcasts a battery's Pylontech CAN frames on
python-can's in-process ``virtual`` bus, and lets every pack change over time.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType

from bms_simulator.can import CanBroadcaster, demo_pack
from bms_simulator.dynamics import HEALTH_DEMO, PackDynamics
from bms_simulator.pack import PackModel
from bms_simulator.proxy import VirtualProxy, async_start_proxy

from .config import (
    CONF_CAN,
    CONF_CHANNEL,
    CONF_DEVICES,
    CONF_DYNAMICS,
    CONF_HEALTH,
    CONF_INTERVAL,
    CONF_JK_ADDRESS,
    CONF_JK_CELLS,
    CONF_MANUFACTURER,
    CONF_SEED,
    CONF_SLOTS,
    CONF_SOURCE,
    CONF_SPEED,
    CONF_VERSION,
    CONF_WIRED,
    CONFIG_SCHEMA,
    DOMAIN,
    build_device,
)
from .websocket import DATA_PROXY, async_register_commands
from .wired import async_start_wired_bus

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "async_setup"]

_LOGGER = logging.getLogger(__name__)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Start the proxy, its simulators and their dynamics."""
    conf = config[DOMAIN]
    proxy = VirtualProxy(conf[CONF_SOURCE], conf[CONF_SLOTS])
    for device_conf in conf[CONF_DEVICES]:
        proxy.add(build_device(device_conf))
    stoppers = [async_start_proxy(hass, proxy)]
    packs = [device.pack for device in proxy.devices.values()]
    if conf[CONF_WIRED] is not None:
        line = await async_start_wired_bus(conf[CONF_WIRED])
        stoppers.append(line.stop)
        packs += line.packs
    if conf[CONF_CAN] is not None:
        version = conf[CONF_CAN][CONF_VERSION]
        battery = CanBroadcaster(
            demo_pack(),
            manufacturer=conf[CONF_CAN][CONF_MANUFACTURER],
            version=version,
            installed_capacity=version == "1.3",
            jk_cells=conf[CONF_CAN][CONF_JK_CELLS],
            jk_address=conf[CONF_CAN][CONF_JK_ADDRESS],
        )
        battery.start("virtual", conf[CONF_CAN][CONF_CHANNEL])
        stoppers.append(battery.close)
        packs.append(battery.pack)
        _LOGGER.info(
            "Simulated CAN battery on interface virtual, channel %s",
            conf[CONF_CAN][CONF_CHANNEL],
        )
    if conf[CONF_DYNAMICS] is not None:
        stoppers.append(start_dynamics(hass, packs, conf[CONF_DYNAMICS]))
    hass.data[DATA_PROXY] = proxy
    async_register_commands(hass)

    @callback
    def _stop(_: Event) -> None:
        for stop in stoppers:
            stop()

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _stop)
    _LOGGER.info(
        "Virtual Bluetooth proxy %s hosts %s",
        proxy.source,
        ", ".join(
            f"{d.family} {d.advertising.name} ({d.address})"
            for d in proxy.devices.values()
        ),
    )
    return True


def start_dynamics(
    hass: HomeAssistant, packs: list[PackModel], settings: dict[str, Any]
) -> CALLBACK_TYPE:
    """Advance every pack every ``interval`` seconds; return a stopper."""
    rng = random.Random(settings.get(CONF_SEED))
    behaviour = HEALTH_DEMO if settings.get(CONF_HEALTH) else None
    models = [PackDynamics(pack, behaviour, rng) for pack in packs]
    simulated_seconds = settings[CONF_INTERVAL] * settings[CONF_SPEED]

    @callback
    def _tick(_: datetime) -> None:
        for model in models:
            model.step(simulated_seconds)

    return async_track_time_interval(
        hass, _tick, timedelta(seconds=settings[CONF_INTERVAL])
    )
