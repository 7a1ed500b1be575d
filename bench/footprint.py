"""The benchmark's Home Assistant cost summary and recorder footprint table."""

from __future__ import annotations

from statistics import median
from typing import Any

# HA CPU per update while every entity wrote its state on every update
# (docs/performance.md, "One write per change"): the figure to compare with.
EVERY_ENTITY_WRITTEN_MS = (1.0, 1.3)
MIB = 1024 * 1024


def ha_cpu_summary(home_assistant: dict[str, Any]) -> dict[str, Any]:
    """HA CPU per update over the families, beside the older figure."""
    costs = [f["ha_cpu_us"] for f in home_assistant.get("families", {}).values()]
    if not costs:
        return {}
    return {
        "families": len(costs),
        "min_us": min(costs),
        "median_us": median(costs),
        "max_us": max(costs),
        "every_entity_written_ms": list(EVERY_ENTITY_WRITTEN_MS),
    }


def ha_cpu_line(summary: dict[str, Any]) -> str:
    """One line: today's HA CPU per update against the older figure."""
    if not summary:
        return "HA CPU per update: not measured"
    low, high = EVERY_ENTITY_WRITTEN_MS
    return (
        f"HA CPU per update, one write per changed entity: median"
        f" {summary['median_us']:g} µs ({summary['min_us']:g}-{summary['max_us']:g}"
        f" µs over {summary['families']} families); every entity written:"
        f" {low:.1f}-{high:.1f} ms"
    )


def recorder_table(recorder: dict[str, Any] | None) -> str:
    """Rows and bytes per day in the recorder, per measured family."""
    if not recorder:
        return "recorder: not measured"
    lines = [
        "recorder, per day and 16-cell pack at 10 s (default entities):",
        (
            "  family  hours  states rows  states MiB  attr rows  stats rows"
            "  short-term rows  stats MiB"
        ),
    ]
    for family, run in recorder.items():
        day = run["per_day"]
        rows, size = day["rows"], day["bytes"]
        stats_mib = (size["statistics"] + size["statistics_short_term"]) / MIB
        lines.append(
            f"  {family:>6}  {run['hours']:5g}  {rows['states']:11}"
            f"  {size['states'] / MIB:10.1f}  {run['attributes']['rows']:9}"
            f"  {rows['statistics']:10}  {rows['statistics_short_term']:15}"
            f"  {stats_mib:9.2f}"
        )
    return "\n".join(lines)
