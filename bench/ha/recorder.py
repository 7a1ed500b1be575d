"""What one pack's updates cost in Home Assistant's recorder database.

A 16-cell pack charges and discharges (``bms_simulator/dynamics.py``, between
20 % and 90 % SOC at 0.3 C and 0.4 C, with current noise, cell drift and
balancing) behind a virtual proxy, updated every 10 s, with its default
entities, while the real recorder writes to an SQLite file in accelerated
time. The database is measured with SQL at the start and the end of the run:
rows and stored bytes of ``states``, ``state_attributes``, ``statistics`` and
``statistics_short_term``, for this pack's entities, and the pages each table
occupies with its indexes (``dbstat``).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from homeassistant.components.recorder.core import Recorder
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.recorder import session_scope
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from bms_simulator.dynamics import DynamicsSettings, PackDynamics
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.const import CONF_FAMILY, DEFAULT_UPDATE_INTERVAL

from .clock import VirtualClock

DAY = 24 * 3600
# The recorder's backlog is drained every so often, as a real one keeps up.
DRAIN_EVERY = 600
# A day without protection trips: they are rare on a healthy pack.
STEADY = DynamicsSettings(event_probability=0.0)
TABLES = ("states", "state_attributes", "statistics", "statistics_short_term")


@dataclass
class Counts:
    """Rows and stored bytes of this pack's entities, per table."""

    rows: dict[str, int] = field(default_factory=dict)
    content_bytes: dict[str, int] = field(default_factory=dict)
    page_bytes: dict[str, int] = field(default_factory=dict)
    table_rows: dict[str, int] = field(default_factory=dict)
    states_per_entity: dict[str, int] = field(default_factory=dict)
    other_states: int = 0

    def minus(self, before: Counts) -> Counts:
        """What was added since ``before``."""

        def diff(now: dict[str, int], then: dict[str, int]) -> dict[str, int]:
            return {key: value - then.get(key, 0) for key, value in now.items()}

        return Counts(
            diff(self.rows, before.rows),
            diff(self.content_bytes, before.content_bytes),
            diff(self.page_bytes, before.page_bytes),
            diff(self.table_rows, before.table_rows),
            dict(Counter(self.states_per_entity) - Counter(before.states_per_entity)),
            self.other_states - before.other_states,
        )


@dataclass
class Footprint:
    """The recorder's growth over the run, and the same scaled to a day."""

    family: str
    hours: float
    interval: int
    updates: int
    entities_recorded: int
    added: Counts
    bytes_per_row: dict[str, int]
    attributes: dict[str, int]
    extremes: dict[str, Any]

    def per_day(self) -> dict[str, Any]:
        """Rows and bytes per day (the run's growth scaled to 24 h)."""
        scale = DAY / (self.hours * 3600)

        def scaled(values: dict[str, int]) -> dict[str, int]:
            return {key: round(value * scale) for key, value in values.items()}

        busiest = sorted(
            self.added.states_per_entity.items(), key=lambda item: -item[1]
        )
        rows = scaled(self.added.rows)
        return {
            "rows": rows,
            "bytes": {
                table: rows[table] * self.bytes_per_row.get(table, 0) for table in rows
            },
            "content_bytes": scaled(self.added.content_bytes),
            "states_per_entity": {key: round(n * scale) for key, n in busiest},
        }

    def as_dict(self) -> dict[str, Any]:
        """The figures for ``bench.json``."""
        figures = asdict(self)
        figures["per_day"] = self.per_day()
        return figures


def start_charge_cycles(
    hass: HomeAssistant, pack: PackModel, seed: int
) -> CALLBACK_TYPE:
    """Let the pack charge and discharge, a step per update interval."""
    dynamics = PackDynamics(pack, STEADY, random.Random(seed))

    @callback
    def _step(_: Any) -> None:
        dynamics.step(DEFAULT_UPDATE_INTERVAL)

    return async_track_time_interval(
        hass, _step, timedelta(seconds=DEFAULT_UPDATE_INTERVAL)
    )


async def drain(hass: HomeAssistant, recorder: Recorder) -> None:
    """Wait (without moving the clock) until the recorder wrote its backlog."""
    await hass.async_add_executor_job(recorder.block_till_done)


