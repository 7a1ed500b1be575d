"""A PACEEX / PeiCheng pack over its own Bluetooth module (FFF0, FFF1, FFF2).

Each pack is read by its own requests: 0x0a01 (its pack values) and 0x0a02
(its cells and probes), as aiobmsble does since PR #259. The system request
0x0a00 is never sent: in a parallel bank only the master pack answers it with
values (the bank's), every other pack with a valid frame of zeros. (aiobmsble
0.31.0 still asks it and shows a master's bank values; here every pack is one
device with its own values.) Read only: no public source documents a BLE
command that switches a MOSFET, nor a read-back of the MOSFETs, the balancer
or the protections (the 0x0a03 reply and the parameter frames of aiobmsble's
test are decoded nowhere).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..snapshot import BatterySnapshot, DeviceInfo
from .ble_frames import (
    OWN_PACK,
    BleCommand,
    ble_request,
    decode_cells,
    decode_pack,
    decode_serial,
    decode_versions,
    frame_data,
    is_reply,
)

if TYPE_CHECKING:
    from ..driver import BmsDriver

MANUFACTURER = "PACE"


class PaceBleLink:
    """The requests and replies of one pack's module."""

    def __init__(self, driver: BmsDriver) -> None:
        """Speak through ``driver``'s exchange."""
        self._driver = driver
        self.asked: BleCommand | None = None

    async def ask(self, command: BleCommand, data: bytes = b"") -> bytes:
        """One request; the data of its reply (the reply repeats its type)."""
        self.asked = command
        try:
            frame = await self._driver.exchange(
                ble_request(command, data), lambda f: is_reply(f, command)
            )
        finally:
            self.asked = None
        return frame_data(frame)

    async def device_info(self) -> DeviceInfo:
        """Serial number (0x0002), then the versions (0x0001)."""
        serial = decode_serial(await self.ask(BleCommand.SERIAL))
        versions = decode_versions(await self.ask(BleCommand.VERSIONS))
        software = versions[0] if versions else ""
        return DeviceInfo(
            manufacturer=MANUFACTURER,
            model=software.split("-", 1)[0] or None,
            sw_version=software or None,
            hw_version=versions[2] if len(versions) > 2 and versions[2] else None,
            serial_number=serial or None,
        )

    async def snapshot(self) -> BatterySnapshot:
        """The pack's values (0x0a01), then its cells and probes (0x0a02)."""
        pack = decode_pack(await self.ask(BleCommand.PACK, OWN_PACK))
        cells = decode_cells(await self.ask(BleCommand.CELLS, OWN_PACK))
        return BatterySnapshot(
            voltage=pack.voltage,
            current=pack.current,
            cell_voltages=cells.cells,
            temperatures=cells.temperatures,
            state_of_charge=pack.state_of_charge,
            state_of_health=pack.state_of_health,
            remaining_capacity=pack.remaining_capacity,
            design_capacity=pack.design_capacity,
            cycles=pack.cycles,
            reported_cell_count=len(cells.cells),
        )
