"""Every simulated BMS family, with a ready-made demo device for each."""

from __future__ import annotations

from collections.abc import Callable

from .device import SimulatedBms
from .families.daly import DalySimulator
from .families.jbd import JbdSimulator
from .families.jk import JkSimulator
from .pack import PackModel

type DemoFactory = Callable[[str], SimulatedBms]


def _jbd_demo(address: str) -> SimulatedBms:
    device = JbdSimulator(address, "JBD-SP04S034-DEMO")
    device.pack.cell_voltages = [3.301, 3.302, 3.299, 3.305]
    device.pack.temperatures = [21.5, 22.0, 23.1]
    return device


def _sixteen_cells() -> PackModel:
    pack = PackModel()
    pack.cell_voltages = [round(3.30 + 0.001 * (i % 5), 3) for i in range(16)]
    pack.temperatures = [19.5, 20.1]
    pack.full_capacity = 280.0
    pack.design_capacity = 280.0
    return pack


def _jk_demo(address: str) -> SimulatedBms:
    return JkSimulator(address, "JK-PB2A16S20P-DEMO", _sixteen_cells())


def _daly_demo(address: str) -> SimulatedBms:
    return DalySimulator(address, pack=_sixteen_cells(), newer_gatt=True)


# family -> factory of a demo device at a given address. A new family's
# simulator joins the development setup, the end-to-end test and the
# benchmark by adding one line here.
DEMOS: dict[str, DemoFactory] = {
    "jbd": _jbd_demo,
    "jk": _jk_demo,
    "daly": _daly_demo,
}
