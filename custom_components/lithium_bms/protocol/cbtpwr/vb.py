"""CBT Power (Creabest) VB series: YD/T1363 ASCII frames over Bluetooth.

Requests are ``~`` VER 0x11, ADR 1, CID1 0x46, CID2 and an INFO that ends in
the device address; replies carry VER 0x22 and RTN where CID2 was, and do not
name the request they answer (the analog reply and the capacity reply differ
in length). The codec is the shared ``codecs/ydt1363.py``. Source, the only
public decoder: patman15/aiobmsble ``aiobmsble/bms/cbtpwr_vb_bms.py`` and
``tests/bms/test_cbtpwr_vb_bms.py``
@ b0567331025033d33729385fa89a1198275d6486 (BMS_BLE-HA issue #240). The
module takes at most 20 bytes a write, so longer requests go in pieces.

Commands: 0x42 (cells, probes, current, voltage, state of charge, cycles and
a problem word) and 0x81 with ``01 00`` (the design capacity, 0.1 Ah). The
0x42 INFO must end where its cell and probe counts say.
"""

from __future__ import annotations

from typing import NamedTuple

from ..codecs import ydt1363
from ..errors import FrameError
from ..fields import Field

REQUEST_VER = 0x11
REPLY_VER = 0x22
DEVICE = 0x01
CID1 = 0x46
ANALOG = 0x42
CAPACITY = 0x81
CAPACITY_INFO = b"\x01\x00"
WRITE_SIZE = 20  # bytes the module takes in one write [aiobmsble ``max_size``]
MAX_CELLS = 20
# After the probes: current, voltage, state of charge, one byte, cycles,
# six bytes and the six-byte problem word [aiobmsble ``_FIELDS``].
TAIL_LENGTH = 21
CURRENT = Field("current", 0, 2, signed=True, scale=0.1, decimals=1)
VOLTAGE = Field("voltage", 2, 2, scale=0.1, decimals=1)
STATE_OF_CHARGE = Field("soc", 4, 2)
CYCLES = Field("cycles", 7, 2)
PROBLEM = Field("problem", 15, 6)
# The bits aiobmsble keeps of the problem word.
PROBLEM_MASK = 0xFFF000FF000F
CAPACITY_LENGTH = 2


def build_request(command: int, data: bytes = b"") -> bytes:
    """``~11 01 46 <cmd> <length> <data> 01 <chksum> CR``."""
    return ydt1363.build_frame(REQUEST_VER, DEVICE, CID1, command, data + b"\x01")


def reply_info(frame: bytes) -> bytes:
    """The INFO of a normal VB reply; anything else raises."""
    parsed = ydt1363.parse_frame(frame)
    if parsed.ver != REPLY_VER or parsed.adr != DEVICE or parsed.cid1 != CID1:
        raise FrameError("not a CBT Power VB reply")
    if parsed.cid2 != ydt1363.RTN_NORMAL:
        raise FrameError(f"CBT Power VB return code {parsed.cid2:#04x}")
    return parsed.info


class VbStatus(NamedTuple):
    """The decoded 0x42 reply."""

    voltage: float
    current: float
    cell_voltages: tuple[float, ...]
    temperatures: tuple[float, ...]
    soc: int
    cycles: int
    problem_code: int
    reported_cells: int


def is_analog(info: bytes) -> bool:
    """Whether an INFO is as long as a 0x42 reply with its counts."""
    if not info:
        return False
    cells = info[0]
    probes_at = 1 + 2 * cells
    if len(info) <= probes_at:
        return False
    return len(info) == probes_at + 1 + 2 * info[probes_at] + TAIL_LENGTH


def decode_analog(info: bytes) -> VbStatus:
    """Cells, probes and the fields after them."""
    if not is_analog(info):
        raise FrameError("CBT Power VB 0x42 INFO does not end where its counts say")
    cells = info[0]
    if not 1 <= cells <= MAX_CELLS:
        raise FrameError(f"CBT Power VB cell count {cells} outside 1-{MAX_CELLS}")
    probes_at = 1 + 2 * cells
    tail = info[probes_at + 1 + 2 * info[probes_at] :]
    probes = tuple(
        int.from_bytes(info[at : at + 2], "big", signed=True) / 10
        for at in range(probes_at + 1, probes_at + 1 + 2 * info[probes_at], 2)
    )
    return VbStatus(
        voltage=VOLTAGE.read(tail),
        current=CURRENT.read(tail),
        cell_voltages=tuple(
            int.from_bytes(info[at : at + 2], "big") / 1000
            for at in range(1, probes_at, 2)
        ),
        temperatures=probes,
        # The source caps it at 100 (``min(x, 100)``).
        soc=min(int(STATE_OF_CHARGE.read(tail)), 100),
        cycles=int(CYCLES.read(tail)),
        problem_code=int(PROBLEM.read(tail)) & PROBLEM_MASK,
        reported_cells=cells,
    )


def is_capacity(info: bytes) -> bool:
    """Whether an INFO is as long as the 0x81 capacity reply."""
    return len(info) == CAPACITY_LENGTH


def decode_capacity(info: bytes) -> float:
    """The design capacity in Ah (the reply holds 0.1 Ah)."""
    if not is_capacity(info):
        raise FrameError("not a CBT Power VB capacity reply")
    return int.from_bytes(info, "big") / 10
