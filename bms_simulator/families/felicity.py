"""A simulated Felicity Solar battery: ASCII requests, JSON replies over BLE.

Service ``6e6f736a-4643-4d44-8fa9-0fafd005e455``, write ``49535258-…``,
notify ``49535458-…``. It answers ``wifilocalMonitor:get dev real infor``,
``… get dev basice infor`` and ``… get Date`` with the JSON objects of the
captures in patman15/aiobmsble ``tests/bms/test_felicity_bms.py``
@ b0567331025033d33729385fa89a1198275d6486, and ignores anything else (the
dongle answers unknown commands with silence, felicity-cyd
``docs/protocol.md``).

It writes its replies from its own key table, not from the integration's
codec: it is an independent oracle, checked against the captured vectors
through the driver tests. ``fault`` and ``warning`` are the raw ``Bfault``
and ``Bwarn`` words (no public bit table ties them to a protection).
"""

from __future__ import annotations

import json

from ..device import Advertising, Fault, SimCharacteristic, SimService, SimulatedBms
from ..pack import PackModel

SERVICE = "6e6f736a-4643-4d44-8fa9-0fafd005e455"
WRITE = "49535258-184d-4bd9-bc61-20c647249616"
NOTIFY = "49535458-8341-43f4-a9d4-ec0e34729bb3"
COMMANDS = {
    b"wifilocalMonitor:get dev real infor": "real",
    b"wifilocalMonitor:get dev basice infor": "basic",
    b"wifilocalMonitor:get Date": "date",
}
SLOTS = 16  # cell slots per BatcelList row
PROBE_SLOTS = 8  # BtemList slots
UNUSED_CELL = 32767  # an unused slot of the first row (an 8S pack)
UNUSED = 65535  # the unused second row and second module columns
NO_PROBE = 32767


def _dump(message: dict[str, object]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode("ascii")


class FelicityBattery(SimulatedBms):
    """One pack behind its WiFi/BLE module."""

    family = "felicity"
    services = (
        SimService(
            0x30,
            SERVICE,
            (
                SimCharacteristic(0x32, WRITE, ("write-without-response", "write")),
                SimCharacteristic(0x34, NOTIFY, ("notify",)),
            ),
        ),
    )
    notify_handle = 0x34
    write_handle = 0x32

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """The pack, and the module's serials taken from its name."""
        super().__init__(address, name, pack)
        self.wifi_serial = name
        self.serial = name[1:]
        self.version = "2.06"
        self.fault = 0
        self.warning = 0

    def default_advertising(self, name: str) -> Advertising:
        """Only the name: the module advertises no service."""
        return Advertising(name=name)

    def handle_write(self, handle: int, data: bytes) -> None:
        """Answer a known command written to the write characteristic."""
        kind = COMMANDS.get(bytes(data))
        if handle != self.write_handle or kind is None:
            return
        if self.take_fault(Fault.IGNORE_COMMAND) is not None:
            return
        if kind == "real":
            self.send(self.real_info())
        elif kind == "basic":
            self.send(self.basic_info())
        else:
            self.send(self.date_info())

    def real_info(self) -> bytes:
        """The real-time reply from the pack model."""
        pack = self.pack
        cells = [round(v * 1000) for v in pack.cell_voltages]
        volts = sum(cells)
        deciamps = round(pack.current * 10)
        soc = round(pack.soc * 100)
        full = round(pack.full_capacity * 1000)
        probes = [round(t * 10) for t in pack.temperatures][:PROBE_SLOTS]
        first, second = (probes + probes[:1])[:2] if probes else (NO_PROBE, NO_PROBE)
        return _dump(
            {
                "CommVer": 1,
                "wifiSN": self.wifi_serial,
                "modID": 1,
                "date": "20210101010501",
                "DevSN": self.serial,
                "Type": 112,
                "SubType": 7300,
                "Estate": 960,
                "Bfault": self.fault,
                "Bwarn": self.warning,
                "Bstate": 960,
                "BBfault": 0,
                "BBwarn": 0,
                "BTemp": [[first, second], [256, 256]],
                # The bank's values, in 0.1 V steps.
                "Batt": [[round(volts, -2)], [deciamps], [None]],
                "Batsoc": [[soc, 1000, full]],
                "Templist": [[first, second], [0, 0], [UNUSED, UNUSED], [UNUSED] * 2],
                "BattList": [[volts, UNUSED], [deciamps, -1]],
                "BatsocList": [[soc, 1000, full]],
                "BatcelList": [
                    cells + [UNUSED_CELL] * (SLOTS - len(cells)),
                    [UNUSED] * SLOTS,
                ],
                "EMSpara": [[1, 2]],
                "BMaxMin": [
                    [max(cells), min(cells)],
                    [cells.index(max(cells)), cells.index(min(cells))],
                ],
                "LVolCur": [[576, 480], [1500, 1500]],
                "BMSpara": [[1, 2]],
                "BLVolCu": [[576, 480], [1500, 1500]],
                "BtemList": [probes + [NO_PROBE] * (PROBE_SLOTS - len(probes))],
            }
        )

    def basic_info(self) -> bytes:
        """The basic-information reply."""
        return _dump(
            {
                "CommVer": 1,
                "version": self.version,
                "wifiSN": self.wifi_serial,
                "COM": 3,
                "iotType": 3,
                "modID": 1,
                "DevSN": self.serial,
                "Type": 112,
                "SubType": 7300,
                "DSwVer": UNUSED,
                "M1SwVer": 519,
                "M2SwVer": 16,
                "DHwVer": 0,
                "CtHwVer": 0,
                "PwHwVer": UNUSED,
            }
        )

    def date_info(self) -> bytes:
        """The date reply."""
        return _dump(
            {
                "CommVer": 1,
                "wifiSN": self.wifi_serial,
                "iotType": 3,
                "dateTime": "20210101010459",
                "timeZMin": 480,
            }
        )


def demo(address: str) -> FelicityBattery:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    pack = PackModel(
        # The idle capture of patman15/aiobmsble's test: cells 1, 2 and 11 low.
        cell_voltages=[3.296 if i in (0, 1, 10) else 3.297 for i in range(16)],
        current=-0.1,
        soc=33,
        full_capacity=300.0,
        design_capacity=300.0,
        temperatures=[13.0, 13.0, 13.0, 13.0],
    )
    return FelicityBattery(address, "F100011002400000001", pack)
