"""Vatrer smart BMS and the C4S100 (RC6621A) BMS over BLE: the conversation.

The host writes Modbus read requests for slave 0x02 to the Nordic UART
service's RX characteristic and gets the replies on TX (aiobmsble 0.31.0
(PyPI sdist) ``aiobmsble/bms/vatrer_bms.py``). A Vatrer answers three reads,
a C4S100 only one read of the whole table (``docs/c4s_bms.md``): which one a
BMS is comes from its advertised name and is stored with the entry. Read
only: no public source documents a command with a read-back.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from ..codecs import modbus
from ..driver import BmsDriver, DriverOptions, FrameMatcher
from ..errors import FrameError, UnsupportedError
from ..matching import AdvertisementMatcher
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
    C4S,
    CELLS,
    MAX_CELLS,
    PROBES,
    STATUS,
    TABLE,
    VARIANTS,
    VATRER,
    Block,
    Variant,
    decode_c4s_probes,
    decode_cells,
    decode_probes,
    decode_status,
)
from .stream import VatrerReassembler

NUS = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
NUS_RX = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"  # the host writes here
NUS_TX = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"  # the BMS notifies here
C4S_NAME = "C4S100IE?????"
# aiobmsble's Vatrer name is YYMMDD, 512 (51.2 V), the capacity and a serial:
# ``[2-9]???[0-3]?512??00??``. Home Assistant takes a name's first three
# characters literally, so the year and the first month digit are spelt out,
# for packs dated 2023 to 2029.
VATRER_NAMES = tuple(
    f"{year}{month}?[0-3]?512??00??" for year in range(23, 30) for month in (0, 1)
)


class RegistersRefusedError(FrameError):
    """The BMS answered a read with a Modbus exception."""


def _answers(block: Block) -> FrameMatcher:
    request = modbus.parse_request(block.request)

    def matches(frame: bytes) -> bool:
        return request.answered_by(modbus.parse_response(frame))

    return matches


class VatrerDriver(BmsDriver):
    """Reads one Vatrer or C4S100 BMS (read only)."""

    family = "vatrer"
    manufacturer = "Vatrer"
    brand = "Vatrer"
    # Its names are digits with 512 inside, or C4S100IE, each with the Nordic
    # UART service: no other family's record in the corpus has them.
    claim_order = 62
    gatt = (GattProfile(service=NUS, notify=NUS_TX, write=NUS_RX),)
    matchers = tuple(
        AdvertisementMatcher(local_name=name, service_uuid=NUS)
        for name in (*VATRER_NAMES, C4S_NAME)
    )
    variants = tuple(VARIANTS)
    limits = Limits(max_cells=MAX_CELLS)

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Take the stored variant, else the one the advertised name says."""
        super().__init__(transport, options)
        stored = VARIANTS.get(self.stored_variant or "")
        self._variant: Variant = stored or _variant_by_name(options.name)
        # Without a stored variant or a name, Vatrer is a guess: not stored.
        self._known = stored is not None or bool(options.name)

    @property
    def variant(self) -> str | None:
        """``vatrer`` or ``c4s``, once the stored variant or the name says."""
        return self._variant.name if self._known else None

    def new_reassembler(self) -> VatrerReassembler:
        """Replies of slave 0x02."""
        return VatrerReassembler()

    async def _read(self, block: Block) -> bytes:
        reply = modbus.parse_response(
            await self.exchange(block.request, _answers(block))
        )
        if reply.is_exception:
            raise RegistersRefusedError(
                f"Vatrer refused {block.start:#06x}: exception {reply.exception_code}"
            )
        return reply.data

    async def read_device_info(self) -> DeviceInfo:
        """No register names the BMS: the variant's brand and model."""
        return DeviceInfo(
            manufacturer=self._variant.manufacturer, model=self._variant.model
        )

    async def read_snapshot(self) -> BatterySnapshot:
        """The Vatrer's three reads, or the C4S100's one."""
        if self._variant is C4S:
            return await self._read_c4s()
        status = decode_status(await self._read(STATUS))
        probes = decode_probes(await self._read(PROBES))
        cells = decode_cells(await self._read(CELLS))
        return BatterySnapshot(
            voltage=status.voltage,
            current=status.current,
            cell_voltages=cells.voltages,
            # aiobmsble calls them generic probes: cell probes here.
            temperatures=(
                *(Temperature(TemperatureKind.CELL, t) for t in probes.temperatures),
                Temperature(TemperatureKind.MOSFET, probes.mosfet),
            ),
            state_of_charge=float(status.soc),
            state_of_health=float(status.soh),
            remaining_capacity=status.remaining,
            cycles=status.cycles,
            balancing=probes.balancing,
            charge_mosfet=probes.charge_fet,
            discharge_mosfet=probes.discharge_fet,
            protection_code=probes.problem_code,
            reported_cell_count=cells.reported,
        )

    async def _read_c4s(self) -> BatterySnapshot:
        data = await self._read(TABLE)
        status = decode_status(data, TABLE)
        cells = decode_cells(data, TABLE)
        mosfet, ambient = decode_c4s_probes(data)
        return BatterySnapshot(
            voltage=status.voltage,
            current=status.current,
            cell_voltages=cells.voltages,
            temperatures=(
                Temperature(TemperatureKind.MOSFET, mosfet),
                Temperature(TemperatureKind.AMBIENT, ambient),
            ),
            state_of_charge=float(status.soc),
            state_of_health=float(status.soh),
            remaining_capacity=status.remaining,
            design_capacity=status.design,
            cycles=status.cycles,
            reported_cell_count=cells.reported,
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Vatrer is read only here."""
        raise UnsupportedError(f"Vatrer has no {kind} command with a read-back")


def _variant_by_name(name: str | None) -> Variant:
    if name and fnmatchcase(name, C4S_NAME):
        return C4S
    return VATRER
