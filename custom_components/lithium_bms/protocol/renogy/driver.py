"""Renogy smart batteries over Bluetooth (classic ``BT-TH-`` and Pro series).

The battery's module carries Modbus RTU: the driver writes read requests for
device 0x30 to FFD1 (service FFD0) and gets the replies on FFF1 (service
FFF0), as patman15/aiobmsble ``aiobmsble/bms/renogy_bms.py`` and
``renogy_pro_bms.py`` @ b0567331025033d33729385fa89a1198275d6486 and
cyrils/renogy-bt ``renogybt/BaseClient.py``
@ 76774aa58b66cd719c19ad2d19f9adc08fe2a017 do. The Pro series reports its
current in 0.1 A instead of 0.01 A; which line a battery belongs to comes from
its advertised name (``RNGRBP``/``RNGC`` are Pro) and is stored with the entry.
The cell, battery, status and device-info reads are the reference's; the
board block (5035-5038: BMS board and environment probes) is read beside
them from the V1.7 register map, and no longer once a battery refuses it
or leaves it unanswered three times in a row.
Read only: no public source documents a command with a read-back.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from ..codecs import modbus
from ..driver import BmsDriver, DriverOptions, FrameMatcher, Reassembler
from ..errors import BmsTimeoutError, FrameError, UnsupportedError
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
    BATTERY,
    BOARD,
    CELLS,
    CLASSIC,
    DEVICE,
    INFO,
    MAX_CELLS,
    PRO,
    STATUS,
    SUPPORTED_ALARMS,
    VARIANTS,
    Block,
    Board,
    Variant,
    decode_battery,
    decode_board,
    decode_cells,
    decode_info,
    decode_status,
)
from .stream import RenogyReassembler

# Renogy's company ID as the Pro batteries advertise it (0xE14C).
RENOGY_PRO_COMPANY = 57676
PRO_NAMES = ("RNGRBP*", "RNGC*")
# Unanswered board reads in a row after which a battery is taken not to have it.
BOARD_SILENCES = 3


class RegistersRefusedError(FrameError):
    """The battery answered a read with a Modbus exception."""


def _answers(block: Block) -> FrameMatcher:
    request = modbus.parse_request(block.request)

    def matches(frame: bytes) -> bool:
        return request.answered_by(modbus.parse_response(frame))

    return matches


class RenogyDriver(BmsDriver):
    """Reads one Renogy smart battery (read only)."""

    family = "renogy"
    manufacturer = "Renogy"
    brand = "Renogy"
    claim_order = 335
    gatt = (
        GattProfile(service=0xFFF0, notify=0xFFF1, write=0xFFD1, write_service=0xFFD0),
    )
    # Classic: the BT-TH- name with service FFD0; Pro: RNGRBP/RNGC with the
    # company ID 57676 (aiobmsble's matchers, BMS_BLE-HA #247, #390, #558,
    # #596 in tests/protocol/data/advertisements.json).
    matchers = (
        AdvertisementMatcher(local_name="BT-TH-*", service_uuid=uuid16(0xFFD0)),
        *(
            AdvertisementMatcher(local_name=name, manufacturer_id=RENOGY_PRO_COMPANY)
            for name in PRO_NAMES
        ),
    )
    variants = tuple(VARIANTS)
    limits = Limits(max_cells=MAX_CELLS)

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Take the stored variant, else the one the advertised name says."""
        super().__init__(transport, options)
        stored = VARIANTS.get(self.stored_variant or "")
        self._variant: Variant = stored or _variant_by_name(options.name)
        # Without a stored variant or a name, classic is a guess: not stored.
        self._known = stored is not None or bool(options.name)
        # Until the battery refuses the board block (not in every public
        # read) or leaves it unanswered BOARD_SILENCES times in a row.
        self._reads_board = True
        self._board_silences = 0

    @property
    def variant(self) -> str | None:
        """``classic`` or ``pro``, once the stored variant or the name says."""
        return self._variant.name if self._known else None

    def new_reassembler(self) -> Reassembler:
        """Replies of device 0x30."""
        return RenogyReassembler()

    def is_sensitive(self, frame: bytes) -> bool:
        """The device-info reply carries the serial number."""
        return frame[:3] == bytes((DEVICE, modbus.READ_HOLDING, INFO.size))

    async def _read(self, block: Block) -> bytes:
        reply = modbus.parse_response(
            await self.exchange(block.request, _answers(block))
        )
        if reply.is_exception:
            raise RegistersRefusedError(
                f"Renogy refused {block.start:#06x}: exception {reply.exception_code}"
            )
        return reply.data

    async def _board(self) -> Board | None:
        """The board and environment probes, until the battery refuses them."""
        if not self._reads_board:
            return None
        try:
            board = decode_board(await self._read(BOARD))
        except RegistersRefusedError:
            self._reads_board = False
            return None
        except BmsTimeoutError:
            self._board_silences += 1
            self._reads_board = self._board_silences < BOARD_SILENCES
            raise
        self._board_silences = 0
        return board

    async def read_device_info(self) -> DeviceInfo:
        """Battery name, software version and serial number."""
        return decode_info(await self._read(INFO), self.manufacturer)

    async def read_snapshot(self) -> BatterySnapshot:
        """The cell, board, battery and status blocks."""
        cells = decode_cells(await self._read(CELLS))
        board = await self._board()
        battery = decode_battery(await self._read(BATTERY), self._variant.current_scale)
        status = decode_status(await self._read(STATUS))
        return BatterySnapshot(
            voltage=battery.voltage,
            current=battery.current,
            cell_voltages=cells.voltages,
            temperatures=_temperatures(cells.temperatures, board),
            state_of_charge=battery.state_of_charge,
            remaining_capacity=battery.remaining,
            full_capacity=battery.total,
            cycles=battery.cycles,
            charge_mosfet=status.charge_fet,
            discharge_mosfet=status.discharge_fet,
            heater=status.heater,
            alarms=status.alarms,
            supported_alarms=SUPPORTED_ALARMS,
            protection_code=status.protection_code,
            reported_cell_count=cells.reported_cells,
        )

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Renogy is read only here."""
        raise UnsupportedError(f"Renogy has no {kind} command with a read-back")


def _variant_by_name(name: str | None) -> Variant:
    if name and any(fnmatchcase(name, pattern) for pattern in PRO_NAMES):
        return PRO
    return CLASSIC


def _temperatures(
    cells: tuple[float, ...], board: Board | None
) -> tuple[Temperature, ...]:
    probes = [Temperature(TemperatureKind.CELL, t) for t in cells]
    if board is not None:
        probes += [Temperature(TemperatureKind.AMBIENT, t) for t in board.ambient]
        probes.append(Temperature(TemperatureKind.MOSFET, board.board))
    return tuple(probes)
