import pytest

from custom_components.lithium_bms.analytics.chemistry import Chemistry
from custom_components.lithium_bms.analytics.imbalance import (
    cell_imbalance,
    in_mid_window,
)

LFP = Chemistry.LIFEPO4.thresholds
NMC = Chemistry.NMC.thresholds


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ((3.300, 3.310, 3.360, 3.305), True),  # 60 mV
        ((3.300, 3.340, 3.320, 3.310), False),  # 40 mV
        ((3.300, 3.350), False),  # exactly 50 mV is not above
        ((3.300, 3.351), True),
        ((3.300, 3.420), False),  # near full: top knee
        ((3.100, 3.300), False),  # near empty: bottom knee
        ((), None),
    ],
)
def test_lifepo4(cells: tuple[float, ...], expected: bool | None) -> None:
    assert cell_imbalance(cells, LFP) is expected


def test_nmc_threshold_is_wider() -> None:
    assert cell_imbalance((3.70, 3.78), NMC) is False
    assert cell_imbalance((3.70, 3.81), NMC) is True
    assert cell_imbalance((3.70, 3.78), LFP) is False  # outside LFP's window


def test_overridden_threshold_applies() -> None:
    tight = LFP.override(imbalance_voltage=0.020)
    assert cell_imbalance((3.30, 3.33), tight) is True
    assert cell_imbalance((3.30, 3.33), LFP) is False


def test_mid_window_edges_are_excluded() -> None:
    assert in_mid_window((3.16, 3.39), LFP)
    assert not in_mid_window((3.15, 3.30), LFP)
    assert not in_mid_window((3.30, 3.40), LFP)
    assert not in_mid_window((), LFP)
