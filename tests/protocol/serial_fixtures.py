"""A minimal driver over the serial transport, and simulated buses to talk to."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from bms_simulator.serial.responders import ModbusResponder, Ydt1363Responder
from custom_components.lithium_bms.protocol.codecs.modbus import ModbusReassembler
from custom_components.lithium_bms.protocol.codecs.ydt1363 import Ydt1363Reassembler
from custom_components.lithium_bms.protocol.driver import (
    BmsDriver,
    DriverOptions,
    Reassembler,
)
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    DeviceInfo,
    SwitchKind,
)
from custom_components.lithium_bms.protocol.transport import Transport

REGISTERS = {1: {0: 0x0101, 1: 0x0102}, 2: {0: 0x0201, 1: 0x0202}, 5: {0: 0x0501}}


def modbus_packs(addresses: Iterable[int] = (1, 2, 5)) -> list[ModbusResponder]:
    return [ModbusResponder(a, REGISTERS[a]) for a in addresses]


def ydt_pack(address: int) -> Ydt1363Responder:
    return Ydt1363Responder(address, {0x42: bytes((0x00, address, 0x10))})


class ProbeDriver(BmsDriver):
    """Publishes the frames of one protocol from one address, nothing else."""

    family = "probe"
    manufacturer = "test"
    request_timeout = 1.0

    def __init__(self, transport: Transport, address: int, *, text: bool = False):
        self.address = address
        self.text = text
        self.published: list[bytes] = []
        super().__init__(transport, DriverOptions())
        self.on_frame = self.published.append

    def new_reassembler(self) -> Reassembler:
        if self.text:
            return Ydt1363Reassembler((self.address,))
        return ModbusReassembler((self.address,))

    async def connect(self) -> None:
        self.reset()
        await self.transport.connect(self.feed, self.lost)

    def lost(self) -> None:
        self.disconnects = getattr(self, "disconnects", 0) + 1

    async def read_device_info(self) -> DeviceInfo:
        raise NotImplementedError

    async def read_snapshot(self) -> BatterySnapshot:
        raise NotImplementedError

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        raise NotImplementedError


@pytest.fixture(autouse=True)
def loopback_sockets(request: pytest.FixtureRequest) -> None:
    """Allow sockets where pytest-socket blocks them (it still allows loopback)."""
    if request.config.pluginmanager.hasplugin("socket"):
        request.getfixturevalue("socket_enabled")
