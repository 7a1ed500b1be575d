"""How PACE packs speak on a serial line."""

from __future__ import annotations

from ..wired import WiredProtocol
from .driver import PaceDriver

# 9600 baud 8N1 (PACE RS232 protocol TY16S, section 1; nkinnan/esphome-pace-bms
# README: some boards are set to 19200, which a bus entry can choose). ADR is
# the pack's address dial: 0 to 15, and some packs answer 1 to 16. A reply of
# sixteen cells is about 150 characters (160 ms at 9600 baud) after the BMS's
# own delay. PACE does not listen: a reply does not say which request it
# answers, so a bus another master owns is not read.
WIRED = (
    WiredProtocol(
        key="pace",
        title="PACE (RS485)",
        probe_timeout=0.2,
        driver=PaceDriver,
        baudrate=9600,
        addresses=tuple(range(17)),
        reply_timeout=1.0,
    ),
)
