"""Protocol core: frame inbox, client session, matchers, registry, snapshot."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import ClassVar

import pytest

from bms_simulator.families.jbd import JbdSimulator
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol import registry
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import BmsDriver, DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    BmsError,
    BmsTimeoutError,
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.inbox import MAX_PENDING, FrameInbox
from custom_components.lithium_bms.protocol.jbd import JbdDriver
from custom_components.lithium_bms.protocol.jbd.frames import build_read
from custom_components.lithium_bms.protocol.matching import (
    Advertisement,
    AdvertisementMatcher,
    uuid16,
)
from custom_components.lithium_bms.protocol.snapshot import (
    NOT_A_PROBLEM,
    Alarm,
    BatterySnapshot,
    DeviceInfo,
    SwitchKind,
    Temperature,
    TemperatureKind,
)
from custom_components.lithium_bms.protocol.transport import (
    DataCallback,
    DisconnectCallback,
    GattProfile,
    Transport,
)

MANIFEST = (
    Path(__file__).parents[2] / "custom_components" / "lithium_bms" / "manifest.json"
)
FF00 = "0000ff00-0000-1000-8000-00805f9b34fb"


@pytest.fixture(autouse=True)
def fast_jbd(monkeypatch: pytest.MonkeyPatch) -> None:
    """No settle delay and short timeouts for the simulator-backed tests."""
    monkeypatch.setattr(JbdDriver, "request_timeout", 0.5)
    monkeypatch.setattr(JbdDriver, "connect_delay", 0.0)


# --- FrameInbox --------------------------------------------------------------


def any_frame(_frame: bytes) -> bool:
    return True


def test_take_returns_oldest_match_and_removes_it() -> None:
    inbox = FrameInbox()
    for frame in (b"a1", b"b1", b"a2", b"b2"):
        inbox.put(frame)
    is_b = lambda f: f.startswith(b"b")  # noqa: E731
    assert inbox.take(is_b) == b"b1"
    assert inbox.take(is_b) == b"b2"
    assert inbox.take(is_b) is None
    assert inbox.take(any_frame) == b"a1"
    assert inbox.take(any_frame) == b"a2"
    assert inbox.take(any_frame) is None


def test_inbox_keeps_only_the_newest_frames() -> None:
    inbox = FrameInbox()
    for i in range(MAX_PENDING + 8):
        inbox.put(bytes((i,)))
    assert inbox.take(any_frame) == bytes((8,))


async def test_wait_for_a_frame_already_there() -> None:
    inbox = FrameInbox()
    inbox.put(b"x")
    assert await inbox.wait_for(lambda f: f == b"x", 0.01) == b"x"


async def test_wait_for_a_later_frame_skipping_others() -> None:
    inbox = FrameInbox()
    loop = asyncio.get_running_loop()
    loop.call_soon(inbox.put, b"other")
    loop.call_later(0.01, inbox.put, b"wanted")
    assert await inbox.wait_for(lambda f: f == b"wanted", 1.0) == b"wanted"
    assert inbox.take(any_frame) == b"other"


async def test_wait_for_times_out() -> None:
    inbox = FrameInbox()
    inbox.put(b"other")
    with pytest.raises(BmsTimeoutError):
        await inbox.wait_for(lambda f: f == b"wanted", 0.02)


async def test_remembered_error_replaces_the_timeout() -> None:
    inbox = FrameInbox()
    first, last = FrameError("first"), ChecksumError("last")
    inbox.reject(first)
    inbox.reject(last)
    with pytest.raises(ChecksumError) as caught:
        await inbox.wait_for(any_frame, 0.02)
    assert caught.value is last


async def test_rejected_data_does_not_hide_a_good_frame() -> None:
    inbox = FrameInbox()
    inbox.reject(ChecksumError("bad"))
    asyncio.get_running_loop().call_soon(inbox.put, b"good")
    assert await inbox.wait_for(any_frame, 1.0) == b"good"


async def test_fail_wakes_a_waiter() -> None:
    inbox = FrameInbox()
    error = BmsConnectionError("gone")
    asyncio.get_running_loop().call_later(0.01, inbox.fail, error)
    started = asyncio.get_running_loop().time()
    with pytest.raises(BmsConnectionError) as caught:
        await inbox.wait_for(any_frame, 5.0)
    assert caught.value is error
    assert asyncio.get_running_loop().time() - started < 1.0


async def test_fail_before_waiting_and_frames_still_delivered() -> None:
    inbox = FrameInbox()
    inbox.put(b"kept")
    inbox.fail(BmsConnectionError("gone"))
    assert await inbox.wait_for(any_frame, 0.01) == b"kept"
    with pytest.raises(BmsConnectionError):
        await inbox.wait_for(any_frame, 0.01)


async def test_clear_forgets_frames_errors_and_failure() -> None:
    inbox = FrameInbox()
    inbox.put(b"old")
    inbox.reject(FrameError("old"))
    inbox.fail(BmsConnectionError("old"))
    inbox.clear()
    assert inbox.take(any_frame) is None
    with pytest.raises(BmsTimeoutError):
        await inbox.wait_for(any_frame, 0.01)


# --- BmsDriver base and BmsClient ---------------------------------------------


class EchoTransport(Transport):
    """Answers every write with the same bytes."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.on_data: DataCallback | None = None
        self.on_disconnect: DisconnectCallback | None = None
        self.fail_connect = False

    @property
    def is_connected(self) -> bool:
        return self.on_data is not None

    async def connect(
        self, on_data: DataCallback, on_disconnect: DisconnectCallback
    ) -> None:
        if self.fail_connect:
            raise BmsConnectionError("refused")
        self.on_data = on_data
        self.on_disconnect = on_disconnect

    async def write(self, data: bytes) -> None:
        self.writes.append(data)
        on_data = self.on_data
        assert on_data is not None
        asyncio.get_running_loop().call_soon(on_data, data)

    async def disconnect(self) -> None:
        self.on_data = None


