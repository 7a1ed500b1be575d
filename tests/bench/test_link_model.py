"""The link model: connection cost (time, discovery, seeded failures), order."""

from __future__ import annotations

import asyncio

import pytest

from bench.devices import bench_device
from bench.vclock import run_virtual
from bms_simulator.connecting import (
    ESPHOME_PROXY,
    ConnectCost,
    ConnectFailedError,
    ConnectModel,
)
from bms_simulator.link import BleLink
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.errors import BmsConnectionError

ADDRESS = "C0:FF:EE:00:00:19"


async def _attempts(model: ConnectModel, count: int) -> list[tuple[float, bool]]:
    """(seconds taken, succeeded) of ``count`` attempts."""
    loop = asyncio.get_running_loop()
    outcomes = []
    for _ in range(count):
        started = loop.time()
        try:
            await model.establish()
        except ConnectFailedError:
            outcomes.append((loop.time() - started, False))
        else:
            outcomes.append((loop.time() - started, True))
    return outcomes


def test_discovery_costs_only_the_first_connection() -> None:
    model = ConnectModel(ConnectCost(setup=1.0, discovery=2.0), ADDRESS)
    outcomes = run_virtual(_attempts(model, 3))
    assert outcomes == [(3.0, True), (1.0, True), (1.0, True)]
    assert model.failures == 0


def test_failures_are_seeded_and_cost_the_setup() -> None:
    cost = ConnectCost(setup=1.0, discovery=2.0, failure_rate=0.25, seed=7)
    first = run_virtual(_attempts(ConnectModel(cost, ADDRESS), 200))
    again = run_virtual(_attempts(ConnectModel(cost, ADDRESS.lower()), 200))
    other = run_virtual(_attempts(ConnectModel(cost, "C0:FF:EE:00:00:20"), 200))
    assert first == again, "the same seed and address fail the same attempts"
    assert first != other
    failed = [taken for taken, ok in first if not ok]
    assert all(taken == 1.0 for taken in failed)
    assert 30 <= len(failed) <= 70  # about a quarter of 200
    # Discovery is paid by the first attempt that succeeds, once.
    succeeded = [taken for taken, ok in first if ok]
    assert succeeded[0] == 3.0
    assert set(succeeded[1:]) == {1.0}


def test_a_modelled_link_makes_the_transport_pay() -> None:
    link = BleLink(connect=ConnectCost(setup=0.5, discovery=1.0, failure_rate=1.0))
    device = link.apply(bench_device("jbd", ADDRESS))
    transport = SimulatorTransport(device)

    async def connect() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(BmsConnectionError, match="ESP_GATT_CONN_FAIL_ESTABLISH"):
            await transport.connect(lambda _data: None, lambda: None)
        return loop.time() - started

    assert run_virtual(connect()) == 0.5
    assert not device.connected
    assert device.connect_model.failures == 1


def test_the_presets_cost_time_and_fail_sometimes() -> None:
    assert not ESPHOME_PROXY.free
    assert ConnectCost().free
    assert 0 < ESPHOME_PROXY.failure_rate < 1


def test_least_time_sends_back_to_back() -> None:
    link = BleLink(mtu=20, notify_latency=0.015, write_latency=0.030)
    assert link.least_time(writes=2, notifications=4) == pytest.approx(0.090)
    assert link.least_time(writes=0, notifications=0) == 0.0


def test_notifications_follow_one_another() -> None:
    """Two frames sent at once arrive one after the other, not interleaved."""
    device = BleLink(mtu=20, notify_latency=0.01, write_latency=0.0).apply(
        bench_device("jbd", ADDRESS)
    )
    arrived: list[tuple[float, bytes]] = []

    async def run() -> None:
        loop = asyncio.get_running_loop()
        device.attach(
            lambda _h, data: arrived.append((loop.time(), data)), lambda: None
        )
        device.send(bytes(40))
        device.send(bytes([1]) * 20)
        await asyncio.sleep(1)

    run_virtual(run())
    assert [round(t, 3) for t, _ in arrived] == [0.01, 0.02, 0.03]
    assert arrived[-1][1] == bytes([1]) * 20


def test_writes_sent_at_once_arrive_in_order() -> None:
    """Timers due at the same time run in any order; the writes do not."""
    device = BleLink(write_latency=0.03).apply(bench_device("jbd", ADDRESS))
    received: list[bytes] = []
    device.handle_write = lambda _handle, data: received.append(data)  # type: ignore[method-assign]
    sent = [bytes([n]) for n in range(50)]

    async def run() -> None:
        for data in sent:
            device.receive(1, data)
        await asyncio.sleep(1)

    run_virtual(run())
    assert received == sent


def test_notifications_at_no_latency_keep_their_order() -> None:
    device = BleLink(mtu=1, notify_latency=0.0, write_latency=0.0).apply(
        bench_device("jbd", ADDRESS)
    )
    arrived: list[bytes] = []
    frame = bytes(range(60))

    async def run() -> None:
        device.attach(lambda _h, data: arrived.append(data), lambda: None)
        device.send(frame)
        await asyncio.sleep(0.1)

    run_virtual(run())
    assert b"".join(arrived) == frame
