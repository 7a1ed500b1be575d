"""The driver base and the client: sessions, serialised operations, link policies."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from bms_simulator.families.jbd import JbdSimulator
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    FrameError,
)
from custom_components.lithium_bms.protocol.jbd import JbdDriver
from custom_components.lithium_bms.protocol.jbd.frames import build_read
from custom_components.lithium_bms.protocol.matching import (
    Advertisement,
)
from custom_components.lithium_bms.protocol.snapshot import (
    SwitchKind,
)

from .fakes import EchoDriver, EchoTransport, any_frame


@pytest.fixture(autouse=True)
def fast_jbd(monkeypatch: pytest.MonkeyPatch) -> None:
    """No settle delay and short timeouts for the simulator-backed tests."""
    monkeypatch.setattr(JbdDriver, "request_timeout", 0.5)
    monkeypatch.setattr(JbdDriver, "connect_delay", 0.0)


async def test_base_driver_defaults() -> None:
    transport = EchoTransport()
    driver = EchoDriver(transport, DriverOptions())
    assert driver.variant is None
    assert driver.options == DriverOptions("", None, False, None)
    assert not EchoDriver.claims(Advertisement("AA:BB", "anything"))
    await driver.initialize()
    await transport.connect(driver.feed, lambda: None)
    await driver.send(b"raw")  # no on_send tap installed
    assert transport.writes == [b"raw"]
    await asyncio.sleep(0)
    driver.feed(b"bad")
    with pytest.raises(FrameError, match="bad frame"):
        await driver.inbox.wait_for(lambda f: f == b"never", 0.01)
    driver.reset()
    assert driver.reassembler.resets == 1
    assert driver.inbox.take(any_frame) is None
    assert (await driver.read_snapshot()).voltage == 4


async def test_client_counts_non_disconnecting_errors() -> None:
    transport = EchoTransport()
    client = BmsClient(EchoDriver(transport, DriverOptions()))
    with pytest.raises(FrameError):
        await client.set_switch(SwitchKind.BALANCER, True)
    assert client.stats.commands == 1
    assert client.stats.command_failures == 1
    assert client.stats.last_error == "FrameError: balancer True"
    assert client.is_connected
    assert (await client.read_device_info()).manufacturer == "Test"
    assert client.frame_log == type(client.frame_log)()  # no traffic yet
    await client.read_snapshot()
    assert list(client.frame_log) == [("tx", b"read".hex()), ("rx", b"read".hex())]
    await client.close()


async def test_client_connect_failure() -> None:
    transport = EchoTransport()
    transport.fail_connect = True
    client = BmsClient(EchoDriver(transport, DriverOptions()))
    with pytest.raises(BmsConnectionError):
        await client.read_snapshot()
    assert client.stats.connect_failures == 1
    assert client.stats.read_failures == 1
    assert client.stats.connects == 0


async def test_late_disconnect_callback_is_not_a_lost_connection() -> None:
    transport = EchoTransport()
    client = BmsClient(EchoDriver(transport, DriverOptions()))
    await client.read_snapshot()
    callback = transport.on_disconnect
    assert callback is not None
    await client.close()
    callback()
    assert client.stats.lost_connections == 0
    await client.read_snapshot()
    assert client.stats.connects == 2


async def test_operations_are_serialised() -> None:
    sim = JbdSimulator("A4:C1:37:00:00:01", "JBD-TEST")
    sim.notify_delay = 0.001
    client = BmsClient(
        JbdDriver(SimulatorTransport(sim), DriverOptions(address=sim.address))
    )
    first, second = await asyncio.gather(client.read_snapshot(), client.read_snapshot())
    assert first == second
    reads = [build_read(0x03), build_read(0x04)]
    assert sim.writes == reads + reads
    await client.close()


async def test_cancelled_start_up_closes_the_link(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(JbdDriver, "connect_delay", 5.0)
    sim = JbdSimulator("A4:C1:37:00:00:01", "JBD-TEST")
    client = BmsClient(
        JbdDriver(SimulatorTransport(sim), DriverOptions(address=sim.address))
    )
    task = asyncio.create_task(client.read_snapshot())
    await asyncio.sleep(0.01)
    assert (sim.connected, client.stats.connects) == (True, 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not sim.connected
    assert not client.is_connected


class RecordingPolicy:
    """A link policy that records how the client uses it."""

    def __init__(self, *, keep: bool) -> None:
        self.keep_link = keep
        self.events: list[str] = []

    @contextlib.asynccontextmanager
    async def _gate(self) -> AsyncIterator[None]:
        self.events.append("wait")
        try:
            yield
        finally:
            self.events.append("done")

    def connecting(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._gate()

    def keep(self) -> bool:
        return self.keep_link

    def released(self) -> None:
        self.events.append("released")


def policy_client(
    *, keep: bool, gone: bool = False
) -> tuple[BmsClient, RecordingPolicy, JbdSimulator]:
    sim = JbdSimulator("A4:C1:37:00:00:01", "JBD-TEST")
    sim.gone = gone
    policy = RecordingPolicy(keep=keep)
    driver = JbdDriver(SimulatorTransport(sim), DriverOptions(address=sim.address))
    return BmsClient(driver, policy=policy), policy, sim


async def test_policy_that_keeps_the_link() -> None:
    client, policy, sim = policy_client(keep=True)
    await client.read_snapshot()
    await client.read_snapshot()
    assert policy.events == ["wait", "done"]
    assert (client.is_connected, sim.connections) == (True, 1)
    await client.close()
    assert policy.events == ["wait", "done", "released"]


async def test_policy_that_frees_the_slot_after_each_operation() -> None:
    client, policy, sim = policy_client(keep=False)
    await client.read_snapshot()
    assert not client.is_connected
    assert policy.events == ["wait", "done", "released"]
    await client.read_device_info()
    assert policy.events == ["wait", "done", "released"] * 2
    assert sim.connections == 2


async def test_policy_told_when_the_link_is_lost() -> None:
    client, policy, sim = policy_client(keep=True)
    await client.read_snapshot()
    sim._drop_link()
    assert policy.events == ["wait", "done", "released"]
    await client.read_snapshot()
    assert policy.events == ["wait", "done", "released", "wait", "done"]
    await client.close()


async def test_policy_not_released_by_a_failed_connect() -> None:
    client, policy, _sim = policy_client(keep=True, gone=True)
    with pytest.raises(BmsConnectionError):
        await client.read_snapshot()
    assert policy.events == ["wait", "done"]
