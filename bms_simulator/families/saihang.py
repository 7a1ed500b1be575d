"""A simulated Saihang (Anenji) BMS (service FFFA, write FFFB, notify FFFC).

It answers ``A5 A5`` and a Modbus read of registers 0-71 from address 0 with
``A5 A5`` and the Modbus response (aiobmsble 0.31.0 (PyPI sdist)
``aiobmsble/bms/saihang_bms.py`` and ``docs/saihang_bms.md``). It encodes
from its own table, not from the integration's codec: it is an independent
oracle, so a decoding mistake in the integration cannot hide behind the same
mistake in the simulator. The captured reply in
``tests/protocol/data/saihang_vectors.json`` pins the codec down, and the
driver tests check that what the codec reads from this simulator equals the
simulated pack.
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

HEAD = b"\xa5\xa5"
READ = bytes.fromhex("000300000048")  # address 0, registers 0-71
REQUEST = HEAD + READ + modbus_crc(READ).to_bytes(2, "little")
BYTE_COUNT = 144
CELL_SLOTS, PROBE_SLOTS = 20, 10
# What the captured reply holds at 33 (undocumented) and from 125 on: the
# protection settings (docs/saihang_bms.md), not read by the integration.
WORD_33 = 0x0001
SETTINGS = bytes.fromhex("00006d600000721000006810000a0dac0e420d02000a0000")
CHARGE_FET, DISCHARGE_FET = 0x0200, 0x0400
# The company data of the BMS_BLE-HA #655 advertisement.
COMPANY_ID, COMPANY_DATA = 105, bytes.fromhex("202251a2")


def _put(out: bytearray, offset: int, value: int, size: int = 2) -> None:
    out[offset : offset + size] = value.to_bytes(size, "big", signed=value < 0)


def _kelvin(celsius: float) -> int:
    return round(celsius * 10) + 2730


class SaihangSimulator(SimulatedBms):
    """Answers the one register read with the 151-byte reply."""

    family = "saihang"
    services = (
        SimService(
            0x10,
            0xFFFA,
            (
                SimCharacteristic(0x12, 0xFFFB, ("write-without-response", "write")),
                SimCharacteristic(0x14, 0xFFFC, ("read", "notify")),
            ),
        ),
    )
    notify_handle = 0x14
    write_handle = 0x12

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """Add what the reply carries beside the pack."""
        super().__init__(address, name, pack)
        self.ambient_temperature = 25.0
        self.problem_code = 0  # sent inverted: 0xFFFF is no problem

    @property
    def probes(self) -> list[float]:
        """The cell probes, then the ambient one (the MOSFET probe is apart)."""
        return [*self.pack.temperatures[:PROBE_SLOTS], self.ambient_temperature]

    def default_advertising(self, name: str) -> Advertising:
        """Service FFFA and the company data of a real pack."""
        return Advertising(
            name=name,
            service_uuids=[uuid16(0xFFFA)],
            manufacturer_data={COMPANY_ID: COMPANY_DATA},
        )

    def handle_write(self, handle: int, data: bytes) -> None:
        """Answer the read written to FFFB; ignore anything else."""
        if handle != self.write_handle or data != REQUEST:
            return
        if self.take_fault(Fault.IGNORE_COMMAND) is None:
            self.send(self.status_frame())

    def status_frame(self) -> bytes:
        """The reply from the pack model."""
        pack = self.pack
        out = bytearray(b"\xff" * (5 + BYTE_COUNT))
        out[:5] = HEAD + bytes((0x00, 0x03, BYTE_COUNT))
        out[5:45] = bytes(40)
        _put(out, 33, WORD_33)
        out[125:] = SETTINGS
        _put(out, 5, round(pack.current * 100), 4)
        millivolts = [round(v * 1000) for v in pack.cell_voltages]
        _put(out, 9, round(sum(millivolts) / 10), 4)
        _put(out, 13, round(pack.soc))
        _put(out, 15, round(pack.state_of_health))
        _put(out, 17, round(pack.remaining_capacity * 100), 4)
        _put(out, 21, round(pack.full_capacity * 100), 4)
        _put(out, 25, round(pack.design_capacity * 100), 4)
        _put(out, 29, pack.cycles)
        _put(out, 31, ~self.problem_code & 0xFFFF)
        state = (CHARGE_FET if pack.charge_fet else 0) | (
            DISCHARGE_FET if pack.discharge_fet else 0
        )
        _put(out, 37, state)
        # A flag, as the capture's 0 allows; no source tells a cell mask.
        _put(out, 41, 1 if pack.balancing_cells else 0)
        _put(out, 43, len(millivolts))
        for index, mv in enumerate(millivolts[:CELL_SLOTS]):
            _put(out, 45 + 2 * index, mv)
        probes = pack.temperatures[:PROBE_SLOTS]
        _put(out, 85, len(probes))
        for index, temp in enumerate(probes):
            _put(out, 87 + 2 * index, _kelvin(temp))
        _put(out, 107, _kelvin(pack.mosfet_temperature))
        _put(out, 109, _kelvin(self.ambient_temperature))
        body = bytes(out)
        return body + modbus_crc(body[2:]).to_bytes(2, "little")


def demo(address: str) -> SaihangSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = SaihangSimulator(address, "SH24100-H-00069")
    device.pack.cell_voltages = [3.497, 3.434, 3.368, 3.389, 3.372, 3.435, 3.405, 3.384]
    device.pack.temperatures = [15.3, 15.6]
    device.pack.mosfet_temperature = 17.2
    device.pack.soc = 96.0
    device.pack.cycles = 2
    return device
