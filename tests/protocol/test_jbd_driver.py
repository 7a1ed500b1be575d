"""The JBD driver through BmsClient, against the JBD simulator and scripted links."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bms_simulator.backend import SimulatedBleakClient
from bms_simulator.device import Fault
from bms_simulator.families.jbd import (
    ALARM_BITS,
    DarenSimulator,
    EleksolSimulator,
    JbdSimulator,
)
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.ble import _resolve
from custom_components.lithium_bms.protocol.client import FRAME_LOG_SIZE, BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    AuthenticationError,
    BmsConnectionError,
    BmsError,
    BmsTimeoutError,
    ChecksumError,
    CommandNotConfirmedError,
    CommandUnverifiableError,
    FrameError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.jbd import JbdDriver
from custom_components.lithium_bms.protocol.jbd.driver import AUTH_ATTEMPTS
from custom_components.lithium_bms.protocol.jbd.frames import (
    PROTECTION_BITS,
    ROOT_PASSWORD,
    BasicInfo,
    auth_frame,
    auth_secret,
    build_mosfet,
    build_read,
)
from custom_components.lithium_bms.protocol.jbd.mask import (
    MosfetMask,
    infer_mask,
    observed_mask,
)
from custom_components.lithium_bms.protocol.matching import Advertisement, uuid16
from custom_components.lithium_bms.protocol.plausibility import ImplausibleDataError
from custom_components.lithium_bms.protocol.snapshot import (
    Alarm,
    BatterySnapshot,
    SwitchKind,
    Temperature,
    TemperatureKind,
)
from custom_components.lithium_bms.protocol.transport import (
    DataCallback,
    DisconnectCallback,
    Transport,
)

from .sim_clients import MakeClient, SimClients

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
    monkeypatch.setattr(JbdDriver, "request_timeout", 0.2)
    monkeypatch.setattr(JbdDriver, "auth_timeout", 0.05)
    monkeypatch.setattr(JbdDriver, "connect_delay", 0.0)
    monkeypatch.setattr(JbdDriver, "switch_settle", 0.0)


@pytest.fixture
def sim() -> JbdSimulator:
    device = JbdSimulator(ADDRESS, "JBD-SP04S034")
    device.pack.cell_voltages = [3.301, 3.302, 3.299, 3.305]
    device.pack.current = -2.5
    device.pack.soc = 64
    device.pack.cycles = 7
    device.pack.temperatures = [21.5, 22.0, 23.1]
    return device


@pytest.fixture
def make_client(sim_clients: SimClients, sim: JbdSimulator) -> MakeClient:
    return sim_clients.maker(JbdDriver, sim, address=ADDRESS)


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
    assert snap.reported_cell_count == 4


async def test_cell_count_that_disagrees_with_the_cells_is_implausible() -> None:
    # 0x03 byte 21 states 4 cells; this 0x04 reply carries 3.
    cells = reply(0x04, bytes.fromhex("0f450f3d0f37"))
    client = scripted({READ_BASIC: vector(0), READ_CELLS: cells})
    with pytest.raises(ImplausibleDataError, match="reports 4 cells but sent 3"):
        await client.read_snapshot()
    await client.close()


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


def test_claims_eleksol_by_oui_on_ff06() -> None:
    eleksol = (uuid16(0xFF06),)
    assert JbdDriver.claims(Advertisement("A5:C2:37:00:11:22", "12150EG00040", eleksol))
    assert not JbdDriver.claims(Advertisement("02:00:00:00:11:22", "12150EG", eleksol))


async def test_eleksol_speaks_on_ff06() -> None:
    """Eleksol packs: the JBD protocol on FF06, notify FF07, write FF08."""
    device = EleksolSimulator("A5:C2:37:00:11:22", "12150EG00040")
    bleak_client = SimulatedBleakClient(
        device.address, devices={device.address: device}
    )
    await bleak_client.connect()
    try:
        found = [_resolve(bleak_client, p) for p in JbdDriver.gatt]  # type: ignore[arg-type]
    finally:
        await bleak_client.disconnect()
    resolved = [f for f in found if f is not None]
    assert len(resolved) == 1
    notify, write = resolved[0]
    assert write is not None
    assert (notify.uuid[4:8], write.uuid[4:8]) == ("ff07", "ff08")
    client = BmsClient(JbdDriver(SimulatorTransport(device), DriverOptions()))
    try:
        snapshot = await client.read_snapshot()
    finally:
        await client.close()
    assert snapshot.cell_voltages == tuple(device.pack.cell_voltages)


# --- Daren -------------------------------------------------------------------

DAREN_NAME = "DWF3C8A1F7C1235"


def daren_vectors() -> list[bytes]:
    return [
        bytes.fromhex(v["hex"])
        for v in json.loads(VECTORS.read_text())
        if v.get("variant") == "daren"
    ]


@pytest.fixture
def daren() -> DarenSimulator:
    device = DarenSimulator("3C:8A:1F:00:11:22", DAREN_NAME)
    device.pack.cell_voltages = [3.301, 3.302, 3.299, 3.305]
    device.pack.current = -13.2
    device.pack.temperatures = [21.5, 22.0, 23.1]
    device.pack.mosfet_temperature = 26.0
    device.pack.state_of_health = 97
    return device


def daren_client(device: DarenSimulator, **options: Any) -> BmsClient:
    options.setdefault("name", DAREN_NAME)
    driver = JbdDriver(SimulatorTransport(device), DriverOptions(**options))
    return BmsClient(driver)


@pytest.mark.parametrize("extended", [True, False], ids=["extended", "short"])
async def test_daren_snapshot_equals_pack(
    daren: DarenSimulator, extended: bool
) -> None:
    daren.extended = extended
    client = daren_client(daren)
    try:
        snapshot = await client.read_snapshot()
    finally:
        await client.close()
    pack = daren.pack
    assert snapshot.current == pytest.approx(pack.current, abs=0.05)
    assert snapshot.remaining_capacity == pytest.approx(
        pack.remaining_capacity, abs=0.05
    )
    assert snapshot.design_capacity == pytest.approx(pack.full_capacity, abs=0.05)
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.temperatures == (
        *(Temperature(TemperatureKind.CELL, t) for t in pack.temperatures),
        Temperature(TemperatureKind.MOSFET, 26.0),
        Temperature(TemperatureKind.AMBIENT, 24.5),
    )
    assert snapshot.state_of_health == 97
    assert client.driver.variant == "daren"


async def test_daren_device_info_from_register_8(daren: DarenSimulator) -> None:
    client = daren_client(daren)
    try:
        info = await client.read_device_info()
    finally:
        await client.close()
    assert (info.manufacturer, info.model, info.hw_version, info.sw_version) == (
        "Daren",
        "DJM2502260001",
        "V2.21",
        "DR_STD05_16S200JC26_V1.5.4_T2",
    )
    assert READ_MODEL not in daren.writes


async def test_the_stored_variant_wins_over_a_missing_name(
    daren: DarenSimulator,
) -> None:
    client = daren_client(daren, name=None, variant="daren")
    try:
        assert (await client.read_device_info()).manufacturer == "Daren"
    finally:
        await client.close()


async def test_jbd_layout_stores_no_variant(make_client: MakeClient) -> None:
    client = make_client(name="JBD-SP04S034")
    await client.read_snapshot()
    assert client.driver.variant is None


async def test_daren_captures_end_to_end() -> None:
    *_, info, extended, cells_2 = daren_vectors()
    answers = {READ_BASIC: extended, READ_CELLS: cells_2, build_read(0x08): info}
    client = scripted(answers, name=DAREN_NAME)
    try:
        snapshot = await client.read_snapshot()
        device = await client.read_device_info()
    finally:
        await client.close()
    assert (snapshot.voltage, snapshot.current, snapshot.state_of_charge) == (
        52.42,
        -13.2,
        47,
    )
    assert (snapshot.remaining_capacity, snapshot.design_capacity) == (142.4, 300.0)
    assert [t.value for t in snapshot.temperatures] == [
        26.7,
        26.8,
        27.0,
        27.2,
        25.6,
        27.9,
    ]
    assert snapshot.state_of_health == 99
    assert device.model == "DJM2502261341"


def test_daren_texts_are_sensitive() -> None:
    info = daren_vectors()[2]
    assert JbdDriver(
        ScriptedTransport({}), DriverOptions(name=DAREN_NAME)
    ).is_sensitive(info)
    assert not JbdDriver(ScriptedTransport({}), DriverOptions()).is_sensitive(vector(2))


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


async def test_switching_charge_twice_never_disables_a_protected_discharge(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    # Issue 10: under-voltage holds discharge off; charge off then on. The
    # first write sets the software lock, which must not make the second write
    # disable discharge, or the loads never come back.
    sim.pack.alarms = {"cell_undervoltage"}
    client = make_client()
    await client.set_switch(SwitchKind.CHARGE, False)
    await client.set_switch(SwitchKind.CHARGE, True)
    assert mosfet_writes(sim) == [0x01, 0x00]
    assert sim.pack.discharge_enabled is True
    sim.pack.alarms = set()
    assert (await client.read_snapshot()).discharge_mosfet is True


@pytest.mark.parametrize("discharge_was_disabled", [False, True])
async def test_unknown_bit_of_the_other_fet_is_written_enabled(
    sim: JbdSimulator,
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
    discharge_was_disabled: bool,
) -> None:
    # A new driver (Home Assistant restarted): a short circuit holds both
    # MOSFETs off and the lock is set, so nothing tells whether discharge is
    # switched off. It is written enabled (the documented rule), with a warning.
    sim.pack.alarms = {"short_circuit"}
    sim.pack.charge_enabled = False
    sim.pack.discharge_enabled = not discharge_was_disabled
    with pytest.raises(CommandNotConfirmedError, match="protection is active"):
        await make_client().set_switch(SwitchKind.CHARGE, True)
    assert mosfet_writes(sim) == [0x00]
    assert sim.pack.discharge_enabled is True
    assert "discharge_mosfet is switched off is unknown" in caplog.text


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


def basic_info(charge_on: bool, discharge_on: bool, protection: int) -> BasicInfo:
    return BasicInfo(
        voltage=13.2,
        current=0.0,
        remaining_capacity=50.0,
        nominal_capacity=100.0,
        cycles=0,
        production_date="2022-03-28",
        balancing_cells=frozenset(),
        protection=protection,
        software_version="8.0",
        soc=50,
        charge_fet=charge_on,
        discharge_fet=discharge_on,
        cell_count=4,
        temperatures=(),
    )


UV = 0b10  # cell under-voltage
U = None  # unknown


@pytest.mark.parametrize(
    ("charge_on", "discharge_on", "protection", "expected"),
    [
        # No lock: nothing is switched off, whatever the MOSFETs show.
        (True, True, 0, MosfetMask(False, False)),
        (False, False, UV, MosfetMask(False, False)),
        # Lock, no protection: a MOSFET that is off is switched off.
        (False, True, LOCK, MosfetMask(True, False)),
        (False, False, LOCK, MosfetMask(True, True)),
        # Lock with a protection: off is unknown, unless the other is on.
        (True, False, LOCK | UV, MosfetMask(False, True)),
        (False, False, LOCK | UV, MosfetMask(U, U)),
        (False, False, LOCK | 1 << 11, MosfetMask(U, U)),
        # A lock with both on contradicts the model: trust the MOSFETs.
        (True, True, LOCK, MosfetMask(False, False)),
    ],
)
def test_observed_mask(
    charge_on: bool, discharge_on: bool, protection: int, expected: MosfetMask
) -> None:
    assert observed_mask(basic_info(charge_on, discharge_on, protection)) == expected


@pytest.mark.parametrize(
    ("known", "charge_on", "discharge_on", "protection", "expected"),
    [
        # What the reply cannot tell is taken from what was known.
        (MosfetMask(True, False), False, False, LOCK | UV, MosfetMask(True, False)),
        (MosfetMask(True, U), False, False, LOCK | UV, MosfetMask(True, U)),
        # What it proves wins over what was known.
        (MosfetMask(True, True), True, False, LOCK | UV, MosfetMask(False, True)),
        (MosfetMask(True, True), False, False, UV, MosfetMask(False, False)),
        # A lock that nothing known explains: the mask changed elsewhere.
        (MosfetMask(False, False), False, False, LOCK | UV, MosfetMask(U, U)),
    ],
)
def test_infer_mask(
    known: MosfetMask,
    charge_on: bool,
    discharge_on: bool,
    protection: int,
    expected: MosfetMask,
) -> None:
    reply = basic_info(charge_on, discharge_on, protection)
    assert infer_mask(known, reply) == expected


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


async def test_ignored_off_of_a_protected_fet_is_not_confirmed(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    # Issue 10: under-voltage already holds discharge off, so the MOSFET alone
    # cannot confirm an "off"; the software lock that never appears can.
    sim.pack.alarms = {"cell_undervoltage"}
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(CommandNotConfirmedError, match="software lock") as err:
        await make_client().set_switch(SwitchKind.DISCHARGE, False)
    assert not isinstance(err.value, CommandUnverifiableError)
    assert mosfet_writes(sim) == [0x02]
    assert sim.pack.discharge_enabled is True


async def test_off_of_a_protected_fet_is_confirmed_by_the_lock(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    sim.pack.alarms = {"short_circuit"}  # holds both MOSFETs off
    snap = await make_client().set_switch(SwitchKind.DISCHARGE, False)
    assert sim.pack.discharge_enabled is False
    assert snap.alarms == {Alarm.SHORT_CIRCUIT, Alarm.MOSFET_LOCK}


@pytest.mark.parametrize("ignored", [False, True])
async def test_off_that_the_bms_cannot_show_is_unverifiable(
    sim: JbdSimulator, make_client: MakeClient, ignored: bool
) -> None:
    # Both MOSFETs held off by a short circuit, the lock already set by charge:
    # nothing the BMS reports can tell an applied "discharge off" from an
    # ignored one.
    sim.pack.alarms = {"short_circuit"}
    client = make_client()
    await client.set_switch(SwitchKind.CHARGE, False)
    if ignored:
        sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(CommandUnverifiableError):
        await client.set_switch(SwitchKind.DISCHARGE, False)
    assert mosfet_writes(sim) == [0x01, 0x03]
    assert sim.pack.discharge_enabled is ignored
    assert sim.pack.charge_enabled is False


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


# --- random switch sequences ---------------------------------------------------

FETS = (SwitchKind.CHARGE, SwitchKind.DISCHARGE)
# Protections that hold one MOSFET, the other or both off (bms_simulator/pack.py).
PROTECTIONS = (
    "cell_undervoltage",
    "cell_overvoltage",
    "discharge_overcurrent",
    "charge_overtemperature",
    "short_circuit",
)
SWITCH_STEP = st.tuples(st.just("switch"), st.sampled_from(FETS), st.booleans())
PROTECTION_STEP = st.tuples(
    st.just("protection"), st.sampled_from(PROTECTIONS), st.booleans()
)
BMS_STEPS = (
    SWITCH_STEP
    | SWITCH_STEP
    | SWITCH_STEP
    | PROTECTION_STEP
    | PROTECTION_STEP
    | st.tuples(st.just("ignore_next_command"))
    | st.tuples(st.just("poll"))
    | st.tuples(st.just("reconnect"))
    | st.tuples(st.just("power_cycle"))
)
# Steps after which the driver can no longer know the mask: Home Assistant
# restarts (a new driver), or the vendor app writes 0xE1.
ELSEWHERE_STEPS = st.tuples(st.just("restart")) | st.tuples(
    st.just("vendor_app"), st.sampled_from(FETS), st.booleans()
)


def enabled(sim: JbdSimulator, kind: SwitchKind) -> bool:
    """Whether the simulated 0xE1 mask leaves ``kind`` enabled."""
    if kind is SwitchKind.CHARGE:
        return sim.pack.charge_enabled
    return sim.pack.discharge_enabled


def conducts(sim: JbdSimulator, kind: SwitchKind) -> bool:
    return sim.pack.charge_fet if kind is SwitchKind.CHARGE else sim.pack.discharge_fet


class SwitchRun:
    """Plays one step sequence against the simulator and checks each command."""

    def __init__(self) -> None:
        self.sim = JbdSimulator(ADDRESS, "JBD-SP04S034")
        self.client = self.new_client()
        self.last_request: dict[SwitchKind, bool] = {}
        self.driver_knows = True

    def new_client(self) -> BmsClient:
        return BmsClient(
            JbdDriver(SimulatorTransport(self.sim), DriverOptions(address=ADDRESS))
        )

    async def step(self, step: tuple[Any, ...]) -> None:
        match step:
            case ("switch", kind, on):
                await self.switch(kind, on)
            case ("protection", alarm, active):
                (self.sim.pack.alarms.add if active else self.sim.pack.alarms.discard)(
                    alarm
                )
            case ("ignore_next_command",):
                self.sim.faults.clear()
                self.sim.inject(Fault.IGNORE_COMMAND)
            case ("poll",):
                await self.client.read_snapshot()
            case ("reconnect",):
                self.sim._drop_link()
            case ("power_cycle",):
                self.sim.power_cycle()
            case ("restart",):
                await self.client.close()
                self.client = self.new_client()
                self.driver_knows = False
            case ("vendor_app", kind, on):
                setattr(self.sim.pack, f"{kind.value.split('_')[0]}_enabled", on)
                self.driver_knows = False

    async def switch(self, kind: SwitchKind, on: bool) -> None:
        other = FETS[1 - FETS.index(kind)]
        other_was_enabled = enabled(self.sim, other)
        outcome: BatterySnapshot | CommandNotConfirmedError
        try:
            outcome = await self.client.set_switch(kind, on)
        except CommandNotConfirmedError as err:
            outcome = err
        self.sim.faults.clear()
        self.last_request[kind] = on
        if other_was_enabled and self.last_request.get(other) is not False:
            assert enabled(self.sim, other), f"switching {kind} disabled {other}"
        if self.driver_knows and self.last_request.get(other) is not True:
            assert enabled(self.sim, other) is other_was_enabled, f"{other} changed"
        if isinstance(outcome, BatterySnapshot):
            assert enabled(self.sim, kind) is on, "confirmed, yet not applied"
            assert conducts(self.sim, kind) is on
            assert outcome.switches[kind] is on
        elif not on and not isinstance(outcome, CommandUnverifiableError):
            assert enabled(self.sim, kind), "an off that applied was not confirmed"

    async def play(self, steps: list[tuple[Any, ...]]) -> None:
        try:
            for step in steps:
                await self.step(step)
        finally:
            await self.client.close()


def run_in_new_loop(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run one example on its own loop, leaving the thread's loop alone."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(coroutine)
    finally:
        loop.close()


RANDOM_RUNS = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@RANDOM_RUNS
@given(st.lists(BMS_STEPS, min_size=2, max_size=12))
def test_random_switch_sequences(steps: list[tuple[Any, ...]]) -> None:
    # Never disables a MOSFET that was not switched off, never re-enables one;
    # a confirmed command applied; an "off" reported as not applied did not.
    run_in_new_loop(SwitchRun().play(steps))


@RANDOM_RUNS
@given(st.lists(BMS_STEPS | ELSEWHERE_STEPS, min_size=2, max_size=12))
def test_random_switch_sequences_with_changes_elsewhere(
    steps: list[tuple[Any, ...]],
) -> None:
    # After a restart or a vendor-app write, still never disables a MOSFET
    # that was not switched off, and still confirms only what applied.
    run_in_new_loop(SwitchRun().play(steps))


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


def test_authentication_frames_are_sensitive() -> None:
    driver = JbdDriver(ScriptedTransport({}), DriverOptions(address=ADDRESS))
    secret = auth_secret(bytes.fromhex("a4c137042dbe"), b"123123", 0x37)
    assert driver.is_sensitive(auth_frame(0x18, secret))
    assert driver.is_sensitive(APP_KEY)
    assert driver.is_sensitive(auth_frame(0x17, b"\x37"))  # a random, received
    assert not driver.is_sensitive(READ_BASIC)
    assert not driver.is_sensitive(vector(0))


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("123123", True),
        ("aB3dE9", True),
        ("12345", False),
        ("1234567", False),
        ("12 456", False),
        ("12345!", False),
        ("12345é", False),
    ],
)
def test_password_pattern(password: str, accepted: bool) -> None:
    pattern = JbdDriver.password_pattern
    assert pattern is not None
    assert (re.fullmatch(pattern, password) is not None) is accepted


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


AUTH_STEPS = ["app key", "random", "password", "root random", "root password"]


@pytest.mark.parametrize("lost", range(len(AUTH_STEPS)), ids=AUTH_STEPS)
async def test_lost_authentication_reply_is_retried(
    sim: JbdSimulator, make_client: MakeClient, lost: int
) -> None:
    # Issue 10: the BMS processed the request, its reply was lost. The whole
    # sequence starts again (the BMS moved on to its next step), and
    # monitoring goes on with the right password.
    sim.password = PASSWORD
    sim.lost_auth_replies = {lost}
    client = make_client(password=PASSWORD)
    assert (await client.read_snapshot()).voltage == 13.21
    assert auth_writes(sim).count(APP_KEY) == 2
    assert len(auth_writes(sim)) == lost + 1 + 5
    assert client.stats.errors_by_type == {}


async def test_lost_reply_on_every_attempt_is_a_timeout(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    # Not a rejection: no re-authentication for a password that may be right.
    sim.password = PASSWORD
    sim.lost_auth_replies = {2, 7, 12}  # the password step, three times
    client = make_client(password=PASSWORD)
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    assert auth_writes(sim).count(APP_KEY) == AUTH_ATTEMPTS
    assert client.is_connected is False
    sim.lost_auth_replies = set()
    assert (await client.read_snapshot()).voltage == 13.21


async def test_lost_app_key_reply_is_told_from_no_authentication(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    # A module with authentication does not answer the probing read, so the
    # lost app-key reply is not mistaken for a module without it.
    sim.password = PASSWORD
    sim.inject(Fault.NO_ANSWER)
    assert (await make_client(password=PASSWORD).read_snapshot()).voltage == 13.21
    assert sim.writes[:3] == [APP_KEY, READ_BASIC, APP_KEY]


async def test_module_without_authentication_is_remembered(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    client = make_client(keep_connected=False, password=PASSWORD)
    await client.read_snapshot()
    await client.read_snapshot()
    assert auth_writes(sim) == [APP_KEY], "the app key only on the first connection"
    assert sim.writes[:3] == [APP_KEY, READ_BASIC, READ_BASIC]


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


# --- The mask survives a restart (driver memory) ------------------------------


@pytest.mark.parametrize(
    ("memory", "expected"),
    [
        (
            {"mask_charge_off": True, "mask_discharge_off": False},
            MosfetMask(True, False),
        ),
        ({"mask_charge_off": None}, MosfetMask(None, None)),
        ({"mask_charge_off": 1, "mask_discharge_off": "yes"}, MosfetMask(None, None)),
        ({}, MosfetMask(None, None)),
    ],
)
def test_mask_restored_from_memory(
    memory: dict[str, bool | int | str | None], expected: MosfetMask
) -> None:
    assert MosfetMask.restore(memory) == expected
    assert MosfetMask.restore(expected.saved()) == expected


async def test_a_restarted_driver_keeps_the_user_s_off(
    sim: JbdSimulator, make_client: MakeClient
) -> None:
    first = make_client()
    await first.set_switch(SwitchKind.CHARGE, False)
    memory = first.driver.memory
    assert memory == {"mask_charge_off": True, "mask_discharge_off": False}
    await first.close()
    # An under-voltage now holds discharge off too: the BMS shows both off
    # with the lock set, which tells nothing of the mask.
    sim.pack.alarms = {"cell_undervoltage"}
    restarted = make_client(memory=memory)
    with pytest.raises(CommandNotConfirmedError):
        await restarted.set_switch(SwitchKind.DISCHARGE, True)
    assert (sim.pack.charge_enabled, sim.pack.discharge_enabled) == (False, True)


async def test_a_lost_ack_does_not_lose_the_mask(
    sim: JbdSimulator, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The BMS applies "discharge off" but its answer is lost. An over-voltage
    # then holds charge off too: the BMS shows both off with the lock set.
    # Switching charge must keep discharge off, as the user last asked.
    client = make_client()
    await client.read_snapshot()
    send = sim.send

    def lose_the_ack(frame: bytes) -> None:
        if frame[1] != 0xE1:
            send(frame)

    monkeypatch.setattr(sim, "send", lose_the_ack)
    with pytest.raises(BmsError):
        await client.set_switch(SwitchKind.DISCHARGE, False)
    assert sim.pack.discharge_enabled is False
    monkeypatch.setattr(sim, "send", send)
    sim.pack.alarms = {"cell_overvoltage"}
    await client.read_snapshot()
    with pytest.raises(CommandNotConfirmedError):
        await client.set_switch(SwitchKind.CHARGE, True)
    assert (sim.pack.charge_enabled, sim.pack.discharge_enabled) == (True, False)