# Queries of this pack's rows (its entity ids are ``:ids``).
STATES = (
    "SELECT count(*), coalesce(sum(length(state)), 0) FROM states"
    " WHERE metadata_id IN (SELECT metadata_id FROM states_meta"
    " WHERE entity_id IN :ids)"
)
OTHER_STATES = (
    "SELECT count(*) FROM states WHERE metadata_id NOT IN"
    " (SELECT metadata_id FROM states_meta WHERE entity_id IN :ids)"
)
ATTRIBUTES = (
    "SELECT count(*), coalesce(sum(length(shared_attrs)), 0) FROM state_attributes"
    " WHERE attributes_id IN (SELECT attributes_id FROM states"
    " WHERE metadata_id IN (SELECT metadata_id FROM states_meta"
    " WHERE entity_id IN :ids))"
)
STATISTICS = {
    table: f"SELECT count(*) FROM {table} WHERE metadata_id IN"  # noqa: S608
    " (SELECT id FROM statistics_meta WHERE statistic_id IN :ids)"
    for table in ("statistics", "statistics_short_term")
}
PER_ENTITY = (
    "SELECT m.entity_id, count(*) FROM states s JOIN states_meta m"
    " ON s.metadata_id = m.metadata_id WHERE m.entity_id IN :ids"
    " GROUP BY m.entity_id"
)
ALL_STATES = (
    "SELECT m.entity_id, s.state, length(a.shared_attrs) FROM states s"
    " JOIN states_meta m ON s.metadata_id = m.metadata_id"
    " LEFT JOIN state_attributes a ON s.attributes_id = a.attributes_id"
    " WHERE m.entity_id IN :ids"
)
# Bytes of every page of a table and of its indexes (SQLite's dbstat table).
PAGES = (
    "SELECT m.tbl_name, sum(d.pgsize) FROM dbstat d"
    " JOIN sqlite_master m ON d.name = m.name GROUP BY m.tbl_name"
)
TABLE_ROWS = {table: f"SELECT count(*) FROM {table}" for table in TABLES}  # noqa: S608


def _query(session: Session, sql: str, ids: list[str] | None = None) -> list[Any]:
    statement = text(sql)
    if ids is None:
        return list(session.execute(statement).all())
    statement = statement.bindparams(bindparam("ids", expanding=True))
    return list(session.execute(statement, {"ids": ids}).all())


def _count(recorder: Recorder, ids: list[str]) -> Counts:
    """Rows and bytes in the database now (in the recorder's executor)."""
    counts = Counts()
    with session_scope(session=recorder.get_session(), read_only=True) as session:
        counts.rows["states"], counts.content_bytes["states"] = _query(
            session, STATES, ids
        )[0]
        (
            counts.rows["state_attributes"],
            counts.content_bytes["state_attributes"],
        ) = _query(session, ATTRIBUTES, ids)[0]
        for table, sql in STATISTICS.items():
            counts.rows[table] = _query(session, sql, ids)[0][0]
        counts.page_bytes = {
            table: size for table, size in _query(session, PAGES) if table in TABLES
        }
        counts.table_rows = {
            table: _query(session, sql)[0][0] for table, sql in TABLE_ROWS.items()
        }
        counts.states_per_entity = dict(_query(session, PER_ENTITY, ids))
        counts.other_states = _query(session, OTHER_STATES, ids)[0][0]
    return counts


def _extremes(recorder: Recorder, ids: list[str]) -> dict[str, Any]:
    """The longest state and attributes, and the most decimals of a cell."""
    with session_scope(session=recorder.get_session(), read_only=True) as session:
        rows = _query(session, ALL_STATES, ids)
    longest = max(rows, key=lambda row: len(row[1]))
    decimals = [
        len(state.partition(".")[2])
        for entity_id, state, _ in rows
        if "_cell_" in entity_id and entity_id.endswith("_voltage")
    ]
    return {
        "longest_state": f"{longest[0]} = {longest[1]}",
        "longest_attributes": max(row[2] or 0 for row in rows),
        "cell_voltage_decimals": max(decimals, default=0),
    }


async def measure_day(
    hass: HomeAssistant,
    clock: VirtualClock,
    recorder: Recorder,
    entry: ConfigEntry,
    hours: float,
) -> Footprint:
    """Run ``hours`` of updates and measure what the recorder stored."""
    registry = er.async_get(hass)
    entity_ids = [
        item.entity_id
        for item in er.async_entries_for_config_entry(registry, entry.entry_id)
        if item.disabled_by is None
    ]
    coordinator = entry.runtime_data.coordinator
    reads = 0

    @callback
    def _read() -> None:
        nonlocal reads
        reads += 1

    stop = coordinator.tracker.async_add_listener(_read)
    await drain(hass, recorder)
    before = await recorder.async_add_executor_job(_count, recorder, entity_ids)
    seconds = hours * 3600
    for _ in range(int(seconds // DRAIN_EVERY)):
        await clock.advance(DRAIN_EVERY)
        await drain(hass, recorder)
    await clock.advance(seconds % DRAIN_EVERY)
    await drain(hass, recorder)
    stop()
    after = await recorder.async_add_executor_job(_count, recorder, entity_ids)
    extremes = await recorder.async_add_executor_job(_extremes, recorder, entity_ids)
    return Footprint(
        family=entry.data[CONF_FAMILY],
        hours=hours,
        interval=DEFAULT_UPDATE_INTERVAL,
        updates=reads,
        entities_recorded=len(entity_ids),
        added=after.minus(before),
        bytes_per_row={
            table: round(after.page_bytes[table] / after.table_rows[table])
            for table in TABLES
            if after.table_rows.get(table)
        },
        attributes={
            "rows": after.rows["state_attributes"],
            "content_bytes": after.content_bytes["state_attributes"],
        },
        extremes=extremes,
    )
