"""JBD over its UART: captured frames, a scan and reads over a real pty and TCP."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bms_simulator.device import Fault
from bms_simulator.families import jbd as jbd_sim
from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    BmsTimeoutError,
    ChecksumError,
    CommandNotConfirmedError,
)
from custom_components.lithium_bms.protocol.jbd import frames
from custom_components.lithium_bms.protocol.jbd.stream import JbdReassembler
from custom_components.lithium_bms.protocol.jbd.wired import JbdWiredDriver
from custom_components.lithium_bms.protocol.registry import wired_protocol
from custom_components.lithium_bms.protocol.snapshot import SwitchKind
from custom_components.lithium_bms.protocol.wired import scan_bus

from .serial_fixtures import loopback_sockets
from .wired_lines import KINDS, assert_reports, line, quick, wait_for

__all__ = ["loopback_sockets"]
VECTORS = json.loads(
    (Path(__file__).parent / "data" / "jbd_wired_vectors.json").read_text()
)
JBD = quick(wired_protocol("jbd"))
STEP = 0.01  # register 0x03 carries 10 mV


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [v for v in VECTORS if v["expected"]["kind"] == kind]


def names(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in vectors]


def pack() -> jbd_sim.SimulatedResponder:
    return jbd_sim.wired_demo(0)


# --- captured frames ----------------------------------------------------------


def test_the_protocol() -> None:
    protocol = wired_protocol("jbd")
    assert (protocol.family, protocol.baudrate, protocol.addresses) == (
        "jbd",
        9600,
        (0,),
    )
    assert protocol.driver is JbdWiredDriver
    assert protocol.driver.connect_delay == 0


def test_every_vector_is_sourced() -> None:
    assert all(v["source"] and v["hex"] and v["expected"] for v in VECTORS)


@pytest.mark.parametrize("vector", by_kind("request"), ids=names(by_kind("request")))
def test_requests_are_the_captured_bytes(vector: dict[str, Any]) -> None:
    assert frames.build_read(vector["expected"]["register"]).hex() == vector["hex"]


def test_the_split_basic_reply() -> None:
    (vector,) = by_kind("chunks")
    expected = vector["expected"]
    reassembler = JbdReassembler()
    first, errors = reassembler.feed(bytes.fromhex(expected["chunks"][0]))
    assert (first, errors) == ([], [])
    found, errors = reassembler.feed(bytes.fromhex(expected["chunks"][1]))
    assert errors == []
    assert [f.hex() for f in found] == [vector["hex"]]
    basic = frames.decode_basic(frames.parse_frame(found[0]).payload)
    assert basic.voltage == expected["total_voltage_V"]
    assert basic.current == expected["current_A"]
    assert basic.remaining_capacity == expected["remaining_Ah"]
    assert basic.nominal_capacity == expected["nominal_Ah"]
    assert basic.cycles == expected["cycles"]
    assert basic.production_date == expected["production_date"]
    assert basic.protection == expected["protection"]
    assert not basic.balancing_cells
    assert (basic.charge_fet, basic.discharge_fet) == (True, True)
    assert basic.cell_count == expected["cells"]
    assert basic.temperatures == tuple(expected["temps_C"])


def test_the_cell_and_model_replies() -> None:
    (cells,) = by_kind("cells")
    payload = frames.parse_frame(bytes.fromhex(cells["hex"])).payload
    assert frames.decode_cells(payload) == tuple(cells["expected"]["cells_V"])
    (model,) = by_kind("model")
    payload = frames.parse_frame(bytes.fromhex(model["hex"])).payload
    assert frames.decode_model(payload) == model["expected"]["model"]


@pytest.mark.parametrize("vector", by_kind("stream"), ids=names(by_kind("stream")))
def test_captured_strays_are_never_published(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["hex"])
    for size in (1, 3, len(data)):
        reassembler = JbdReassembler()
        found: list[bytes] = []
        for start in range(0, len(data), size):
            found += reassembler.feed(data[start : start + size])[0]
        assert [f.hex() for f in found] == vector["expected"]["frames"]


# --- the driver on a line -------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_a_scan_finds_the_pack_and_reads_it(kind: str) -> None:
    responder = pack()
    model = responder.device.pack
    model.current = -12.5
    model.temperatures = [-5.5, 31.2]
    async with line(kind, JBD, [responder]) as wire:
        result = await scan_bus(wire.bus, JBD)
    assert not result.listening
    (found,) = result.packs
    assert found.address == 0
    assert found.info.model == responder.device.model
    assert_reports(found.snapshot, model, voltage_step=STEP)
    assert [t.value for t in found.snapshot.temperatures] == model.temperatures


@pytest.mark.parametrize("kind", KINDS)
async def test_an_absent_pack_is_not_found(kind: str) -> None:
    responder = pack()
    responder.device.hung = True
    async with line(kind, JBD, [responder]) as wire:
        result = await scan_bus(wire.bus, JBD)
        assert result.packs == ()
        with pytest.raises(BmsTimeoutError):
            await wire.client(0).read_snapshot()
    assert not any(w.startswith(b"\xff\xaa") for w in responder.device.writes)


async def test_a_password_is_for_bluetooth_only() -> None:
    responder = pack()
    async with line("pty", JBD, [responder]) as wire:
        client = wire.client(0)
        client.driver.options = client.driver.options.__class__(
            address="jbd:0", password="123456", bus_address=0
        )
        assert_reports(
            await client.read_snapshot(), responder.device.pack, voltage_step=STEP
        )
        await client.close()
    assert not any(w.startswith(b"\xff\xaa") for w in responder.device.writes)


@pytest.mark.parametrize("echo", [True, None])
async def test_echo_and_noise_are_never_decoded(echo: bool | None) -> None:
    responder = pack()
    noise = bytes.fromhex("0000dd03")  # strays and a false start before each reply
    async with line("pty", JBD, [responder], echo=echo, noise=noise) as wire:
        wire.sim.echo = bool(echo) or echo is None
        client = wire.client(0)
        for _ in range(3):
            snapshot = await client.read_snapshot()
            assert_reports(snapshot, responder.device.pack, voltage_step=STEP)
        await client.close()
        assert wire.bus.echo is True
        assert wire.bus.stats.echo_bytes > 0


async def test_a_collision_is_never_published_and_the_retry_works() -> None:
    responder = pack()
    async with line("tcp", JBD, [responder], collide_every=3) as wire:
        client = wire.client(0)
        outcomes = []
        for _ in range(6):
            try:
                snapshot = await client.read_snapshot()
            except ChecksumError:  # the garbled reply, refused
                outcomes.append("lost")
                continue
            assert_reports(snapshot, responder.device.pack, voltage_step=STEP)
            outcomes.append("read")
        await client.close()
        assert wire.sim.collisions >= 2
    assert "lost" in outcomes
    assert outcomes[-1] == "read" or outcomes[-2] == "read"
    received = [bytes.fromhex(f) for d, f in client.frame_log if d == "rx"]
    assert received
    for frame in received:  # every published frame is whole and valid
        frames.parse_frame(frame)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_switch_is_confirmed_over_the_wire(kind: str) -> None:
    responder = pack()
    model = responder.device.pack
    async with line(kind, JBD, [responder]) as wire:
        client = wire.client(0)
        off = await client.set_switch(SwitchKind.CHARGE, False)
        assert (off.charge_mosfet, off.discharge_mosfet) == (False, True)
        assert (model.charge_enabled, model.discharge_enabled) == (False, True)
        on = await client.set_switch(SwitchKind.CHARGE, True)
        assert (on.charge_mosfet, on.discharge_mosfet) == (True, True)
        responder.device.inject(Fault.IGNORE_COMMAND)
        with pytest.raises(CommandNotConfirmedError):
            await client.set_switch(SwitchKind.DISCHARGE, False)
        assert model.discharge_enabled
        await client.close()
    writes = [w for w in responder.device.writes if w[1] == frames.WRITE]
    assert writes[:2] == [
        frames.build_mosfet(False, True),
        frames.build_mosfet(True, True),
    ]


async def test_the_port_vanishing_mid_reply_and_reopening() -> None:
    responder = pack()
    async with line("tcp", JBD, [responder], reply_delay=0.01) as wire:
        client = wire.client(0)
        await client.read_snapshot()
        responder.device.inject(Fault.TRUNCATED)  # half a reply, then nothing
        reading = asyncio.ensure_future(client.read_snapshot())
        await wait_for(lambda: wire.sim.replies >= 3)
        await asyncio.sleep(0.05)
        await wire.vanish()
        with pytest.raises(BmsConnectionError):
            await reading
        await wire.endpoint.start()  # the same port again
        assert_reports(
            await client.read_snapshot(), responder.device.pack, voltage_step=STEP
        )
        await client.close()
        assert wire.bus.stats.losses == 1


async def test_the_port_vanishing_under_a_pty() -> None:
    responder = pack()
    async with line("pty", JBD, [responder], reply_delay=0.01) as wire:
        client = wire.client(0)
        await client.read_snapshot()
        responder.device.inject(Fault.TRUNCATED)
        reading = asyncio.ensure_future(client.read_snapshot())
        await wait_for(lambda: wire.sim.replies >= 3)
        await wire.vanish()
        with pytest.raises(BmsConnectionError):
            await reading
        with pytest.raises(BmsConnectionError):
            await client.read_snapshot()  # the device path is gone
