"""Fixtures: simulated wired buses behind a real pseudo-terminal or TCP port."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bms_simulator.serial.bus import BusSimulator
from bms_simulator.serial.endpoints import PtyEndpoint, TcpEndpoint
from bms_simulator.serial.registry import WIRED_DEMOS
from bms_simulator.serial.responders import Responder
from custom_components.lithium_bms.const import (
    CONF_BAUDRATE,
    CONF_BUS_ADDRESS,
    CONF_KIND,
    CONF_LISTEN,
    CONF_PACKS,
    CONF_PROTOCOL,
    CONF_SERIAL_PORT,
    DOMAIN,
    KIND_BUS,
)
from custom_components.lithium_bms.protocol.registry import wired_protocol

# Long enough for any time travel of a test; the fixture stops it anyway.
LIFETIME = 48 * 3600.0


@dataclass
class Line:
    """A simulated bus and where it is reached."""

    key: str
    bus: BusSimulator
    packs: dict[int, Responder]
    url: str = ""
    endpoint: PtyEndpoint | TcpEndpoint | None = field(default=None, repr=False)


@pytest.fixture(autouse=True)
def _bluetooth(enable_bluetooth: None) -> None:
    """The integration depends on the Bluetooth adapters even for a bus."""


@pytest.fixture
async def start_line() -> AsyncGenerator[Callable[..., Awaitable[Line]]]:
    """Start a bus of ``key``'s demo packs at ``addresses`` (pty, or TCP)."""
    started: list[PtyEndpoint | TcpEndpoint] = []

    async def _start(
        key: str, addresses: Sequence[int], *, tcp: bool = False, **knobs: Any
    ) -> Line:
        packs = {address: WIRED_DEMOS[key](address) for address in addresses}
        bus = BusSimulator(list(packs.values()), **knobs)
        line = Line(key, bus, packs)
        if tcp:
            tcp_endpoint = TcpEndpoint(bus, lifetime=LIFETIME)
            line.url = await tcp_endpoint.start()
            line.endpoint = tcp_endpoint
        else:
            pty = PtyEndpoint(bus, lifetime=LIFETIME)
            line.url = await pty.start()
            line.endpoint = pty
        started.append(line.endpoint)
        return line

    yield _start
    for endpoint in started:
        if isinstance(endpoint, TcpEndpoint):
            await endpoint.close()
        else:
            endpoint.stop()


def bus_entry(line: Line, *, listen: bool = False, **options: Any) -> MockConfigEntry:
    """A bus entry for every pack of ``line``."""
    protocol = wired_protocol(line.key)
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"{protocol.name} (test)",
        unique_id=line.url,
        data={
            CONF_KIND: KIND_BUS,
            CONF_PROTOCOL: line.key,
            CONF_SERIAL_PORT: line.url,
            CONF_BAUDRATE: protocol.baudrate,
            CONF_LISTEN: listen,
            CONF_PACKS: [{CONF_BUS_ADDRESS: a} for a in sorted(line.packs)],
        },
        options=options,
    )


async def setup_bus(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up a bus entry."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
