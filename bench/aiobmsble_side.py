"""Our drivers beside aiobmsble, on the same simulated devices, under bleak 3.

Run in the bleak 3.x environment (aiobmsble requires bleak >= 3), which has no
Home Assistant: ``python -m bench.aiobmsble_side --updates N --replays N``.
Both stacks connect through a real ``bleak.BleakClient`` whose backend is the
simulator's (:mod:`bms_simulator.backend`); prints one JSON object.
"""

from __future__ import annotations

from bms_simulator.standalone import without_home_assistant

without_home_assistant()

# ruff: noqa: E402, SLF001  (imports after the registration; aiobmsble internals)
import argparse
import asyncio
import importlib
import importlib.metadata
import inspect
import json
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

import bleak
import bleak_retry_connector
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice

from bms_simulator.backend import SimulatedBleakClient
from bms_simulator.device import SimCharacteristic, SimService, SimulatedBms
from bms_simulator.link import BleLink, Exchange
from custom_components.lithium_bms.protocol.ble import BleTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import BmsDriver, DriverOptions
from custom_components.lithium_bms.protocol.plausibility import check
from custom_components.lithium_bms.protocol.registry import driver_by_family
from custom_components.lithium_bms.protocol.snapshot import BatterySnapshot

from .devices import VARIANT_DEMOS, bench_device, families, family_of, vary
from .replay import ReplayTransport, time_cycles
from .vclock import run_virtual

ADDRESS = "C0:FF:EE:00:00:02"
# Notification size of the comparison: what an ESPHome proxy negotiates.
# aiobmsble's Daly parser needs each frame in one notification.
COMPARE_MTU = 244
# The aiobmsble module of each family it supports. Not compared: ABC-BMS
# (aiobmsble also asks a reply our simulator does not send) and MyVolta (the
# two parsers disagree on a data byte 04 or 05, which no capture shows, and
# the benchmark's cell voltages reach one: aiobmsble then waits forever).
AIOBMSBLE_MODULES = {
    "jbd": "aiobmsble.bms.jbd_bms",
    "jk": "aiobmsble.bms.jikong_bms",
    "daly": "aiobmsble.bms.daly_bms",
    "seplos": "aiobmsble.bms.seplos_bms",
    "seplos_v2_ble": "aiobmsble.bms.seplos_v2_bms",
    "eg4": "aiobmsble.bms.eg4_bms",
    "pace": "aiobmsble.bms.pace_bms",
    "pylontech": "aiobmsble.bms.pylontech_bms",
    "gobel": "aiobmsble.bms.gobel_bms",
    "renogy": "aiobmsble.bms.renogy_bms",
    "redodo": "aiobmsble.bms.redodo_bms",
    "topband": "aiobmsble.bms.topband_bms",
    "felicity": "aiobmsble.bms.felicity_bms",
    "cbtpwr": "aiobmsble.bms.cbtpwr_bms",
    "cbtpwr_vb": "aiobmsble.bms.cbtpwr_vb_bms",
    "ej": "aiobmsble.bms.ej_bms",
    "tdt": "aiobmsble.bms.tdt_bms",
    "roypow": "aiobmsble.bms.roypow_bms",
    "ecoworthy": "aiobmsble.bms.ecoworthy_bms",
    "neey": "aiobmsble.bms.neey_bms",
    "braunpwr": "aiobmsble.bms.braunpwr_bms",
    "ant": "aiobmsble.bms.ant_bms",
    "ant_legacy": "aiobmsble.bms.ant_leg_bms",
    "pwrboozt": "aiobmsble.bms.pwrboozt_bms",
    "humsienk": "aiobmsble.bms.humsienk_bms",
    "vatrer": "aiobmsble.bms.vatrer_bms",
    "vatrer_c4s": "aiobmsble.bms.c4s_bms",
    "ogt": "aiobmsble.bms.ogt_bms",
    "tianpwr": "aiobmsble.bms.tianpwr_bms",
    "superb": "aiobmsble.bms.superb_bms",
    "saihang": "aiobmsble.bms.saihang_bms",
    "buknuwo": "aiobmsble.bms.buknuwo_bms",
}


class Tap:
    """Records what crosses the simulated link, as exchanges."""

    def __init__(self) -> None:
        """Not recording yet."""
        self.recording: list[Exchange] = [Exchange(b"")]

    def restart(self) -> list[Exchange]:
        """Start a new recording; return the previous one."""
        previous, self.recording = self.recording, [Exchange(b"")]
        return previous


