import pytest

from custom_components.lithium_bms.analytics.chemistry import (
    DEFAULT_CHEMISTRY,
    Chemistry,
    Thresholds,
)


def test_lifepo4_is_the_default_with_a_50_mv_imbalance_threshold() -> None:
    assert DEFAULT_CHEMISTRY is Chemistry.LIFEPO4
    thresholds = Chemistry("lifepo4").thresholds
    assert thresholds.imbalance_voltage == 0.050
    assert thresholds.full_cell_voltage == 3.45
    assert thresholds.empty_cell_voltage == 2.90
    assert thresholds.taper_fraction == 0.05


@pytest.mark.parametrize(
    ("chemistry", "full", "empty", "imbalance"),
    [
        (Chemistry.NMC, 4.15, 3.00, 0.100),
        (Chemistry.LTO, 2.65, 1.80, 0.080),
    ],
)
def test_other_chemistries(
    chemistry: Chemistry, full: float, empty: float, imbalance: float
) -> None:
    thresholds = chemistry.thresholds
    assert thresholds.full_cell_voltage == full
    assert thresholds.empty_cell_voltage == empty
    assert thresholds.imbalance_voltage == imbalance


def test_every_chemistry_has_a_consistent_window() -> None:
    for chemistry in Chemistry:
        thresholds = chemistry.thresholds
        assert (
            thresholds.empty_cell_voltage
            < thresholds.mid_window_low
            < thresholds.mid_window_high
            <= thresholds.full_cell_voltage
        )


def test_override_replaces_only_what_is_given() -> None:
    base = Chemistry.LIFEPO4.thresholds
    custom = base.override(
        full_cell_voltage=3.50, imbalance_voltage=0.030, taper_fraction=None
    )
    assert custom.full_cell_voltage == 3.50
    assert custom.imbalance_voltage == 0.030
    assert custom.taper_fraction == base.taper_fraction
    assert custom.empty_cell_voltage == base.empty_cell_voltage
    assert base.full_cell_voltage == 3.45  # defaults untouched
    assert base.override() == base


@pytest.mark.parametrize(
    "overrides",
    [
        {"empty_cell_voltage": 3.5},  # above the window
        {"full_cell_voltage": 3.3},  # below the window
        {"taper_fraction": 0.0},
        {"taper_fraction": 1.5},
        {"imbalance_voltage": -0.01},
        {"mid_window_low": 3.41},
    ],
)
def test_inconsistent_overrides_are_rejected(overrides: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Chemistry.LIFEPO4.thresholds.override(**overrides)


def test_thresholds_can_be_built_directly() -> None:
    custom = Thresholds(
        full_cell_voltage=4.1,
        empty_cell_voltage=3.3,
        taper_fraction=0.1,
        imbalance_voltage=0.05,
        mid_window_low=3.5,
        mid_window_high=4.0,
    )
    assert custom.taper_fraction == 0.1
