"""The bus scan: an absent pack costs its silence, a slow reply is still read."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bms_simulator.serial.bus import BusSimulator
from bms_simulator.serial.endpoints import PtyEndpoint
from bms_simulator.serial.registry import WIRED_DEMOS
from custom_components.lithium_bms.protocol.registry import wired_protocol
from custom_components.lithium_bms.protocol.serial.bus import SerialBus
from custom_components.lithium_bms.protocol.wired import scan_bus

PACE = wired_protocol("pace")


@pytest.fixture
async def slow_line() -> AsyncIterator[tuple[BusSimulator, SerialBus]]:
    """Two PACE packs whose replies take far longer than the probe's silence."""
    sim = BusSimulator([WIRED_DEMOS["pace"](a) for a in (1, 2)], baudrate=4800)
    endpoint = PtyEndpoint(sim)
    bus = SerialBus(PACE.settings(await endpoint.start()))
    yield sim, bus
    await bus.close()
    endpoint.stop()


async def test_a_reply_longer_than_the_silence_is_read_to_its_end(
    slow_line: tuple[BusSimulator, SerialBus],
) -> None:
    sim, bus = slow_line
    # The analog reply alone is on the wire for longer than the silence.
    assert sim.airtime(b"x" * 150) > PACE.scan_timeout
    result = await scan_bus(bus, PACE, (1, 2, 3))
    assert [pack.address for pack in result.packs] == [1, 2]
    assert result.packs[1].snapshot.cell_voltages == tuple(
        sim.responders[1].pack.cell_voltages  # type: ignore[attr-defined]
    )


async def test_an_absent_pack_is_asked_once_and_given_up_on_its_silence(
    slow_line: tuple[BusSimulator, SerialBus],
) -> None:
    sim, bus = slow_line
    result = await scan_bus(bus, PACE, (3, 1))
    assert [pack.address for pack in result.packs] == [1]
    asked = [int(f[3:5], 16) for f in bytes(sim.received).split(b"\r") if f]
    assert asked.count(3) == 1
    assert asked[0] == 3  # and the scan went on to the next address
