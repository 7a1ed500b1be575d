import pytest

from custom_components.lithium_bms.analytics.bank import (
    BankEnergy,
    BankReading,
    Energy,
    Wiring,
    aggregate,
    all_on,
)
from custom_components.lithium_bms.protocol.snapshot import Alarm, BatterySnapshot


def pack(
    voltage: float = 13.2,
    current: float = 5.0,
    cells: tuple[float, ...] = (3.30, 3.30, 3.30, 3.30),
    *,
    soc: float | None = 50.0,
    remaining: float | None = 50.0,
    full: float | None = 100.0,
    alarms: frozenset[Alarm] = frozenset(),
    supported_alarms: frozenset[Alarm] = frozenset(Alarm),
    measures_current: bool = True,
) -> BatterySnapshot:
    return BatterySnapshot(
        voltage=voltage,
        current=current,
        cell_voltages=cells,
        state_of_charge=soc,
        remaining_capacity=remaining,
        full_capacity=full,
        alarms=alarms,
        supported_alarms=supported_alarms,
        measures_current=measures_current,
    )


A = pack(13.2, 5.0, (3.30, 3.28, 3.31, 3.31), soc=50.0, remaining=50.0, full=100.0)
B = pack(13.4, 7.0, (3.35, 3.36, 3.34, 3.35), soc=80.0, remaining=160.0, full=200.0)


def test_parallel() -> None:
    bank = aggregate([A, B], Wiring.PARALLEL)
    assert bank.members == 2
    assert bank.available == 2
    assert bank.voltage == pytest.approx(13.3)
    assert bank.current == pytest.approx(12.0)
    assert bank.power == pytest.approx(13.2 * 5 + 13.4 * 7)
    # (50 % * 100 Ah + 80 % * 200 Ah) / 300 Ah
    assert bank.state_of_charge == pytest.approx(70.0)
    assert bank.remaining_capacity == pytest.approx(210.0)
    assert bank.full_capacity == pytest.approx(300.0)
    assert (bank.cell_voltage_min, bank.cell_voltage_min_member) == (3.28, 0)
    assert (bank.cell_voltage_max, bank.cell_voltage_max_member) == (3.36, 1)
    assert bank.any_alarm is False


def test_parallel_soc_without_capacities_is_a_plain_mean() -> None:
    bank = aggregate(
        [pack(soc=40.0, full=None, remaining=None), pack(soc=60.0)],
        Wiring.PARALLEL,
    )
    assert bank.state_of_charge == pytest.approx(50.0)
    assert bank.full_capacity is None
    assert bank.remaining_capacity is None


def test_series() -> None:
    bank = aggregate([A, B], Wiring.SERIES)
    assert bank.voltage == pytest.approx(26.6)
    assert bank.current == pytest.approx(6.0)
    assert bank.power == pytest.approx(13.2 * 5 + 13.4 * 7)
    assert bank.state_of_charge == 50.0
    assert bank.remaining_capacity == 50.0
    assert bank.full_capacity == 100.0
    assert bank.cell_voltage_min_member == 0
    assert bank.cell_voltage_max_member == 1


def test_series_is_limited_by_the_least_charge_held() -> None:
    small = pack(soc=50.0, remaining=50.0, full=100.0)
    big_low = pack(soc=30.0, remaining=60.0, full=200.0)
    bank = aggregate([big_low, small], Wiring.SERIES)
    assert (bank.state_of_charge, bank.remaining_capacity) == (50.0, 50.0)
    assert bank.full_capacity == 100.0
    # Without remaining charge the lowest SOC decides.
    bank = aggregate(
        [pack(soc=30.0, remaining=None), pack(soc=20.0, remaining=None, full=90.0)],
        Wiring.SERIES,
    )
    assert (bank.state_of_charge, bank.full_capacity) == (20.0, 90.0)
    assert bank.remaining_capacity is None


def test_series_without_soc_or_remaining() -> None:
    bank = aggregate([pack(soc=None, remaining=None), A], Wiring.SERIES)
    assert bank.state_of_charge is None
    assert bank.full_capacity is None
    assert bank.voltage == pytest.approx(26.4)


