"""A Bluetooth family simulator on the simulated wire (bms_simulator/serial/adapter)."""

from __future__ import annotations

import asyncio

import pytest

from bms_simulator.device import Fault
from bms_simulator.families import jbd as jbd_sim
from bms_simulator.serial.adapter import SimulatedResponder, write_handle
from bms_simulator.serial.bus import BusSimulator
from bms_simulator.serial.endpoints import PtyEndpoint
from custom_components.lithium_bms.protocol.jbd import frames
from custom_components.lithium_bms.protocol.serial.bus import SerialBus
from custom_components.lithium_bms.protocol.serial.port import PortSettings
from custom_components.lithium_bms.protocol.serial.transport import SerialTransport

from .serial_fixtures import loopback_sockets

__all__ = ["loopback_sockets"]
READ_BASIC = frames.build_read(frames.REG_BASIC)
READ_CELLS = frames.build_read(frames.REG_CELLS)


class Line:
    """The host side of a :class:`BusSimulator`, without a port."""

    def __init__(self, *responders: SimulatedResponder, **knobs: object) -> None:
        self.sim = BusSimulator(responders, **knobs)  # type: ignore[arg-type]
        self.heard = bytearray()
        self.sim.send = self.heard.extend

    async def ask(self, request: bytes, wait: float = 0.05) -> bytes:
        self.heard.clear()
        self.sim.feed(request)
        await asyncio.sleep(wait)
        return bytes(self.heard)


def jbd_pack(cells: list[float] | None = None) -> SimulatedResponder:
    responder = jbd_sim.wired_demo(0)
    if cells is not None:
        responder.device.pack.cell_voltages = cells
    return responder


async def test_a_reply_is_the_devices_frame_in_one_piece() -> None:
    # 48 data bytes: beyond any BLE MTU.
    cells = [round(3.2 + i / 1000, 3) for i in range(24)]
    line = Line(jbd_pack(cells))
    reply = await line.ask(READ_CELLS)
    expected = jbd_sim.reply(0x04, b"".join(round(v * 1000).to_bytes(2) for v in cells))
    assert reply == expected
    assert frames.decode_cells(frames.parse_frame(reply).payload) == tuple(cells)


async def test_requests_split_byte_by_byte_and_glued() -> None:
    pack = jbd_pack()
    line = Line(pack)
    line.sim.feed(b"\x00\x13")  # line noise before the first request: skipped
    for byte in READ_BASIC + READ_CELLS:
        line.sim.feed(bytes((byte,)))
    await asyncio.sleep(0.05)
    assert pack.requests == 2
    assert pack.device.writes == [READ_BASIC, READ_CELLS]
    first = frames.parse_frame(bytes(line.heard[: 7 + line.heard[3]]))
    assert first.register == frames.REG_BASIC


FAULTS = [Fault.NO_ANSWER, Fault.TRUNCATED, Fault.BAD_CHECKSUM]


@pytest.mark.parametrize("fault", FAULTS)
async def test_the_devices_faults_reach_the_line(fault: Fault) -> None:
    pack = jbd_pack()
    line = Line(pack)
    good = await line.ask(READ_BASIC)
    pack.device.inject(fault)
    expected = {
        Fault.NO_ANSWER: b"",
        Fault.TRUNCATED: good[: len(good) // 2],
        Fault.BAD_CHECKSUM: pack.device.corrupt(good),
    }
    assert await line.ask(READ_BASIC) == expected[fault]
    assert await line.ask(READ_BASIC) == good  # the next one is sound again


async def test_a_hung_device_answers_nothing_and_the_line_knobs_apply() -> None:
    pack = jbd_pack()
    line = Line(pack, noise=b"\x00\xff", echo=True)
    good = jbd_sim.reply(0x03, pack.device.basic_payload())
    assert await line.ask(READ_BASIC) == READ_BASIC + b"\x00\xff" + good
    pack.device.hung = True
    assert await line.ask(READ_BASIC) == READ_BASIC  # only the echo


async def test_the_pack_model_is_the_ground_truth_over_a_pty() -> None:
    pack = jbd_pack()
    endpoint = PtyEndpoint(BusSimulator([pack]), lifetime=10)
    await endpoint.start()
    bus = SerialBus(PortSettings(endpoint.path))
    transport = SerialTransport(bus, hold=0.3)
    heard = bytearray()
    try:
        await transport.connect(heard.extend, lambda: None)
        pack.device.pack.soc = 77.0
        await transport.write(READ_BASIC)
        await asyncio.sleep(0.2)
        basic = frames.decode_basic(frames.parse_frame(bytes(heard)).payload)
        assert basic.soc == 77
        assert basic.voltage == round(pack.device.pack.voltage, 2)
    finally:
        await transport.disconnect()
        endpoint.stop()


def test_the_write_handle_is_the_writable_characteristic() -> None:
    assert write_handle(jbd_sim.demo("02:00:00:00:00:01")) == 0x15
