"""The cell first at the knee, counted over synthetic cycles."""

import json
import random

import pytest

from custom_components.lithium_bms.analytics.chemistry import Chemistry
from custom_components.lithium_bms.analytics.integrator import InvalidStateError
from custom_components.lithium_bms.analytics.knee import (
    EVENTS,
    Knee,
    KneeCounter,
    Leader,
)

LFP = Chemistry.LIFEPO4.thresholds
MID = (3.30, 3.30, 3.30, 3.30)


def cycle(counter: KneeCounter, weak: int, rng: random.Random) -> None:
    """One cycle: mid, discharged into the knee, mid, charged into the knee.

    Cell ``weak`` (from 1) has less capacity: it leaves the plateau first on
    both ends; the others follow with some spread.
    """
    counter.update(0.0, MID, LFP)
    for depth in (0.1, 0.2, 0.3):
        low = [3.20 - depth + rng.uniform(0, 0.02) for _ in MID]
        low[weak - 1] -= 0.05
        counter.update(-30.0, low, LFP)
    counter.update(20.0, MID, LFP)
    for height in (0.05, 0.1, 0.2):
        high = [3.36 + height - rng.uniform(0, 0.02) for _ in MID]
        high[weak - 1] += 0.05
        counter.update(20.0, high, LFP)


def test_names_the_cell_first_again_and_again() -> None:
    counter = KneeCounter()
    rng = random.Random(4)
    cycle(counter, 2, rng)
    assert counter.leader is None  # two records: not yet "again and again"
    cycle(counter, 3, rng)
    cycle(counter, 2, rng)
    assert counter.leader == Leader(cell=2, times=4, out_of=6)
    assert [knee for knee, _ in counter.events] == [Knee.EMPTY, Knee.FULL] * 3


def test_each_excursion_counts_once() -> None:
    counter = KneeCounter()
    counter.update(0.0, MID, LFP)
    for _ in range(5):
        counter.update(-30.0, (3.1, 3.0, 3.1, 3.1), LFP)
    counter.update(0.0, (3.15, 3.14, 3.15, 3.15), LFP)  # rest, still low
    counter.update(-30.0, (3.1, 3.0, 3.1, 3.1), LFP)
    assert counter.events == [(Knee.EMPTY, 2)]


def test_nothing_counts_before_the_pack_was_in_the_window_or_at_rest() -> None:
    counter = KneeCounter()
    counter.update(-30.0, (3.1, 3.0, 3.1, 3.1), LFP)  # first seen at the knee
    counter.update(0.0, MID, LFP)
    counter.update(-0.2, (3.1, 3.0, 3.1, 3.1), LFP)  # at rest: no load
    counter.update(-30.0, (3.0, 3.0, 3.1, 3.1), LFP)  # a tie
    counter.update(float("nan"), (3.0, 2.9, 3.1, 3.1), LFP)
    counter.update(-30.0, (), LFP)
    assert counter.events == []
    assert counter.leader is None


def test_a_split_vote_names_nobody() -> None:
    counter = KneeCounter()
    rng = random.Random(5)
    for weak in (1, 2, 1, 2, 3, 4):
        cycle(counter, weak, rng)
    assert counter.leader is None  # cells 1 and 2 tie


def test_keeps_the_last_records_and_restarts_on_a_new_cell_count() -> None:
    counter = KneeCounter()
    rng = random.Random(6)
    for _ in range(EVENTS):
        cycle(counter, 1, rng)
    assert len(counter.events) == EVENTS
    counter.update(0.0, (3.3,) * 8, LFP)
    assert counter.events == []


def test_survives_a_restart() -> None:
    counter = KneeCounter()
    rng = random.Random(7)
    for _ in range(3):
        cycle(counter, 4, rng)
    restored = KneeCounter.from_dict(json.loads(json.dumps(counter.to_dict())))
    assert restored.leader == counter.leader == Leader(4, 6, 6)
    cycle(restored, 4, rng)
    assert restored.leader == Leader(4, 8, 8)


GOOD = {"events": [["empty", 2]], "cells": 4, "armed_empty": True, "armed_full": False}


@pytest.mark.parametrize(
    "change",
    [
        {"cells": -1},
        {"cells": True},
        {"cells": "4"},
        {"events": "none"},
        {"events": [["empty", 2]] * (EVENTS + 1)},
        {"events": [["middle", 2]]},
        {"events": [["empty", 5]]},
        {"events": [["empty", True]]},
        {"events": [["empty"]]},
        {"armed_full": 1},
    ],
)
def test_refuses_corrupt_state(change: dict[str, object]) -> None:
    assert KneeCounter.from_dict(GOOD).events == [(Knee.EMPTY, 2)]
    with pytest.raises(InvalidStateError):
        KneeCounter.from_dict(GOOD | change)
