"""The captured JK wired frames, and a simulated line behind a pty or socket://."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bms_simulator.serial.bus import BusSimulator
from bms_simulator.serial.endpoints import PtyEndpoint, TcpEndpoint
from custom_components.lithium_bms.protocol.serial.bus import SerialBus
from custom_components.lithium_bms.protocol.wired import WiredProtocol

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "jk_wired_vectors.json").read_text()
)
ENDPOINTS = ("pty", "tcp")


def vectors(protocol: str, kind: str) -> list[dict[str, Any]]:
    return [v for v in VECTORS if v["protocol"] == protocol and v["kind"] == kind]


@asynccontextmanager
async def line(
    sim: BusSimulator, endpoint: str, protocol: WiredProtocol
) -> AsyncIterator[SerialBus]:
    """A bus at the protocol's speed, on a real pty or a TCP socket."""
    if endpoint == "pty":
        pty = PtyEndpoint(sim, lifetime=30)
        url = await pty.start()
        try:
            yield SerialBus(protocol.settings(url))
        finally:
            pty.stop()
        return
    tcp = TcpEndpoint(sim, lifetime=30)
    url = await tcp.start()
    try:
        yield SerialBus(protocol.settings(url))
    finally:
        await tcp.close()