def _backend_class(devices: dict[str, SimulatedBms], tap: Tap) -> type[Any]:
    """A bleak backend bound to ``devices`` (bleak wants a class, not a partial)."""

    class TappedBackend(SimulatedBleakClient):
        def __init__(
            self, address_or_ble_device: BLEDevice | str, **kwargs: Any
        ) -> None:
            super().__init__(address_or_ble_device, devices=devices, **kwargs)

        def _on_notify(self, handle: int, data: bytes) -> None:
            tap.recording[-1].replies.append(data)
            super()._on_notify(handle, data)

        async def write_gatt_char(
            self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
        ) -> None:
            tap.recording.append(Exchange(bytes(data)))
            await super().write_gatt_char(characteristic, data, response)

    return TappedBackend


def _client_class(base: type[Any], backend: type[Any]) -> type[Any]:
    """A ``BleakClient`` subclass that always uses ``backend``."""

    class SimulatedClient(base):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["backend"] = backend
            super().__init__(*args, **kwargs)

    return SimulatedClient


class Stack(Protocol):
    """One library reading one device."""

    async def start(self) -> object:
        """Connect, read the device information and a first update."""

    async def update(self) -> object:
        """One update."""

    async def replay_cpu(
        self, recording: list[Exchange], replays: int, expected: object
    ) -> float:
        """CPU microseconds per update, replaying ``recording``."""

    def extra_cpu(self, expected: object, replays: int) -> dict[str, float]:
        """CPU of work the library does per update outside the replay, µs."""

    async def close(self) -> None:
        """Disconnect."""


class OurStack:
    """This integration's driver and session over ``BleTransport``."""

    def __init__(self, family: str, device: BLEDevice) -> None:
        """Build the driver for ``family``."""
        driver_class = driver_by_family(family)
        self.driver: BmsDriver = driver_class(
            BleTransport(lambda: device, driver_class.gatt),
            DriverOptions(address=device.address, name=device.name),
        )
        self.client = BmsClient(self.driver)

    async def start(self) -> object:
        """Device information and a first snapshot."""
        await self.client.read_device_info()
        return await self.client.read_snapshot()

    async def update(self) -> object:
        """One snapshot."""
        return await self.client.read_snapshot()

    async def replay_cpu(
        self, recording: list[Exchange], replays: int, expected: object
    ) -> float:
        """Replay into the live driver through :class:`ReplayTransport`."""
        live = self.driver.transport
        replay = ReplayTransport(recording, self.driver.feed)
        self.driver.transport = replay
        state = vars(self.driver).copy()

        async def cycle() -> object:
            vars(self.driver).update(state)
            replay.rewind()
            return await self.driver.read_snapshot()

        try:
            return await time_cycles(cycle, replays, expected)
        finally:
            vars(self.driver).update(state)
            self.driver.transport = live

    def extra_cpu(self, expected: object, replays: int) -> dict[str, float]:
        """The plausibility gate, which the client runs on every snapshot."""
        if not isinstance(expected, BatterySnapshot):
            raise TypeError("our stack reads battery snapshots")
        limits = self.driver.limits
        started = time.process_time()
        for _ in range(replays):
            check(expected, limits)
        spent = time.process_time() - started
        return {"gate_cpu_us": round(spent / replays * 1e6, 1)}

    async def close(self) -> None:
        """Disconnect."""
        await self.client.close()


class _ReplayBleakClient:
    """Stands in for aiobmsble's ``BleakClient``: writes get recorded replies."""

    def __init__(self, recording: list[Exchange], handler: Callable[..., Any]) -> None:
        self._recording = recording
        self._handler = handler
        self._next = 1
        self.is_connected = True
        self.services = self

    def get_characteristic(self, _char: object) -> None:
        """No characteristic details: aiobmsble then writes without response."""

    def rewind(self) -> None:
        self._next = 1
        self._deliver(self._recording[0])

    def _deliver(self, exchange: Exchange) -> None:
        for chunk in exchange.replies:
            self._handler(None, bytearray(chunk))

    async def write_gatt_char(self, *_args: object, **_kwargs: object) -> None:
        exchange = self._recording[self._next]
        self._next += 1
        self._deliver(exchange)


class AiobmsbleStack:
    """aiobmsble's BMS class of the family."""

    def __init__(self, module: str, device: BLEDevice) -> None:
        """Create the BMS object (it creates its own ``BleakClient``)."""
        self.bms: Any = importlib.import_module(module).BMS(device)

    async def start(self) -> object:
        """Device information and a first update."""
        await self.bms.device_info()
        return await self.bms.async_update()

    async def update(self) -> object:
        """One update."""
        return await self.bms.async_update()

    async def replay_cpu(
        self, recording: list[Exchange], replays: int, expected: object
    ) -> float:
        """Replay into the notification handler, with a stand-in client."""
        handler = self.bms._notification_handler
        if inspect.iscoroutinefunction(handler):
            raise TypeError("asynchronous notification handlers are not replayed")
        live = self.bms._client
        replay = _ReplayBleakClient(recording, handler)
        self.bms._client = replay
        state = vars(self.bms).copy()

        async def cycle() -> object:
            vars(self.bms).update(state)
            replay.rewind()
            return await self.bms.async_update()

        try:
            return await time_cycles(cycle, replays, expected)
        finally:
            vars(self.bms).update(state)
            self.bms._client = live

    def extra_cpu(self, expected: object, replays: int) -> dict[str, float]:
        """Nothing: aiobmsble has no gate after its parser."""
        return {}

    async def close(self) -> None:
        """Disconnect."""
        await self.bms.disconnect()