@pytest.mark.parametrize("wiring", list(Wiring))
def test_unavailable_member_hides_the_values(wiring: Wiring) -> None:
    bank = aggregate([A, None, B], wiring)
    assert bank == BankReading(
        members=3,
        available=2,
        any_alarm=None,
    )


@pytest.mark.parametrize("wiring", list(Wiring))
def test_unavailable_member_still_lets_alarms_through(wiring: Wiring) -> None:
    faulty = pack(alarms=frozenset({Alarm.CELL_UNDERVOLTAGE}))
    bank = aggregate([None, faulty], wiring)
    assert bank.voltage is None
    assert bank.state_of_charge is None
    assert bank.any_alarm is True


def test_a_bank_switch_is_off_once_one_member_is_off() -> None:
    assert all_on([None, False]) is False
    assert all_on([True, None]) is None
    assert all_on([True, True]) is True


def test_flags_with_every_member_available() -> None:
    locked = pack(alarms=frozenset({Alarm.MOSFET_LOCK}))  # a state, not a problem
    assert aggregate([A, locked], Wiring.PARALLEL).any_alarm is False
    faulty = pack(alarms=frozenset({Alarm.SHORT_CIRCUIT}))
    assert aggregate([A, faulty], Wiring.PARALLEL).any_alarm is True


def test_packs_that_report_no_protection_settle_nothing() -> None:
    silent = pack(supported_alarms=frozenset())
    assert silent.problem is None
    assert aggregate([silent, silent], Wiring.SERIES).any_alarm is None
    assert aggregate([A, silent], Wiring.PARALLEL).any_alarm is False
    faulty = pack(alarms=frozenset({Alarm.SHORT_CIRCUIT}))
    assert aggregate([silent, faulty], Wiring.PARALLEL).any_alarm is True


def test_cell_extremes_need_every_member_cells() -> None:
    bank = aggregate([A, pack(cells=())], Wiring.PARALLEL)
    assert bank.cell_voltage_min is None
    assert bank.cell_voltage_min_member is None
    assert bank.voltage is not None


def test_single_member_bank_is_the_member() -> None:
    for wiring in Wiring:
        bank = aggregate([B], wiring)
        assert bank.voltage == B.voltage
        assert bank.current == B.current
        assert bank.state_of_charge == B.state_of_charge
        assert bank.full_capacity == B.full_capacity


def test_empty_bank_is_rejected() -> None:
    with pytest.raises(ValueError):
        aggregate([], Wiring.PARALLEL)


def test_parallel_without_every_soc() -> None:
    bank = aggregate([pack(soc=None), pack()], Wiring.PARALLEL)
    assert bank.state_of_charge is None
    assert bank.full_capacity == pytest.approx(200.0)
    assert bank.remaining_capacity == pytest.approx(100.0)


@pytest.mark.parametrize("wiring", list(Wiring))
def test_member_without_current_sensor_hides_current_and_power(
    wiring: Wiring,
) -> None:
    # A JK04 balancer reports a placeholder 0 A: a mean or sum with it is wrong.
    balancer = pack(current=0.0, measures_current=False)
    bank = aggregate([A, balancer], wiring)
    assert bank.current is None
    assert bank.power is None
    assert bank.voltage is not None
    assert bank.state_of_charge is not None


def energy_approx(charge: float, discharge: float) -> Energy:
    return Energy(pytest.approx(charge), pytest.approx(discharge))


def test_bank_energy_is_the_sum_of_the_members() -> None:
    energy = BankEnergy()
    assert energy.update({"a": Energy(1.0, 2.0), "b": Energy(3.0, 4.0)}) == (
        energy_approx(4.0, 6.0)
    )
    assert energy.update({"a": Energy(1.5, 2.0), "b": Energy(3.0, 4.5)}) == (
        energy_approx(4.5, 6.5)
    )


