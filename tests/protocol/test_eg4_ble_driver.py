"""The EG4 driver over Bluetooth (service 1000), against the simulator."""

from __future__ import annotations

import pytest

from bms_simulator.families import eg4 as eg4_sim
from bms_simulator.families.eg4 import ALARM_BITS, Eg4Ble, demo
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.eg4 import Eg4Driver
from custom_components.lithium_bms.protocol.errors import (
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.snapshot import (
    Alarm,
    BatterySnapshot,
    TemperatureKind,
)

from .sim_clients import MakeClient, SimClients

ADDRESS = "80:6F:B0:00:11:22"


def assert_matches(snapshot: BatterySnapshot, pack: PackModel) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.006)
    assert snapshot.current == pytest.approx(pack.current, abs=0.06)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.state_of_health == round(pack.state_of_health)
    assert snapshot.remaining_capacity == pytest.approx(
        pack.remaining_capacity, abs=0.06
    )
    assert snapshot.full_capacity == pytest.approx(pack.full_capacity)
    assert snapshot.design_capacity == pytest.approx(pack.design_capacity)
    assert snapshot.cycles == pack.cycles
    probes = [t.value for t in snapshot.temperatures if t.kind == TemperatureKind.CELL]
    assert probes == [round(t) for t in (pack.temperatures + pack.temperatures)[:2]]
    assert snapshot.mosfet_temperature == round(pack.mosfet_temperature)
    assert snapshot.balancing is bool(pack.balancing_cells)
    assert snapshot.alarms == {Alarm(a) for a in pack.alarms}
    assert snapshot.charge_mosfet is None
    assert snapshot.discharge_mosfet is None


@pytest.fixture(autouse=True)
def fast_eg4(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(Eg4Driver, "request_timeout", 0.2)


@pytest.fixture
def sim() -> Eg4Ble:
    return demo(ADDRESS)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: Eg4Ble) -> MakeClient:
    return sim_clients.maker(Eg4Driver, sim, address=ADDRESS)


async def test_snapshot_equals_the_pack(sim: Eg4Ble, make_client: MakeClient) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim.pack)
    sim.pack.current = 37.5
    sim.pack.balancing_cells = {2}
    sim.pack.temperatures = [-4.0, 2.0]
    assert_matches(await client.read_snapshot(), sim.pack)


async def test_sixteen_cells(sim: Eg4Ble, make_client: MakeClient) -> None:
    sim.pack.cell_voltages = [round(3.3 + 0.001 * i, 3) for i in range(16)]
    assert_matches(await make_client().read_snapshot(), sim.pack)


async def test_device_info_names_the_maker(make_client: MakeClient) -> None:
    info = await make_client().read_device_info()
    assert info.manufacturer == "EG4 Electronics"
    assert info.serial_number is None


async def test_the_request_is_the_captured_one(
    sim: Eg4Ble, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    assert [w.hex() for w in sim.writes] == ["01030000002705d0"]
    # Nothing the status block carries is secret: the log keeps the frames.
    assert [d for d, _ in client.frame_log] == ["tx", "rx"]
    assert not any(f.startswith("redacted") for _, f in client.frame_log)


@pytest.mark.parametrize("alarm", sorted(ALARM_BITS))
async def test_each_alarm(sim: Eg4Ble, make_client: MakeClient, alarm: str) -> None:
    sim.pack.alarms = {alarm}
    assert_matches(await make_client().read_snapshot(), sim.pack)


async def test_a_refused_read_is_typed(
    monkeypatch: pytest.MonkeyPatch, make_client: MakeClient
) -> None:
    refusal = eg4_sim.reply(eg4_sim.demo_pack(), eg4_sim.REGISTERS, 1)
    monkeypatch.setattr(eg4_sim, "reply", lambda *_: refusal)
    with pytest.raises(UnsupportedError, match="code 2"):
        await make_client().read_snapshot()
