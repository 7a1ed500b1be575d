"""The Seplos protocol variants: one object each behind one interface.

``v2`` asks YD/T1363 telemetry and telesignalisation; ``v3`` reads the Modbus
blocks PIA, PIB and PIC, as the bus master or, when the master pack owns the
bus, by listening to the master's own polls (it never sends then). Over
Bluetooth ``v2`` asks the binary single machine data (``v2ble``) and ``v3``
the same Modbus blocks of the first pack.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from ..codecs import modbus
from ..driver import Reassembler
from ..errors import BmsTimeoutError, ProtocolError, UnsupportedError
from ..snapshot import Alarm, BatterySnapshot, DeviceInfo
from . import v2, v2ble, v3
from .frames import snapshot
from .stream import (
    HeardExchanges,
    SeplosV2BleReassembler,
    SeplosV2Reassembler,
    SeplosV3BankReassembler,
    SeplosV3Reassembler,
    split_exchange,
)

if TYPE_CHECKING:
    from .driver import SeplosDriver

V2 = "v2"
V3 = "v3"
# Silent EIA reads after which a module that never answered one is not asked.
EIA_SILENT_LIMIT = 3
# A VIA reply (or more) carries the BMS and pack serial numbers.
SENSITIVE_BYTE_COUNT = v3.VIA.size(v3.VIA.least)


class SeplosVariant(ABC):
    """How one protocol variant reads a pack."""

    name: ClassVar[str]
    supported_alarms: ClassVar[frozenset[Alarm]]

    def __init__(self, driver: SeplosDriver, address: int) -> None:
        """Speak through the driver to the pack at ``address``."""
        self.driver = driver
        self.address = address

    @abstractmethod
    def new_reassembler(self) -> Reassembler:
        """The reassembler of the variant's frames for this pack."""

    @abstractmethod
    async def device_info(self) -> DeviceInfo:
        """What the pack says about itself."""

    @abstractmethod
    async def read(self) -> BatterySnapshot:
        """One complete reading."""

    def is_sensitive(self, frame: bytes) -> bool:
        """Whether a frame carries a serial number."""
        return False


class V2Variant(SeplosVariant):
    """YD/T1363: 0x42 telemetry and 0x44 telesignalisation each update."""

    name = V2
    supported_alarms = v2.SUPPORTED_ALARMS

    def new_reassembler(self) -> Reassembler:
        """YD/T1363 frames of this pack's ADR."""
        return SeplosV2Reassembler(self.address)

    async def _ask(self, command: int) -> bytes:
        frame = await self.driver.exchange(
            v2.build_request(self.address, command), v2.is_reply
        )
        return v2.reply_info(frame)

    async def device_info(self) -> DeviceInfo:
        """The 0x51 vendor reply (name and software version)."""
        manufacturer = self.driver.manufacturer
        try:
            vendor = v2.decode_vendor(await self._ask(v2.VENDOR))
        except UnsupportedError:
            return DeviceInfo(manufacturer=manufacturer)
        return DeviceInfo(
            manufacturer=manufacturer, model=vendor.name, sw_version=vendor.software
        )

    async def read(self) -> BatterySnapshot:
        """Telemetry, then telesignalisation."""
        measurement = v2.decode_telemetry(await self._ask(v2.TELEMETRY))
        status = v2.decode_telesignal(await self._ask(v2.TELESIGNAL))
        return snapshot(measurement, status, self.supported_alarms)


class V3Variant(SeplosVariant):
    """Modbus: PIA, PIB and PIC each update, asked or heard."""

    name = V3
    supported_alarms = v3.SUPPORTED_ALARMS
    pia: ClassVar[v3.Block] = v3.PIA

    @property
    def listens(self) -> bool:
        """Whether the master pack owns the bus (we only listen)."""
        return self.driver.options.listen

    def new_reassembler(self) -> Reassembler:
        """This pack's replies, or the exchanges about it when listening."""
        if self.listens:
            return HeardExchanges(self.address)
        return SeplosV3Reassembler(self.address)

    def is_sensitive(self, frame: bytes) -> bool:
        """VIA replies (and exchanges) carry the serial numbers."""
        reply = frame[modbus.REQUEST_LENGTH :] if self.listens else frame
        return (
            len(reply) > 2
            and reply[1] == modbus.READ_INPUT
            and reply[2] >= SENSITIVE_BYTE_COUNT
        )

    async def _asked(
        self, block: v3.Block, address: int | None = None
    ) -> modbus.ModbusResponse:
        device = self.address if address is None else address
        size = block.size(block.count)

        def expect(frame: bytes) -> bool:
            if frame[0] != device:
                return False
            if frame[1] == block.function | modbus.EXCEPTION_FLAG:
                return True
            return frame[1] == block.function and frame[2] == size

        reply = modbus.parse_response(
            await self.driver.exchange(block.request(device), expect)
        )
        if reply.is_exception:
            raise UnsupportedError(
                f"{block.name} refused (code {reply.exception_code})"
            )
        return reply

    async def _heard(self, block: v3.Block) -> modbus.ModbusResponse:
        def heard(frame: bytes) -> bool:
            request, reply = split_exchange(frame)
            return block.asked_by(request) and not reply.is_exception

        frame = await self.driver.inbox.wait_for(heard, self.driver.request_timeout)
        return split_exchange(frame)[1]

    async def _block(self, block: v3.Block, address: int) -> modbus.ModbusResponse:
        if self.listens:
            return await self._heard(block)
        return await self._asked(block, address)

    async def device_info(self) -> DeviceInfo:
        """VIA when asking; a listener hears no VIA, so only the maker."""
        manufacturer = self.driver.manufacturer
        if self.listens:
            return DeviceInfo(manufacturer=manufacturer)
        try:
            reply = await self._asked(v3.VIA)
        except UnsupportedError:
            return DeviceInfo(manufacturer=manufacturer)
        return v3.decode_version(reply.data, manufacturer)

    async def read(self) -> BatterySnapshot:
        """PIA, PIB and PIC (a listener takes them from the next cycle heard)."""
        if self.listens:
            self.driver.inbox.clear()
        return await self._read_pack(self.address)

    async def _read_pack(self, address: int) -> BatterySnapshot:
        """PIA, PIB and PIC of the pack at ``address``."""
        pia = await self._block(self.pia, address)
        pib = await self._block(v3.PIB, address)
        pic = await self._block(v3.PIC, address)
        measurement = v3.decode_measurement(pia.registers, pib.registers)
        return snapshot(measurement, v3.decode_status(pic.data), self.supported_alarms)


