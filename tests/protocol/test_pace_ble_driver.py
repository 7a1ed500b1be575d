"""The PACE driver over Bluetooth (PACEEX module on FFF0), against the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bms_simulator.families.pace import PaceBle, ble_frame, demo
from bms_simulator.pack import PackModel
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.matching import Advertisement
from custom_components.lithium_bms.protocol.pace import PaceDriver
from custom_components.lithium_bms.protocol.pace.ble_frames import (
    OWN_PACK,
    BleCommand,
    ble_request,
)
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    SwitchKind,
    TemperatureKind,
)

ADDRESS = "C0:D6:3C:00:96:62"
SYSTEM = 0x0A00
type MakeClient = Callable[..., BmsClient]


def assert_matches(snapshot: BatterySnapshot, pack: PackModel) -> None:
    """The snapshot is the pack model, at the protocol's resolution."""
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.reported_cell_count == len(pack.cell_voltages)
    assert snapshot.voltage == pytest.approx(pack.voltage, abs=0.005)
    assert snapshot.current == pytest.approx(pack.current)
    assert snapshot.state_of_charge == round(pack.soc)
    assert snapshot.state_of_health == round(pack.state_of_health)
    assert snapshot.remaining_capacity == pytest.approx(
        pack.remaining_capacity, abs=0.005
    )
    assert snapshot.design_capacity == pytest.approx(pack.design_capacity)
    assert snapshot.cycles == pack.cycles
    assert [t.value for t in snapshot.temperatures] == pytest.approx(
        pack.temperatures[:4]
    )
    assert {t.kind for t in snapshot.temperatures} == {TemperatureKind.CELL}
    # Nothing the BLE frames do not carry.
    assert snapshot.full_capacity is None
    assert snapshot.alarms == frozenset()
    assert snapshot.supported_alarms == frozenset()
    assert snapshot.switches == {}
    assert snapshot.charge_mosfet is None
    assert snapshot.balancing is None


@pytest.fixture(autouse=True)
def fast_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(PaceDriver, "request_timeout", 0.2)


@pytest.fixture
def sim() -> PaceBle:
    return demo(ADDRESS)


@pytest.fixture
async def make_client(sim: PaceBle) -> AsyncIterator[MakeClient]:
    clients: list[BmsClient] = []

    def _make(device: PaceBle | None = None, **options: Any) -> BmsClient:
        options.setdefault("address", ADDRESS)
        transport = SimulatorTransport(device or sim)
        client = BmsClient(PaceDriver(transport, DriverOptions(**options)))
        clients.append(client)
        return client

    yield _make
    for client in clients:
        await client.close()


@pytest.mark.parametrize("name", ["PC-96621", "PC-96", "PCX9662", "pc-9662"])
def test_other_names_are_not_a_pace_module(name: str) -> None:
    assert not PaceDriver.claims(Advertisement(ADDRESS, name))


async def test_snapshot_equals_the_pack(sim: PaceBle, make_client: MakeClient) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim.pack)
    sim.pack.current = 25.5
    sim.pack.soc = 12
    sim.pack.temperatures = [-5.0, -4.5, 0.0, 1.5]
    sim.pack.cell_voltages[3] = 3.05
    assert_matches(await client.read_snapshot(), sim.pack)


async def test_each_pack_reads_its_own_values_never_the_system_frame(
    sim: PaceBle, make_client: MakeClient
) -> None:
    """0x0a01 and 0x0a02 of the module's own pack; 0x0a00 is never asked."""
    await make_client().read_snapshot()
    assert sim.writes == [
        ble_request(BleCommand.PACK, OWN_PACK),
        ble_request(BleCommand.CELLS, OWN_PACK),
    ]
    assert SYSTEM not in sim.asked


class _ZerosFirst(PaceBle):
    """A slave pack that pushes its all-zero system frame before every reply."""

    def handle_write(self, handle: int, data: bytes) -> None:
        self.send(ble_frame(SYSTEM, bytes(51)))
        super().handle_write(handle, data)


async def test_an_all_zero_system_frame_is_never_shown(
    make_client: MakeClient,
) -> None:
    slave = _ZerosFirst(ADDRESS, "PC-9663", demo(ADDRESS).pack, master=False)
    assert slave.system() == bytes(51)
    snapshot = await make_client(slave).read_snapshot()
    assert_matches(snapshot, slave.pack)
    assert snapshot.voltage > 0
    assert snapshot.state_of_charge == 74


async def test_device_info_and_redacted_serial(make_client: MakeClient) -> None:
    client = make_client()
    info = await client.read_device_info()
    assert info.manufacturer == "PACE"
    assert info.model == "P16S100A"
    assert info.sw_version == "P16S100A-1812-1.00"
    assert info.hw_version == "21939V140"
    assert info.serial_number == "SIMPACE0001"
    log = [frame for _, frame in client.frame_log]
    assert log[:2] == ["redacted (11 bytes)", "redacted (23 bytes)"]
    assert all("SIMPACE" not in frame for frame in log)


async def test_read_only_over_ble_switching_on_a_bus(make_client: MakeClient) -> None:
    client = make_client()
    assert PaceDriver.switches == frozenset()
    assert client.driver.switches == frozenset()
    with pytest.raises(UnsupportedError):
        await client.set_switch(SwitchKind.CHARGE, False)
    wired = PaceDriver(SimulatorTransport(demo(ADDRESS)), DriverOptions(bus_address=2))
    assert wired.switches == {SwitchKind.CHARGE, SwitchKind.DISCHARGE}
