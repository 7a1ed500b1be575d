"""The Renogy driver (classic and Pro) against the simulated battery."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bms_simulator.families.renogy import ALARM_BITS, RenogyBattery, demo, demo_pro
from bms_simulator.pack import PackModel
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    BmsTimeoutError,
    FrameError,
)
from custom_components.lithium_bms.protocol.matching import Advertisement
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.renogy import RenogyDriver
from custom_components.lithium_bms.protocol.renogy.driver import BOARD_SILENCES
from custom_components.lithium_bms.protocol.snapshot import (
    Alarm,
    BatterySnapshot,
)

from .sim_clients import MakeClient, SimClients

CLASSIC = "60:98:66:00:11:22"
PRO = "4C:E1:74:57:94:7B"
CORPUS = Path(__file__).parent / "data" / "advertisements.json"


@pytest.fixture(autouse=True)
def fast_renogy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-battery tests take milliseconds."""
    monkeypatch.setattr(RenogyDriver, "request_timeout", 0.2)


@pytest.fixture(params=["classic", "pro"])
def sim(request: pytest.FixtureRequest) -> RenogyBattery:
    return demo(CLASSIC) if request.param == "classic" else demo_pro(PRO)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: RenogyBattery) -> MakeClient:
    return sim_clients.maker(
        RenogyDriver, sim, address=sim.address, name=sim.advertising.name
    )


def assert_matches(snapshot: BatterySnapshot, sim: RenogyBattery) -> None:
    """The snapshot is the pack, at the protocol's resolution (0.1 V cells)."""
    pack: PackModel = sim.pack
    unit = 0.01 if sim.variant == "classic" else 0.1
    assert snapshot.cell_voltages == tuple(round(v, 1) for v in pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.05)
    assert snapshot.current == pytest.approx(pack.current, abs=unit / 2 + 1e-9)
    assert snapshot.state_of_charge == pytest.approx(pack.soc, abs=0.05)
    assert snapshot.remaining_capacity == pytest.approx(pack.remaining_capacity)
    assert snapshot.full_capacity == pytest.approx(pack.full_capacity)
    assert snapshot.cycles == pack.cycles
    probes = [*pack.temperatures, *sim.ambient, pack.mosfet_temperature]
    if not sim.board_block:
        probes = pack.temperatures
    assert [t.value for t in snapshot.temperatures] == pytest.approx(probes)
    if sim.board_block:
        assert snapshot.mosfet_temperature == pack.mosfet_temperature
    assert snapshot.charge_mosfet is pack.charge_fet
    assert snapshot.discharge_mosfet is pack.discharge_fet
    assert snapshot.heater is sim.heater
    assert snapshot.alarms == {Alarm(a) for a in pack.alarms}
    assert snapshot.state_of_health is None
    assert snapshot.balancing is None


def test_the_demos_are_claimed_by_renogy() -> None:
    for sim in (demo(CLASSIC), demo_pro(PRO)):
        adv = Advertisement(
            address=sim.address,
            name=sim.advertising.name,
            service_uuids=tuple(sim.advertising.service_uuids),
            manufacturer_data=sim.advertising.manufacturer_data,
        )
        assert driver_for_advertisement(adv) is RenogyDriver


def test_the_corpus_variants_follow_the_advertised_name() -> None:
    records = json.loads(CORPUS.read_text())["records"]
    ours = [r for r in records if r["family"] == "renogy"]
    assert {r["variant"] for r in ours} == {"classic", "pro"}
    for record in ours:
        options = DriverOptions(address="00:00:00:00:00:00", name=record["name"])
        driver = RenogyDriver(SimulatorTransport(demo(CLASSIC)), options)
        assert driver.variant == record["variant"], record["name"]


def test_a_stored_variant_wins_over_the_name() -> None:
    options = DriverOptions(address=CLASSIC, name="BT-TH-66EDFC11", variant="pro")
    assert RenogyDriver(SimulatorTransport(demo(CLASSIC)), options).variant == "pro"
    # Neither stored nor named: read as classic, but no variant to store.
    unnamed = DriverOptions(address=CLASSIC)
    assert RenogyDriver(SimulatorTransport(demo(CLASSIC)), unnamed).variant is None


