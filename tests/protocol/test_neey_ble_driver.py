"""The Neey driver over Bluetooth (FFE0 / FFE1), against the simulator."""

from __future__ import annotations

import pytest

from bms_simulator.device import Fault
from bms_simulator.families.neey import (
    MASK_OF_ALARM,
    STATUS_OF_ALARM,
    NeeySimulator,
    demo,
)
from bms_simulator.pack import PackModel
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    BmsTimeoutError,
    CommandNotConfirmedError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.matching import Advertisement
from custom_components.lithium_bms.protocol.neey import NeeyDriver
from custom_components.lithium_bms.protocol.registry import driver_for_advertisement
from custom_components.lithium_bms.protocol.snapshot import (
    Alarm,
    BatterySnapshot,
    SwitchKind,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "A4:C1:38:12:34:56"
CELL_REQUEST = "aa551101020014000000000000000000000027ff"
INFO_REQUEST = "aa551101010014000000000000000000000026ff"
SETTINGS_REQUEST = "aa551101040014000000000000000000000029ff"
BALANCER = {
    True: "aa551100050d14000100000000000000000037ff",
    False: "aa551100050d14000000000000000000000036ff",
}


def assert_matches(snapshot: BatterySnapshot, sim: NeeySimulator) -> None:
    """The snapshot is the simulated balancer, at float resolution."""
    pack: PackModel = sim.pack
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.001)
    assert snapshot.balancing is bool(pack.balancing_cells)
    assert snapshot.balance_current == sim.balance_current
    assert snapshot.cell_resistances == tuple(
        sim.resistances[: len(pack.cell_voltages)]
    )
    assert [t.value for t in snapshot.temperatures] == pytest.approx(sim.probes)
    assert snapshot.alarms == {Alarm(a) for a in pack.alarms}
    assert snapshot.charge_mosfet is None
    assert snapshot.discharge_mosfet is None
    assert snapshot.switches == {SwitchKind.BALANCER: pack.balancer_enabled}
    assert snapshot.cycles is None
    assert snapshot.state_of_health is None
    assert snapshot.full_capacity is None
    if sim.layout == "v1":
        assert snapshot.measures_current is False
        assert snapshot.current == 0.0
        assert snapshot.state_of_charge is None
        assert snapshot.remaining_capacity is None
        assert snapshot.design_capacity is None
    else:
        assert snapshot.measures_current is True
        assert snapshot.current == pytest.approx(pack.current)
        assert snapshot.state_of_charge == pytest.approx(pack.soc)
        assert snapshot.design_capacity == pack.design_capacity
        assert snapshot.remaining_capacity == pytest.approx(
            pack.design_capacity * pack.soc / 100, abs=0.001
        )