class WholeChunks:
    """Every chunk is one frame; a chunk saying "bad" is an invalid frame."""

    def __init__(self) -> None:
        self.resets = 0

    def feed(self, data: bytes) -> tuple[list[bytes], list[ProtocolError]]:
        if data == b"bad":
            return [], [FrameError("bad frame")]
        return [data], []

    def reset(self) -> None:
        self.resets += 1


class EchoDriver(BmsDriver):
    """The smallest driver: every frame is one echoed write."""

    family = "echo"
    manufacturer = "Test"
    gatt = (GattProfile(service=0xAAAA, notify=0xAAAB, write=0xAAAC),)
    matchers: ClassVar[tuple[AdvertisementMatcher, ...]] = ()

    def new_reassembler(self) -> WholeChunks:
        return WholeChunks()

    async def read_device_info(self) -> DeviceInfo:
        return DeviceInfo(manufacturer=self.manufacturer)

    async def read_snapshot(self) -> BatterySnapshot:
        frame = await self.exchange(b"read", lambda f: f == b"read", 0.5)
        return BatterySnapshot(
            voltage=len(frame), current=0.0, cell_voltages=(len(frame),)
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        raise FrameError(f"{kind} {on}")


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


# --- AdvertisementMatcher ----------------------------------------------------


def adv(
    name: str | None = None,
    uuids: tuple[str, ...] = (),
    manufacturer: dict[int, bytes] | None = None,
) -> Advertisement:
    return Advertisement("A4:C1:37:00:11:22", name, uuids, manufacturer)


def test_uuid16() -> None:
    assert uuid16(0xFF00) == FF00
    assert uuid16(0xFFE0) == "0000ffe0-0000-1000-8000-00805f9b34fb"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("JBD-SP04S034", True),
        ("JBD-", True),
        ("jbd-sp04s034", False),
        ("xJBD-SP04", False),
        ("JBD", False),
        ("", False),
        (None, False),
    ],
)
def test_name_wildcard(name: str | None, expected: bool) -> None:
    assert AdvertisementMatcher(local_name="JBD-*").matches(adv(name)) is expected


def test_name_pattern_features() -> None:
    assert AdvertisementMatcher(local_name="DL-?1").matches(adv("DL-A1"))
    assert not AdvertisementMatcher(local_name="DL-?1").matches(adv("DL-AB1"))
    assert AdvertisementMatcher(local_name="SP[0-9]*").matches(adv("SP17S005"))
    assert AdvertisementMatcher(local_name="exact").matches(adv("exact"))
    assert not AdvertisementMatcher(local_name="exact").matches(adv("exactly"))


def test_service_uuid_is_case_insensitive() -> None:
    lower = AdvertisementMatcher(service_uuid=FF00)
    upper = AdvertisementMatcher(service_uuid=FF00.upper())
    for matcher in (lower, upper):
        assert matcher.matches(adv(uuids=(FF00.upper(),)))
        assert matcher.matches(adv(uuids=(uuid16(0x180F), FF00)))
        assert not matcher.matches(adv(uuids=(uuid16(0xFFE0),)))
        assert not matcher.matches(adv())