async def test_snapshot_equals_the_pack(
    sim: RenogyBattery, make_client: MakeClient
) -> None:
    client = make_client()
    assert client.driver.variant == sim.variant
    assert_matches(await client.read_snapshot(), sim)
    sim.pack.current = 12.5
    sim.pack.soc = 99.5
    sim.pack.temperatures = [-5.5, -4.0]
    sim.pack.mosfet_temperature = -2.5
    sim.ambient = [-7.0]
    sim.pack.charge_enabled = False
    sim.heater = True
    assert_matches(await client.read_snapshot(), sim)


async def test_the_requests_are_the_reference_bytes(
    sim: RenogyBattery, make_client: MakeClient
) -> None:
    await make_client().read_snapshot()
    assert [w.hex() for w in sim.writes] == [
        "300313880022455c",
        "300313ab0004354c",  # the board block: no public capture of it
        "300313b20007a48a",
        "300313ec0008855c",
    ]


async def test_a_refused_board_block_is_not_asked_again(
    sim: RenogyBattery, make_client: MakeClient
) -> None:
    sim.board_block = False
    client = make_client()
    assert_matches(await client.read_snapshot(), sim)
    sim.writes.clear()
    assert_matches(await client.read_snapshot(), sim)
    assert [w[2:4].hex() for w in sim.writes] == ["1388", "13b2", "13ec"]


async def test_device_info_and_redacted_serial(
    sim: RenogyBattery, make_client: MakeClient
) -> None:
    client = make_client()
    info = await client.read_device_info()
    assert info.manufacturer == "Renogy"
    assert info.model == sim.model
    assert info.serial_number == sim.serial
    assert info.sw_version == "0100"
    received = [f for d, f in client.frame_log if d == "rx"]
    assert received == ["redacted (61 bytes)"]


@pytest.mark.parametrize("alarm", sorted(ALARM_BITS))
async def test_each_alarm(
    sim: RenogyBattery, make_client: MakeClient, alarm: str
) -> None:
    sim.pack.alarms = {alarm}
    snap = await make_client().read_snapshot()
    assert_matches(snap, sim)
    assert snap.problem


async def test_a_board_block_left_unanswered_thrice_is_dropped(
    sim: RenogyBattery, make_client: MakeClient
) -> None:
    client = make_client()
    sim.board_silent = True
    for _ in range(BOARD_SILENCES):
        with pytest.raises(BmsTimeoutError):
            await client.read_snapshot()
    sim.board_block = False  # what the battery shows without the block
    assert_matches(await client.read_snapshot(), sim)


async def test_one_lost_board_reply_keeps_the_block(
    sim: RenogyBattery, make_client: MakeClient
) -> None:
    client = make_client()
    for _ in range(BOARD_SILENCES):
        sim.board_silent = True
        with pytest.raises(BmsTimeoutError):
            await client.read_snapshot()
        sim.board_silent = False
        assert_matches(await client.read_snapshot(), sim)


async def test_a_refused_register_is_a_frame_error(
    sim: RenogyBattery, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(RenogyBattery, "registers", lambda _self: {})
    with pytest.raises(FrameError, match="exception 2"):
        await make_client().read_snapshot()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    mtu=st.integers(min_value=1, max_value=80),
    delay=st.sampled_from([0, 0.001]),
    pro=st.booleans(),
)
async def test_fuzzed_notification_splits(mtu: int, delay: float, pro: bool) -> None:
    """Replies cut into notifications of any size reassemble into the pack."""
    sim = demo_pro(PRO) if pro else demo(CLASSIC)
    sim.mtu = mtu
    sim.notify_delay = delay
    sim.pack.alarms = {"cell_overvoltage", "short_circuit"}
    options = DriverOptions(
        address=sim.address, name=sim.advertising.name, reply_timeout=5.0
    )
    client = BmsClient(RenogyDriver(SimulatorTransport(sim), options))
    try:
        assert_matches(await client.read_snapshot(), sim)
    finally:
        await client.close()
