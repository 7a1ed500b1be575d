"""ECO-WORTHY packs with the BW02 / DCHOUSE Bluetooth module: the conversation.

The vendor app writes two commands to FFF2; the module answers them and then
streams an A1 status frame and an A2 cell frame on FFF1 (the frames are in
:mod:`.frames`). patman15/aiobmsble ``aiobmsble/bms/ecoworthy_bms.py``
@ b0567331025033d33729385fa89a1198275d6486 writes them when the stream is
silent; this driver writes them before each read (a module that still
streams takes them as before) and takes the next A1 and A2 frames. Read
only: no public source documents a command that switches this module's
MOSFETs.

Other ECO-WORTHY packs carry a JBD board and advertise a JBD name on FF00
(``DP04S007L4S100A``, ``ECO-LFP48100-3U-*``): the ``jbd`` family claims them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..driver import BmsDriver, DriverOptions
from ..errors import UnsupportedError
from ..matching import AdvertisementMatcher, uuid16
from ..plausibility import Limits
from ..snapshot import (
    BatterySnapshot,
    DeviceInfo,
    SwitchKind,
    Temperature,
    TemperatureKind,
)
from ..transport import GattProfile, Transport
from .frames import (
    CELLS,
    MAX_CELLS,
    STATUS,
    UNLOCK,
    decode_cells,
    decode_status,
    kind,
    mac_bytes,
)
from .stream import EcoworthyReassembler


@dataclass(frozen=True, slots=True)
class _Kind:
    """Matches the frames of one kind (A1 or A2)."""

    kind: int
    mac: bytes | None

    def __call__(self, frame: bytes) -> bool:
        return kind(frame, self.mac) == self.kind


class EcoworthyDriver(BmsDriver):
    """Reads an ECO-WORTHY BMS through its BW02 / DCHOUSE module."""

    family = "ecoworthy"
    manufacturer = "ECO-WORTHY"
    brand = "ECO-WORTHY"
    # The module names of patman15/aiobmsble ``ecoworthy_bms.py``
    # ``matcher_dict_list()`` and its test_data/ecoworthy_bms.json (BMS_BLE-HA
    # issues 164, 253, 286, 295, 326, 386): ``ECO-WORTHY 02_`` may come
    # without a service UUID, the others need FFF0. None of them is a JBD
    # name or service, so the JBD claim (order 20) and this one never overlap;
    # coming after it keeps JBD's probing of an unclaimed device first.
    claim_order = 25
    gatt = (GattProfile(service=0xFFF0, notify=0xFFF1, write=0xFFF2),)
    matchers = (
        AdvertisementMatcher(local_name="ECO-WORTHY 02_*"),
        AdvertisementMatcher(local_name="ECO-WORTHY*", service_uuid=uuid16(0xFFF0)),
        AdvertisementMatcher(local_name="DCHOUSE*", service_uuid=uuid16(0xFFF0)),
    )
    # A1's pack voltage is the sum of A2's cells within 0.01 V in both
    # captures (ecoworthy_vectors.json): a status and a cell frame that
    # disagree by more than 0.05 V are not of one moment (or not real).
    # ECO-WORTHY also ships JBD boards; one behind a module with an
    # ECO-WORTHY name would fail this probe and answer JBD's (whose GATT
    # profiles include FFF0): the config flow then tries JBD.
    probe_also = ("jbd",)
    limits = Limits(max_cells=MAX_CELLS, cell_sum_tolerance=0.0, cell_sum_margin=0.05)

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Know the module's address: a V2 frame starts with it."""
        self._mac = mac_bytes(options.address)
        super().__init__(transport, options)

    def new_reassembler(self) -> EcoworthyReassembler:
        """Frames by kind (or MAC), count and CRC."""
        return EcoworthyReassembler(self._mac)

    async def read_device_info(self) -> DeviceInfo:
        """The frames carry no model, version or serial number."""
        return DeviceInfo(manufacturer=self.manufacturer)

    async def read_snapshot(self) -> BatterySnapshot:
        """The two commands, then the next A1 and A2 frames."""
        self.inbox.clear()
        try:
            for command in UNLOCK:
                await self.send(command)
            status = decode_status(
                await self.inbox.wait_for(
                    _Kind(STATUS, self._mac), self.request_timeout
                ),
                self._mac,
            )
            cells = decode_cells(
                await self.inbox.wait_for(
                    _Kind(CELLS, self._mac), self.request_timeout
                ),
                self._mac,
            )
        finally:
            self.transport.release()
        return BatterySnapshot(
            voltage=status.voltage,
            current=status.current,
            cell_voltages=cells.cell_voltages,
            # No source says where the probes sit.
            temperatures=tuple(
                Temperature(TemperatureKind.CELL, t) for t in cells.temperatures
            ),
            state_of_charge=float(status.soc),
            state_of_health=float(status.soh),
            design_capacity=status.design_capacity,
            protection_code=status.problem_code,
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source documents a switch command."""
        raise UnsupportedError(f"ECO-WORTHY has no {kind} command")
