"""The pack dynamics of the development setup (pure, no Home Assistant)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.dynamics import (
    HEALTH_DEMO,
    LFP_CURVE,
    NMC_CURVE,
    DynamicsSettings,
    PackDynamics,
    open_circuit_voltage,
)
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.analytics.chemistry import Chemistry
from custom_components.lithium_bms.analytics.health import PackHealth
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    Temperature,
    TemperatureKind,
)

QUIET = DynamicsSettings(
    event_probability=0.0,
    current_noise=0.0,
    charge_rate=0.1,
    discharge_rate=0.15,
    ir_drop_per_c=0.2,  # 2 mOhm cells of 100 Ah
)
MINUTE = 60.0


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant needed here."""


def lfp_pack(soc: float = 50.0, current: float = -10.0) -> PackModel:
    pack = PackModel(soc=soc, current=current)
    pack.cell_voltages = [3.301, 3.302, 3.299, 3.305]
    pack.temperatures = [21.5, 22.0, 23.1]
    return pack


def run(dynamics: PackDynamics, steps: int, seconds: float = MINUTE) -> None:
    for _ in range(steps):
        dynamics.step(seconds)


def test_curve_interpolates_and_clamps() -> None:
    assert open_circuit_voltage(LFP_CURVE, 50) == pytest.approx(3.29)
    assert open_circuit_voltage(LFP_CURVE, -5) == LFP_CURVE[0][1]
    assert open_circuit_voltage(LFP_CURVE, 120) == LFP_CURVE[-1][1]
    assert open_circuit_voltage(NMC_CURVE, 70) == pytest.approx(3.925)


def test_discharge_counts_coulombs() -> None:
    pack = lfp_pack(soc=60)
    dynamics = PackDynamics(pack, QUIET, random.Random(1))
    dynamics.step(3600)
    # 0.15 C for an hour of a 100 Ah pack: 15 Ah, 15 %.
    assert pack.current == -15.0
    assert pack.soc == pytest.approx(45.0)
    assert pack.remaining_capacity == pytest.approx(45.0)


def test_cycle_turns_at_the_limits_and_counts() -> None:
    pack = lfp_pack(soc=22)
    dynamics = PackDynamics(pack, QUIET, random.Random(1))
    run(dynamics, 20)  # 0.15 C for 20 min: 5 %, past the low limit
    assert pack.current > 0
    assert pack.cycles == 4
    low = pack.soc
    run(dynamics, 600)  # 10 h at 0.1 C: up to the high limit and back down
    assert pack.current < 0
    assert low < pack.soc <= QUIET.soc_high + 1


def test_cells_follow_soc_and_start_where_configured() -> None:
    pack = lfp_pack(soc=50, current=-15.0)
    dynamics = PackDynamics(pack, QUIET, random.Random(2))
    dynamics.step(1)
    assert pack.cell_voltages == pytest.approx([3.301, 3.302, 3.299, 3.305], abs=0.002)
    low = sum(pack.cell_voltages)
    pack.soc = 85
    dynamics.step(1)
    assert sum(pack.cell_voltages) > low + 4 * 0.03
    assert all(round(v, 3) == v for v in pack.cell_voltages)


def test_nmc_cells_get_the_nmc_curve() -> None:
    pack = PackModel(soc=50, cell_voltages=[3.78, 3.79, 3.78])
    dynamics = PackDynamics(pack, QUIET, random.Random(3))
    assert dynamics.curve is NMC_CURVE


def test_cells_far_off_the_curve_move_onto_it() -> None:
    pack = lfp_pack(soc=0, current=0.0)  # 3.3 V cells cannot be empty
    dynamics = PackDynamics(pack, QUIET, random.Random(3))
    dynamics.step(1)
    mean = sum(pack.cell_voltages) / 4
    # Empty, so it charges (0.1 C through 2 mOhm): curve + the allowed shift + IR.
    assert pack.current == 10.0
    assert mean == pytest.approx(LFP_CURVE[0][1] + 0.05 + 0.02, abs=0.002)
    assert max(pack.cell_voltages) - min(pack.cell_voltages) == pytest.approx(0.006)


