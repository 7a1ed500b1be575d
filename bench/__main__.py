"""``python -m bench``: run every part of the benchmark, print and save it.

Use ``scripts/bench``, which prepares both environments first.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bms_simulator.connecting import ESPHOME_PROXY, ConnectCost
from bms_simulator.link import (
    DEFAULT_MTU,
    DEFAULT_NOTIFY_LATENCY,
    DEFAULT_WRITE_LATENCY,
    BleLink,
)

from .devices import VARIANT_DEMOS, families
from .footprint import ha_cpu_line, ha_cpu_summary, recorder_table
from .protocol import Settings, measure_families
from .report import connect_lines, latency_table, switch_table, table
from .wired import measure_wired, wired_table

ROOT = Path(__file__).resolve().parent.parent
HA_TESTS = "tests/bench/test_bench_ha.py"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--short", action="store_true", help="a quick run for CI")
    parser.add_argument("--out", default="bench-results/bench.json")
    parser.add_argument("--aiobmsble-python", help="interpreter with aiobmsble")
    parser.add_argument("--mtu", type=int, default=DEFAULT_MTU)
    parser.add_argument("--notify-ms", type=float, default=DEFAULT_NOTIFY_LATENCY * 1e3)
    parser.add_argument("--write-ms", type=float, default=DEFAULT_WRITE_LATENCY * 1e3)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument(
        "--connect-s",
        type=float,
        default=ESPHOME_PROXY.setup,
        help="seconds per connection (Home Assistant runs)",
    )
    parser.add_argument(
        "--discovery-s",
        type=float,
        default=ESPHOME_PROXY.discovery,
        help="more seconds for the first connection's GATT discovery",
    )
    parser.add_argument(
        "--connect-failures",
        type=float,
        default=ESPHOME_PROXY.failure_rate,
        help="share of the connection attempts that fail (seeded)",
    )
    return parser.parse_args()


def _home_assistant(short: bool, connect: ConnectCost) -> dict[str, Any]:
    """The Home Assistant figures, measured by pytest in this interpreter."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "ha.json"
        env = os.environ | {
            "BENCH_OUT": str(out),
            "BENCH_MODE": "short" if short else "full",
            "BENCH_CONNECT": json.dumps(asdict(connect)),
        }
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        subprocess.run([*command, HA_TESTS], cwd=ROOT, env=env, check=True)  # noqa: S603
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def _aiobmsble(python: str | None, settings: Settings) -> dict[str, Any]:
    """Aiobmsble beside our drivers, in the bleak 3.x environment."""
    if not python:
        return {"skipped": "no bleak 3.x environment (see scripts/bench)"}
    command = [
        python,
        "-m",
        "bench.aiobmsble_side",
        f"--updates={settings.updates}",
        f"--replays={settings.replays}",
        f"--interval={settings.interval}",
    ]
    done = subprocess.run(  # noqa: S603
        command, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main() -> None:
    """Measure, merge, print the table and write the JSON."""
    args = _arguments()
    link = BleLink(args.mtu, args.notify_ms / 1e3, args.write_ms / 1e3)
    connect = ConnectCost(args.connect_s, args.discovery_s, args.connect_failures)
    settings = Settings(
        updates=5 if args.short else 50,
        replays=200 if args.short else 3000,
        interval=args.interval,
        link=link,
    )
    names = [*families(), *VARIANT_DEMOS]
    figures: dict[str, Any] = {
        "mode": "short" if args.short else "full",
        "settings": {
            "interval": args.interval,
            "link": asdict(link),
            # What connecting costs in the Home Assistant runs (scale, switches).
            "connect": asdict(connect),
        },
        "families": names,
        "protocol": measure_families(names, settings),
        "home_assistant": _home_assistant(args.short, connect),
        "aiobmsble": _aiobmsble(args.aiobmsble_python, settings),
        "wired": measure_wired(settings.updates),
    }
    ha = figures["home_assistant"]
    ha["ha_cpu_summary"] = ha_cpu_summary(ha)
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    sys.stdout.write(
        table(figures)
        + "\n\n"
        + wired_table(figures["wired"])
        + "\n\n"
        + ha_cpu_line(ha["ha_cpu_summary"])
        + "\n"
        + recorder_table(ha.get("recorder"))
        + "\n\n"
        + latency_table(figures)
        + "\n\n"
        + switch_table(figures)
        + "\n\n"
        + connect_lines(figures)
        + f"\n\nwritten to {args.out}\n"
    )


if __name__ == "__main__":
    main()
