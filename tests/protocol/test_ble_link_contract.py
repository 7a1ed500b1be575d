"""The link contract every Bluetooth family keeps, against its demo simulator.

Each family's demo (``bms_simulator.registry.DEMOS``) through its own driver:
the demo is claimed by that family alone, a fault on a link that has read
once raises a typed error and the next read shows the pack as before, a link lost
while idle or a hung pack costs one read, replies cut into notifications of
any size reassemble, and a read-only family refuses every switch. The
family's own test module checks that the snapshot equals the pack.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bms_simulator.device import Fault, SimulatedBms
from bms_simulator.registry import DEMOS
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    BmsError,
    BmsTimeoutError,
    ProtocolError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.matching import Advertisement
from custom_components.lithium_bms.protocol.registry import (
    DRIVERS,
    driver_by_family,
    driver_for_advertisement,
)
from custom_components.lithium_bms.protocol.snapshot import BatterySnapshot, SwitchKind

ADDRESS = "C0:DE:00:12:34:56"
FAMILIES = sorted(DEMOS)
# JK streams its frames after one request, and ECO-WORTHY sends its own
# frames between answers, so a fault hits the stream, not an answer: their
# own driver tests cover it. MyVolta relays cycles of messages whose first
# frame it does not read, so a fault there costs nothing.
STREAMED = frozenset({"jk", "ecoworthy", "myvolta"})
# A silent pack fails fast; a healthy simulator answers at once.
SHORT = 0.2
ANSWERING = [f for f in FAMILIES if f not in STREAMED]
READ_ONLY = [
    f for f in FAMILIES if not driver_by_family(DEMOS[f](ADDRESS).family).switches
]
type MakeClient = Callable[..., BmsClient]


@pytest.fixture(params=FAMILIES)
def sim(request: pytest.FixtureRequest) -> SimulatedBms:
    family: str = request.param
    return DEMOS[family](ADDRESS)


def client_for(sim: SimulatedBms, timeout: float | None = None) -> BmsClient:
    """A client of the demo's own family, as the integration makes one.

    A device that sends on its own every ``period`` seconds (Topband,
    ECO-WORTHY) is given that long on top of the short timeout.
    """
    if timeout is None:
        timeout = SHORT + float(getattr(sim, "period", 0.0))
    options = DriverOptions(
        address=ADDRESS, name=sim.advertising.name, reply_timeout=timeout
    )
    driver = driver_by_family(sim.family)(SimulatorTransport(sim), options)
    return BmsClient(driver)


@pytest.fixture
async def make_client(sim: SimulatedBms) -> AsyncIterator[MakeClient]:
    clients: list[BmsClient] = []

    def _make(timeout: float | None = None) -> BmsClient:
        clients.append(client := client_for(sim, timeout))
        return client

    yield _make
    for client in clients:
        await client.close()


async def reference(sim: SimulatedBms) -> BatterySnapshot:
    """What a healthy link reads from the demo (no timeout is waited for here,
    so a loaded machine gets a long one)."""
    client = client_for(sim, timeout=5.0)
    try:
        return await client.read_snapshot()
    finally:
        await client.close()


def test_the_demo_is_claimed_by_its_family_alone(sim: SimulatedBms) -> None:
    adv = Advertisement(
        address=ADDRESS,
        name=sim.advertising.name,
        service_uuids=tuple(sim.advertising.service_uuids),
        manufacturer_data=sim.advertising.manufacturer_data,
    )
    assert driver_for_advertisement(adv) is driver_by_family(sim.family)
    # Another family may claim it too only if it comes later in the order.
    first = driver_by_family(sim.family).claim_order
    assert not [d.family for d in DRIVERS if d.claims(adv) and d.claim_order < first]


@pytest.mark.parametrize("sim", ANSWERING, indirect=True)
@pytest.mark.parametrize(
    ("fault", "errors", "reconnects"),
    [
        (Fault.NO_ANSWER, (BmsTimeoutError,), True),
        # A family without a checksum refuses the corrupt frame itself.
        (Fault.BAD_CHECKSUM, (ProtocolError, BmsTimeoutError), None),
        (Fault.TRUNCATED, (BmsTimeoutError,), True),
        (Fault.DISCONNECT_MID_FRAME, (BmsConnectionError,), True),
    ],
)
async def test_a_fault_costs_one_read(
    sim: SimulatedBms,
    make_client: MakeClient,
    fault: Fault,
    errors: tuple[type[BmsError], ...],
    reconnects: bool | None,
) -> None:
    client = make_client()
    expected = await client.read_snapshot()
    sim.inject(fault)
    with pytest.raises(errors) as raised:
        await client.read_snapshot()
    # A refused frame keeps the link; a silent pack is reconnected.
    if reconnects is None:
        reconnects = not issubclass(raised.type, ProtocolError)
    assert client.is_connected is not reconnects
    assert client.stats.read_failures == 1
    assert await client.read_snapshot() == expected


async def test_a_link_lost_while_idle_is_reconnected(
    sim: SimulatedBms, make_client: MakeClient
) -> None:
    expected = await reference(sim)
    client = make_client()
    await client.read_snapshot()
    sim._drop_link()
    assert client.is_connected is False
    assert await client.read_snapshot() == expected
    assert client.stats.connects == 2


async def test_a_hung_pack_times_out_then_reads(
    sim: SimulatedBms, make_client: MakeClient
) -> None:
    expected = await reference(sim)
    client = make_client()
    sim.hung = True
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    sim.hung = False
    assert await client.read_snapshot() == expected


@pytest.mark.parametrize("sim", READ_ONLY, indirect=True)
async def test_a_read_only_family_refuses_every_switch(
    sim: SimulatedBms, make_client: MakeClient
) -> None:
    client = make_client()
    for kind in SwitchKind:
        with pytest.raises(UnsupportedError):
            await client.set_switch(kind, False)


@pytest.mark.parametrize("family", FAMILIES)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(mtu=st.integers(min_value=1, max_value=250), delay=st.sampled_from([0, 0.001]))
async def test_notifications_of_any_size_reassemble(
    family: str, mtu: int, delay: float
) -> None:
    healthy = DEMOS[family](ADDRESS)
    expected = await reference(healthy)
    sim = DEMOS[family](ADDRESS)
    sim.mtu = mtu
    sim.notify_delay = delay
    client = client_for(sim, timeout=5.0)
    try:
        assert await client.read_snapshot() == expected
    finally:
        await client.close()
