"""The benchmark's table, from the merged figures."""

from __future__ import annotations

from typing import Any

COLUMNS = (
    ("family", "family"),
    ("req", "requests per update, steady"),
    ("bytes", "bytes per update, steady"),
    ("req1", "requests at first connect"),
    ("bytes1", "bytes at first connect"),
    ("lat50", "update latency median, ms"),
    ("lat95", "update latency p95, ms"),
    ("protoµs", "protocol CPU per update, µs"),
    ("haµs", "HA CPU per update (all entities), µs"),
    ("writes", "state writes per update"),
    ("KiB/dev", "memory per configured device, KiB"),
    ("aio.req", "aiobmsble requests per update"),
    ("aio.µs", "aiobmsble protocol CPU per update, µs"),
    ("our.µs", "our protocol CPU, same run, µs"),
    ("ratio", "our CPU / aiobmsble CPU"),
)


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _row(family: str, figures: dict[str, Any]) -> list[Any]:
    protocol = _get(figures, "protocol", family) or {}
    ha = _get(figures, "home_assistant", "families", family) or {}
    aio = _get(figures, "aiobmsble", "families", family) or {}
    return [
        family,
        _get(protocol, "steady", "requests"),
        _get(protocol, "steady", "bytes"),
        _get(protocol, "first_connect", "requests"),
        _get(protocol, "first_connect", "bytes"),
        _get(protocol, "latency_ms", "median"),
        _get(protocol, "latency_ms", "p95"),
        protocol.get("protocol_cpu_us"),
        ha.get("ha_cpu_us"),
        ha.get("state_writes"),
        ha.get("memory_kib"),
        _get(aio, "aiobmsble", "requests"),
        _get(aio, "aiobmsble", "protocol_cpu_us"),
        _get(aio, "ours", "protocol_cpu_us"),
        aio.get("cpu_ratio"),
    ]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def table(figures: dict[str, Any]) -> str:
    """The per-family table, a legend and the scale run's summary."""
    rows = [[name for name, _ in COLUMNS]]
    rows += [[_cell(v) for v in _row(f, figures)] for f in figures["families"]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    ]
    lines.append("")
    lines += [f"  {name:>8}: {meaning}" for name, meaning in COLUMNS[1:]]
    lines.append("")
    lines.append(_link(figures))
    lines.append(_scale(figures.get("home_assistant", {}).get("scale")))
    aio = figures.get("aiobmsble", {})
    if "skipped" in aio:
        lines.append(f"aiobmsble: skipped ({aio['skipped']})")
    elif "versions" in aio:
        versions = ", ".join(f"{k} {v}" for k, v in aio["versions"].items())
        lines.append(
            f"aiobmsble side by side under {versions}, {aio['mtu']}-byte notifications"
        )
        lines.append(decode_target(aio))
    return "\n".join(lines)


# Issue 19: decode CPU at most this share of aiobmsble's, family by family.
DECODE_TARGET = 0.5


def decode_target(aio: dict[str, Any]) -> str:
    """How many families decode within the target share of aiobmsble's CPU."""
    ratios = {
        family: figures["cpu_ratio"] for family, figures in aio["families"].items()
    }
    above = sorted(
        ((ratio, family) for family, ratio in ratios.items() if ratio > DECODE_TARGET),
        reverse=True,
    )
    gates = sorted(
        gate
        for figures in aio["families"].values()
        if (gate := _get(figures, "ours", "gate_cpu_us")) is not None
    )
    line = (
        f"decode CPU: {len(ratios) - len(above)} of {len(ratios)} families at most"
        f" {DECODE_TARGET:g}x aiobmsble's"
    )
    if above:
        line += "; above: " + ", ".join(f"{f} {r:g}" for r, f in above)
    if gates:
        line += (
            f"; our plausibility gate (not in the ratio) {gates[0]:g}-{gates[-1]:g}"
            " µs per snapshot"
        )
    return line


def _link(figures: dict[str, Any]) -> str:
    link = figures["settings"]["link"]
    return (
        f"link: {link['mtu']}-byte notifications, {link['notify_latency'] * 1e3:g} ms"
        f" each, {link['write_latency'] * 1e3:g} ms per write;"
        f" updates every {figures['settings']['interval']:g} s"
    )


def _scale(scale: dict[str, Any] | None) -> str:
    if not scale:
        return "scale: not measured"
    return (
        f"scale: {scale['devices']} packs on {scale['proxies']} proxies x"
        f" {scale['slots_per_proxy']} slots, {scale['minutes']:g} min at"
        f" {scale['interval']} s: worst data age {scale['worst_data_age']} s,"
        f" {scale['connection_attempts_per_minute']} connection attempts/min,"
        f" {scale['slot_waits']} slot waits, {scale['failed_updates']} failed"
        f" updates, {len(scale['warnings'])} warnings, {len(scale['leaks'])} leaks"
    )


def latency_table(figures: dict[str, Any]) -> str:
    """Update latency per family beside the least time its bytes need."""
    rows = [["family", "lat50", "limit", "ratio", "rt.limit", "rt.ratio"]]
    for family in figures["families"]:
        protocol = _get(figures, "protocol", family) or {}
        rows.append(
            [
                family,
                *(
                    _cell(_get(protocol, *path))
                    for path in (
                        ("latency_ms", "median"),
                        ("link_limit_ms", "median"),
                        ("link_limit_ms", "ratio"),
                        ("round_trip_limit_ms", "median"),
                        ("round_trip_limit_ms", "ratio"),
                    )
                ),
            ]
        )
    legend = [
        "  limit: least time the update's bytes need, requests back to back, ms",
        "  rt.limit: the same when each request waits for the answer before it, ms",
        "  ratio: median update latency / limit",
    ]
    return _grid(rows) + "\n" + "\n".join(legend)


def switch_table(figures: dict[str, Any]) -> str:
    """Switch latency per family, connection held and per update."""
    found = _get(figures, "home_assistant", "switch_latency") or {}
    rows = [["family", "held50", "held95", "limit", "conn50", "conn95", "limit"]]
    for family, modes in found.items():
        held, per_update = modes.get("held", {}), modes.get("per_update", {})
        rows.append(
            [
                family,
                *(
                    _cell(mode.get(key))
                    for mode in (held, per_update)
                    for key in ("median_ms", "p95_ms", "link_limit_ms")
                ),
            ]
        )
    legend = (
        "  switch latency, service call to confirmed state, ms: held connection"
        " (held) and a connection per update (conn); limit: least time of the"
        " command's bytes (plus the connection setup)"
    )
    return _grid(rows) + "\n" + legend


def connect_lines(figures: dict[str, Any]) -> str:
    """The connection cost modelled and the packs one proxy keeps in the bound."""
    ha = figures.get("home_assistant", {})
    lines = []
    scale = ha.get("scale")
    if scale and "connect_cost" in scale:
        cost = scale["connect_cost"]
        lines.append(
            f"connecting: {cost['setup']:g} s, {cost['discovery']:g} s more the first"
            f" time (GATT discovery), {cost['failure_rate']:.0%} of attempts fail"
            f" (seed {cost['seed']}); {scale['modelled_connect_failures']} failed"
            " attempts in the scale run, retried"
        )
    capacity = ha.get("packs_per_proxy")
    if capacity:
        found = ", ".join(
            f"{v['packs']} at {k} s" for k, v in capacity.items() if isinstance(v, dict)
        )
        lines.append(f"packs per 3-slot proxy within the bound: {found}")
    else:
        lines.append("packs per proxy: measured in the full run only")
    return "\n".join(lines)


def _grid(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    )
