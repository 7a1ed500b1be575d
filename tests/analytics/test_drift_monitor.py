import pytest

from custom_components.lithium_bms.analytics.drift import DriftMonitor
from custom_components.lithium_bms.analytics.integrator import InvalidStateError

T0 = 1_700_000_000.0
HOUR = 3600.0


def test_raised_after_24_hours_above_the_limit() -> None:
    monitor = DriftMonitor()
    monitor.update(T0, 12.0)
    monitor.update(T0 + 23.99 * HOUR, -12.0)
    assert not monitor.calibration_needed
    monitor.update(T0 + 24 * HOUR, 11.0)
    assert monitor.calibration_needed


def test_limit_itself_is_not_drift_and_unknown_changes_nothing() -> None:
    monitor = DriftMonitor()
    monitor.update(T0, 10.0)
    monitor.update(T0 + 30 * HOUR, 10.0)
    assert not monitor.calibration_needed
    monitor.update(T0 + 31 * HOUR, 15.0)
    monitor.update(T0 + 40 * HOUR, None)
    monitor.update(T0 + 55 * HOUR, 15.0)
    assert monitor.calibration_needed


def test_full_charge_clears_and_restarts() -> None:
    monitor = DriftMonitor()
    monitor.update(T0, 20.0)
    monitor.update(T0 + 25 * HOUR, 20.0)
    assert monitor.calibration_needed
    monitor.full_charge()
    assert not monitor.calibration_needed
    monitor.update(T0 + 26 * HOUR, 20.0)
    monitor.update(T0 + 49 * HOUR, 20.0)
    assert not monitor.calibration_needed


def test_round_trip() -> None:
    monitor = DriftMonitor()
    monitor.update(T0, 20.0)
    restored = DriftMonitor.from_dict(monitor.to_dict())
    restored.update(T0 + 24 * HOUR, 20.0)
    assert restored.calibration_needed


def test_a_start_in_the_future_does_not_freeze_the_wait() -> None:
    restored = DriftMonitor.from_dict(
        {"calibration_needed": False, "above_since": T0 + 365 * 24 * HOUR}
    )
    restored.update(T0, 20.0)  # the wait restarts now
    restored.update(T0 + 24 * HOUR, 20.0)
    assert restored.calibration_needed


def test_time_going_backwards_restarts_the_wait() -> None:
    monitor = DriftMonitor()
    monitor.update(T0, 20.0)
    monitor.update(T0 - 10 * HOUR, 20.0)
    monitor.update(T0 + 13 * HOUR, 20.0)
    assert not monitor.calibration_needed
    monitor.update(T0 + 14 * HOUR, 20.0)
    assert monitor.calibration_needed


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"calibration_needed": False},
        {"above_since": None},
        {"calibration_needed": 0, "above_since": None},
        {"calibration_needed": False, "above_since": "now"},
        {"calibration_needed": False, "above_since": float("nan")},
    ],
)
def test_restore_refuses_a_damaged_state(data: dict[str, object]) -> None:
    with pytest.raises(InvalidStateError):
        DriftMonitor.from_dict(data)
