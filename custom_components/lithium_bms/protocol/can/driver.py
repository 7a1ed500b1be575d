"""The CAN "driver": listens to the broadcast, never asks anything."""

from __future__ import annotations

from typing import ClassVar

from ..driver import BmsDriver, DriverOptions
from ..errors import BmsTimeoutError, ProtocolError, UnsupportedError
from ..matching import AdvertisementMatcher
from ..plausibility import Limits
from ..snapshot import BatterySnapshot, DeviceInfo, SwitchKind
from ..transport import GattProfile, Transport
from .decoder import GROWATT, JK, PYLONTECH, PylonDecoder
from .errors import CanSilenceError
from .jk_frames import CELL_GROUPS, CELLS_PER_FRAME


class _Decoding:
    """Frames arrive whole: each is decoded as it comes.

    A frame of the protocol is handed on, a malformed one reported, any other
    ID dropped.
    """

    def __init__(self, decoder: PylonDecoder) -> None:
        """Feed ``decoder``."""
        self.decoder = decoder

    def feed(self, data: bytes) -> tuple[list[bytes], list[ProtocolError]]:
        """The frame if it was one of the protocol's, or the error it raised."""
        try:
            known = self.decoder.feed(data)
        except ProtocolError as err:
            return [], [err]
        return ([data] if known else []), []

    def reset(self) -> None:
        """Forget everything heard (a new connection)."""
        self.decoder.reset()


class PylonCanDriver(BmsDriver):
    """Reads the Pylontech CAN frames a battery broadcasts to its inverter.

    JK's own CAN frames are read too: its cells beside Pylontech's frames, or
    the whole reading on a bus that carries only JK's. So is the Growatt
    protocol a battery answers a Growatt inverter with.
    """

    family = "can"
    manufacturer = PYLONTECH
    gatt: ClassVar[tuple[GattProfile, ...]] = ()
    matchers: ClassVar[tuple[AdvertisementMatcher, ...]] = ()
    # Pylontech's frames carry no single cells, JK's up to 32; a low-voltage
    # pack stays under 64 V.
    limits = Limits(
        min_cells=0, max_cells=CELL_GROUPS * CELLS_PER_FRAME, pack_voltage=(0.0, 64.0)
    )
    # A broadcast cycle is about a second; allow several to be missed.
    request_timeout = 10.0

    def __init__(
        self,
        transport: Transport,
        options: DriverOptions,
        *,
        jk_address: int | None = 0,
    ) -> None:
        """Start with nothing heard; JK's frames of ``jk_address`` are read.

        None reads the lowest JK address heard (while the flow listens).
        """
        self.decoder = PylonDecoder(jk_address)
        super().__init__(transport, options)

    def new_reassembler(self) -> _Decoding:
        """Frames arrive whole and are decoded at once."""
        return _Decoding(self.decoder)

    async def _reading(self) -> BatterySnapshot:
        """The newest reading; waits for one while none is fresh."""
        snapshot = self.decoder.snapshot()
        if snapshot is not None and self.decoder.cycle_heard:
            return snapshot
        self.inbox.clear()
        try:
            await self.inbox.wait_for(
                lambda _frame: (
                    self.decoder.cycle_heard and self.decoder.snapshot() is not None
                ),
                self.request_timeout,
            )
        except BmsTimeoutError as err:
            raise CanSilenceError(
                "no Pylontech, Growatt or JK CAN reading heard in "
                f"{self.request_timeout:g} s"
            ) from err
        snapshot = self.decoder.snapshot()
        if snapshot is None:  # pragma: no cover - the wait ends only with one
            raise ProtocolError("no complete reading")
        return snapshot

    async def read_device_info(self) -> DeviceInfo:
        """The manufacturer the battery names, once a reading is complete."""
        await self._reading()
        modules = self.decoder.modules
        protocol = self.decoder.protocol
        model = f"{protocol}, {modules} modules" if modules else protocol
        if protocol == JK and self.decoder.jk_bound:
            model = f"{protocol}, address {self.decoder.jk_bound}"
        packs = self.decoder.growatt_packs
        if protocol == GROWATT and packs and packs > 1:
            model = f"{protocol}, {packs} packs"
        return DeviceInfo(
            manufacturer=self.decoder.manufacturer
            or ("JK BMS" if protocol == JK else protocol),
            model=model,
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """The newest complete reading."""
        return await self._reading()

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Nothing is ever sent on the bus."""
        raise UnsupportedError("a CAN bus is only listened to")
