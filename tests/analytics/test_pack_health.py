"""The four health insights fed together from snapshots, and saved together."""

import json

import pytest

from custom_components.lithium_bms.analytics.chemistry import Chemistry
from custom_components.lithium_bms.analytics.health import (
    PackHealth,
    reference_temperature,
)
from custom_components.lithium_bms.analytics.integrator import InvalidStateError
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    Temperature,
    TemperatureKind,
)

T0 = 1_700_000_000.0
LFP = Chemistry.LIFEPO4.thresholds
CELL, AMBIENT, MOSFET = (
    TemperatureKind.CELL,
    TemperatureKind.AMBIENT,
    TemperatureKind.MOSFET,
)


def snap(current: float, *, measures_current: bool = True) -> BatterySnapshot:
    return BatterySnapshot(
        voltage=13.2,
        current=current,
        cell_voltages=(3.30 + 0.0005 * current, 3.30 + 0.001 * current),
        temperatures=(Temperature(CELL, 20.0), Temperature(MOSFET, 30.0)),
        state_of_charge=70,
        measures_current=measures_current,
    )


def test_feeds_every_insight() -> None:
    health = PackHealth(LFP, update_interval=10)
    for i in range(30):
        health.update(T0 + 10 * i, snap(-40.0 if i % 2 else -5.0))
    assert health.resistance.resistances == (
        pytest.approx(0.0005),
        pytest.approx(0.001),
    )
    assert health.heat.to_dict()["referenced"] is True
    assert health.standby.level == 70
    assert health.overheating_risk is None  # nothing learnt yet


def test_learns_nothing_without_a_current_sensor() -> None:
    health = PackHealth(LFP, update_interval=10)
    for i in range(30):
        health.update(
            T0 + 10 * i, snap(-40.0 if i % 2 else 0.0, measures_current=False)
        )
    assert health.to_dict() == PackHealth(LFP, 10).to_dict()


def test_reference_is_the_cells_else_the_air() -> None:
    def reference(*probes: tuple[TemperatureKind, float | None]) -> float | None:
        temperatures = tuple(Temperature(kind, value) for kind, value in probes)
        return reference_temperature(
            BatterySnapshot(voltage=13.2, current=0.0, temperatures=temperatures)
        )

    assert reference((CELL, 20.0), (CELL, 22.0), (AMBIENT, 30.0)) == 21.0
    assert reference((CELL, None), (AMBIENT, 30.0), (MOSFET, 40.0)) == 30.0
    assert reference((MOSFET, 40.0)) is None


def test_survives_a_restart() -> None:
    health = PackHealth(LFP, update_interval=10)
    for i in range(30):
        health.update(T0 + 10 * i, snap(-40.0 if i % 2 else -5.0))
    saved = json.loads(json.dumps(health.to_dict()))
    restored = PackHealth.from_dict(saved, LFP, 10)
    assert restored.to_dict() == saved


@pytest.mark.parametrize("part", ["resistance", "knee", "heat", "standby"])
def test_refuses_a_corrupt_part(part: str) -> None:
    saved = PackHealth(LFP, 10).to_dict()
    with pytest.raises(InvalidStateError):
        PackHealth.from_dict(saved | {part: [1]}, LFP, 10)
    with pytest.raises(InvalidStateError):
        PackHealth.from_dict(saved | {part: {}}, LFP, 10)