async def _measure(
    *,
    stack_factory: Callable[[BLEDevice], Stack],
    device: SimulatedBms,
    tap: Tap,
    updates: int,
    replays: int,
    interval: float,
) -> dict[str, float]:
    ble_device = BLEDevice(device.address, device.advertising.name, None)
    stack = stack_factory(ble_device)
    await stack.start()
    writes = len(device.writes)
    tap.restart()
    cpu = time.process_time()
    result: object = None
    last: list[Exchange] = []
    for step in range(updates):
        await asyncio.sleep(interval)
        vary(device, step)
        result = await stack.update()
        last = tap.restart()
    live_cpu = (time.process_time() - cpu) / updates
    requests = (len(device.writes) - writes) / updates
    replay = await stack.replay_cpu(last, replays, result)
    extra = stack.extra_cpu(result, replays)
    await stack.close()
    return {
        "requests": round(requests, 2),
        "protocol_cpu_us": replay,
        "live_cpu_us": round(live_cpu * 1e6, 1),
    } | extra


def merge_duplicate_characteristics(device: SimulatedBms) -> bool:
    """Give each UUID one characteristic (some JK modules expose FFE1 twice).

    aiobmsble 0.31 addresses characteristics by UUID, which bleak refuses when
    a UUID repeats; the merged one keeps the notify handle and every property.
    Returns whether anything was merged.
    """
    merged = False
    services: list[SimService] = []
    for service in device.services:
        by_uuid: dict[int | str, SimCharacteristic] = {}
        for char in service.characteristics:
            seen = by_uuid.get(char.uuid)
            if seen is None:
                by_uuid[char.uuid] = char
                continue
            merged = True
            handle = char.handle if char.handle == device.notify_handle else seen.handle
            props = tuple(dict.fromkeys(seen.properties + char.properties))
            by_uuid[char.uuid] = SimCharacteristic(handle, char.uuid, props)
        services.append(
            SimService(service.handle, service.uuid, tuple(by_uuid.values()))
        )
    device.services = tuple(services)
    return merged


def _family(
    family: str, updates: int, replays: int, interval: float, mtu: int
) -> dict[str, Any]:
    module = AIOBMSBLE_MODULES[family]
    figures: dict[str, Any] = {"aiobmsble_module": module}
    stacks: dict[str, Callable[[BLEDevice], Stack]] = {
        "ours": lambda ble: OurStack(family_of(family), ble),
        "aiobmsble": lambda ble: AiobmsbleStack(module, ble),
    }
    for name, factory in stacks.items():
        # Latencies cost nothing on virtual time; with none, chunks due at the
        # same instant could be delivered out of order.
        device = BleLink(mtu).apply(bench_device(family, ADDRESS))
        figures["merged_gatt"] = merge_duplicate_characteristics(device)
        tap = Tap()
        _install(_backend_class({ADDRESS: device}, tap))
        figures[name] = run_virtual(
            _measure(
                stack_factory=factory,
                device=device,
                tap=tap,
                updates=updates,
                replays=replays,
                interval=interval,
            )
        )
    ours, theirs = figures["ours"], figures["aiobmsble"]
    figures["cpu_ratio"] = round(ours["protocol_cpu_us"] / theirs["protocol_cpu_us"], 2)
    return figures


def _install(backend: type[Any]) -> None:
    """Route both libraries' bleak clients to ``backend``."""
    basebms = importlib.import_module("aiobmsble.basebms")
    basebms.BleakClient = _client_class(bleak.BleakClient, backend)  # type: ignore[attr-defined]
    bleak_retry_connector.BleakClientWithServiceCache = _client_class(  # type: ignore[misc]
        _ORIGINAL_CACHE_CLIENT, backend
    )


_ORIGINAL_CACHE_CLIENT = bleak_retry_connector.BleakClientWithServiceCache


def main() -> None:
    """Measure every family both libraries support; print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=50)
    parser.add_argument("--replays", type=int, default=2000)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--mtu", type=int, default=COMPARE_MTU)
    args = parser.parse_args()
    result: dict[str, Any] = {
        "mtu": args.mtu,
        "versions": {
            name: importlib.metadata.version(name)
            for name in ("aiobmsble", "bleak", "bleak-retry-connector")
        },
        "families": {
            family: _family(family, args.updates, args.replays, args.interval, args.mtu)
            for family in (*families(), *VARIANT_DEMOS)
            if family in AIOBMSBLE_MODULES
        },
    }
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
