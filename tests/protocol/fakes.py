"""Fakes for the core tests: a scripted or echoing transport, a driver of echoes."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from custom_components.lithium_bms.protocol.driver import BmsDriver
from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.matching import (
    AdvertisementMatcher,
)
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    DeviceInfo,
    SwitchKind,
)
from custom_components.lithium_bms.protocol.transport import (
    DataCallback,
    DisconnectCallback,
    GattProfile,
    Transport,
)


class EchoTransport(Transport):
    """Answers every write with the same bytes, or with the next of ``replies``.

    With ``split`` set, each answer arrives as two notifications cut there.
    """

    def __init__(self, split: int | None = None) -> None:
        self.split = split
        self.replies: list[bytes] = []
        self.writes: list[bytes] = []
        self.on_data: DataCallback | None = None
        self.on_disconnect: DisconnectCallback | None = None
        self.fail_connect = False

    @property
    def is_connected(self) -> bool:
        return self.on_data is not None

    async def connect(
        self, on_data: DataCallback, on_disconnect: DisconnectCallback
    ) -> None:
        if self.fail_connect:
            raise BmsConnectionError("refused")
        self.on_data = on_data
        self.on_disconnect = on_disconnect

    async def write(self, data: bytes) -> None:
        self.writes.append(data)
        on_data = self.on_data
        assert on_data is not None
        answer = self.replies.pop(0) if self.replies else data
        chunks = (
            [answer]
            if self.split is None
            else [answer[: self.split], answer[self.split :]]
        )
        for chunk in chunks:
            asyncio.get_running_loop().call_soon(on_data, chunk)

    async def disconnect(self) -> None:
        self.on_data = None


class WholeChunks:
    """Every chunk is one frame; a chunk saying "bad" is an invalid frame."""

    def __init__(self) -> None:
        self.resets = 0

    def feed(self, data: bytes) -> tuple[list[bytes], list[ProtocolError]]:
        if data == b"bad":
            return [], [FrameError("bad frame")]
        return [data], []

    def reset(self) -> None:
        self.resets += 1


class EchoDriver(BmsDriver):
    """The smallest driver: every frame is one echoed write."""

    family = "echo"
    manufacturer = "Test"
    gatt = (GattProfile(service=0xAAAA, notify=0xAAAB, write=0xAAAC),)
    matchers: ClassVar[tuple[AdvertisementMatcher, ...]] = ()

    def new_reassembler(self) -> WholeChunks:
        return WholeChunks()

    async def read_device_info(self) -> DeviceInfo:
        return DeviceInfo(manufacturer=self.manufacturer)

    async def read_snapshot(self) -> BatterySnapshot:
        frame = await self.exchange(b"read", lambda f: f == b"read", 0.5)
        return BatterySnapshot(
            voltage=len(frame), current=0.0, cell_voltages=(len(frame),)
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        raise FrameError(f"{kind} {on}")


def any_frame(_frame: bytes) -> bool:
    """Match every frame."""
    return True
