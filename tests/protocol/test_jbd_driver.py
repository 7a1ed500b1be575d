"""The JBD driver through BmsClient, against the JBD simulator and scripted links."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bms_simulator.device import Fault
from bms_simulator.jbd import ALARM_BITS, JbdSimulator
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.client import FRAME_LOG_SIZE, BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    AuthenticationError,
    BmsConnectionError,
    BmsError,
    BmsTimeoutError,
    ChecksumError,
    CommandNotConfirmedError,
    FrameError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.jbd import (
    PROTECTION_BITS,
    ROOT_PASSWORD,
    JbdDriver,
    _kept_enabled,
    auth_frame,
    auth_secret,
    build_mosfet,
    build_read,
)
from custom_components.lithium_bms.protocol.matching import Advertisement, uuid16
from custom_components.lithium_bms.protocol.snapshot import (
    Alarm,
    SwitchKind,
    Temperature,
    TemperatureKind,
)
from custom_components.lithium_bms.protocol.transport import (
    DataCallback,
    DisconnectCallback,
    Transport,
)

ADDRESS = "A4:C1:37:00:11:22"
PASSWORD = "123456"
LOCK = 1 << 12
READ_BASIC = build_read(0x03)
READ_CELLS = build_read(0x04)
READ_MODEL = build_read(0x05)
APP_KEY = auth_frame(0x15, b"000000")
VECTORS = Path(__file__).parent / "data" / "jbd_vectors.json"


@pytest.fixture(autouse=True)
def fast_jbd(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(JbdDriver, "request_timeout", 0.05)
    monkeypatch.setattr(JbdDriver, "auth_timeout", 0.05)
    monkeypatch.setattr(JbdDriver, "connect_delay", 0.0)


@pytest.fixture
def sim() -> JbdSimulator:
    device = JbdSimulator(ADDRESS, "JBD-SP04S034")
    device.pack.cell_voltages = [3.301, 3.302, 3.299, 3.305]
    device.pack.current = -2.5
    device.pack.soc = 64
    device.pack.cycles = 7
    device.pack.temperatures = [21.5, 22.0, 23.1]
    return device


type MakeClient = Callable[..., BmsClient]


@pytest.fixture
async def make_client(sim: JbdSimulator) -> AsyncIterator[MakeClient]:
    clients: list[BmsClient] = []

    def _make(keep_connected: bool = True, **options: Any) -> BmsClient:
        options.setdefault("address", ADDRESS)
        driver = JbdDriver(SimulatorTransport(sim), DriverOptions(**options))
        client = BmsClient(driver, keep_connected=keep_connected)
        clients.append(client)
        return client

    yield _make
    for client in clients:
        await client.close()


def mosfet_writes(sim: JbdSimulator) -> list[int]:
    """The 0xE1 disable masks the host wrote, in order."""
    return [w[5] for w in sim.writes if w[:3] == b"\xdd\x5a\xe1"]


def auth_writes(sim: JbdSimulator | ScriptedTransport) -> list[bytes]:
    return [w for w in sim.writes if w[:2] == b"\xff\xaa"]


class ScriptedTransport(Transport):
    """Answers requests from a table, in 20-byte notifications."""

    def __init__(self, answers: dict[bytes, bytes]) -> None:
        self.answers = answers
        self.writes: list[bytes] = []
        self._on_data: DataCallback | None = None

    @property
    def is_connected(self) -> bool:
        return self._on_data is not None

    async def connect(
        self, on_data: DataCallback, on_disconnect: DisconnectCallback
    ) -> None:
        self._on_data = on_data

    async def write(self, data: bytes) -> None:
        self.writes.append(data)
        answer = self.answers.get(data, b"")
        loop = asyncio.get_running_loop()
        for i in range(0, len(answer), 20):
            loop.call_soon(self._deliver, answer[i : i + 20])

    def _deliver(self, chunk: bytes) -> None:
        if self._on_data is not None:
            self._on_data(chunk)

    async def disconnect(self) -> None:
        self._on_data = None


def scripted(answers: dict[bytes, bytes], **options: Any) -> BmsClient:
    options.setdefault("address", ADDRESS)
    driver = JbdDriver(ScriptedTransport(answers), DriverOptions(**options))
    return BmsClient(driver)


def reply(register: int, payload: bytes, status: int = 0) -> bytes:
    body = bytes((status, len(payload))) + payload
    chk = (-sum(body) % 0x10000).to_bytes(2, "big")
    return bytes((0xDD, register)) + body + chk + b"\x77"


def vector(index: int) -> bytes:
    return bytes.fromhex(json.loads(VECTORS.read_text())[index]["hex"])


# --- reads -------------------------------------------------------------------


async def test_device_info(make_client: MakeClient) -> None:
    info = await make_client().read_device_info()
    assert info.manufacturer == "Jiabaida (JBD)"
    assert info.model == "JBD-SP04S034-L4S-200A-B-U"
    assert info.sw_version == "8.0"


async def test_snapshot_equals_pack(sim: JbdSimulator, make_client: MakeClient) -> None:
    sim.pack.balancing_cells = {2, 4}
    snap = await make_client().read_snapshot()
    assert snap.voltage == 13.21
    assert snap.current == -2.5
    assert snap.cell_voltages == (3.301, 3.302, 3.299, 3.305)
    assert snap.state_of_charge == 64.0
    assert snap.remaining_capacity == 64.0
    assert snap.full_capacity == 100.0
    assert snap.design_capacity == 100.0
    assert snap.cycles == 7
    assert snap.temperatures == (
        Temperature(TemperatureKind.CELL, 21.5),
        Temperature(TemperatureKind.CELL, 22.0),
        Temperature(TemperatureKind.CELL, 23.1),
    )
    assert snap.balancing is True
    assert snap.balancing_cells == frozenset({2, 4})
    assert snap.charge_mosfet is True
    assert snap.discharge_mosfet is True
    assert snap.switches == {SwitchKind.CHARGE: True, SwitchKind.DISCHARGE: True}
    assert snap.alarms == frozenset()
    assert snap.supported_alarms == frozenset(PROTECTION_BITS.values())
    assert snap.protection_code == 0
    assert snap.problem is False
    assert snap.cell_voltage_delta == 0.006
    assert snap.runtime == pytest.approx(64.0 / 2.5 * 3600)


async def test_snapshot_of_a_large_pack(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    sim.pack.cell_voltages = [3.2 + i / 1000 for i in range(24)]
    sim.pack.balancing_cells = {1, 16, 17, 24}
    sim.pack.current = 12.34
    sim.pack.temperatures = [-5.0]
    snap = await make_client().read_snapshot()
    assert snap.cell_voltages == tuple(round(3.2 + i / 1000, 3) for i in range(24))
    assert snap.balancing_cells == frozenset({1, 16, 17, 24})
    assert snap.current == 12.34
    assert snap.runtime is None
    assert snap.temperatures == (Temperature(TemperatureKind.CELL, -5.0),)


async def test_not_balancing(make_client: MakeClient) -> None:
    snap = await make_client().read_snapshot()
    assert snap.balancing is False
    assert snap.balancing_cells == frozenset()


@pytest.mark.parametrize("key", sorted(ALARM_BITS))
async def test_each_alarm(sim: JbdSimulator, make_client: MakeClient, key: str) -> None:
    sim.pack.alarms = {key}
    snap = await make_client().read_snapshot()
    assert snap.alarms == {Alarm(key)}
    assert snap.problem is True
    assert snap.protection_code == 1 << ALARM_BITS[key]


async def test_alarms_and_blocked_fets(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    sim.pack.alarms = {"cell_undervoltage", "charge_overtemperature"}
    snap = await make_client().read_snapshot()
    assert snap.alarms == {Alarm.CELL_UNDERVOLTAGE, Alarm.CHARGE_OVERTEMPERATURE}
    assert snap.charge_mosfet is False
    assert snap.discharge_mosfet is False
    assert snap.switches == {SwitchKind.CHARGE: False, SwitchKind.DISCHARGE: False}


async def test_mosfet_lock_is_not_a_problem(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    sim.pack.charge_enabled = False
    snap = await make_client().read_snapshot()
    assert snap.alarms == {Alarm.MOSFET_LOCK}
    assert snap.problem is False
    assert snap.charge_mosfet is False
    assert snap.discharge_mosfet is True


@pytest.mark.parametrize(("invert", "current"), [(True, 2.5), (False, -2.5)])
async def test_invert_current(
    make_client: MakeClient, invert: bool, current: float
) -> None:
    assert (await make_client(invert_current=invert).read_snapshot()).current == current


async def test_reference_frames_end_to_end() -> None:
    client = scripted(
        {READ_BASIC: vector(4), READ_CELLS: vector(5), READ_MODEL: vector(2)}
    )
    snap = await client.read_snapshot()
    assert snap.voltage == 66.23
    assert snap.current == -20.12
    assert snap.remaining_capacity == 34.93
    assert snap.full_capacity == 40.0
    assert snap.state_of_charge == 87.0
    assert [t.value for t in snap.temperatures] == [23.7, 25.4, 23.5, 23.6]
    assert len(snap.cell_voltages) == 17
    assert snap.cell_voltage_min == 3.783
    assert snap.cell_voltage_max == 3.791
    assert snap.cell_voltage_delta == 0.008
    info = await client.read_device_info()
    assert info.model == "JBD-SP04S034-L4S-200A-B-U"
    assert info.sw_version == "1.2"
    await client.close()


async def test_empty_model_is_none() -> None:
    client = scripted({READ_MODEL: reply(0x05, b"\x00\x00"), READ_BASIC: vector(0)})
    info = await client.read_device_info()
    assert info.model is None
    assert info.sw_version == "8.0"
    await client.close()


async def test_error_status_reply_is_a_frame_error() -> None:
    client = scripted({READ_BASIC: reply(0x03, b"", status=0x80)})
    with pytest.raises(FrameError):
        await client.read_snapshot()
    assert client.is_connected
    await client.close()


async def test_stray_reply_is_ignored() -> None:
    # A reply to another register arrives first; the driver waits for its own.
    client = scripted(
        {READ_BASIC: vector(2) + vector(0), READ_CELLS: vector(7) + vector(1)}
    )
    snap = await client.read_snapshot()
    assert snap.voltage == 15.6
    assert snap.cell_voltages == (3.909, 3.901, 3.895, 3.901)
    await client.close()


def test_claims() -> None:
    assert JbdDriver.claims(Advertisement(ADDRESS, None, (uuid16(0xFF00),)))
    assert JbdDriver.claims(Advertisement(ADDRESS, "JBD-SP04S034"))
    assert not JbdDriver.claims(Advertisement(ADDRESS, "xiaoxiang", (uuid16(0xFFE0),)))


# --- switches ----------------------------------------------------------------


async def test_switching_each_fet_leaves_the_other(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    snap = await client.set_switch(SwitchKind.CHARGE, False)
    assert (sim.pack.charge_enabled, sim.pack.discharge_enabled) == (False, True)
    assert (snap.charge_mosfet, snap.discharge_mosfet) == (False, True)
    assert snap.alarms == {Alarm.MOSFET_LOCK}
    assert snap.cell_voltages == (3.301, 3.302, 3.299, 3.305)

    snap = await client.set_switch(SwitchKind.DISCHARGE, False)
    assert (snap.charge_mosfet, snap.discharge_mosfet) == (False, False)
    snap = await client.set_switch(SwitchKind.CHARGE, True)
    assert (snap.charge_mosfet, snap.discharge_mosfet) == (True, False)
    snap = await client.set_switch(SwitchKind.DISCHARGE, True)
    assert (snap.charge_mosfet, snap.discharge_mosfet) == (True, True)
    assert snap.alarms == frozenset()

    assert mosfet_writes(sim) == [0x01, 0x03, 0x02, 0x00]
    assert sim.writes[-4:-2] == [READ_BASIC, build_mosfet(True, True)]
    assert client.stats.commands == 4
    assert client.stats.command_failures == 0


async def test_discharge_off_from_both_on(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    await make_client().set_switch(SwitchKind.DISCHARGE, False)
    assert mosfet_writes(sim) == [0x02]
    assert (sim.pack.charge_enabled, sim.pack.discharge_enabled) == (True, False)


async def test_fet_held_off_by_protection_stays_enabled(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    sim.pack.alarms = {"cell_undervoltage"}
    snap = await make_client().set_switch(SwitchKind.CHARGE, False)
    assert mosfet_writes(sim) == [0x01]
    assert sim.pack.discharge_enabled is True
    assert snap.discharge_mosfet is False
    sim.pack.alarms = set()
    assert sim.pack.discharge_fet is True


async def test_fet_locked_off_stays_disabled(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    sim.pack.discharge_enabled = False
    await make_client().set_switch(SwitchKind.CHARGE, False)
    assert mosfet_writes(sim) == [0x03]
    assert sim.pack.discharge_enabled is False


async def test_lock_wins_over_protection(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    # Locked and protected at once: the lock may be ours, so keep it disabled.
    sim.pack.alarms = {"cell_undervoltage"}
    sim.pack.discharge_enabled = False
    await make_client().set_switch(SwitchKind.CHARGE, False)
    assert mosfet_writes(sim) == [0x03]


@pytest.mark.parametrize(
    ("fet_on", "protection", "expected"),
    [
        (True, 0, True),
        (True, LOCK, True),
        (True, 0b10 | LOCK, True),
        (False, 0, False),
        (False, 0b10, True),
        (False, 1 << 11, True),
        (False, LOCK, False),
        (False, 0b10 | LOCK, False),
    ],
)
def test_kept_enabled_rule(fet_on: bool, protection: int, expected: bool) -> None:
    assert _kept_enabled(fet_on, protection) is expected


async def test_refused_command(sim: JbdSimulator, make_client: MakeClient) -> None:
    sim.refuse_commands = True
    client = make_client()
    with pytest.raises(CommandNotConfirmedError, match="refused"):
        await client.set_switch(SwitchKind.CHARGE, False)
    assert sim.pack.charge_enabled is True
    assert client.stats.command_failures == 1
    assert client.stats.errors_by_type == {"CommandNotConfirmedError": 1}
    assert client.is_connected


async def test_ignored_command(sim: JbdSimulator, make_client: MakeClient) -> None:
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(CommandNotConfirmedError, match="did not change"):
        await make_client().set_switch(SwitchKind.DISCHARGE, False)
    assert mosfet_writes(sim) == [0x02]
    assert sim.pack.discharge_enabled is True


async def test_switch_on_blocked_by_protection(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    sim.pack.alarms = {"cell_overvoltage"}
    with pytest.raises(CommandNotConfirmedError):
        await make_client().set_switch(SwitchKind.CHARGE, True)
    assert mosfet_writes(sim) == [0x00]


async def test_unsupported_switch(sim: JbdSimulator, make_client: MakeClient) -> None:
    with pytest.raises(UnsupportedError):
        await make_client().set_switch(SwitchKind.BALANCER, False)
    assert mosfet_writes(sim) == []


# --- faults ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error", "reconnects"),
    [
        (Fault.NO_ANSWER, BmsTimeoutError, True),
        (Fault.BAD_CHECKSUM, ChecksumError, False),
        (Fault.TRUNCATED, BmsTimeoutError, True),
        (Fault.DISCONNECT_MID_FRAME, BmsConnectionError, True),
    ],
)
async def test_fault_then_recovery(
    sim: JbdSimulator,
    make_client: MakeClient,
    fault: Fault,
    error: type[BmsError],
    reconnects: bool,
) -> None:
    client = make_client()
    sim.inject(fault)
    with pytest.raises(error):
        await client.read_snapshot()
    assert client.is_connected is not reconnects
    assert client.stats.read_failures == 1
    assert client.stats.errors_by_type == {error.__name__: 1}
    assert client.stats.last_error is not None
    assert client.stats.last_error.startswith(error.__name__)

    snap = await client.read_snapshot()
    assert snap.cell_voltages == (3.301, 3.302, 3.299, 3.305)
    assert client.stats.connects == (2 if reconnects else 1)
    assert client.stats.reads == 2
    assert client.stats.read_failures == 1


async def test_fault_on_a_command(sim: JbdSimulator, make_client: MakeClient) -> None:
    client = make_client()
    await client.read_snapshot()
    sim.inject(Fault.DISCONNECT_MID_FRAME)
    with pytest.raises(BmsConnectionError):
        await client.set_switch(SwitchKind.CHARGE, False)
    assert client.stats.command_failures == 1
    assert client.stats.lost_connections == 1
    assert (await client.set_switch(SwitchKind.CHARGE, False)).charge_mosfet is False


async def test_silence_probes_for_authentication_once(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    sim.inject(Fault.NO_ANSWER, 2)
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    assert auth_writes(sim) == [APP_KEY]
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    assert auth_writes(sim) == [APP_KEY]


async def test_link_lost_while_idle(sim: JbdSimulator, make_client: MakeClient) -> None:
    client = make_client()
    await client.read_snapshot()
    sim._drop_link()
    assert client.is_connected is False
    assert client.stats.lost_connections == 1
    await client.read_snapshot()
    assert client.stats.connects == 2
    assert sim.connections == 2


async def test_device_unavailable(sim: JbdSimulator, make_client: MakeClient) -> None:
    sim.gone = True
    client = make_client()
    with pytest.raises(BmsConnectionError):
        await client.read_snapshot()
    assert client.stats.connect_failures == 1
    assert client.stats.connects == 0
    sim.gone = False
    await client.read_snapshot()
    assert client.stats.connects == 1


# --- session -----------------------------------------------------------------


async def test_keep_connected_false_disconnects_after_each_operation(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    client = make_client(keep_connected=False)
    await client.read_snapshot()
    assert client.is_connected is False
    assert sim.connected is False
    await client.read_device_info()
    await client.set_switch(SwitchKind.CHARGE, False)
    assert sim.connected is False
    assert sim.connections == 3
    assert client.stats.connects == 3


async def test_keep_connected_reuses_the_link(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    await client.read_device_info()
    assert (client.is_connected, sim.connections) == (True, 1)
    await client.close()
    assert not client.is_connected
    assert sim.connected is False


async def test_connect_delay(
    sim: JbdSimulator, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(JbdDriver, "connect_delay", 0.01)
    assert (await make_client().read_snapshot()).voltage == 13.21


async def test_stats_and_frame_log(sim: JbdSimulator, make_client: MakeClient) -> None:
    client = make_client()
    await client.read_snapshot()
    stats = client.stats
    assert (stats.connects, stats.reads, stats.read_failures) == (1, 1, 0)
    assert (stats.commands, stats.command_failures, stats.lost_connections) == (0, 0, 0)
    assert stats.last_error is None
    assert stats.last_read_duration is not None
    assert stats.last_read_duration >= 0

    log = list(client.frame_log)
    assert log[0] == ("tx", READ_BASIC.hex())
    second_tx = log.index(("tx", READ_CELLS.hex()))
    basic_rx = "".join(data for _, data in log[1:second_tx])
    cells_rx = "".join(data for _, data in log[second_tx + 1 :])
    assert all(direction == "rx" for direction, _ in log[1:second_tx])
    assert bytes.fromhex(basic_rx)[:4] == b"\xdd\x03\x00\x1d"
    assert len(bytes.fromhex(basic_rx)) == 7 + 0x1D
    assert bytes.fromhex(cells_rx)[:4] == b"\xdd\x04\x00\x08"
    # Whole frames are kept, not the notifications they arrived in.
    assert len(log[1:second_tx]) == 1

    for _ in range(10):
        await client.read_snapshot()
    assert len(client.frame_log) == FRAME_LOG_SIZE
    assert client.stats.reads == 11


# --- FF AA authentication ----------------------------------------------------


async def test_correct_password(sim: JbdSimulator, make_client: MakeClient) -> None:
    sim.password = PASSWORD
    snap = await make_client(password=PASSWORD).read_snapshot()
    assert snap.voltage == 13.21
    sent = auth_writes(sim)
    random_request = bytes.fromhex("ffaa170017")
    assert sent[:2] == [APP_KEY, random_request]
    mac = bytes.fromhex(ADDRESS.replace(":", ""))
    first, second = sim.randoms
    secret = bytes(
        ((m ^ p) + first) & 0xFF for m, p in zip(mac, PASSWORD.encode(), strict=True)
    )
    assert sent[2] == auth_frame(0x18, secret)
    assert sent[3] == random_request, "a new random for the root password"
    root = bytes(
        ((k ^ r) + second) & 0xFF
        for k, r in zip(mac + bytes(9), b"JBDbtpwd!@#2023", strict=True)
    )
    assert sent[4] == auth_frame(0x1D, root)
    assert sim.writes[5] == READ_BASIC


async def test_module_without_root_step(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    sim.password = PASSWORD
    sim.require_root = False
    assert (await make_client(password=PASSWORD).read_snapshot()).voltage == 13.21
    assert len(sim.randoms) == 1


async def test_root_password_rejected(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    sim.password = PASSWORD
    sim.root_password = b"another-vendor!"
    with pytest.raises(AuthenticationError, match="root password"):
        await make_client(password=PASSWORD).read_snapshot()


def test_auth_secrets_match_the_captured_session() -> None:
    # syssi/esphome-jbd-bms docs/ffaa-auth-flow/root-password.txt: random 0x37,
    # password "123123", on a module whose MAC the capture implies.
    mac = bytes.fromhex("a4c137042dbe")
    assert auth_frame(0x18, auth_secret(mac, b"123123", 0x37)) == bytes.fromhex(
        "ffaa1806cc2a3b6c56c4d5"
    )
    assert auth_frame(0x1D, auth_secret(mac, ROOT_PASSWORD, 0x37)) == bytes.fromhex(
        "ffaa1d0f25baaa9d9005ae9b58775a6967696afc"
    )


async def test_authentication_repeats_on_each_connection(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    sim.password = PASSWORD
    client = make_client(keep_connected=False, password=PASSWORD)
    await client.read_snapshot()
    await client.set_switch(SwitchKind.CHARGE, False)
    assert auth_writes(sim).count(APP_KEY) == 2
    assert sim.pack.charge_enabled is False


async def test_password_on_a_module_without_authentication(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    snap = await make_client(password=PASSWORD).read_snapshot()
    assert snap.voltage == 13.21
    assert sim.writes[:2] == [APP_KEY, READ_BASIC]


async def test_wrong_password(sim: JbdSimulator, make_client: MakeClient) -> None:
    sim.password = PASSWORD
    client = make_client(password="654321")
    with pytest.raises(AuthenticationError, match="rejected the password"):
        await client.read_snapshot()
    assert client.is_connected is False
    assert client.stats.read_failures == 1
    assert READ_BASIC not in sim.writes


async def test_missing_password_is_detected(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    sim.password = PASSWORD
    client = make_client()
    with pytest.raises(AuthenticationError, match="requires a password"):
        await client.read_snapshot()
    assert sim.writes == [READ_BASIC, APP_KEY]
    assert client.stats.errors_by_type == {"AuthenticationError": 1}


async def test_password_of_wrong_length(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    sim.password = PASSWORD
    with pytest.raises(AuthenticationError, match="6-character"):
        await make_client(password="12345").read_snapshot()
    assert auth_writes(sim) == [APP_KEY]


@pytest.mark.parametrize("address", ["not-a-mac", "A4:C1:37:00:11", ""])
async def test_address_that_is_not_a_mac(
    sim: JbdSimulator, make_client: MakeClient, address: str
) -> None:
    sim.password = PASSWORD
    with pytest.raises(AuthenticationError, match="MAC"):
        await make_client(password=PASSWORD, address=address).read_snapshot()
    assert auth_writes(sim) == [APP_KEY]


async def test_app_key_accepted_without_password() -> None:
    client = scripted(
        {
            APP_KEY: auth_frame(0x15, b"\x02"),
            READ_BASIC: vector(0),
            READ_CELLS: vector(1),
        },
        password="anything",
    )
    assert (await client.read_snapshot()).voltage == 15.6
    assert client.driver.transport.writes[:2] == [APP_KEY, READ_BASIC]  # type: ignore[attr-defined]
    await client.close()


async def test_app_key_rejected() -> None:
    client = scripted({APP_KEY: auth_frame(0x15, b"\x01")}, password=PASSWORD)
    with pytest.raises(AuthenticationError, match="app key"):
        await client.read_snapshot()
    await client.close()


async def test_empty_auth_reply() -> None:
    client = scripted({APP_KEY: auth_frame(0x15, b"")}, password=PASSWORD)
    with pytest.raises(FrameError):
        await client.read_snapshot()
    await client.close()


async def test_silent_bms_that_needs_no_password() -> None:
    client = scripted({APP_KEY: auth_frame(0x15, b"\x02")})
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    await client.close()


async def test_silent_bms_with_a_garbled_probe_answer() -> None:
    garbled = auth_frame(0x15, b"\x00")[:-1] + b"\x00"
    client = scripted({APP_KEY: garbled})
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    await client.close()


async def test_authenticated_session_does_not_probe(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    sim.password = PASSWORD
    client = make_client(password=PASSWORD)
    await client.read_snapshot()
    sim.inject(Fault.NO_ANSWER)
    before = len(auth_writes(sim))
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    # The timeout dropped the link; only the next connect authenticates again.
    assert len(auth_writes(sim)) == before
