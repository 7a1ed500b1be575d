"""A simulated RS485 bus of several packs behind a TCP server on loopback."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from bms_simulator.pack import PackModel
from bms_simulator.serial.bus import BusSimulator
from bms_simulator.serial.endpoints import TcpEndpoint
from bms_simulator.serial.registry import WIRED_DEMOS

from .config import CONF_ADDRESSES, CONF_PORT, CONF_PROTOCOL

_LOGGER = logging.getLogger(__name__)

# The development server runs until Home Assistant stops.
FOREVER = 10 * 365 * 24 * 3600.0


@dataclass
class WiredLine:
    """The running bus: its packs' models, and how to stop it."""

    endpoint: TcpEndpoint
    packs: list[PackModel]
    closing: asyncio.Future[None] | None = None

    def stop(self) -> None:
        """Close the server and its connections."""
        self.closing = asyncio.ensure_future(self.endpoint.close())


async def async_start_wired_bus(conf: dict[str, Any]) -> WiredLine:
    """Serve the configured packs at ``socket://127.0.0.1:<port>``."""
    responders = [WIRED_DEMOS[conf[CONF_PROTOCOL]](a) for a in conf[CONF_ADDRESSES]]
    endpoint = TcpEndpoint(BusSimulator(responders), lifetime=FOREVER)
    endpoint.port = conf[CONF_PORT]
    url = await endpoint.start()
    _LOGGER.info(
        "Simulated %s bus with packs %s at %s",
        conf[CONF_PROTOCOL],
        ", ".join(str(a) for a in conf[CONF_ADDRESSES]),
        url,
    )
    packs = [r.pack for r in responders]  # type: ignore[attr-defined]
    return WiredLine(endpoint, packs)