def test_manufacturer_id_and_data_start() -> None:
    by_id = AdvertisementMatcher(manufacturer_id=0x0B65)
    assert by_id.matches(adv(manufacturer={0x0B65: b""}))
    assert not by_id.matches(adv(manufacturer={0x0B66: b"\x88\xa0"}))
    assert not by_id.matches(adv(manufacturer=None))
    assert not by_id.matches(adv(manufacturer={}))
    start = AdvertisementMatcher(
        manufacturer_id=0x0B65, manufacturer_data_start=b"\x88\xa0"
    )
    assert start.matches(adv(manufacturer={0x0B65: b"\x88\xa0\x01\x02"}))
    assert start.matches(adv(manufacturer={0x0B65: b"\x88\xa0"}))
    assert not start.matches(adv(manufacturer={0x0B65: b"\x88"}))
    assert not start.matches(adv(manufacturer={0x0B65: b"\x00\x88\xa0"}))
    assert not start.matches(adv(manufacturer={0x0B66: b"\x88\xa0"}))


def test_fields_are_combined_with_and() -> None:
    matcher = AdvertisementMatcher(
        local_name="DL-*", service_uuid=uuid16(0xFFF0), manufacturer_id=770
    )
    full = {"name": "DL-1", "uuids": (uuid16(0xFFF0),), "manufacturer": {770: b"x"}}
    assert matcher.matches(adv(**full))  # type: ignore[arg-type]
    assert not matcher.matches(adv(**{**full, "name": "XX-1"}))  # type: ignore[arg-type]
    assert not matcher.matches(adv(**{**full, "uuids": ()}))  # type: ignore[arg-type]
    assert not matcher.matches(adv(**{**full, "manufacturer": {771: b"x"}}))  # type: ignore[arg-type]
    assert AdvertisementMatcher().matches(adv())


def test_as_manifest() -> None:
    assert AdvertisementMatcher(local_name="JBD-*").as_manifest() == {
        "local_name": "JBD-*",
        "connectable": True,
    }
    full = AdvertisementMatcher(
        local_name="JK-*",
        service_uuid=uuid16(0xFFE0),
        manufacturer_id=2917,
        manufacturer_data_start=b"\x88\xa0",
    )
    assert full.as_manifest() == {
        "local_name": "JK-*",
        "service_uuid": "0000ffe0-0000-1000-8000-00805f9b34fb",
        "manufacturer_id": 2917,
        "manufacturer_data_start": [0x88, 0xA0],
        "connectable": True,
    }
    assert json.loads(json.dumps(full.as_manifest())) == full.as_manifest()


# --- registry ----------------------------------------------------------------


def test_driver_by_family() -> None:
    assert registry.driver_by_family("jbd") is JbdDriver
    for driver in registry.DRIVERS:
        assert registry.driver_by_family(driver.family) is driver
    with pytest.raises(KeyError):
        registry.driver_by_family("unknown")


def test_families_are_unique() -> None:
    families = [driver.family for driver in registry.DRIVERS]
    assert len(families) == len(set(families))


def test_driver_for_advertisement() -> None:
    assert registry.driver_for_advertisement(adv("JBD-SP04S034", (FF00,))) is JbdDriver
    assert registry.driver_for_advertisement(adv("JBD-SP04S034")) is JbdDriver
    assert registry.driver_for_advertisement(adv("Some Speaker")) is None
    assert registry.driver_for_advertisement(adv(None, (uuid16(0x180F),))) is None


def test_first_matching_family_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    class Wide(EchoDriver):
        family = "wide"
        matchers = (AdvertisementMatcher(local_name="*"),)

    class Narrow(EchoDriver):
        family = "narrow"
        matchers = (AdvertisementMatcher(local_name="N-*"),)

    monkeypatch.setattr(registry, "DRIVERS", (Narrow, Wide))
    assert registry.driver_for_advertisement(adv("N-1")) is Narrow
    assert registry.driver_for_advertisement(adv("W-1")) is Wide
    monkeypatch.setattr(registry, "DRIVERS", (Wide, Narrow))
    assert registry.driver_for_advertisement(adv("N-1")) is Wide


def test_manifest_lists_every_matcher() -> None:
    manifest = json.loads(MANIFEST.read_text())
    expected = [m.as_manifest() for d in registry.DRIVERS for m in d.matchers]
    assert manifest["bluetooth"] == expected


# --- BatterySnapshot -----------------------------------------------------------


def test_power_sign_follows_current() -> None:
    assert BatterySnapshot(voltage=13.2, current=10.0).power == pytest.approx(132.0)
    assert BatterySnapshot(voltage=13.2, current=-5.0).power == pytest.approx(-66.0)
    assert BatterySnapshot(voltage=13.2, current=0.0).power == 0.0


