"""Clients of a driver on a simulated BMS, closed when the test ends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bms_simulator.device import SimulatedBms
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import BmsDriver, DriverOptions

type MakeClient = Callable[..., BmsClient]


class SimClients:
    """Makes clients on simulated devices and closes them all at the end."""

    def __init__(self) -> None:
        """Start with no client."""
        self._clients: list[BmsClient] = []

    def maker(
        self, driver: type[BmsDriver], sim: SimulatedBms, **defaults: Any
    ) -> MakeClient:
        """A factory of clients of ``driver`` on ``sim``.

        ``defaults`` are the driver options each client gets unless the call
        names them (``address`` at least).
        """

        def make(keep_connected: bool = True, **options: Any) -> BmsClient:
            transport = SimulatorTransport(sim)
            client = BmsClient(
                driver(transport, DriverOptions(**(defaults | options))),
                keep_connected=keep_connected,
            )
            self._clients.append(client)
            return client

        return make

    async def close(self) -> None:
        """Close every client made."""
        for client in self._clients:
            await client.close()
