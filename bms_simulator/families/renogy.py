"""A simulated Renogy smart battery: Modbus RTU holding registers of device 0x30.

The battery encodes its registers from its own table of the Renogy BMS
Modbus Protocol V1.7 (sdellysse/renogy-modbus-research
``Lithium.Iron.Battery.BMS.Modbus.Protocol.V1.7.zh-CN.en.1.pdf``
@ 00541a18d691312b52e01665b91f45c956d906e7) and the simulator's own CRC,
never from the integration's codec: it is an independent oracle, checked
against the captured vectors through the driver tests.

GATT as the real modules show it: requests go to FFD1 in service FFD0, the
replies come on FFF1 in service FFF0 (mavenius/renogy-bt-esphome issue #5's
nRF Connect listing; patman15/aiobmsble ``aiobmsble/bms/renogy_bms.py``
@ b0567331025033d33729385fa89a1198275d6486). A Pro battery repeats each UUID
for a notify and a write characteristic in both services (the same
repository's ``tests/bms/test_renogy_pro_bms.py``) and reports its current in
0.1 A instead of 0.01 A.
"""

from __future__ import annotations

from ..device import (
    Advertising,
    Fault,
    SimCharacteristic,
    SimService,
    SimulatedBms,
    uuid16,
)
from ..pack import PackModel
from ..serial.responders import modbus_crc

DEVICE = 0x30
READ_HOLDING = 0x03
PRO_COMPANY = 57676
CURRENT_UNIT = {"classic": 0.01, "pro": 0.1}
# Alarm key -> (register, bit): status 1 (5106) protections, and the BMS board
# temperature "above the upper limit" code (10) of the other alarm info (5104).
ALARM_BITS = {
    "short_circuit": (5106, 0),
    "charge_overcurrent": (5106, 9),
    "discharge_overcurrent": (5106, 10),
    "pack_overvoltage": (5106, 6),
    "cell_undervoltage": (5106, 7),
    "cell_overvoltage": (5106, 8),
    "discharge_undertemperature": (5106, 11),
    "discharge_overtemperature": (5106, 12),
    "charge_undertemperature": (5106, 13),
    "charge_overtemperature": (5106, 14),
    "pack_undervoltage": (5106, 15),
    "mosfet_overtemperature": (5104, 15),
}
CHARGE_FET, DISCHARGE_FET, MODULE_POWER = 1 << 1, 1 << 2, 1 << 3
HEATER_ON = 1 << 13


def _s16(value: float) -> int:
    return round(value) & 0xFFFF


def _u32(value: float) -> list[int]:
    raw = round(value) & 0xFFFFFFFF
    return [raw >> 16, raw & 0xFFFF]


def _text(value: str, registers: int) -> list[int]:
    raw = value.encode().ljust(2 * registers, b"\x00")[: 2 * registers]
    return [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]


