"""JK-PB on RS485: captured traffic, pairing, asking as master, listening."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from typing import Any

import pytest

from bms_simulator.families.jk import pb_pack
from bms_simulator.jk_wired import JkPbPack, master_cycle
from bms_simulator.pack import PackModel, sixteen_cells
from bms_simulator.serial.bus import BusSimulator
from custom_components.lithium_bms.protocol.errors import (
    BmsTimeoutError,
    BusOwnedError,
    CommandNotConfirmedError,
)
from custom_components.lithium_bms.protocol.jk import pb
from custom_components.lithium_bms.protocol.jk.frames import (
    FrameType,
    Layout,
    decode_cell_info,
    decode_device_info,
    decode_settings,
)
from custom_components.lithium_bms.protocol.jk.stream import PbReassembler
from custom_components.lithium_bms.protocol.registry import wired_protocol
from custom_components.lithium_bms.protocol.snapshot import BatterySnapshot, SwitchKind
from custom_components.lithium_bms.protocol.wired import scan_bus, wired_client

from .jk_wired_fixtures import ENDPOINTS, line, vectors
from .serial_fixtures import loopback_sockets

__all__ = ["loopback_sockets"]
PROTOCOL = wired_protocol("jk_pb")
# The tests' master cycles in well under a second: listen that long (the
# protocol's own window is the real master's 4.4 s cycle).
FAST = dataclasses.replace(PROTOCOL, listen_window=0.8)
REPLIES = vectors("jk_pb", "reply")
(REQUEST,) = vectors("jk_pb", "request")


def wire(vector: dict[str, Any]) -> bytes:
    """What the pack sends: frame, 0x00, its acknowledgement, 0x00."""
    return (
        bytes.fromhex(vector["hex"]) + b"\x00" + bytes.fromhex(vector["ack"]) + b"\x00"
    )


def request_for(vector: dict[str, Any], address: int | None = None) -> bytes:
    kind = pb.TRIGGERS[vector["expected"]["register"]]
    return pb.trigger_request(
        vector["expected"]["address"] if address is None else address, kind
    )


def heard(data: bytes, chunks: list[int] | None = None) -> list[pb.Paired]:
    """The pairs a listener publishes from ``data`` fed in pieces."""
    reassembler, pairing = PbReassembler(), pb.Pairing()
    found: list[pb.Paired] = []
    cuts = [0, *(chunks or []), len(data)]
    for start, end in itertools.pairwise(cuts):
        pairs = (pairing.take(piece) for piece in reassembler.feed(data[start:end])[0])
        found.extend(pair for pair in pairs if pair is not None)
    return found


def test_the_trigger_is_the_captured_request() -> None:
    expected = REQUEST["expected"]
    kind = pb.TRIGGERS[expected["register"]]
    assert pb.trigger_request(expected["address"], kind).hex() == REQUEST["hex"]


@pytest.mark.parametrize("vector", REPLIES, ids=lambda v: v["name"])
def test_captured_exchanges_pair_and_decode_exactly(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    (pair,) = heard(request_for(vector) + wire(vector))
    assert pair.address == expected["address"]
    frame = pair.frame
    assert frame.hex() == vector["hex"]
    kind = FrameType(frame[4])
    assert kind is pb.TRIGGERS[expected["register"]]
    if kind is FrameType.CELL_INFO:
        cells = decode_cell_info(frame, Layout.JK02_32S, extra_probes=True)
        assert len(cells.cell_voltages) == expected["cells_count"]
        assert cells.soc == expected["soc"]
        assert cells.full_capacity == expected["full_capacity"]
        assert cells.cycles == expected["cycles"]
        assert cells.soh == expected["soh"]
        assert cells.charge_fet is expected["charge_mosfet"]
        assert cells.discharge_fet is expected["discharge_mosfet"]
        assert int.from_bytes(frame[70:74], "little") == expected["cell_presence_mask"]
    elif kind is FrameType.SETTINGS:
        settings = decode_settings(frame, Layout.JK02_32S)
        for key in set(expected) - {"address", "register"}:
            assert getattr(settings, key) == expected[key], key
    else:
        info = decode_device_info(frame)
        assert (info.vendor, info.sw_version) == (
            expected["vendor"],
            expected["sw_version"],
        )


@pytest.mark.parametrize("vector", REPLIES, ids=lambda v: v["name"])
def test_an_exchange_split_at_every_byte_pairs_once(vector: dict[str, Any]) -> None:
    data = request_for(vector) + wire(vector)
    for cut in range(1, len(data)):
        assert len(heard(data, [cut])) == 1
    assert len(heard(data, list(range(1, len(data))))) == 1


def test_what_cannot_be_paired_is_never_published() -> None:
    status, settings, _ = REPLIES
    frame = bytes.fromhex(status["hex"])
    ack = bytes.fromhex(status["ack"])
    asked = request_for(status)
    # The master's own frame: nobody asked.
    assert heard(wire(status)) == []
    # Asked for address 2, acknowledged by 3.
    assert heard(request_for(status, 2) + wire(status)) == []
    # Asked for cells, the frame is settings.
    assert heard(asked + wire(settings)) == []
    # No acknowledgement, then another request.
    assert heard(asked + frame + asked) == []
    # A damaged frame (one byte flipped) between request and ack.
    bad = bytearray(frame)
    bad[100] ^= 0x01
    assert heard(asked + bytes(bad) + b"\x00" + ack) == []
    # Garbage, then the whole exchange: still found.
    garbage = bytes(range(256)) + b"\x55\xaa\xeb\x90" + frame[:120]
    assert len(heard(garbage + asked + wire(status))) == 1


def assert_is_pack(snapshot: BatterySnapshot, pack: PackModel) -> None:
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == round(pack.voltage, 3)
    assert snapshot.current == pack.current
    assert snapshot.state_of_charge == pack.soc
    assert snapshot.cycles == pack.cycles
    assert snapshot.full_capacity == pack.full_capacity
    assert snapshot.design_capacity == pack.design_capacity
    assert [t.value for t in snapshot.probe_temperatures[:2]] == pack.temperatures
    assert snapshot.mosfet_temperature == pack.mosfet_temperature
    assert snapshot.switches == {
        SwitchKind.CHARGE: pack.charge_enabled,
        SwitchKind.DISCHARGE: pack.discharge_enabled,
        SwitchKind.BALANCER: pack.balancer_enabled,
    }


def three_packs() -> list[JkPbPack]:
    packs = []
    for address in (1, 2, 3):
        pack = sixteen_cells()
        pack.soc = 40.0 + address
        pack.current = -3.5 * address
        pack.cycles = 10 * address
        pack.temperatures = [18.0 + address, 20.5]
        packs.append(pb_pack(address, pack))
    return packs


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_scan_asks_as_master_and_finds_three_packs(endpoint: str) -> None:
    packs = three_packs()
    sim = BusSimulator(packs)
    async with line(sim, endpoint, FAST) as bus:
        result = await scan_bus(bus, FAST, addresses=(1, 2, 3, 4))
    assert not result.listening
    assert [p.address for p in result.packs] == [1, 2, 3]
    for found, simulated in zip(result.packs, packs, strict=True):
        assert found.info.model == "JK-PB2A16S20P"
        assert found.info.name == f"JK-PB-{simulated.address}"
        assert_is_pack(found.snapshot, simulated.pack)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_with_a_master_the_scan_listens_and_sends_nothing(endpoint: str) -> None:
    packs = three_packs()
    sim = BusSimulator(packs)
    own = pb_pack(0)
    own.pack.soc = 99.0  # the master's own frames must never count as a pack's
    async with line(sim, endpoint, FAST) as bus:
        master = asyncio.ensure_future(
            master_cycle(sim, (1, 2, 3), cycles=40, own=own.frames)
        )
        try:
            result = await scan_bus(bus, FAST, addresses=(0, 1, 2, 3, 4))
        finally:
            master.cancel()
    assert result.listening
    assert sim.received == b""
    assert [p.address for p in result.packs] == [1, 2, 3]
    for found, simulated in zip(result.packs, packs, strict=True):
        assert_is_pack(found.snapshot, simulated.pack)


async def test_listening_switches_raise_and_send_nothing() -> None:
    sim = BusSimulator(three_packs())
    async with line(sim, "pty", FAST) as bus:
        master = asyncio.ensure_future(master_cycle(sim, (1, 2, 3), cycles=40))
        client = wired_client(bus, FAST, 2, listen=True)
        try:
            snapshot = await client.read_snapshot()
            assert snapshot.state_of_charge == 42.0
            for kind in SwitchKind:
                with pytest.raises(BusOwnedError):
                    await client.set_switch(kind, False)
        finally:
            master.cancel()
            await client.close()
    assert sim.received == b""


async def test_a_listener_for_an_address_nobody_polls_times_out() -> None:
    sim = BusSimulator(three_packs())
    async with line(sim, "pty", FAST) as bus:
        master = asyncio.ensure_future(
            master_cycle(sim, (1, 2, 3), cycles=40, own=pb_pack(0).frames)
        )
        client = wired_client(bus, FAST, 5, listen=True)
        try:
            with pytest.raises(BmsTimeoutError):
                await client.read_snapshot()
        finally:
            master.cancel()
            await client.close()


@pytest.mark.parametrize("kind", list(SwitchKind))
async def test_a_switch_as_master_is_confirmed_by_the_settings(
    kind: SwitchKind,
) -> None:
    packs = three_packs()
    sim = BusSimulator(packs)
    target = packs[1]
    async with line(sim, "tcp", PROTOCOL) as bus:
        client = wired_client(bus, PROTOCOL, 2, listen=False)
        try:
            snapshot = await client.set_switch(kind, False)
            assert snapshot.switches[kind] is False
            assert all(on for k, on in snapshot.switches.items() if k is not kind)
            assert pb.switch_request(2, kind, False) in sim.received
            assert all(p.pack.charge_enabled for p in (packs[0], packs[2]))
            target.ignore_writes = True
            with pytest.raises(CommandNotConfirmedError):
                await client.set_switch(kind, True)
        finally:
            await client.close()


async def test_a_pack_that_does_not_answer_is_a_timeout() -> None:
    packs = three_packs()
    packs[0].hung = True
    async with line(BusSimulator(packs), "pty", PROTOCOL) as bus:
        client = wired_client(bus, PROTOCOL, 1, listen=False)
        with pytest.raises(BmsTimeoutError):
            await client.read_snapshot()
        await client.close()
