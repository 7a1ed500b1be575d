"""Simulated wired lines behind a real pty or a TCP port, for the family tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

from bms_simulator.pack import PackModel
from bms_simulator.serial.bus import BusSimulator
from bms_simulator.serial.endpoints import PtyEndpoint, TcpEndpoint
from bms_simulator.serial.responders import Responder
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.serial.bus import SerialBus
from custom_components.lithium_bms.protocol.snapshot import BatterySnapshot
from custom_components.lithium_bms.protocol.wired import WiredProtocol, wired_client

KINDS = ("pty", "tcp")


@dataclass
class Line:
    """A simulated line, where it is reached, and the host's bus on it."""

    sim: BusSimulator
    endpoint: PtyEndpoint | TcpEndpoint
    bus: SerialBus
    protocol: WiredProtocol

    def client(self, address: int) -> BmsClient:
        return wired_client(self.bus, self.protocol, address, listen=False)

    async def vanish(self) -> None:
        """The port goes away under the host."""
        if isinstance(self.endpoint, TcpEndpoint):
            await self.endpoint.stop()
        else:
            self.endpoint.stop()


def quick(protocol: WiredProtocol, reply_timeout: float = 0.3) -> WiredProtocol:
    """The protocol with a short listen window (a test bus has no master)."""
    return replace(protocol, listen_window=0.05, reply_timeout=reply_timeout)


@asynccontextmanager
async def line(
    kind: str,
    protocol: WiredProtocol,
    responders: Sequence[Responder],
    *,
    echo: bool | None = None,
    **knobs: object,
) -> AsyncIterator[Line]:
    """``responders`` on a line reached over ``kind`` (pty or tcp)."""
    sim = BusSimulator(responders, **knobs)  # type: ignore[arg-type]
    endpoint: PtyEndpoint | TcpEndpoint
    if kind == "pty":
        endpoint = PtyEndpoint(sim, lifetime=30)
    else:
        endpoint = TcpEndpoint(sim, lifetime=30)
    url = await endpoint.start()
    bus = SerialBus(protocol.settings(url), echo=echo)
    try:
        yield Line(sim, endpoint, bus, protocol)
    finally:
        await bus.close()
        if isinstance(endpoint, TcpEndpoint):
            await endpoint.close()
        else:
            endpoint.stop()


async def wait_for(condition: object, timeout: float = 2.0) -> None:
    """Until ``condition()`` holds."""
    for _ in range(int(timeout / 0.01)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never held")


def assert_reports(
    snapshot: BatterySnapshot, pack: PackModel, *, voltage_step: float
) -> None:
    """The snapshot shows the pack model (voltage to the protocol's step)."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert abs(snapshot.voltage - pack.voltage) <= voltage_step / 2 + 1e-9
    assert snapshot.current == pack.current
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.cycles == pack.cycles
    assert snapshot.charge_mosfet is pack.charge_fet
    assert snapshot.discharge_mosfet is pack.discharge_fet
