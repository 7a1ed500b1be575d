"""The battery snapshot and the error hierarchy."""

from __future__ import annotations

import dataclasses

import pytest

from custom_components.lithium_bms.protocol.errors import (
    BmsError,
    BmsTimeoutError,
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.snapshot import (
    NOT_A_PROBLEM,
    Alarm,
    BatterySnapshot,
    SwitchKind,
    Temperature,
    TemperatureKind,
)


def test_power_sign_follows_current() -> None:
    assert BatterySnapshot(voltage=13.2, current=10.0).power == pytest.approx(132.0)
    assert BatterySnapshot(voltage=13.2, current=-5.0).power == pytest.approx(-66.0)
    assert BatterySnapshot(voltage=13.2, current=0.0).power == 0.0


def test_cell_statistics() -> None:
    snap = BatterySnapshot(
        voltage=13.2, current=0.0, cell_voltages=(3.3, 3.1, 3.2, 3.25)
    )
    assert snap.cell_voltage_min == 3.1
    assert snap.cell_voltage_max == 3.3
    assert snap.cell_voltage_delta == 0.2
    assert snap.cell_voltage_average == 3.2125
    odd = BatterySnapshot(voltage=10.0, current=0.0, cell_voltages=(3.301, 3.302, 3.3))
    assert odd.cell_voltage_average == 3.301
    assert odd.cell_voltage_delta == 0.002


def test_cell_statistics_without_cells() -> None:
    snap = BatterySnapshot(voltage=13.2, current=0.0)
    assert snap.cell_voltage_min is None
    assert snap.cell_voltage_max is None
    assert snap.cell_voltage_delta is None
    assert snap.cell_voltage_average is None


@pytest.mark.parametrize(
    ("current", "remaining", "expected"),
    [
        (-10.0, 50.0, 18000.0),
        (-0.5, 1.0, 7200.0),
        (10.0, 50.0, None),
        (0.0, 50.0, None),
        (-10.0, None, None),
    ],
)
def test_runtime_only_while_discharging(
    current: float, remaining: float | None, expected: float | None
) -> None:
    snap = BatterySnapshot(voltage=13.2, current=current, remaining_capacity=remaining)
    assert snap.runtime == expected


def test_problem_ignores_the_mosfet_lock() -> None:
    assert frozenset({Alarm.MOSFET_LOCK}) == NOT_A_PROBLEM
    locked = BatterySnapshot(
        voltage=1.0,
        current=0.0,
        alarms=frozenset(NOT_A_PROBLEM),
        supported_alarms=frozenset(NOT_A_PROBLEM),
    )
    assert locked.problem is False
    both = BatterySnapshot(
        voltage=1.0,
        current=0.0,
        alarms=frozenset({Alarm.MOSFET_LOCK, Alarm.SHORT_CIRCUIT}),
    )
    assert both.problem
    for alarm in set(Alarm) - NOT_A_PROBLEM:
        assert BatterySnapshot(
            voltage=1.0, current=0.0, alarms=frozenset({alarm})
        ).problem


def test_problem_of_a_bms_with_named_alarms_follows_them() -> None:
    named = frozenset({Alarm.SHORT_CIRCUIT, Alarm.CELL_OVERVOLTAGE})
    calm = BatterySnapshot(
        voltage=1.0, current=0.0, supported_alarms=named, protection_code=0x101
    )
    # A code beside named alarms may hold states: the names decide.
    assert calm.problem is False
    tripped = dataclasses.replace(calm, alarms=frozenset({Alarm.SHORT_CIRCUIT}))
    assert tripped.problem is True


def test_problem_of_a_bare_protection_word_is_the_word_not_zero() -> None:
    """No public bit table: what the sources call the problem code."""
    clear = BatterySnapshot(voltage=1.0, current=0.0, protection_code=0)
    assert clear.problem is False
    assert dataclasses.replace(clear, protection_code=1 << 32).problem is True


def test_problem_is_unknown_when_the_bms_reports_no_protection() -> None:
    assert BatterySnapshot(voltage=1.0, current=0.0).problem is None


def test_probe_and_mosfet_temperatures() -> None:
    probes = (
        Temperature(TemperatureKind.CELL, 21.0),
        Temperature(TemperatureKind.MOSFET, 35.5),
        Temperature(TemperatureKind.AMBIENT, None),
        Temperature(TemperatureKind.CELL, 22.0),
    )
    snap = BatterySnapshot(voltage=1.0, current=0.0, temperatures=probes)
    assert snap.probe_temperatures == (probes[0], probes[2], probes[3])
    assert snap.mosfet_temperature == 35.5
    cells_only = BatterySnapshot(voltage=1.0, current=0.0, temperatures=probes[:1])
    assert cells_only.probe_temperatures == probes[:1]
    assert cells_only.mosfet_temperature is None
    unplugged = BatterySnapshot(
        voltage=1.0,
        current=0.0,
        temperatures=(Temperature(TemperatureKind.MOSFET, None),),
    )
    assert unplugged.mosfet_temperature is None
    assert unplugged.probe_temperatures == ()


def test_snapshot_is_immutable_and_defaults_are_empty() -> None:
    snap = BatterySnapshot(voltage=1.0, current=0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.voltage = 2.0  # type: ignore[misc]
    assert snap.switches == {}
    assert snap.alarms == frozenset()
    assert snap.cell_voltages == ()
    assert snap.state_of_charge is None


def test_alarm_keys_are_stable_entity_keys() -> None:
    values = [alarm.value for alarm in Alarm]
    assert len(values) == len(set(values))
    assert all(v == v.lower() and " " not in v for v in values)
    assert Alarm("cell_overvoltage") is Alarm.CELL_OVERVOLTAGE
    assert SwitchKind("charge_mosfet") is SwitchKind.CHARGE


def test_error_hierarchy() -> None:
    assert issubclass(ChecksumError, ProtocolError)
    assert issubclass(FrameError, ProtocolError)
    assert issubclass(ProtocolError, BmsError)
    assert issubclass(BmsTimeoutError, BmsError)
    assert not issubclass(BmsTimeoutError, TimeoutError)