@pytest.fixture(autouse=True)
def fast_neey(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts (0.2 s: a switch is several exchanges) and no settle time."""
    monkeypatch.setattr(NeeyDriver, "request_timeout", 0.2)
    monkeypatch.setattr(NeeyDriver, "switch_settle", 0.0)


@pytest.fixture(params=["GW-24S4EB", "EK-B24S8E200A"], ids=["v1", "v2"])
def sim(request: pytest.FixtureRequest) -> NeeySimulator:
    device = demo(ADDRESS)
    assert device.model == "EK-B24S8E200A"
    device.model = request.param
    device.pack.temperatures = [24.5, 25.0, 26.5]
    device.pack.current = 3.25
    return device


@pytest.fixture
def make_client(sim_clients: SimClients, sim: NeeySimulator) -> MakeClient:
    return sim_clients.maker(NeeyDriver, sim, address=ADDRESS)


@pytest.mark.parametrize(
    ("name", "ours"),
    [("GW-24S4EB", True), ("EK-16S2EB", True), ("GW24S", False), ("JK-B2A24S", False)],
)
def test_claimed_by_name_and_fee7(name: str, ours: bool) -> None:
    sim = demo(ADDRESS)
    adv = Advertisement(ADDRESS, name, tuple(sim.advertising.service_uuids))
    assert (driver_for_advertisement(adv) is NeeyDriver) is ours
    # Without FEE7 the name alone is not enough.
    assert not NeeyDriver.claims(Advertisement(ADDRESS, name, ()))


async def test_snapshot_equals_the_balancer(
    sim: NeeySimulator, make_client: MakeClient
) -> None:
    client = make_client()
    snap = await client.read_snapshot()
    assert_matches(snap, sim)
    # A longer pack, on a new connection (the count guard holds the cell
    # count within one connection).
    await client.close()
    sim.pack.cell_voltages = [round(3.3 + 0.002 * i, 3) for i in range(24)]
    sim.pack.balancing_cells = set()
    sim.pack.soc = 12.5
    sim.balance_current = 0.0
    sim.pack.balancer_enabled = False
    assert_matches(await make_client().read_snapshot(), sim)


async def test_probe_kinds(sim: NeeySimulator, make_client: MakeClient) -> None:
    kinds = [t.kind for t in (await make_client().read_snapshot()).temperatures]
    if sim.layout == "v1":
        assert kinds == [TemperatureKind.CELL] * 2
    else:
        assert kinds == [
            TemperatureKind.CELL,
            TemperatureKind.CELL,
            TemperatureKind.MOSFET,
            TemperatureKind.AMBIENT,
        ]


async def test_device_info_then_one_request_per_update(
    sim: NeeySimulator, make_client: MakeClient
) -> None:
    client = make_client()
    info = await client.read_device_info()
    assert (info.manufacturer, info.model) == ("Neey", sim.model)
    assert (info.hw_version, info.sw_version) == ("HW-2.8.0", "ZH-1.2.3")
    await client.read_snapshot()
    await client.read_snapshot()
    # The settings (the balancer switch) once per connection.
    assert [w.hex() for w in sim.writes] == [
        INFO_REQUEST,
        SETTINGS_REQUEST,
        CELL_REQUEST,
        CELL_REQUEST,
    ]


async def test_a_snapshot_first_asks_the_model(
    sim: NeeySimulator, make_client: MakeClient
) -> None:
    """Without device info read, the layout is learnt before the cells."""
    driver = NeeyDriver(SimulatorTransport(sim), DriverOptions(address=ADDRESS))
    client = BmsClient(driver, keep_connected=True)
    try:
        assert_matches(await client.read_snapshot(), sim)
        assert [w.hex() for w in sim.writes][-3:] == [
            INFO_REQUEST,
            SETTINGS_REQUEST,
            CELL_REQUEST,
        ]
    finally:
        await client.close()


@pytest.mark.parametrize("alarm", sorted({*STATUS_OF_ALARM, *MASK_OF_ALARM}))
async def test_each_alarm(
    sim: NeeySimulator, make_client: MakeClient, alarm: str
) -> None:
    sim.pack.alarms = {alarm}
    snap = await make_client().read_snapshot()
    assert snap.alarms == {Alarm(alarm)}
    assert snap.problem is True
    assert Alarm(alarm) in snap.supported_alarms
    # A fault in the operation status stops the balancing.
    assert snap.balancing is (alarm in MASK_OF_ALARM)


async def test_the_balancer_switch_is_written_and_read_back(
    sim: NeeySimulator, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    for on in (False, True, False):
        del sim.writes[:]
        snap = await client.set_switch(SwitchKind.BALANCER, on)
        assert sim.pack.balancer_enabled is on
        assert snap.switches == {SwitchKind.BALANCER: on}
        assert_matches(snap, sim)
        # The command, the settings read back, the cells.
        assert [w.hex() for w in sim.writes] == [
            BALANCER[on],
            SETTINGS_REQUEST,
            CELL_REQUEST,
        ]
    # The next update reads the cells only, with the state read back.
    del sim.writes[:]
    snap = await client.read_snapshot()
    assert [w.hex() for w in sim.writes] == [CELL_REQUEST]
    assert snap.switches == {SwitchKind.BALANCER: False}


async def test_a_command_before_any_update_learns_the_layout_first(
    sim: NeeySimulator, make_client: MakeClient
) -> None:
    snap = await make_client().set_switch(SwitchKind.BALANCER, False)
    assert snap.switches == {SwitchKind.BALANCER: False}
    assert [w.hex() for w in sim.writes][:2] == [INFO_REQUEST, BALANCER[False]]


async def test_an_ignored_command_is_not_confirmed(
    sim: NeeySimulator, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(CommandNotConfirmedError):
        await client.set_switch(SwitchKind.BALANCER, False)
    assert sim.pack.balancer_enabled is True
    # The next update reads the settings again (a late change would show).
    del sim.writes[:]
    snap = await client.read_snapshot()
    assert snap.switches == {SwitchKind.BALANCER: True}
    assert [w.hex() for w in sim.writes] == [SETTINGS_REQUEST, CELL_REQUEST]


async def test_a_command_applied_late_shows_at_the_next_update(
    sim: NeeySimulator, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(CommandNotConfirmedError):
        await client.set_switch(SwitchKind.BALANCER, False)
    sim.pack.balancer_enabled = False  # it took effect after the read-back
    snap = await client.read_snapshot()
    assert snap.switches == {SwitchKind.BALANCER: False}


async def test_a_change_made_elsewhere_shows_after_a_command(
    sim: NeeySimulator, make_client: MakeClient
) -> None:
    """The read-back, not what the driver last saw, is what the switch shows."""
    client = make_client()
    await client.read_snapshot()
    sim.pack.balancer_enabled = False  # the vendor app turned it off
    snap = await client.set_switch(SwitchKind.BALANCER, False)
    assert snap.switches == {SwitchKind.BALANCER: False}


async def test_a_lost_read_back_fails_the_command_and_is_asked_again(
    sim: NeeySimulator, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    sim.inject(Fault.NO_ANSWER, 2)  # the write's acknowledgement and the settings
    with pytest.raises(BmsTimeoutError):
        await client.set_switch(SwitchKind.BALANCER, False)
    assert sim.pack.balancer_enabled is False
    snap = await client.read_snapshot()
    assert snap.switches == {SwitchKind.BALANCER: False}
    assert SETTINGS_REQUEST in [w.hex() for w in sim.writes][-2:]


async def test_a_lost_settings_reply_costs_one_update(
    sim: NeeySimulator, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_device_info()
    sim.inject(Fault.NO_ANSWER)
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    assert_matches(await client.read_snapshot(), sim)


@pytest.mark.parametrize("kind", [SwitchKind.CHARGE, SwitchKind.DISCHARGE])
async def test_a_balancer_has_no_mosfet_switch(
    sim: NeeySimulator, make_client: MakeClient, kind: SwitchKind
) -> None:
    assert NeeyDriver.switches == {SwitchKind.BALANCER}
    client = make_client()
    await client.read_snapshot()
    del sim.writes[:]
    with pytest.raises(UnsupportedError):
        await client.set_switch(kind, False)
    assert sim.writes == []


def test_the_device_info_reply_is_redacted(sim: NeeySimulator) -> None:
    driver = NeeyDriver(SimulatorTransport(sim), DriverOptions(address=ADDRESS))
    assert driver.is_sensitive(sim.device_info_frame())
    assert not driver.is_sensitive(sim.cell_info_frame())
    assert not driver.is_sensitive(sim.settings_frame())
    assert not driver.is_sensitive(bytes.fromhex(INFO_REQUEST))