class RenogyBattery(SimulatedBms):
    """A classic (``BT-TH-``) or Pro (``RNGRBP``) battery with its module."""

    family = "renogy"
    notify_handle = 0x21

    def __init__(
        self,
        address: str,
        name: str,
        pack: PackModel | None = None,
        *,
        variant: str = "classic",
        model: str = "RBT100LFP12-BT",
    ) -> None:
        """The battery, its line (``classic`` or ``pro``) and battery name."""
        self.variant = variant
        super().__init__(address, name, pack)
        self.model = model
        self.serial = "20210526"
        self.heater = False
        # The environment probes (5036-5038); the BMS board probe is the
        # pack's MOSFET temperature. ``board_block`` False: refuse 5035-5038.
        self.ambient = [24.0]
        self.board_block = True
        # ``board_silent``: leave reads of 5035 unanswered.
        self.board_silent = False
        self.requests = 0
        pro = variant == "pro"
        write = ("write-without-response", "write")
        self.services = (
            SimService(
                0x10,
                0xFFD0,
                (
                    *([SimCharacteristic(0x11, 0xFFD1, ("notify",))] if pro else []),
                    SimCharacteristic(0x12, 0xFFD1, write),
                ),
            ),
            SimService(
                0x20,
                0xFFF0,
                (
                    SimCharacteristic(0x21, 0xFFF1, ("read", "notify")),
                    *([SimCharacteristic(0x22, 0xFFF1, write)] if pro else []),
                ),
            ),
        )

    def default_advertising(self, name: str) -> Advertising:
        """Classic: name and FFD0; Pro: name and the address in company 57676."""
        if self.variant == "pro":
            payload = bytes.fromhex(self.address.replace(":", ""))[2:]
            return Advertising(name=name, manufacturer_data={PRO_COMPANY: payload})
        return Advertising(name=name, service_uuids=[uuid16(0xFFD0)])

    @property
    def probes(self) -> list[float]:
        """The cell probes, then the environment probes of the board block."""
        ambient = self.ambient[:2] if self.board_block else []
        return [*self.pack.temperatures, *ambient]

    def registers(self) -> dict[int, int]:
        """Every register the battery answers, by address.

        The battery measures its cells in 0.1 V: the pack model is held at
        that resolution first, so the ground truth is what it can know.
        """
        pack = self.pack
        pack.cell_voltages = [round(v, 1) for v in pack.cell_voltages]
        cells = [round(v * 10) for v in pack.cell_voltages]
        probes = [_s16(t * 10) for t in pack.temperatures]
        status = {5104: 0, 5106: MODULE_POWER, 5107: HEATER_ON if self.heater else 0}
        status[5106] |= CHARGE_FET if pack.charge_fet else 0
        status[5106] |= DISCHARGE_FET if pack.discharge_fet else 0
        for alarm in pack.alarms:
            if alarm in ALARM_BITS:
                register, bit = ALARM_BITS[alarm]
                status[register] |= 1 << bit
        blocks = {
            5000: [len(cells), *(cells + [0] * 16)[:16]],
            5017: [len(probes), *(probes + [0] * 16)[:16]],
            5042: [
                _s16(pack.current / CURRENT_UNIT[self.variant]),
                round(pack.voltage * 10),
                *_u32(pack.remaining_capacity * 1000),
                *_u32(pack.full_capacity * 1000),
                pack.cycles,
            ],
            5100: [0, 0, 0, 0, status[5104], 0, status[5106], status[5107], 0, 0],
            5110: _text(self.serial, 8) + [0] * 4,
            5122: _text(self.model, 8) + _text("0100", 2),
        }
        if self.board_block:
            ambient = [_s16(t * 10) for t in [*self.ambient, 0, 0][:2]]
            board = _s16(pack.mosfet_temperature * 10)
            blocks[5035] = [board, len(self.ambient), *ambient]
        return {
            start + index: value
            for start, values in blocks.items()
            for index, value in enumerate(values)
        }

    def answer(self, request: bytes) -> bytes | None:
        """The reply to one read of device 0x30, or None for anything else."""
        if (
            len(request) != 8
            or request[0] != DEVICE
            or modbus_crc(request[:-2]).to_bytes(2, "little") != request[-2:]
        ):
            return None
        start = int.from_bytes(request[2:4], "big")
        if start == 5035 and self.board_silent:
            return None
        self.requests += 1
        count = int.from_bytes(request[4:6], "big")
        regs = self.registers()
        wanted = range(start, start + count)
        if request[1] != READ_HOLDING or not all(r in regs for r in wanted):
            return _with_crc(bytes((DEVICE, request[1] | 0x80, 0x02)))
        data = b"".join(regs[r].to_bytes(2, "big") for r in wanted)
        return _with_crc(bytes((DEVICE, READ_HOLDING, len(data))) + data)

    def handle_write(self, handle: int, data: bytes) -> None:
        """A request written to FFD1."""
        if handle != 0x12 or self.take_fault(Fault.IGNORE_COMMAND) is not None:
            return
        reply = self.answer(data)
        if reply is not None:
            self.send(reply)


def _with_crc(body: bytes) -> bytes:
    return body + modbus_crc(body).to_bytes(2, "little")


def demo_pack() -> PackModel:
    """A 12 V 100 Ah battery, discharging a little."""
    return PackModel(
        cell_voltages=[3.3, 3.4, 3.3, 3.3],
        current=-2.35,
        soc=80.0,
        full_capacity=100.0,
        design_capacity=100.0,
        cycles=15,
        temperatures=[17.0, 17.5],
    )


def demo(address: str) -> RenogyBattery:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    return RenogyBattery(address, "BT-TH-66EDFC11", demo_pack())


def demo_pro(address: str) -> RenogyBattery:
    """A Pro battery under its advertised name."""
    return RenogyBattery(
        address,
        "RNGRBP1228000830",
        demo_pack(),
        variant="pro",
        model="RNGRBP12200",
    )
