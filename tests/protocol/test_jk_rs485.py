"""JK's 4E 57 wired protocol: captured frames, reassembly, the driver on a line."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from bms_simulator.jk_wired import Jk4e57Pack
from bms_simulator.pack import PackModel, sixteen_cells
from bms_simulator.serial.bus import BusSimulator
from custom_components.lithium_bms.protocol.errors import (
    BusOwnedError,
    ChecksumError,
    CommandNotConfirmedError,
    FrameError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.jk import rs485
from custom_components.lithium_bms.protocol.jk.stream import Rs485Reassembler
from custom_components.lithium_bms.protocol.registry import wired_protocol
from custom_components.lithium_bms.protocol.snapshot import (
    Alarm,
    BatterySnapshot,
    SwitchKind,
    TemperatureKind,
)
from custom_components.lithium_bms.protocol.wired import scan_bus, wired_client

from .jk_wired_fixtures import ENDPOINTS, line, vectors
from .serial_fixtures import loopback_sockets

__all__ = ["loopback_sockets"]
PROTOCOL = wired_protocol("jk_rs485")
REPLIES = vectors("jk_rs485", "reply")


def frames_of(data: bytes, chunks: list[int] | None = None) -> list[bytes]:
    reassembler = Rs485Reassembler()
    out: list[bytes] = []
    cuts = [0, *(chunks or []), len(data)]
    for start, end in itertools.pairwise(cuts):
        out += reassembler.feed(data[start:end])[0]
    return out


def test_the_request_is_the_captured_one() -> None:
    (request,) = vectors("jk_rs485", "request")
    assert rs485.read_request().hex() == request["hex"]


@pytest.mark.parametrize("vector", REPLIES, ids=lambda v: v["name"])
def test_captured_replies_decode_exactly(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["hex"])
    rs485.check_frame(frame)
    assert rs485.is_read_reply(frame)
    status = rs485.decode_status(frame)
    expected = vector["expected"]
    if "cells" in expected:
        assert status.cell_voltages == tuple(expected["cells"])
    else:
        assert len(status.cell_voltages) == expected["cells_count"]
        assert status.cell_voltages[0] == expected["first_cell"]
    box, battery, mosfet = status.temperatures
    assert mosfet.kind is TemperatureKind.MOSFET
    assert mosfet.value == expected["mosfet_temperature"]
    assert (box.value, battery.value) == (
        expected["temperature_1"],
        expected["temperature_2"],
    )
    assert status.voltage == expected["voltage"]
    assert status.current == expected["current"]
    assert status.soc == expected["soc"]
    assert status.cell_count == expected["cell_count"]
    assert status.status == expected["status"]
    assert status.design_capacity == expected["design_capacity"]
    assert status.switches == {
        SwitchKind.CHARGE: expected["charge_switch"],
        SwitchKind.DISCHARGE: expected["discharge_switch"],
    }
    assert status.sw_version == expected["sw_version"]
    for key in ("cycles", "warnings", "protocol", "hw_version", "balancer_switch"):
        if key in expected:
            assert getattr(status, key) == expected[key]
    if "model" in expected:
        assert status.model == expected["model"]


def test_the_damaged_capture_is_refused_and_the_next_frame_found() -> None:
    (damaged,) = vectors("jk_rs485", "refused")
    bad = bytes.fromhex(damaged["hex"])
    with pytest.raises(ChecksumError):
        rs485.check_frame(bad)
    good = bytes.fromhex(REPLIES[0]["hex"])
    reassembler = Rs485Reassembler()
    frames, errors = reassembler.feed(bad + good)
    assert frames == [good]
    assert any(isinstance(e, ChecksumError) for e in errors)


@pytest.mark.parametrize("vector", REPLIES, ids=lambda v: v["name"])
def test_a_reply_split_at_every_byte_is_rebuilt_once(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["hex"])
    for cut in range(1, len(frame)):
        assert frames_of(frame, [cut]) == [frame]
    assert frames_of(frame, list(range(1, len(frame)))) == [frame]


def test_glued_frames_with_garbage_noise_and_a_partial_one() -> None:
    one, two = (bytes.fromhex(v["hex"]) for v in REPLIES[:2])
    rng = random.Random(7)
    noise = bytes(rng.randrange(256) for _ in range(50))
    data = noise + one + b"\x4e\x57\x00" + two[: len(two) // 2] + two + one + b"\x4e"
    assert frames_of(data) == [one, two, one]


def test_a_spliced_frame_or_a_flipped_byte_is_refused() -> None:
    one, two = (bytes.fromhex(v["hex"]) for v in REPLIES[:2])
    spliced = one[:100] + two[100 : len(one)]
    flipped = bytearray(one)
    flipped[50] ^= 0x01
    assert frames_of(spliced) == []
    assert frames_of(bytes(flipped)) == []
    assert frames_of(bytes(flipped) + one) == [one]


def test_unknown_fields_or_cells_out_of_order_are_refused() -> None:
    frame = bytearray(bytes.fromhex(REPLIES[0]["hex"]))
    frame[rs485.HEAD_LENGTH + 2] = 0x02  # cell 1 numbered 2
    with pytest.raises(FrameError, match="numbered"):
        rs485.decode_status(bytes(frame))
    frame = bytearray(bytes.fromhex(REPLIES[0]["hex"]))
    frame[frame.index(b"\xc0\x01")] = 0xC7
    with pytest.raises(FrameError, match="unknown"):
        rs485.decode_status(bytes(frame))


def test_negative_temperatures_and_both_current_encodings() -> None:
    pack = PackModel(temperatures=[-5.0, 0.0], mosfet_temperature=-1.0, current=-12.5)
    status = rs485.decode_status(Jk4e57Pack(0, pack).status_frame())
    assert [t.value for t in status.temperatures] == [-5.0, 0.0, -1.0]
    assert status.current == -12.5
    assert rs485._current(9500, 0) == 5.0  # protocol 0: below 10000 is charging
    assert rs485._current(11000, 0) == -10.0


def assert_is_pack(snapshot: BatterySnapshot, pack: PackModel) -> None:
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == round(pack.voltage, 2)
    assert snapshot.current == pack.current
    assert snapshot.state_of_charge == pack.soc
    assert snapshot.cycles == pack.cycles
    assert snapshot.design_capacity == pack.design_capacity
    assert snapshot.full_capacity == pack.full_capacity
    assert [t.value for t in snapshot.temperatures] == [
        *(round(t) for t in pack.temperatures),
        round(pack.mosfet_temperature),
    ]
    assert snapshot.charge_mosfet is pack.charge_fet
    assert snapshot.discharge_mosfet is pack.discharge_fet
    assert snapshot.switches == {
        SwitchKind.CHARGE: pack.charge_enabled,
        SwitchKind.DISCHARGE: pack.discharge_enabled,
    }
    assert snapshot.reported_cell_count == len(pack.cell_voltages)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_scan_finds_the_board_and_reads_it(endpoint: str) -> None:
    pack = sixteen_cells()
    pack.current = 7.25
    pack.alarms = {"cell_overvoltage"}
    sim = BusSimulator([Jk4e57Pack(0, pack)])
    async with line(sim, endpoint, PROTOCOL) as bus:
        result = await scan_bus(bus, PROTOCOL)
    assert not result.listening
    (found,) = result.packs
    assert found.address == 0
    assert found.info.sw_version == "10.07"
    assert found.info.model == "JK-B2A24S15P"
    assert_is_pack(found.snapshot, pack)
    assert found.snapshot.alarms == {Alarm.CELL_OVERVOLTAGE}
    assert sim.received.startswith(rs485.read_request())


async def test_a_silent_board_is_not_found() -> None:
    board = Jk4e57Pack(0, sixteen_cells())
    board.hung = True
    async with line(BusSimulator([board]), "pty", PROTOCOL) as bus:
        result = await scan_bus(bus, PROTOCOL)
    assert result.packs == ()


@pytest.mark.parametrize("kind", [SwitchKind.CHARGE, SwitchKind.DISCHARGE])
async def test_a_switch_is_confirmed_by_its_read_back(kind: SwitchKind) -> None:
    board = Jk4e57Pack(0, sixteen_cells())
    sim = BusSimulator([board])
    async with line(sim, "tcp", PROTOCOL) as bus:
        client = wired_client(bus, PROTOCOL, 0, listen=False)
        snapshot = await client.set_switch(kind, False)
        assert snapshot.switches[kind] is False
        (other,) = set(rs485.SWITCH_FIELDS) - {kind}
        assert snapshot.switches[other] is True
        assert (board.pack.charge_enabled, board.pack.discharge_enabled) == (
            kind is not SwitchKind.CHARGE,
            kind is not SwitchKind.DISCHARGE,
        )
        written = rs485.password_request() + rs485.build_switch(kind, False)
        assert written in sim.received
        board.ignore_writes = True
        with pytest.raises(CommandNotConfirmedError):
            await client.set_switch(kind, True)
        with pytest.raises(UnsupportedError):
            await client.set_switch(SwitchKind.BALANCER, True)
        await client.close()


async def test_listening_switches_nothing_and_sends_nothing() -> None:
    sim = BusSimulator([Jk4e57Pack(0, sixteen_cells())])
    async with line(sim, "pty", PROTOCOL) as bus:
        client = wired_client(bus, PROTOCOL, 0, listen=True)
        with pytest.raises(BusOwnedError):
            await client.set_switch(SwitchKind.CHARGE, False)
        await client.close()
    assert sim.received == b""
