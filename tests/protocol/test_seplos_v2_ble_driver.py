"""The Seplos driver over Bluetooth in V2 (binary frames on FF00), and the probe."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bms_simulator.device import SimulatedBms
from bms_simulator.families.seplos import V2_ALARM_BITS, demo
from bms_simulator.families.seplos_v2_ble import SeplosV2Ble, ble_demo
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    BmsTimeoutError,
)
from custom_components.lithium_bms.protocol.seplos import SeplosDriver

from .test_seplos_driver import assert_matches

ADDRESS = "60:6E:41:00:11:22"
SINGLE = "7e10004661000100f7c10d"  # the captured requests (vectors)
INFO = "7e1000465100003a7f0d"
type MakeClient = Callable[..., BmsClient]


@pytest.fixture(autouse=True)
def fast_seplos(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent-BMS tests take milliseconds."""
    monkeypatch.setattr(SeplosDriver, "request_timeout", 0.2)
    monkeypatch.setattr(SeplosDriver, "connect_delay", 0.0)


@pytest.fixture
def sim() -> SeplosV2Ble:
    return ble_demo(ADDRESS)


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., BmsClient]]:
    clients: list[BmsClient] = []

    def _make(device: SimulatedBms, **options: Any) -> BmsClient:
        options.setdefault("address", ADDRESS)
        driver = SeplosDriver(SimulatorTransport(device), DriverOptions(**options))
        client = BmsClient(driver, keep_connected=True)
        clients.append(client)
        return client

    yield _make
    for client in clients:
        await client.close()


def variant(client: BmsClient) -> str | None:
    """The driver's variant, read afresh (no narrowing across reads)."""
    return client.driver.variant


async def test_snapshot_equals_the_pack(
    sim: SeplosV2Ble, make_client: MakeClient
) -> None:
    client = make_client(sim, variant="v2")
    assert variant(client) == "v2"
    assert_matches(await client.read_snapshot(), sim.pack)
    sim.pack.current = -17.5
    sim.pack.balancing_cells = {1, 9, 16}
    sim.pack.charge_enabled = False
    sim.pack.temperatures = [-12.5, -3.0, 0.0, 1.5, -20.0]
    assert_matches(await client.read_snapshot(), sim.pack)
    assert [w.hex() for w in sim.writes] == [SINGLE, SINGLE]


async def test_device_info(sim: SeplosV2Ble, make_client: MakeClient) -> None:
    info = await make_client(sim, variant="v2").read_device_info()
    assert (info.manufacturer, info.model, info.sw_version) == (
        "Seplos",
        "1101-SP76",
        "16.4",
    )
    assert [w.hex() for w in sim.writes] == [INFO]


async def test_a_new_pack_is_probed_once_and_v2_stays(
    sim: SeplosV2Ble, make_client: MakeClient
) -> None:
    client = make_client(sim)
    assert variant(client) is None
    assert_matches(await client.read_snapshot(), sim.pack)
    assert variant(client) == "v2"
    await client.read_snapshot()
    probe_v3 = "01041000001134c6"
    assert [w.hex() for w in sim.writes] == [INFO, probe_v3, SINGLE, SINGLE]


async def test_a_new_v3_pack_is_probed_as_v3(make_client: MakeClient) -> None:
    v3 = demo("C0:D6:3C:00:11:22")
    client = make_client(v3)
    assert_matches(await client.read_snapshot(), v3.pack)
    assert variant(client) == "v3"


async def test_a_silent_pack_leaves_the_variant_unknown(
    sim: SeplosV2Ble, make_client: MakeClient
) -> None:
    client = make_client(sim)
    sim.hung = True
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    assert variant(client) is None
    sim.hung = False
    assert_matches(await client.read_snapshot(), sim.pack)
    assert variant(client) == "v2"


@pytest.mark.parametrize("alarm", sorted(V2_ALARM_BITS))
async def test_each_alarm(
    sim: SeplosV2Ble, make_client: MakeClient, alarm: str
) -> None:
    sim.pack.alarms = {alarm}
    snap = await make_client(sim, variant="v2").read_snapshot()
    assert_matches(snap, sim.pack)
    assert snap.protection_code


async def test_at_text_in_the_notifications_costs_nothing(
    sim: SeplosV2Ble, make_client: MakeClient
) -> None:
    sim.at_noise = True
    client = make_client(sim, variant="v2")
    assert_matches(await client.read_snapshot(), sim.pack)
    assert client.stats.read_failures == 0


@pytest.mark.parametrize("mtu", [1, 3, 20, 64, 200])
async def test_any_notification_size(mtu: int, make_client: MakeClient) -> None:
    sim = ble_demo(ADDRESS)
    sim.mtu = mtu
    sim.notify_delay = 0
    client = make_client(sim, variant="v2", reply_timeout=2.0)
    assert_matches(await client.read_snapshot(), sim.pack)