def test_bank_energy_keeps_a_departed_members_share() -> None:
    energy = BankEnergy()
    energy.update({"a": Energy(3.0, 3.0), "b": Energy(3.0, 3.0)})
    assert energy.update({"a": Energy(3.0, 3.0)}) == energy_approx(6.0, 6.0)
    assert energy.update({"a": Energy(3.5, 3.0)}) == energy_approx(6.5, 6.0)


def test_bank_energy_counts_an_away_member_with_what_it_had() -> None:
    energy = BankEnergy()
    energy.update({"a": Energy(1.0, 2.0), "b": Energy(3.0, 4.0)})
    assert energy.update({"a": Energy(1.0, 2.5), "b": None}) == (
        energy_approx(4.0, 6.5)
    )


def test_bank_energy_is_unknown_until_every_member_was_seen() -> None:
    energy = BankEnergy()
    assert energy.update({"a": Energy(1.0, 2.0), "b": None}) is None
    assert energy.update({"a": Energy(1.0, 2.0), "b": Energy(0.5, 0.5)}) == (
        energy_approx(1.5, 2.5)
    )


def test_bank_energy_never_goes_down_when_a_member_counter_restarts() -> None:
    energy = BankEnergy()
    energy.update({"a": Energy(5.0, 5.0)})
    # The member's counter started again from zero (its saved state was lost).
    assert energy.update({"a": Energy(0.0, 1.0)}) == energy_approx(5.0, 6.0)
    assert energy.update({"a": Energy(2.0, 1.0)}) == energy_approx(7.0, 6.0)


def test_bank_energy_survives_a_restart() -> None:
    energy = BankEnergy()
    energy.update({"a": Energy(3.0, 1.0), "b": Energy(3.0, 2.0)})
    restored = BankEnergy.from_dict(energy.to_dict())
    # Member b left while the bank was down; a is away for now.
    assert restored.update({"a": None}) == energy_approx(6.0, 3.0)
    again = BankEnergy.from_dict(restored.to_dict())
    assert again.update({"a": Energy(3.25, 1.0)}) == energy_approx(6.25, 3.0)


def test_bank_energy_counts_a_member_that_joins_later_from_then_on() -> None:
    energy = BankEnergy()
    energy.update({"a": Energy(1.0, 1.0), "b": None})
    restored = BankEnergy.from_dict(energy.to_dict())
    # b was a member from the start: all of its counters count, once seen.
    assert restored.update({"a": Energy(1.0, 1.0), "b": Energy(2.0, 2.0)}) == (
        energy_approx(3.0, 3.0)
    )
    # c joins (a reconfigured bank): what it counted before is not the bank's.
    assert restored.update({"a": Energy(1.0, 1.0), "c": None}) is None
    again = BankEnergy.from_dict(restored.to_dict())
    assert again.update({"a": Energy(1.0, 1.0), "c": Energy(9.0, 9.0)}) == (
        energy_approx(3.0, 3.0)
    )
    assert again.update({"a": Energy(1.0, 1.0), "c": Energy(9.5, 9.0)}) == (
        energy_approx(3.5, 3.0)
    )


def test_bank_energy_counts_a_member_back_once() -> None:
    energy = BankEnergy()
    energy.update({"a": Energy(1.0, 1.0), "b": Energy(2.0, 2.0)})
    energy.update({"a": Energy(1.0, 1.0)})
    # b's share stayed with the bank when it left: only its rise since counts.
    assert energy.update({"a": Energy(1.0, 1.0), "b": Energy(2.5, 2.0)}) == (
        energy_approx(3.0, 3.0)
    )
    assert energy.update({"a": Energy(1.0, 1.0), "b": Energy(3.0, 2.0)}) == (
        energy_approx(3.5, 3.0)
    )


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"departed": [1, 2], "members": "a"},
        {"departed": {"charge": "x", "discharge": -1.0}, "members": {"a": 5}},
        {"members": {"a": {"credited": {"charge": float("nan")}, "last": None}}},
    ],
)
def test_bank_energy_restores_invalid_data_as_empty(data: dict[str, object]) -> None:
    energy = BankEnergy.from_dict(data)
    assert energy.update({"a": Energy(1.0, 1.0)}) == energy_approx(1.0, 1.0)
