"""The wired protocols of Seplos: V2 (YD/T1363 ASCII) and V3 (Modbus RTU).

V2: 19200 baud as dbus-serialbattery's default (``dbus-serialbattery.py``;
the V2.0 protocol's own default is 9600, which a bus entry can choose), ADR
0-15, a reply within 500 ms (protocol V2.0, section 1.3). V3: 19200 baud (XZH
Modbus-RTU protocol, section 1.1), the pack addresses 0x00-0x10 that a setup
uses (0x00 alone, or the master pack; dbus-serialbattery scans 0-15), 500 ms
for a reply (dbus-serialbattery waits 400 ms). With several V3 packs the pack
at 0x00 is the master: it polls the others itself (syssi/esphome-seplos-bms
issue #116; the sniffer ferelarg/Seplos3MQTT @ aa14a7054bc69471bd568c40e745f39e
bb9be8b1 decodes its PIA, PIB and PIC polls), so a scan listens to it.
"""

from __future__ import annotations

from ..wired import WiredProtocol
from .driver import SeplosDriver
from .variants import V2, V3

V2_ADDRESSES = tuple(range(16))
V3_ADDRESSES = tuple(range(0x11))

WIRED = (
    WiredProtocol(
        key="seplos_v2",
        title="Seplos V2 (RS485)",
        probe_timeout=0.2,
        driver=SeplosDriver,
        baudrate=19200,
        addresses=V2_ADDRESSES,
        reply_timeout=0.5,
        variant=V2,
    ),
    WiredProtocol(
        key="seplos_v3",
        title="Seplos V3 (RS485)",
        probe_timeout=0.2,
        driver=SeplosDriver,
        baudrate=19200,
        addresses=V3_ADDRESSES,
        reply_timeout=0.5,
        listens=True,
        listen_window=3.0,
        variant=V3,
    ),
)
