"""MyVolta (Volta Power Systems Bluetooth kit): the conversation.

The kit notifies the pack's CAN messages on ``…0301`` of service
``00035b03-…`` without being asked: aiobmsble 0.31.0 (PyPI sdist)
``aiobmsble/bms/myvolta_bms.py`` has no write characteristic and waits for
the messages it needs. Read only: no public source documents a command.

A snapshot takes the newest message of each type since the last read and
waits for the missing ones until :attr:`request_timeout`. The metrics
message (voltage, current, SOC) is required; cells, probes and the problem
code are shown only when their messages came. How the kit escapes a data
byte 04 is not known (:mod:`.frames`): a message it escapes another way is
dropped, and the read goes on without it rather than failing. Cells or
probes that vanish within a connection meet the client's count gate: the
reads are refused until the new count repeats, then shown as unknown.
"""

from __future__ import annotations

import asyncio

from ..driver import BmsDriver
from ..errors import BmsTimeoutError, ProtocolError, UnsupportedError
from ..matching import AdvertisementMatcher
from ..plausibility import Limits
from ..snapshot import (
    BatterySnapshot,
    DeviceInfo,
    SwitchKind,
    Temperature,
    TemperatureKind,
)
from ..transport import GattProfile
from .frames import (
    CELL_MESSAGES,
    INFO,
    MESSAGES,
    METRICS,
    TEMPERATURE_MESSAGES,
    decode_cells,
    decode_info,
    decode_metrics,
    decode_temperatures,
    message_type,
    unstuff,
)
from .stream import MyvoltaReassembler

SERVICE = "00035b03-58e6-07dd-021a-08123a000300"
NOTIFY = "00035b03-58e6-07dd-021a-08123a000301"


def _any(_: bytes) -> bool:
    """Every frame the reassembler passes."""
    return True


def _wanted(wire: bytes) -> bool:
    """A data frame of a message type the snapshot reads."""
    return message_type(unstuff(wire)) in MESSAGES


class MyvoltaDriver(BmsDriver):
    """Reads a pack through a MyVolta Bluetooth kit."""

    family = "myvolta"
    manufacturer = "Voltagen Power Solutions"
    brand = "MyVolta"
    # Name and service UUID together, as aiobmsble 0.31.0 ``myvolta_bms.py``:
    # no other family claims ``VPS-*`` or this vendor service.
    claim_order = 376
    gatt = (GattProfile(service=SERVICE, notify=NOTIFY),)
    matchers = (AdvertisementMatcher(local_name="VPS-*", service_uuid=SERVICE),)
    # No cells while a cell message is missing (see read_snapshot).
    limits = Limits(min_cells=0, max_cells=16)

    def new_reassembler(self) -> MyvoltaReassembler:
        """Frames from ``55 55`` to ``04 04``."""
        return MyvoltaReassembler()

    async def read_device_info(self) -> DeviceInfo:
        """The messages carry no model or version: the source's model name."""
        return DeviceInfo(manufacturer=self.manufacturer, model="MyVolta BLE HW")

    def _collect(self, seen: dict[int, bytes]) -> None:
        """Move every waiting message into ``seen``, the newest of each type.

        Frames the snapshot does not read are dropped on the way.
        """
        while (wire := self.inbox.take(_any)) is not None:
            if _wanted(wire):
                frame = unstuff(wire)
                seen[frame[1]] = frame

    async def read_snapshot(self) -> BatterySnapshot:
        """The newest message of each type, waiting for the missing ones."""
        seen: dict[int, bytes] = {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.request_timeout
        self._collect(seen)
        while not seen.keys() >= MESSAGES:
            remaining = deadline - loop.time()
            if remaining <= 0 and METRICS in seen:
                break
            try:
                wire = await self.inbox.wait_for(_wanted, max(remaining, 0.0))
            except (BmsTimeoutError, ProtocolError):
                if METRICS in seen:
                    break
                raise
            frame = unstuff(wire)
            seen[frame[1]] = frame
            self._collect(seen)
        return _snapshot(seen)

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source documents a command."""
        raise UnsupportedError(f"MyVolta has no {kind} command")


def _snapshot(seen: dict[int, bytes]) -> BatterySnapshot:
    """The snapshot of the messages in ``seen`` (metrics among them)."""
    metrics = decode_metrics(seen[METRICS])
    info = decode_info(seen[INFO]) if INFO in seen else None
    cells: tuple[float, ...] = ()
    if all(kind in seen for kind in CELL_MESSAGES):
        cells = decode_cells([seen[kind] for kind in CELL_MESSAGES])
    temperatures: tuple[Temperature, ...] = ()
    if all(kind in seen for kind in TEMPERATURE_MESSAGES):
        temperatures = tuple(
            Temperature(TemperatureKind.CELL, value)
            for value in decode_temperatures(
                [seen[kind] for kind in TEMPERATURE_MESSAGES]
            )
        )
    return BatterySnapshot(
        voltage=metrics.voltage,
        current=metrics.current,
        state_of_charge=metrics.soc,
        cell_voltages=cells,
        temperatures=temperatures,
        heater=None if info is None else info.heater,
        protection_code=None if info is None else info.problem_code,
    )
