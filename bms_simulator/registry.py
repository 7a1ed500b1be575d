"""Every simulated BMS family, with a ready-made demo device for each."""

from __future__ import annotations

from collections.abc import Callable

from .device import SimulatedBms
from .jbd import JbdSimulator

type DemoFactory = Callable[[str], SimulatedBms]


def _jbd_demo(address: str) -> SimulatedBms:
    device = JbdSimulator(address, "JBD-SP04S034-DEMO")
    device.pack.cell_voltages = [3.301, 3.302, 3.299, 3.305]
    device.pack.temperatures = [21.5, 22.0, 23.1]
    return device


# family -> factory of a demo device at a given address. A new family's
# simulator joins the development setup, the end-to-end test and the
# benchmark by adding one line here.
DEMOS: dict[str, DemoFactory] = {
    "jbd": _jbd_demo,
}