def test_cells_drift_apart_slowly_and_stay_bounded() -> None:
    pack = lfp_pack(current=-10.0)
    pack.cell_voltages = [3.300] * 4
    pack.balancer_enabled = False
    dynamics = PackDynamics(pack, QUIET, random.Random(4))
    dynamics.step(MINUTE)
    assert max(pack.cell_voltages) - min(pack.cell_voltages) < 0.005
    run(dynamics, 3000)
    assert all(abs(d) <= QUIET.max_drift for d in dynamics.drift)
    assert max(dynamics.drift) - min(dynamics.drift) > 0.005


def test_balancer_pulls_the_highest_cell_while_charging() -> None:
    pack = lfp_pack(soc=40, current=10.0)
    pack.cell_voltages = [3.300, 3.300, 3.300, 3.330]
    quiet = replace(QUIET, drift_per_hour=0.0)
    dynamics = PackDynamics(pack, quiet, random.Random(5))
    dynamics.step(MINUTE)
    assert pack.balancing_cells == {4}
    spread = pack.cell_voltages[3] - pack.cell_voltages[0]
    run(dynamics, 60)
    assert pack.cell_voltages[3] - pack.cell_voltages[0] < spread - 0.01
    pack.balancer_enabled = False
    dynamics.step(MINUTE)
    assert pack.balancing_cells == set()


def test_switched_off_fet_stops_the_current_and_stays_switched() -> None:
    pack = lfp_pack(soc=60)
    dynamics = PackDynamics(pack, QUIET, random.Random(6))
    pack.discharge_enabled = False
    run(dynamics, 10)
    assert pack.current == 0.0
    assert pack.soc == 60
    assert pack.discharge_enabled is False
    assert pack.charge_enabled is True
    pack.discharge_enabled = True
    dynamics.step(MINUTE)
    assert pack.current < 0


def test_protection_event_trips_for_a_few_steps_then_clears() -> None:
    events = replace(
        QUIET,
        event_probability=1.0,
        event_steps=(3, 3),
        events=("discharge_overcurrent",),
    )
    pack = lfp_pack(soc=60)
    pack.alarms = {"cell_overvoltage"}  # configured: never touched
    dynamics = PackDynamics(pack, events, random.Random(7))
    dynamics.step(MINUTE)
    assert pack.alarms == {"cell_overvoltage", "discharge_overcurrent"}
    assert pack.current == 0.0  # the discharge FET opened
    assert pack.discharge_enabled is True
    run(dynamics, 3)
    assert pack.alarms == {"cell_overvoltage"}
    assert pack.current < 0


def test_temperatures_follow_the_load_a_little() -> None:
    pack = lfp_pack(soc=80)
    pack.temperatures = [20.0, -200.0]
    pack.mosfet_temperature = 20.0
    dynamics = PackDynamics(pack, QUIET, random.Random(8))
    run(dynamics, 120)
    assert 20.5 < pack.temperatures[0] < 23.0
    assert pack.temperatures[1] == -200.0  # a missing probe stays missing
    assert pack.mosfet_temperature > pack.temperatures[0]


@settings(max_examples=200, deadline=None)
@given(
    soc=st.floats(0, 100),
    current=st.floats(-50, 50),
    seconds=st.floats(0, 7200),
    steps=st.integers(1, 30),
    seed=st.integers(0, 2**32),
    charge=st.booleans(),
    discharge=st.booleans(),
)
def test_invariants(  # noqa: PLR0917
    soc: float,
    current: float,
    seconds: float,
    steps: int,
    seed: int,
    charge: bool,
    discharge: bool,
) -> None:
    pack = lfp_pack(soc=soc, current=current)
    pack.charge_enabled, pack.discharge_enabled = charge, discharge
    dynamics = PackDynamics(
        pack, DynamicsSettings(event_probability=0.2), random.Random(seed)
    )
    for _ in range(steps):
        dynamics.step(seconds)
        assert 0 <= pack.soc <= 100
        assert (pack.charge_enabled, pack.discharge_enabled) == (charge, discharge)
        if pack.current > 0:
            assert pack.charge_fet
        if pack.current < 0:
            assert pack.discharge_fet
        assert all(2.5 < v < 3.7 for v in pack.cell_voltages)
        assert all(15 < t < 40 for t in pack.temperatures)
        assert pack.alarms <= set(DynamicsSettings().events)


