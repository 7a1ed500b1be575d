"""Wired figures per protocol: the bus scan and the update time per pack.

Each protocol's demo packs answer on a real pseudo-terminal, and the simulated
line holds every reply for its request's and its own time on the wire at the
protocol's baud rate (11 bits a byte) plus 5 ms of pack latency. The line-rate
limit beside each update time is the bytes that update put on the wire,
divided by the baud rate: what no implementation can beat.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bms_simulator.serial.bus import BusSimulator
from bms_simulator.serial.endpoints import PtyEndpoint
from bms_simulator.serial.registry import WIRED_DEMOS
from custom_components.lithium_bms.protocol.registry import WIRED_PROTOCOLS
from custom_components.lithium_bms.protocol.serial.bus import SerialBus
from custom_components.lithium_bms.protocol.wired import (
    WiredProtocol,
    scan_bus,
    wired_client,
)

from .stats import median

BITS_PER_BYTE = 11
PACK_LATENCY = 0.005
# A bus of three packs where the protocol addresses several, else one.
PACKS_ON_A_BUS = 3


def _present(protocol: WiredProtocol) -> tuple[int, ...]:
    """The addresses the demo packs take: the protocol's first few."""
    usable = [a for a in protocol.addresses if a != 0] or list(protocol.addresses)
    return tuple(usable[:PACKS_ON_A_BUS])


async def _measure(protocol: WiredProtocol, updates: int) -> dict[str, Any]:
    present = _present(protocol)
    line = BusSimulator(
        [WIRED_DEMOS[protocol.key](a) for a in present],
        reply_delay=PACK_LATENCY,
        baudrate=protocol.baudrate,
    )
    endpoint = PtyEndpoint(line, lifetime=600)
    url = await endpoint.start()
    bus = SerialBus(protocol.settings(url))
    try:
        started = time.monotonic()
        result = await scan_bus(bus, protocol)
        scan = time.monotonic() - started
        found = [pack.address for pack in result.packs]
        client = wired_client(bus, protocol, present[0], listen=False)
        durations: list[float] = []
        wire: list[float] = []
        try:
            await client.read_snapshot()
            for _ in range(updates):
                before = len(line.received) + line.sent
                started = time.monotonic()
                await client.read_snapshot()
                durations.append(time.monotonic() - started)
                moved = len(line.received) + line.sent - before
                wire.append(moved * BITS_PER_BYTE / protocol.baudrate)
        finally:
            await client.close()
    finally:
        await bus.close()
        endpoint.stop()
    update = median(durations)
    limit = median(wire)
    return {
        "baudrate": protocol.baudrate,
        "addresses": len(protocol.addresses),
        "packs": len(present),
        "found": found == list(present),
        "scan_s": round(scan, 2),
        "update_ms": round(update * 1e3, 1),
        "line_limit_ms": round(limit * 1e3, 1),
        "ratio": round(update / limit, 2) if limit else None,
    }


def measure_wired(updates: int) -> dict[str, Any]:
    """Every wired protocol's scan and update figures."""

    async def run() -> dict[str, Any]:
        return {p.key: await _measure(p, updates) for p in WIRED_PROTOCOLS}

    return asyncio.run(run())


def wired_table(figures: dict[str, Any]) -> str:
    """One line per wired protocol."""
    header = (
        f"{'wired':>10} {'baud':>7} {'addr':>5} {'packs':>5} {'scan s':>7}"
        f" {'update ms':>10} {'line ms':>8} {'ratio':>6}"
    )
    lines = [header]
    for key, row in figures.items():
        lines.append(
            f"{key:>10} {row['baudrate']:>7} {row['addresses']:>5}"
            f" {row['packs']:>5}{'' if row['found'] else '!'} {row['scan_s']:>7}"
            f" {row['update_ms']:>10} {row['line_limit_ms']:>8} {row['ratio']!s:>6}"
        )
    lines.append(
        "  scan s: the whole scan (listening for a master, then every address);"
        " update ms: one pack's"
    )
    lines.append(
        "  snapshot; line ms: its bytes on the wire / baud (11 bits a byte);"
        " 5 ms pack latency per reply"
    )
    return "\n".join(lines)
