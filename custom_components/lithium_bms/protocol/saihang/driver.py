"""Saihang (Anenji) BMS over BLE: the conversation.

One request, a Modbus read of registers 0-71 behind ``A5 A5`` on FFFB,
answered on FFFC by one reply (:mod:`.frames`). Read only: no public source
documents a command.
"""

from __future__ import annotations

from ..driver import BmsDriver
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
from ..transport import GattProfile
from .frames import MAX_CELLS, REQUEST, decode_status
from .stream import SaihangReassembler


def _is_frame(_: bytes) -> bool:
    """Every frame the reassembler passes is the one reply there is."""
    return True


class SaihangDriver(BmsDriver):
    """Reads a Saihang (Anenji) BMS."""

    family = "saihang"
    manufacturer = "Saihang Technology"
    brand = "Saihang"
    # ``SH`` names with service FFFA: no other family's record has FFFA
    # (TDT writes ``HiLink`` to a FFFA characteristic of service FFF0).
    claim_order = 375
    gatt = (GattProfile(service=0xFFFA, notify=0xFFFC, write=0xFFFB),)
    # aiobmsble 0.31.0 (PyPI sdist) ``aiobmsble/bms/saihang_bms.py`` matches
    # ``SH*`` and FFFA; Home Assistant takes a name's first three characters
    # literally, so the third is spelt out: a digit, as in every known name
    # (the rated voltage, ``SH24100-H-…``).
    matchers = tuple(
        AdvertisementMatcher(local_name=f"SH{digit}*", service_uuid=uuid16(0xFFFA))
        for digit in range(10)
    )
    limits = Limits(max_cells=MAX_CELLS)

    def new_reassembler(self) -> SaihangReassembler:
        """Frames by head, byte count and CRC."""
        return SaihangReassembler()

    async def read_device_info(self) -> DeviceInfo:
        """The reply carries no model, version or serial number."""
        return DeviceInfo(manufacturer=self.manufacturer)

    async def read_snapshot(self) -> BatterySnapshot:
        """One request and its reply."""
        status = decode_status(await self.exchange(REQUEST, _is_frame))
        probes = [Temperature(TemperatureKind.CELL, t) for t in status.temperatures]
        if status.mosfet_temperature is not None:
            probes.append(
                Temperature(TemperatureKind.MOSFET, status.mosfet_temperature)
            )
        if status.ambient_temperature is not None:
            probes.append(
                Temperature(TemperatureKind.AMBIENT, status.ambient_temperature)
            )
        return BatterySnapshot(
            voltage=status.voltage,
            current=status.current,
            cell_voltages=status.cell_voltages,
            temperatures=tuple(probes),
            state_of_charge=float(status.soc),
            state_of_health=float(status.soh),
            remaining_capacity=status.remaining,
            full_capacity=status.full,
            design_capacity=status.design,
            cycles=status.cycles,
            balancing=status.balancing,
            charge_mosfet=status.charge_fet,
            discharge_mosfet=status.discharge_fet,
            protection_code=status.problem_code,
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Read only: no public source documents a command."""
        raise UnsupportedError(f"Saihang has no {kind} command")