def test_cell_statistics() -> None:
    snap = BatterySnapshot(
        voltage=13.2, current=0.0, cell_voltages=(3.3, 3.1, 3.2, 3.25)
    )
    assert snap.cell_voltage_min == 3.1
    assert snap.cell_voltage_max == 3.3
    assert snap.cell_voltage_delta == 0.2
    assert snap.cell_voltage_average == 3.2125
    odd = BatterySnapshot(voltage=10.0, current=0.0, cell_voltages=(3.301, 3.302, 3.3))
    assert odd.cell_voltage_average == 3.301
    assert odd.cell_voltage_delta == 0.002


def test_cell_statistics_without_cells() -> None:
    snap = BatterySnapshot(voltage=13.2, current=0.0)
    assert snap.cell_voltage_min is None
    assert snap.cell_voltage_max is None
    assert snap.cell_voltage_delta is None
    assert snap.cell_voltage_average is None


@pytest.mark.parametrize(
    ("current", "remaining", "expected"),
    [
        (-10.0, 50.0, 18000.0),
        (-0.5, 1.0, 7200.0),
        (10.0, 50.0, None),
        (0.0, 50.0, None),
        (-10.0, None, None),
    ],
)
def test_runtime_only_while_discharging(
    current: float, remaining: float | None, expected: float | None
) -> None:
    snap = BatterySnapshot(voltage=13.2, current=current, remaining_capacity=remaining)
    assert snap.runtime == expected


def test_problem_ignores_the_mosfet_lock() -> None:
    assert frozenset({Alarm.MOSFET_LOCK}) == NOT_A_PROBLEM
    assert not BatterySnapshot(voltage=1.0, current=0.0).problem
    locked = BatterySnapshot(voltage=1.0, current=0.0, alarms=frozenset(NOT_A_PROBLEM))
    assert not locked.problem
    both = BatterySnapshot(
        voltage=1.0,
        current=0.0,
        alarms=frozenset({Alarm.MOSFET_LOCK, Alarm.SHORT_CIRCUIT}),
    )
    assert both.problem
    for alarm in set(Alarm) - NOT_A_PROBLEM:
        assert BatterySnapshot(
            voltage=1.0, current=0.0, alarms=frozenset({alarm})
        ).problem


def test_probe_and_mosfet_temperatures() -> None:
    probes = (
        Temperature(TemperatureKind.CELL, 21.0),
        Temperature(TemperatureKind.MOSFET, 35.5),
        Temperature(TemperatureKind.AMBIENT, None),
        Temperature(TemperatureKind.CELL, 22.0),
    )
    snap = BatterySnapshot(voltage=1.0, current=0.0, temperatures=probes)
    assert snap.probe_temperatures == (probes[0], probes[2], probes[3])
    assert snap.mosfet_temperature == 35.5
    assert snap.has_mosfet_probe
    cells_only = BatterySnapshot(voltage=1.0, current=0.0, temperatures=probes[:1])
    assert cells_only.probe_temperatures == probes[:1]
    assert cells_only.mosfet_temperature is None
    assert not cells_only.has_mosfet_probe
    unplugged = BatterySnapshot(
        voltage=1.0,
        current=0.0,
        temperatures=(Temperature(TemperatureKind.MOSFET, None),),
    )
    assert unplugged.mosfet_temperature is None
    assert unplugged.has_mosfet_probe
    assert unplugged.probe_temperatures == ()


def test_snapshot_is_immutable_and_defaults_are_empty() -> None:
    snap = BatterySnapshot(voltage=1.0, current=0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.voltage = 2.0  # type: ignore[misc]
    assert snap.switches == {}
    assert snap.alarms == frozenset()
    assert snap.cell_voltages == ()
    assert snap.state_of_charge is None


def test_alarm_keys_are_stable_entity_keys() -> None:
    values = [alarm.value for alarm in Alarm]
    assert len(values) == len(set(values))
    assert all(v == v.lower() and " " not in v for v in values)
    assert Alarm("cell_overvoltage") is Alarm.CELL_OVERVOLTAGE
    assert SwitchKind("charge_mosfet") is SwitchKind.CHARGE


def test_error_hierarchy() -> None:
    assert issubclass(ChecksumError, ProtocolError)
    assert issubclass(FrameError, ProtocolError)
    assert issubclass(ProtocolError, BmsError)
    assert issubclass(BmsTimeoutError, BmsError)
    assert not issubclass(BmsTimeoutError, TimeoutError)
