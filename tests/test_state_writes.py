"""One state write per change: an update writes only the entities that changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import Event, HomeAssistant, callback

from bms_simulator.families.jbd import JbdSimulator
from custom_components.lithium_bms import tracker

from .conftest import setup_entry

PREFIX = "jbd_sp04s034"


class Writes:
    """The entity ids of every state write (changed or reported)."""

    def __init__(self) -> None:
        self.changed: list[str] = []
        self.reported: list[str] = []

    def clear(self) -> None:
        self.changed.clear()
        self.reported.clear()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The tracker's clock, which moves only when the test moves it."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(tracker, "now", lambda: now[0])
    monkeypatch.setattr(tracker, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def writes(hass: HomeAssistant) -> Iterator[Writes]:
    seen = Writes()

    @callback
    def _changed(event: Event[Any]) -> None:
        seen.changed.append(event.data["entity_id"])

    @callback
    def _reported(event: Event[Any]) -> None:
        seen.reported.append(event.data["entity_id"])

    stops = [
        hass.bus.async_listen(EVENT_STATE_CHANGED, _changed),
        hass.bus.async_listen(
            EVENT_STATE_REPORTED, _reported, event_filter=callback(lambda _: True)
        ),
    ]
    yield seen
    for stop in stops:
        stop()


async def _update(hass: HomeAssistant, entry: Any) -> None:
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


async def test_an_update_that_changes_nothing_writes_nothing(
    hass: HomeAssistant, jbd: JbdSimulator, clock: list[float], writes: Writes
) -> None:
    entry = await setup_entry(hass, jbd, "jbd")
    await _update(hass, entry)
    writes.clear()
    await _update(hass, entry)
    assert writes.changed == []
    assert writes.reported == []


async def test_a_voltage_change_writes_only_what_depends_on_it(
    hass: HomeAssistant, jbd: JbdSimulator, clock: list[float], writes: Writes
) -> None:
    entry = await setup_entry(hass, jbd, "jbd")
    await _update(hass, entry)
    writes.clear()
    jbd.pack.cell_voltages = [3.301, 3.302, 3.299, 3.325]
    await _update(hass, entry)
    assert writes.reported == []
    assert sorted(writes.changed) == sorted(
        f"sensor.{PREFIX}_{name}"
        for name in (
            "voltage",
            "power",
            "cell_4_voltage",
            "maximum_cell_voltage",
            "cell_voltage_delta",
            "average_cell_voltage",
        )
    )


async def test_energy_moves_while_the_reading_repeats(
    hass: HomeAssistant, jbd: JbdSimulator, clock: list[float], writes: Writes
) -> None:
    """The tracker publishes itself: the coordinator's data did not change."""
    entry = await setup_entry(hass, jbd, "jbd")
    await _update(hass, entry)
    writes.clear()
    clock[0] += 60
    await _update(hass, entry)
    assert writes.reported == []
    assert sorted(writes.changed) == [
        f"sensor.{PREFIX}_discharge_energy",
        f"sensor.{PREFIX}_estimated_state_of_charge",
    ]
