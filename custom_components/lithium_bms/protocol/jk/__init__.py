"""JK: frames, reassembly and drivers (Bluetooth, and two wired protocols)."""

from ..wired import WiredProtocol
from .driver import JkDriver
from .pb import MAX_ADDRESS
from .wired import JkPbDriver, JkRs485Driver

DRIVER = JkDriver

# JK-PB: 115200 baud (JKBMS-PB.md); a pack answers a trigger in ~38 ms, and
# the bus master (DIP address 0) polls 1..15 in a fixed cycle of ~4.4 s, which
# one listening window covers. 4E 57: 115200 baud (syssi/esphome-jk-bms
# README, UART-TTL), one pack per line (no bus address in the frame).
WIRED = (
    WiredProtocol(
        key="jk_pb",
        title="JK-PB (RS485)",
        probe_timeout=0.2,
        driver=JkPbDriver,
        baudrate=115200,
        addresses=tuple(range(1, MAX_ADDRESS + 1)),
        reply_timeout=0.5,
        listens=True,
        listen_window=5.0,
    ),
    WiredProtocol(
        key="jk_rs485",
        title="JK (4E 57, UART / RS485)",
        driver=JkRs485Driver,
        baudrate=115200,
        addresses=(0,),
        reply_timeout=0.5,
    ),
)

__all__ = ["DRIVER", "WIRED", "JkDriver", "JkPbDriver", "JkRs485Driver"]