def test_pack_health_behaviour_is_off_by_default() -> None:
    plain, health = lfp_pack(), lfp_pack()
    run(PackDynamics(plain, QUIET, random.Random(9)), 30)
    run(
        PackDynamics(health, replace(QUIET, weak_cell_factor=5.0), random.Random(9)), 30
    )
    assert plain == health


def test_the_weak_cell_drops_more_under_load() -> None:
    pack = lfp_pack(soc=60, current=-15.0)
    dynamics = PackDynamics(pack, replace(QUIET, weak_cell=3), random.Random(10))
    run(dynamics, 1)
    drops = [dynamics.offsets[i] + dynamics.drift[i] for i in range(4)]
    base = open_circuit_voltage(LFP_CURVE, pack.soc)
    sag = [base + d - v for d, v in zip(drops, pack.cell_voltages, strict=True)]
    assert sag[2] == pytest.approx(2 * sag[0], abs=0.0015)
    assert sag[0] == pytest.approx(0.2 * 0.15, abs=0.0015)


def test_load_steps_between_levels() -> None:
    pack = lfp_pack(soc=60)
    levels = (0.5, 1.0, 2.0)
    dynamics = PackDynamics(pack, replace(QUIET, load_levels=levels), random.Random(11))
    seen = set()
    for _ in range(30):
        dynamics.step(MINUTE)
        seen.add(pack.current)
    assert seen == {-15.0 * level for level in levels}


def test_the_mosfet_heats_with_the_square_of_the_current() -> None:
    settings = replace(QUIET, mosfet_heating_per_c2=40.0, thermal_minutes=1.0)
    for rate, rise in ((0.15, 0.9), (0.3, 3.6)):
        pack = lfp_pack(soc=60)
        pack.mosfet_temperature = 25.0
        dynamics = PackDynamics(pack, replace(settings, discharge_rate=rate))
        run(dynamics, 5)
        assert pack.mosfet_temperature == pytest.approx(25.0 + rise, abs=0.3)


def test_rests_at_each_turn_while_the_standby_drains() -> None:
    pack = lfp_pack(soc=20.5, current=-15.0)
    settings = replace(QUIET, rest_minutes=120.0, standby_per_day=2.4)
    dynamics = PackDynamics(pack, settings, random.Random(12))
    run(dynamics, 5)  # reaches 20 % and turns
    assert pack.current == 0.0
    soc = pack.soc
    run(dynamics, 60)  # an hour of rest loses 0.1 %
    assert pack.current == 0.0
    assert pack.soc == pytest.approx(soc - 0.1)
    run(dynamics, 61)
    assert pack.current > 0


def test_the_health_demo_is_deterministic_under_a_seed() -> None:
    runs = []
    for _ in range(2):
        pack = lfp_pack()
        run(PackDynamics(pack, HEALTH_DEMO, random.Random(13)), 200)
        runs.append(pack)
    assert runs[0] == runs[1]


def test_the_health_demo_gives_every_insight_its_data() -> None:
    pack = lfp_pack(soc=40)
    dynamics = PackDynamics(pack, HEALTH_DEMO, random.Random(14))
    health = PackHealth(Chemistry.LIFEPO4.thresholds, update_interval=60)
    now = 1_700_000_000.0
    for _ in range(4 * 24 * 60):  # four days, one reading a minute
        dynamics.step(MINUTE)
        now += MINUTE
        # Only the MOSFET probe: the cell probes warm with the load too.
        mosfet = Temperature(TemperatureKind.MOSFET, pack.mosfet_temperature)
        health.update(
            now,
            BatterySnapshot(
                voltage=pack.voltage,
                current=pack.current,
                cell_voltages=tuple(pack.cell_voltages),
                temperatures=(mosfet,),
                state_of_charge=round(pack.soc),
                remaining_capacity=round(pack.remaining_capacity, 2),
                full_capacity=pack.full_capacity,
                balancing_cells=frozenset(pack.balancing_cells),
            ),
        )
    assert health.resistance.weak_cell == 2
    assert health.standby.drain == pytest.approx(2.4, rel=0.1)
    coefficient = health.heat.coefficient
    assert coefficient is not None
    assert coefficient * pack.full_capacity**2 == pytest.approx(40.0, rel=0.25)
