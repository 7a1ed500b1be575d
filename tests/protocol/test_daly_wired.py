"""Daly over UART / RS485: A5 boards on one line, D2 Modbus, over a pty and TCP."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from bms_simulator.device import Fault
from bms_simulator.families import daly as daly_sim
from bms_simulator.serial.adapter import SimulatedResponder
from custom_components.lithium_bms.protocol.daly import a5, d2
from custom_components.lithium_bms.protocol.daly.stream import DalyReassembler
from custom_components.lithium_bms.protocol.daly.wired import (
    DalyA5WiredDriver,
    DalyD2WiredDriver,
)
from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    BmsTimeoutError,
    CommandNotConfirmedError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.registry import wired_protocol
from custom_components.lithium_bms.protocol.snapshot import SwitchKind
from custom_components.lithium_bms.protocol.wired import scan_bus

from .serial_fixtures import loopback_sockets
from .wired_lines import KINDS, assert_reports, line, quick, wait_for

__all__ = ["loopback_sockets"]
_LOGGER = logging.getLogger(__name__)
VECTORS = json.loads(
    (Path(__file__).parent / "data" / "daly_wired_vectors.json").read_text()
)
A5 = quick(wired_protocol("daly_a5"))
D2 = quick(wired_protocol("daly_d2"))
STEP = 0.1  # both carry the pack voltage in 0.1 V


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [v for v in VECTORS if v["expected"]["kind"] == kind]


def names(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in vectors]


def board(number: int, soc: float = 50.0) -> SimulatedResponder:
    responder = daly_sim.wired_a5(number)
    responder.device.pack.soc = soc
    responder.device.pack.current = -4.2
    return responder


# --- the protocols and the captured frames ------------------------------------


def test_the_protocols() -> None:
    a5_line, d2_line = wired_protocol("daly_a5"), wired_protocol("daly_d2")
    assert (a5_line.family, a5_line.baudrate, a5_line.addresses) == (
        "daly",
        9600,
        tuple(range(1, 17)),
    )
    assert (d2_line.baudrate, d2_line.addresses) == (9600, (0xD2,))
    assert (a5_line.driver, d2_line.driver) == (DalyA5WiredDriver, DalyD2WiredDriver)


def test_every_vector_is_sourced() -> None:
    assert all(v["source"] and v["hex"] and v["expected"] for v in VECTORS)


@pytest.mark.parametrize(
    "vector", by_kind("a5_request"), ids=names(by_kind("a5_request"))
)
def test_a5_requests_are_the_captured_bytes(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    host = a5.board_host(expected["board"])
    assert host == expected["host"]
    assert a5.build_request(expected["command"], host).hex() == vector["hex"]


@pytest.mark.parametrize(
    "vector", by_kind("d2_request"), ids=names(by_kind("d2_request"))
)
def test_d2_requests_are_the_captured_bytes(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    assert d2.build_read(expected["start"], expected["count"]).hex() == vector["hex"]


@pytest.mark.parametrize("vector", by_kind("a5_reply"), ids=names(by_kind("a5_reply")))
def test_a_captured_reply_is_taken_only_from_its_board(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    data = bytes.fromhex(vector["hex"])
    ours = DalyReassembler(a5_address=expected["board"], modbus_addresses=())
    found, errors = ours.feed(data)
    assert (len(found), errors) == (expected["frames"], [])
    parsed = [a5.parse_frame(f) for f in found]
    assert {p.command for p in parsed} == {expected["command"]}
    if "text" in expected:
        assert b"".join(p.data[1:] for p in parsed).decode() == expected["text"]
    for other in (2, 5, 16):
        theirs = DalyReassembler(a5_address=other, modbus_addresses=())
        assert theirs.feed(data) == ([], [])


def test_board_hosts() -> None:
    assert [a5.board_host(n) for n in (1, 2, 16)] == [0x40, 0x41, 0x4F]
    for bad in (0, 17):
        with pytest.raises(ValueError, match="outside"):
            a5.board_host(bad)


# --- A5 boards on one line ------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_a_scan_finds_exactly_the_boards_present(kind: str) -> None:
    boards = {1: board(1, 41.0), 2: board(2, 52.0), 5: board(5, 63.0)}
    async with line(kind, A5, list(boards.values())) as wire:
        result = await scan_bus(wire.bus, A5)
    assert not result.listening
    assert [p.address for p in result.packs] == [1, 2, 5]
    for found in result.packs:
        assert_reports(
            found.snapshot, boards[found.address].device.pack, voltage_step=STEP
        )
        assert found.cells == 16


async def test_a_board_that_answers_for_another_is_refused() -> None:
    one = board(1, 41.0)
    impostor = board(3, 99.0)
    impostor.device.a5_source = 4  # asked as board 3, answers as board 4
    loud = board(9, 12.0)
    loud.device.a5_hosts = set(range(0x40, 0x50))  # answers every board's requests
    async with line("pty", A5, [one, impostor, loud]) as wire:
        result = await scan_bus(wire.bus, A5, (1, 3))
        # Every request on the line had two answers: its board's (or the
        # impostor's) and the loud board's.
        assert wire.sim.replies == 2 * len(one.device.writes)
    assert [p.address for p in result.packs] == [1]
    assert_reports(result.packs[0].snapshot, one.device.pack, voltage_step=STEP)


async def test_an_empty_line_is_scanned_in_bounded_time() -> None:
    protocol = quick(wired_protocol("daly_a5"), reply_timeout=0.05)
    async with line("pty", protocol, []) as wire:
        started = time.monotonic()
        result = await scan_bus(wire.bus, protocol)
        elapsed = time.monotonic() - started
    assert result.packs == ()
    _LOGGER.info("Empty Daly A5 line, 16 boards at 9600 baud: %.2f s", elapsed)


@pytest.mark.parametrize("echo", [True, None])
async def test_echo_and_noise_are_never_decoded(echo: bool | None) -> None:
    two = board(2, 52.0)
    noise = bytes.fromhex("00a50290")  # strays and a false A5 start
    async with line("tcp", A5, [two], echo=echo, noise=noise) as wire:
        wire.sim.echo = True
        client = wire.client(2)
        for _ in range(2):
            assert_reports(
                await client.read_snapshot(), two.device.pack, voltage_step=STEP
            )
        await client.close()
        assert wire.bus.echo is True
        assert wire.bus.stats.echo_bytes > 0


async def test_a_collision_is_never_published_and_the_retry_works() -> None:
    five = board(5, 63.0)
    async with line("pty", A5, [five], collide_every=4) as wire:
        client = wire.client(5)
        outcomes = []
        for _ in range(4):
            try:
                snapshot = await client.read_snapshot()
            except (ProtocolError, BmsTimeoutError):
                outcomes.append("lost")
                continue
            assert_reports(snapshot, five.device.pack, voltage_step=STEP)
            outcomes.append("read")
        await client.close()
        assert wire.sim.collisions >= 2
    assert "lost" in outcomes
    assert "read" in outcomes[outcomes.index("lost") :]
    for direction, frame in client.frame_log:
        if direction == "rx":
            raw = bytes.fromhex(frame)
            assert raw[1] == 5
            a5.parse_frame(raw)


@pytest.mark.parametrize("kind", KINDS)
async def test_an_a5_switch_is_confirmed_over_the_wire(kind: str) -> None:
    two, five = board(2), board(5)
    async with line(kind, A5, [two, five]) as wire:
        client = wire.client(5)
        off = await client.set_switch(SwitchKind.DISCHARGE, False)
        assert (off.charge_mosfet, off.discharge_mosfet) == (True, False)
        assert (
            five.device.pack.charge_enabled,
            five.device.pack.discharge_enabled,
        ) == (
            True,
            False,
        )
        assert two.device.pack.discharge_enabled  # the other board is untouched
        on = await client.set_switch(SwitchKind.DISCHARGE, True)
        assert (on.charge_mosfet, on.discharge_mosfet) == (True, True)
        five.device.refuse_commands = True
        with pytest.raises(CommandNotConfirmedError):
            await client.set_switch(SwitchKind.CHARGE, False)
        assert five.device.pack.charge_enabled
        await client.close()


async def test_the_port_vanishing_mid_reply_and_reopening() -> None:
    one = board(1)
    async with line("tcp", A5, [one]) as wire:
        client = wire.client(1)
        await client.read_snapshot()
        one.device.inject(Fault.TRUNCATED)
        replies = wire.sim.replies
        reading = asyncio.ensure_future(client.read_snapshot())
        await wait_for(lambda: wire.sim.replies > replies)
        await asyncio.sleep(0.05)
        await wire.vanish()
        with pytest.raises(BmsConnectionError):
            await reading
        await wire.endpoint.start()
        assert_reports(await client.read_snapshot(), one.device.pack, voltage_step=STEP)
        await client.close()
        assert wire.bus.stats.losses == 1


# --- D2 Modbus ------------------------------------------------------------------


def d2_pack() -> SimulatedResponder:
    responder = daly_sim.wired_d2(0xD2)
    responder.device.pack.current = 7.3
    responder.device.pack.soc = 71.0
    return responder


@pytest.mark.parametrize("kind", KINDS)
async def test_a_d2_scan_finds_the_pack_and_reads_it(kind: str) -> None:
    responder = d2_pack()
    async with line(kind, D2, [responder]) as wire:
        result = await scan_bus(wire.bus, D2)
    (found,) = result.packs
    assert found.address == 0xD2
    assert found.info.sw_version == responder.device.software_version
    assert_reports(found.snapshot, responder.device.pack, voltage_step=STEP)
    assert found.snapshot.design_capacity == responder.device.pack.design_capacity


async def test_a_d2_switch_is_confirmed_by_its_register() -> None:
    responder = d2_pack()
    model = responder.device.pack
    async with line("pty", D2, [responder], noise=b"\x00\xd2") as wire:
        client = wire.client(0xD2)
        off = await client.set_switch(SwitchKind.CHARGE, False)
        assert off.switches[SwitchKind.CHARGE] is False
        assert off.switches[SwitchKind.DISCHARGE] is True
        assert (model.charge_enabled, model.discharge_enabled) == (False, True)
        responder.device.inject(Fault.IGNORE_COMMAND)
        with pytest.raises(CommandNotConfirmedError):
            await client.set_switch(SwitchKind.CHARGE, True)
        assert not model.charge_enabled
        on = await client.set_switch(SwitchKind.CHARGE, True)
        assert on.switches[SwitchKind.CHARGE] is True
        await client.close()


async def test_a_silent_d2_pack_is_not_found() -> None:
    responder = d2_pack()
    responder.device.hung = True
    async with line("tcp", D2, [responder]) as wire:
        assert (await scan_bus(wire.bus, D2)).packs == ()
