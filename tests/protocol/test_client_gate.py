"""The client runs the plausibility gate and keeps secrets out of its frame log."""

from __future__ import annotations

from typing import ClassVar

import pytest

from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.driver import BmsDriver, DriverOptions
from custom_components.lithium_bms.protocol.errors import ProtocolError
from custom_components.lithium_bms.protocol.matching import AdvertisementMatcher
from custom_components.lithium_bms.protocol.plausibility import (
    ImplausibleDataError,
    Limits,
)
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    DeviceInfo,
    SwitchKind,
)
from custom_components.lithium_bms.protocol.transport import (
    GattProfile,
)

from .fakes import EchoTransport


class CellsFrames:
    """Frames end with a newline; each byte of a frame is one cell in decivolts."""

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> tuple[list[bytes], list[ProtocolError]]:
        self._buf += data
        *frames, self._buf = self._buf.split(b"\n")
        return list(frames), []

    def reset(self) -> None:
        self._buf = b""


class CellsDriver(BmsDriver):
    """A pack whose frames list its cells; "S" frames carry a secret."""

    family = "cells"
    manufacturer = "Test"
    gatt = (GattProfile(service=0xAAAA, notify=0xAAAB, write=0xAAAC),)
    matchers: ClassVar[tuple[AdvertisementMatcher, ...]] = ()

    def new_reassembler(self) -> CellsFrames:
        return CellsFrames()

    def is_sensitive(self, frame: bytes) -> bool:
        return frame.startswith(b"S")

    async def read_device_info(self) -> DeviceInfo:
        await self.exchange(b"Sinfo", lambda f: f.startswith(b"S"), 0.5)
        return DeviceInfo(manufacturer=self.manufacturer)

    async def read_snapshot(self) -> BatterySnapshot:
        frame = await self.exchange(b"read", lambda f: not f.startswith(b"S"), 0.5)
        cells = tuple(b / 10 for b in frame)
        return BatterySnapshot(
            voltage=round(sum(cells), 2), current=0.0, cell_voltages=cells
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        return await self.read_snapshot()


def frame(*cells: int) -> bytes:
    return bytes(cells) + b"\n"


@pytest.fixture
def transport() -> EchoTransport:
    return EchoTransport(split=2)


@pytest.fixture
def client(transport: EchoTransport) -> BmsClient:
    return BmsClient(CellsDriver(transport, DriverOptions()))


async def test_an_implausible_snapshot_is_refused_and_counted(
    transport: EchoTransport, client: BmsClient
) -> None:
    transport.replies = [frame(33, 33), frame(33, 200), frame(33, 34)]
    assert (await client.read_snapshot()).cell_voltages == (3.3, 3.3)
    with pytest.raises(ImplausibleDataError, match=r"cell 2 voltage 20\.0 V"):
        await client.read_snapshot()
    assert client.stats.implausible_snapshots == 1
    assert client.stats.last_implausible is not None
    assert "cell 2 voltage" in client.stats.last_implausible
    assert client.stats.read_failures == 1
    assert client.is_connected  # bad data is no reason to drop the link
    assert (await client.read_snapshot()).cell_voltages == (3.3, 3.4)


async def test_a_switch_read_back_passes_the_gate(
    transport: EchoTransport, client: BmsClient
) -> None:
    transport.replies = [frame(33, 200)]
    with pytest.raises(ImplausibleDataError):
        await client.set_switch(SwitchKind.CHARGE, True)
    assert client.stats.command_failures == 1


async def test_the_cell_count_may_not_change_within_a_connection(
    transport: EchoTransport, client: BmsClient
) -> None:
    transport.replies = [frame(33, 33, 33), frame(33, 33), frame(33, 33, 33)]
    await client.read_snapshot()
    with pytest.raises(ImplausibleDataError, match="from 3 to 2"):
        await client.read_snapshot()
    await client.read_snapshot()
    await client.close()
    transport.replies = [frame(33, 33)]
    assert len((await client.read_snapshot()).cell_voltages) == 2  # new connection


async def test_family_limits_apply(
    transport: EchoTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CellsDriver, "limits", Limits(cell_voltage=(2.0, 3.65)))
    client = BmsClient(CellsDriver(transport, DriverOptions()))
    transport.replies = [frame(33, 37)]
    with pytest.raises(ImplausibleDataError, match=r"cell 2 voltage 3\.7 V"):
        await client.read_snapshot()


async def test_the_frame_log_keeps_frames_not_chunks_and_hides_secrets(
    transport: EchoTransport, client: BmsClient
) -> None:
    transport.replies = [b"Ssecret-passcode\n", frame(33, 33)]
    await client.read_device_info()
    await client.read_snapshot()
    assert list(client.frame_log) == [
        ("tx", "redacted (5 bytes)"),
        ("rx", "redacted (16 bytes)"),
        ("tx", b"read".hex()),
        ("rx", bytes((33, 33)).hex()),
    ]
