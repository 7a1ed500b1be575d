"""A simulated Offgridtec LiFePo4 Smart Pro pack, type A or B (service FFF0).

Requests are written to FFF6 and replies notified on FFF4, every byte XORed
with the key of the advertised name (aiobmsble 0.31.0 ``ogt_bms.py``). It
encodes from its own tables, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide
behind the same mistake in the simulator. The captured frames in
``tests/protocol/data/ogt_vectors.json`` pin the codec down (each decodes
exactly), and the driver tests check that what the codec reads from this
simulator equals the simulated pack.
"""

from __future__ import annotations

from collections.abc import Callable

from ..device import Advertising, SimCharacteristic, SimService, SimulatedBms, uuid16
from ..pack import PackModel

# Per hex digit of the name's number; the type adds 5 (A) or 8 (B).
DIGIT_KEYS = {
    "0": 2, "1": 5, "2": 4, "3": 3, "4": 1, "5": 4, "6": 1, "7": 6,
    "8": 8, "9": 3, "A": 7, "B": 2, "C": 5, "D": 8, "E": 9, "F": 3,
}  # fmt: skip
TYPE_KEYS = {"A": 5, "B": 8}
HEADS = {"A": b"+RAA", "B": b"+R16"}
# The error reply as aiobmsble's test sends it.
ERROR = b"+RD,Erro\x00"

NO_RUNTIME = 0xFFFF

type Reading = Callable[[PackModel], int]


def _decikelvin(pack: PackModel) -> int:
    return round((pack.temperatures[0] + 273.15) * 10)


def _millivolts(pack: PackModel) -> int:
    return sum(round(v * 1000) for v in pack.cell_voltages)


def _remaining(pack: PackModel) -> int:
    return round(pack.remaining_capacity * 1000)


def _design(pack: PackModel) -> int:
    return round(pack.design_capacity * 1000)


def _runtime(pack: PackModel) -> int:
    """Minutes until empty; 0xFFFF unless discharging (aiobmsble's test)."""
    if pack.current >= 0:
        return NO_RUNTIME
    return min(round(pack.remaining_capacity / -pack.current * 60), NO_RUNTIME - 1)


# register -> (bytes, multiplier of a 3-byte value, the raw integer).
# Type A's current is in 10 mA with a 0 multiplier (the captured reply). The
# runtime (type A 0x18, type B 0x12) is answered, though our driver does not
# ask it (aiobmsble does).
TYPE_A: dict[int, tuple[int, int, Reading]] = {
    0x02: (1, 0, lambda p: round(p.soc)),
    0x04: (3, 10, _remaining),
    0x08: (2, 0, _millivolts),
    0x0C: (2, 0, _decikelvin),
    0x10: (3, 0, lambda p: round(p.current * 100)),
    0x18: (2, 0, _runtime),
    0x2C: (2, 0, lambda p: p.cycles),
    0x3C: (3, 10, _design),
}
TYPE_B: dict[int, tuple[int, int, Reading]] = {
    0x08: (2, 0, _decikelvin),
    0x09: (2, 0, _millivolts),
    0x0A: (3, 10, lambda p: round(p.current * 1000)),
    0x0D: (1, 0, lambda p: round(p.soc)),
    0x0F: (3, 10, _remaining),
    0x12: (2, 0, _runtime),
    0x17: (2, 0, lambda p: p.cycles),
    0x18: (3, 10, _design),
}
FIRST_CELL = 0x3F
MAX_CELLS = 16


def key_of(name: str) -> int:
    """The key of a ``SmartBat-<type><number>`` name."""
    number = f"{int(name[10:]):04X}"
    return sum(DIGIT_KEYS[d] for d in number) + TYPE_KEYS[name[9]]


def value_digits(raw: int, size: int, multiplier: int) -> bytes:
    """``raw`` as the pack writes it: little-endian, a 3-byte value as word x byte."""
    if size == 1:
        return f"{raw:02X}".encode()
    if size == 2:
        return raw.to_bytes(2, "little").hex().upper().encode()
    word = round(raw / max(multiplier, 1))
    data = word.to_bytes(2, "little", signed=True) + bytes((multiplier,))
    return data.hex().upper().encode()


class OgtSimulator(SimulatedBms):
    """Answers one register per request, scrambled with its name's key."""

    family = "ogt"

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """A pack of the type its name says (``SmartBat-A…`` or ``SmartBat-B…``)."""
        self.kind = name[9]
        self.key = key_of(name)
        self.services = (
            SimService(
                0x10,
                0xFFF0,
                (
                    SimCharacteristic(0x12, 0xFFF4, ("notify",)),
                    SimCharacteristic(0x15, 0xFFF6, ("write-without-response",)),
                ),
            ),
        )
        self.notify_handle = 0x12
        super().__init__(address, name, pack)

    def default_advertising(self, name: str) -> Advertising:
        """The name and service FFF0."""
        return Advertising(name=name, service_uuids=[uuid16(0xFFF0)])

    @property
    def probes(self) -> list[float]:
        """The one probe the registers carry: the pack's first."""
        return self.pack.temperatures[:1]

    def carried_temperature(self, value: float) -> float:
        """Tenths of a kelvin, in degrees Celsius."""
        return round(round((value + 273.15) * 10) * 0.1 - 273.15, 3)

    def scramble(self, data: bytes) -> bytes:
        """Every byte XORed with the key (both ways)."""
        return bytes(b ^ self.key for b in data)

    def corrupt(self, frame: bytes) -> bytes:
        """A copy whose first value digit is no hex digit."""
        return frame[:6] + bytes((frame[6] ^ 0x40,)) + frame[7:]

    def handle_write(self, handle: int, data: bytes) -> None:
        """Answer a request of this type's head; ignore anything else."""
        plain = self.scramble(data)
        head = HEADS[self.kind]
        if handle != 0x15 or len(plain) != 8 or not plain.startswith(head):
            return
        try:
            register, size = int(plain[4:6], 16), int(plain[6:8], 16)
        except ValueError:
            return
        self.send(self.scramble(self.reply(register, size)))

    def reply(self, register: int, size: int) -> bytes:
        """The plain reply to one register, ``+RD,Err…`` where there is none."""
        table = TYPE_A if self.kind == "A" else TYPE_B
        cells = self.pack.cell_voltages
        if register in table and table[register][0] == size:
            _, multiplier, reading = table[register]
            digits = value_digits(reading(self.pack), size, multiplier)
        elif self.kind == "B" and size == 2 and 0 <= FIRST_CELL - register < len(cells):
            digits = value_digits(round(cells[FIRST_CELL - register] * 1000), 2, 0)
        else:
            return ERROR
        return b"+RD," + f"{register:02X}".encode() + digits + b"\r\n"


def demo(address: str) -> OgtSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark).

    Type B, the type that reports its cells.
    """
    device = OgtSimulator(address, "SmartBat-B15051")
    device.pack.cell_voltages = [3.306, 3.305, 3.304, 3.303]
    device.pack.temperatures = [21.75]
    device.pack.current = 1.23
    device.pack.cycles = 99
    return device


def type_a_demo(address: str) -> OgtSimulator:
    """A type A pack (no cells), as the captured SmartBat-A42491."""
    device = OgtSimulator(address, "SmartBat-A42491")
    device.pack.temperatures = [15.75]
    device.pack.current = -1.17
    device.pack.cycles = 8
    return device