class V3BleVariant(V3Variant):
    """V3 through the pack's Bluetooth module: PIA read as the BLE readers do.

    The module's pack may be the master of a bank: after its own blocks the
    driver asks EIA of device 0x00 for the pack count and reads PIA, PIB and
    PIC of each other pack (devices 0x02 to the count). A pack that does not
    answer, or answers nonsense, is reported as None for this reading; the
    first pack's reading stands either way.
    """

    pia = v3.BLE_PIA

    def __init__(self, driver: SeplosDriver, address: int) -> None:
        """Start with a single pack until EIA says otherwise."""
        super().__init__(driver, address)
        self.pack_count = 1
        self._eia_answered = False
        self._eia_silent = 0
        self.reported: dict[int, BatterySnapshot | None] = {}

    def new_reassembler(self) -> Reassembler:
        """Replies of the master (0x00) and of every pack of its bank."""
        return SeplosV3BankReassembler(v3.MASTER_DEVICE, v3.MAX_PACKS)

    async def read(self) -> BatterySnapshot:
        """The first pack, then the bank's count and its other packs."""
        snapshot = await self._read_pack(self.address)
        await self._update_pack_count()
        reported: dict[int, BatterySnapshot | None] = {}
        for number in range(self.address + 1, self.address + self.pack_count):
            try:
                reported[number] = await self._read_pack(number)
            except (BmsTimeoutError, ProtocolError, UnsupportedError):
                reported[number] = None
        self.reported = reported
        return snapshot

    async def _update_pack_count(self) -> None:
        """Ask EIA; a refused, lost or implausible reply keeps the last count.

        A module that never answered is not asked again after
        :data:`EIA_SILENT_LIMIT` silent tries: it has no master to ask.
        """
        if not self._eia_answered and self._eia_silent >= EIA_SILENT_LIMIT:
            return
        try:
            reply = await self._asked(v3.EIA, v3.MASTER_DEVICE)
            self.pack_count = v3.decode_pack_count(reply.registers)
        except BmsTimeoutError:
            self._eia_silent += 1
            return
        except (ProtocolError, UnsupportedError):
            return
        self._eia_answered = True


VARIANT_TYPES: dict[str, type[SeplosVariant]] = {
    variant.name: variant for variant in (V2Variant, V3Variant)
}


class V2BleVariant(SeplosVariant):
    """V2 through the BP0x Bluetooth module: 0x61 each update, 0x51 once."""

    name = V2
    supported_alarms = v2ble.SUPPORTED_ALARMS

    def new_reassembler(self) -> Reassembler:
        """The module's binary replies, without its AT text."""
        return SeplosV2BleReassembler()

    async def _ask(self, command: int, info: bytes = b"") -> bytes:
        frame = await self.driver.exchange(
            v2ble.build_request(command, info),
            lambda reply: v2ble.is_reply(command, reply),
        )
        return v2ble.reply_info(frame)

    async def device_info(self) -> DeviceInfo:
        """Hardware and software version from 0x51."""
        info = v2ble.decode_info(await self._ask(v2ble.INFO))
        return DeviceInfo(
            manufacturer=self.driver.manufacturer,
            model=info.hardware,
            sw_version=info.software,
        )

    async def read(self) -> BatterySnapshot:
        """The single machine data of the pack."""
        single = v2ble.decode_single(await self._ask(v2ble.SINGLE, b"\x00"))
        return snapshot(single.measurement, single.status, self.supported_alarms)


BLE_VARIANT_TYPES: dict[str, type[SeplosVariant]] = {
    variant.name: variant for variant in (V2BleVariant, V3BleVariant)
}
