"""Buknuwo BMS: Modbus RTU over the Nations / Ambiq 2760 service.

The pack answers Modbus device 0x01 on service ``00002760-…-1001`` (write
``…0001``, notify ``…0002``) and advertises no service, so discovery goes by
name: ``CDZG`` and ``MEY-?????-`` (MEYULMOL packs), with manufacturer data
``4E`` under company 65535 as the Nations module of Gobel's Dyness packs
sends; no Gobel name starts so. Source: aiobmsble 0.31.0 (PyPI sdist)
``aiobmsble/bms/buknuwo_bms.py`` and ``aiobmsble/test_data/buknuwo_bms.json``
(BMS_BLE-HA issues #621 and #816). Read only: no public source documents a
write command.
"""

from __future__ import annotations

from ..codecs import modbus
from ..driver import BmsDriver, FrameMatcher, Reassembler
from ..errors import UnsupportedError
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
    FUNCTION,
    MOSFET_PROBE_BYTES,
    NOTIFY,
    PROBES_BYTES,
    SERVICE,
    STATUS_BYTES,
    WRITE,
    decode_mosfet_probe,
    decode_probes,
    decode_status,
    mosfet_probe_request,
    probes_request,
    status_request,
)
from .stream import BuknuwoReassembler


def _answers(size: int) -> FrameMatcher:
    """A reply of ``size`` data bytes, or a Modbus exception."""

    def expect(frame: bytes) -> bool:
        if frame[1] == FUNCTION | modbus.EXCEPTION_FLAG:
            return True
        return frame[1] == FUNCTION and frame[2] == size

    return expect


class BuknuwoDriver(BmsDriver):
    """Reads a Buknuwo pack: status, MOSFET probe and probes per snapshot."""

    family = "buknuwo"
    manufacturer = "Buknuwo"
    brand = "Buknuwo"
    # Its names overlap no other family's claim.
    claim_order = 377
    gatt = (GattProfile(service=SERVICE, notify=NOTIFY, write=WRITE),)
    # aiobmsble 0.31.0 ``buknuwo_bms.py``: the name alone.
    matchers = (
        AdvertisementMatcher(local_name="CDZG*"),
        AdvertisementMatcher(local_name="MEY-?????-*"),
    )
    # The status block carries no cells.
    limits = Limits(min_cells=0, max_cells=0)

    def new_reassembler(self) -> Reassembler:
        """Replies of device 0x01."""
        return BuknuwoReassembler()

    async def _read(self, request: bytes, size: int) -> bytes:
        reply = modbus.parse_response(await self.exchange(request, _answers(size)))
        if reply.is_exception:
            raise UnsupportedError(
                f"Buknuwo read refused (code {reply.exception_code})"
            )
        return reply.data

    async def read_device_info(self) -> DeviceInfo:
        """No public source reads a model, version or serial."""
        return DeviceInfo(manufacturer=self.manufacturer)

    async def read_snapshot(self) -> BatterySnapshot:
        """The status block, the MOSFET probe and the probe block."""
        status = decode_status(await self._read(status_request(), STATUS_BYTES))
        mosfet = decode_mosfet_probe(
            await self._read(mosfet_probe_request(), MOSFET_PROBE_BYTES)
        )
        probes = decode_probes(await self._read(probes_request(), PROBES_BYTES))
        values = status.values
        return BatterySnapshot(
            voltage=values["voltage"],
            current=values["current"],
            temperatures=(
                *(Temperature(TemperatureKind.CELL, t) for t in probes),
                Temperature(TemperatureKind.MOSFET, mosfet),
            ),
            state_of_charge=values["state_of_charge"],
            state_of_health=values["state_of_health"],
            remaining_capacity=values["remaining_capacity"],
            full_capacity=values["full_capacity"],
            design_capacity=values["design_capacity"],
            cycles=int(values["cycles"]),
            charge_mosfet=status.charge_mosfet,
            discharge_mosfet=status.discharge_mosfet,
            # The status words (``problem_code``) are not reported: the one
            # public capture sets them while the pack charges normally, and
            # no source says which bits are faults.
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Buknuwo is read only here."""
        raise UnsupportedError(f"Buknuwo has no {kind} command")
