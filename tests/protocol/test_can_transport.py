"""The CAN transport and driver on python-can's virtual bus."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import can
import pytest

from bms_simulator.can import CanBroadcaster, demo_pack
from custom_components.lithium_bms.protocol.can import transport as transport_module
from custom_components.lithium_bms.protocol.can.driver import PylonCanDriver
from custom_components.lithium_bms.protocol.can.errors import (
    CanAdapterError,
    CanBusyError,
    CanNotFoundError,
    CanPermissionError,
    CanSilenceError,
    CanUnavailableError,
)
from custom_components.lithium_bms.protocol.can.transport import (
    CanSettings,
    CanTransport,
    adapter_error,
    open_bus,
)
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    FrameError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.snapshot import SwitchKind

from .usb_backend import usb_backend_present

_CHANNELS = itertools.count()


@pytest.fixture
def channel() -> str:
    return f"lithium_bms_test_{next(_CHANNELS)}"


@pytest.fixture
async def sim(channel: str) -> AsyncIterator[CanBroadcaster]:
    broadcaster = CanBroadcaster(demo_pack())
    broadcaster.open("virtual", channel)
    yield broadcaster
    await broadcaster.stop()


def _client(channel: str, timeout: float = 2.0) -> BmsClient:
    driver = PylonCanDriver(
        CanTransport(CanSettings("virtual", channel)), DriverOptions()
    )
    driver.request_timeout = timeout
    return BmsClient(driver)


async def _until(condition: object, attempts: int = 100) -> None:
    for _ in range(attempts):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met")


async def _read_while_broadcasting(
    client: BmsClient, sim: CanBroadcaster
) -> asyncio.Task[object]:
    """Start a read, then broadcast until it is answered."""
    task = asyncio.ensure_future(client.read_snapshot())
    for _ in range(100):
        if task.done():
            break
        sim.broadcast()
        await asyncio.sleep(0.02)
    return task


async def test_reads_the_broadcast(channel: str, sim: CanBroadcaster) -> None:
    client = _client(channel)
    try:
        task = await _read_while_broadcasting(client, sim)
        snapshot = await task
        assert snapshot.voltage == round(sim.pack.voltage, 2)  # type: ignore[attr-defined]
        info = await client.read_device_info()
        assert info.manufacturer == "PYLON"
        assert info.model == "Pylontech CAN, 2 modules"
        assert client.frame_log
    finally:
        await client.close()
    assert not client.driver.transport.is_connected


async def test_silence_times_out(channel: str, sim: CanBroadcaster) -> None:
    client = _client(channel, timeout=0.3)
    try:
        with pytest.raises(CanSilenceError):
            await client.read_snapshot()
    finally:
        await client.close()


async def test_garbage_and_unknown_ids_only(channel: str, sim: CanBroadcaster) -> None:
    client = _client(channel, timeout=0.5)
    try:
        task = asyncio.ensure_future(client.read_snapshot())
        for _ in range(100):
            if task.done():
                break
            sim.send(
                [
                    can.Message(
                        arbitration_id=0x123, data=bytes(8), is_extended_id=False
                    ),
                    can.Message(
                        arbitration_id=0x355, data=b"\xff", is_extended_id=False
                    ),
                    can.Message(arbitration_id=0x18FF50E5, data=bytes(8)),
                    can.Message(is_error_frame=True),
                ]
            )
            await asyncio.sleep(0.02)
        with pytest.raises(FrameError):
            await task
        driver = client.driver
        assert isinstance(driver, PylonCanDriver)
        assert driver.decoder.stats.malformed >= 1
        assert driver.decoder.stats.unknown >= 2
        assert driver.decoder.snapshot() is None
        transport = driver.transport
        assert isinstance(transport, CanTransport)
        assert transport.error_frames >= 1
    finally:
        await client.close()


async def test_never_transmits(channel: str) -> None:
    transport = CanTransport(CanSettings("virtual", channel))
    with pytest.raises(UnsupportedError):
        await transport.write(b"\x00")
    driver = PylonCanDriver(transport, DriverOptions())
    with pytest.raises(UnsupportedError):
        await driver.set_switch(SwitchKind.CHARGE, True)


async def test_adapter_gone_then_back(
    channel: str, sim: CanBroadcaster, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(channel)
    try:
        await (await _read_while_broadcasting(client, sim))
        transport = client.driver.transport
        assert isinstance(transport, CanTransport)
        bus = transport._bus
        assert bus is not None

        def unplugged(timeout: float | None = None) -> can.Message | None:
            raise can.CanOperationError("Network is down")

        monkeypatch.setattr(bus, "recv", unplugged)
        await _until(lambda: not client.is_connected)
        assert client.stats.lost_connections == 1
        # While the adapter is away, opening it fails as not found.
        monkeypatch.setattr(
            transport_module,
            "open_bus",
            _not_found,
        )
        with pytest.raises(BmsConnectionError):
            await client.read_snapshot()
        monkeypatch.undo()
        snapshot = await (await _read_while_broadcasting(client, sim))
        assert snapshot.state_of_charge == sim.pack.soc  # type: ignore[attr-defined]
    finally:
        await client.close()


def _not_found(settings: CanSettings) -> can.BusABC:
    raise CanNotFoundError(f"{settings.channel} is gone")


def test_open_unknown_interface() -> None:
    with pytest.raises(CanUnavailableError):
        open_bus(CanSettings("no_such_interface", "x"))


def test_open_missing_slcan_port() -> None:
    with pytest.raises(CanNotFoundError):
        open_bus(CanSettings("slcan", "/dev/ttyNO_SUCH_ADAPTER"))


def test_open_missing_gs_usb_adapter() -> None:
    """No adapter is plugged in; without libusb the interface cannot work at all."""
    expected = CanNotFoundError if usb_backend_present() else CanUnavailableError
    with pytest.raises(expected):
        open_bus(CanSettings("gs_usb", "0"))


@pytest.mark.parametrize(
    ("err", "kind"),
    [
        (OSError(19, "No such device"), CanNotFoundError),
        (OSError(16, "Device or resource busy"), CanBusyError),
        (OSError(13, "Permission denied"), CanPermissionError),
        (OSError(97, "Address family not supported"), CanUnavailableError),
        (can.CanInitializationError("Cannot find device 0"), CanNotFoundError),
        (ValueError("No backend available"), CanUnavailableError),
        (can.CanOperationError("something else"), CanAdapterError),
    ],
)
def test_adapter_error_kinds(err: Exception, kind: type[CanAdapterError]) -> None:
    found = adapter_error(err, CanSettings("socketcan", "can0"))
    assert type(found) is kind
    assert "socketcan can0" in str(found)


async def test_disconnect_when_closed_and_a_failing_shutdown(channel: str) -> None:
    transport = CanTransport(CanSettings("virtual", channel))
    await transport.disconnect()  # nothing open: nothing to do
    received: list[bytes] = []
    await transport.connect(received.append, lambda: None)
    bus = transport._bus
    assert bus is not None
    original = bus.shutdown

    def failing() -> None:
        original()
        raise can.CanOperationError("already gone")

    bus.shutdown = failing  # type: ignore[method-assign]
    await transport.disconnect()
    assert not transport.is_connected
    # A frame that arrives after the stop is dropped.
    transport._received(can.Message(arbitration_id=0x355, is_extended_id=False))
    assert received == []
