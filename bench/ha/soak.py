"""A fault soak: one pack per family, thousands of updates, random faults.

Before each update the pack changes (on a grid every protocol encodes
exactly) and, at random, the simulator is told to misbehave: no answer, a bad
checksum, a truncated frame, a disconnect in the middle of a frame, the device
gone for minutes, or a switch command that it ignores. The link misbehaves
too: a notification lost inside a frame, a frame with random content and a
valid checksum, an answer duplicated or late. A protection holds a MOSFET off
for a while, the wall clock jumps ahead and back, and once the stored state is
corrupted between two runs of the entry.

Every time the coordinator publishes, the published snapshot and the entity
states are checked against the states the simulator sent (see :class:`Truth`),
and the energy totals against what the true pack could have moved. After every
switch command the simulator's settings are checked: a confirmed command took
effect, and no other switch changed.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import random
import re
import tracemalloc
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er

from bench.devices import bench_device
from bms_simulator.device import Fault, SimulatedBms
from bms_simulator.link import BleLink
from bms_simulator.pack import PackModel
from bms_simulator.proxy import VirtualProxy
from custom_components.lithium_bms import tracker as tracker_module
from custom_components.lithium_bms.const import DEFAULT_UPDATE_INTERVAL, DOMAIN
from custom_components.lithium_bms.coordinator import LithiumBmsCoordinator
from custom_components.lithium_bms.protocol.snapshot import BatterySnapshot, SwitchKind

from .clock import VirtualClock
from .entries import make_entry
from .forgery import forge

STRINGS = Path(__file__).parents[2] / "custom_components" / DOMAIN / "strings.json"
ANSWER_FAULTS = (
    Fault.NO_ANSWER,
    Fault.BAD_CHECKSUM,
    Fault.TRUNCATED,
    Fault.DISCONNECT_MID_FRAME,
)
# Per update: chance of an answer fault, of a switch command, of going away.
P_FAULT = 0.12
P_COMMAND = 0.06
P_IGNORED = 0.5
P_GONE = 0.01
GONE_UPDATES = (6, 30)  # 1 to 5 minutes at the default interval
# Per update: chance of a link fault, of a protection, of a wall-clock jump.
P_LINK_FAULT = 0.12
P_PROTECTION = 0.03
PROTECTION_UPDATES = (3, 20)
HOLDING_ALARMS = ("cell_undervoltage", "cell_overvoltage")
P_CLOCK_JUMP = 0.01
CLOCK_JUMPS = (-3600.0, -120.0, 120.0, 550.0, 86_400.0)
JUMP_UPDATES = (2, 12)
# Stored states that do not validate, one of them written once per run.
BAD_STORES: tuple[Any, ...] = (
    "garbage",
    [1, 2, 3],
    {"energy": [], "soc": {"anchor": [1, 2]}},
    {"energy": {"charge_energy": "lots", "last_time": 9e99}, "soc": {"anchor": {}}},
)
SETUP_RETRIES = 30
# A late answer arrives this many request timeouts after it was sent.
LATE_BY = (0.3, 1.6)
# A frame may be delivered up to this long after it was built and sent.
IN_FLIGHT = 2.0
# Allowed growth of traced memory over the second half of a run.
MEMORY_SLACK = 256 * 1024
EPSILON = 1e-6
# The test harness's mocked local adapter (not the virtual proxy) logs here;
# from habluetooth 7 its scanner start also asks bleak-retry-connector to stop
# BlueZ discovery, and there is no BlueZ in tests ("... because no manager").
# The packs are reached through the virtual proxy, never through BlueZ.
HARNESS_LOGGERS = frozenset({"habluetooth.scanner", "bleak_retry_connector.bluez"})
# Where the one warning about a stored state that was replaced comes from.
STORE_LOGGER = tracker_module.__name__
# JBD warns when it writes a MOSFET bit it cannot know as enabled (after the
# reload of the corrupt-store episode, while a protection holds that MOSFET).
UNKNOWN_MASK = ("custom_components.lithium_bms.protocol.jbd.driver", "Whether the JBD")


class LinkFault(StrEnum):
    """What the soak does to the bytes between the simulator and the host."""

    LOST_NOTIFICATION = "lost_notification"
    FORGED = "forged"
    DUPLICATE = "duplicate"
    LATE = "late"


@dataclass(frozen=True)
class Truth:
    """What the simulator held when it sent a frame."""

    cells: tuple[float, ...]
    current: float
    soc: float
    remaining: float
    temperatures: tuple[float, ...]
    mosfet_temperature: float
    switches: tuple[tuple[SwitchKind, bool], ...]
    fets: tuple[tuple[SwitchKind, bool], ...]
    # False: only the highest and lowest cell and probe are reported (no cell).
    per_cell: bool = True

    @property
    def power(self) -> float:
        """What the pack moved, in watts (positive while charging)."""
        return round(sum(self.cells), 3) * self.current

    @classmethod
    def of(
        cls,
        pack: PackModel,
        *,
        per_cell: bool = True,
        carried: Callable[[float], float] = float,
    ) -> Truth:
        """The comparable state of a pack, as a device of ``per_cell`` shows it.

        ``carried`` is a probe's value as the protocol carries it.
        """
        probes = [carried(t) for t in pack.temperatures]
        return cls(
            cells=tuple(pack.cell_voltages),
            current=pack.current,
            soc=pack.soc,
            remaining=round(pack.remaining_capacity, 3),
            temperatures=tuple(probes) if per_cell else (max(probes), min(probes)),
            mosfet_temperature=pack.mosfet_temperature,
            switches=(
                (SwitchKind.CHARGE, pack.charge_enabled),
                (SwitchKind.DISCHARGE, pack.discharge_enabled),
                (SwitchKind.BALANCER, pack.balancer_enabled),
            ),
            fets=(
                (SwitchKind.CHARGE, pack.charge_fet),
                (SwitchKind.DISCHARGE, pack.discharge_fet),
            ),
            per_cell=per_cell,
        )

    def matches(self, snap: BatterySnapshot) -> list[str]:
        """The fields of ``snap`` that differ from this state."""
        wrong = []
        cells = self.cells if self.per_cell else ()
        pairs: list[tuple[str, float | None, float]] = [
            ("voltage", snap.voltage, round(sum(self.cells), 3)),
            ("current", snap.current, self.current),
            ("state_of_charge", snap.state_of_charge, self.soc),
            ("remaining_capacity", snap.remaining_capacity, self.remaining),
            ("mosfet_temperature", snap.mosfet_temperature, self.mosfet_temperature),
        ]
        pairs += list(
            zip(
                _names("cell", snap.cell_voltages),
                snap.cell_voltages,
                cells,
                strict=False,
            )
        )
        probes = [t.value for t in snap.probe_temperatures if t.value is not None]
        pairs += list(
            zip(_names("probe", probes), probes, self.temperatures, strict=False)
        )
        for name, got, want in pairs:
            if got is not None and abs(got - want) > EPSILON:
                wrong.append(f"{name}={got} (held {want})")
        if len(snap.cell_voltages) != len(cells):
            wrong.append(f"{len(snap.cell_voltages)} cells (held {len(cells)})")
        # A switch shows the setting, or (JBD, Daly A5: the only thing they
        # report) the MOSFET; anything else was never read.
        held, fets = dict(self.switches), dict(self.fets)
        for kind, state in snap.switches.items():
            if state is not None and state not in (held[kind], fets.get(kind)):
                wrong.append(f"{kind}={state} (held {held[kind]})")
        return wrong


def _names(prefix: str, values: Any) -> list[str]:
    return [f"{prefix}_{i + 1}" for i in range(len(values))]


def randomize(pack: PackModel, rng: random.Random) -> None:
    """New values every family encodes exactly (mV cells summing to 0.1 V)."""
    base = rng.randrange(3000, 3450)
    millivolts = [base + rng.randrange(100) for _ in range(len(pack.cell_voltages))]
    millivolts[-1] += -sum(millivolts) % 100
    pack.cell_voltages = [mv / 1000 for mv in millivolts]
    pack.current = rng.randrange(-800, 800) / 10
    pack.soc = rng.randrange(5, 100)
    pack.temperatures = [float(rng.randrange(-10, 45)) for _ in pack.temperatures]
    pack.mosfet_temperature = float(rng.randrange(10, 60))


@dataclass
class SoakFigures:
    """What a soak run counted."""

    family: str
    steps: int
    seed: int
    publishes: int = 0
    reads: int = 0
    read_failures: int = 0
    outages: int = 0
    errors_logged: int = 0
    recoveries_logged: int = 0
    gone_periods: int = 0
    commands: int = 0
    commands_confirmed: int = 0
    commands_rejected: int = 0
    lost_notifications: int = 0
    forged_frames: int = 0
    duplicated_answers: int = 0
    late_answers: int = 0
    implausible_refused: int = 0
    protections: int = 0
    commands_under_protection: int = 0
    clock_jumps: int = 0
    store_corruptions: int = 0
    store_resets_logged: int = 0
    unknown_mask_warnings: int = 0
    energy_counted_kwh: float = 0.0
    energy_bound_kwh: float = 0.0
    memory_growth: int = 0
    task_growth: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return asdict(self)


def unavailability_patterns() -> list[re.Pattern[str]]:
    """The translated messages an update failure may log (trailing dot optional)."""
    exceptions = json.loads(STRINGS.read_text())["exceptions"]
    keys = (
        "timeout",
        "connection_lost",
        "bad_data",
        "implausible_data",
        "communication_error",
    )
    patterns = []
    for key in keys:
        parts = re.split(r"\{\w+\}", exceptions[key]["message"].rstrip("."))
        patterns.append(re.compile(".*".join(map(re.escape, parts)) + r"\.?"))
    return patterns


class _Log(logging.Handler):
    """Sorts the records of the run: expected update errors and the rest."""

    def __init__(self, name: str) -> None:
        super().__init__(logging.INFO)
        self.prefix = f"Error fetching {name} data: "
        self.patterns = unavailability_patterns()
        self.errors = 0
        self.recoveries = 0
        self.store_resets = 0
        self.unknown_mask = 0
        self.unexpected: deque[str] = deque(maxlen=20)
        self.unexpected_count = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.name in HARNESS_LOGGERS:
            return
        if record.levelno < logging.WARNING:
            self.recoveries += message.endswith("data recovered")
            return
        if record.levelno == logging.WARNING and record.name == STORE_LOGGER:
            self.store_resets += 1
            return
        if record.name == UNKNOWN_MASK[0] and message.startswith(UNKNOWN_MASK[1]):
            self.unknown_mask += 1
            return
        if record.levelno == logging.ERROR and message.startswith(self.prefix):
            detail = message.removeprefix(self.prefix)
            if any(p.fullmatch(detail) for p in self.patterns):
                self.errors += 1
                return
        self.unexpected_count += 1
        self.unexpected.append(f"{record.levelname} {record.name}: {message}")


class _Checker:
    """Checks every publication of one coordinator against the simulator."""

    def __init__(
        self,
        hass: HomeAssistant,
        clock: VirtualClock,
        device: SimulatedBms,
        figures: SoakFigures,
        rng: random.Random,
    ) -> None:
        """Record what the device sends, from before the first connection."""
        self.hass = hass
        self.rng = rng
        self.clock = clock
        self.device = device
        self.figures = figures
        self.sent: deque[tuple[float, Truth]] = deque()
        self.last_publish = clock.now
        self.last_success = True
        self.entities: dict[str, str] = {}
        self.link_faults: deque[LinkFault] = deque()
        self.requested: dict[SwitchKind, bool] = {}
        self.lose_after: int | None = None
        self.wall_offset = 0.0
        self._energy: tuple[float, float, float, list[float]] | None = None
        # When the tracker last integrated a reading, and its power.
        self._tracked: tuple[float, float | None] = (clock.now, None)
        self._tap_sends(device)
        self._tap_notifications(device)

    def _tap_sends(self, device: SimulatedBms) -> None:
        """Record each frame's truth; forge, duplicate or delay some frames."""
        original = device.send

        def send(frame: bytes) -> None:
            fault = self.link_faults[0] if self.link_faults else None
            if fault is LinkFault.FORGED and (forged := forge(frame, self.rng)):
                self.link_faults.popleft()
                self.figures.forged_frames += 1
                original(forged)
                return
            truth = Truth.of(
                device.pack,
                per_cell=device.per_cell,
                carried=device.carried_temperature,
            )
            self.sent.append((self.clock.now, truth))
            if fault is LinkFault.DUPLICATE:
                self.link_faults.popleft()
                self.figures.duplicated_answers += 1
                original(frame)
            elif fault is LinkFault.LATE:
                self.link_faults.popleft()
                self.figures.late_answers += 1
                timeout = self.coordinator.client.driver.request_timeout
                delay = self.rng.uniform(*LATE_BY) * timeout
                asyncio.get_running_loop().call_later(delay, original, frame)
                return
            original(frame)

        setattr(device, "send", send)  # noqa: B010

    def _tap_notifications(self, device: SimulatedBms) -> None:
        """Lose one notification when told to, whatever frame it carries."""
        attach = device.attach

        def lossy_attach(
            notify: Callable[[int, bytes], None], drop: Callable[[], None]
        ) -> None:
            def lossy(handle: int, chunk: bytes) -> None:
                if self.lose_after is not None:
                    self.lose_after -= 1
                    if self.lose_after < 0:
                        self.lose_after = None
                        self.figures.lost_notifications += 1
                        return
                notify(handle, chunk)

            attach(lossy, drop)

        setattr(device, "attach", lossy_attach)  # noqa: B010

    def inject(self, fault: LinkFault) -> None:
        """Misbehave on the link for the next frame (or notification)."""
        if fault is LinkFault.LOST_NOTIFICATION:
            self.lose_after = self.rng.randrange(12)
        else:
            self.link_faults.append(fault)

    def clear_faults(self) -> None:
        """Forget pending link faults (the device went away)."""
        self.link_faults.clear()
        self.lose_after = None

    def attach(self, coordinator: LithiumBmsCoordinator) -> None:
        """Check every publication of ``coordinator`` from now on."""
        self.coordinator = coordinator
        registry = er.async_get(self.hass)
        entry_id = coordinator.config_entry.entry_id
        self.entities = {
            e.unique_id.removeprefix(f"{coordinator.address}_"): e.entity_id
            for e in er.async_entries_for_config_entry(registry, entry_id)
        }
        self._energy = None
        tracker = coordinator.tracker
        self._tracked = (self.clock.now, tracker.energy.to_dict()["last_power"])

        def tracked() -> None:
            self._tracked = (self.clock.now, tracker.energy.to_dict()["last_power"])

        tracker.async_add_listener(tracked)
        # A coordinator that was just set up has read successfully.
        self.last_success = coordinator.last_update_success
        # The oracle checks every reading, also one that repeats the last
        # (which the coordinator does not publish otherwise).
        coordinator.always_update = True
        coordinator.async_add_listener(self.published)

    def problem(self, text: str) -> None:
        if len(self.figures.problems) < 20:
            self.figures.problems.append(f"t={self.clock.now:.1f}: {text}")

    def state(self, key: str) -> str | None:
        entity_id = self.entities.get(key)
        current = self.hass.states.get(entity_id) if entity_id else None
        return current.state if current else None

    def published(self) -> None:
        """Check, then let the battery change before the next update.

        Called after the entities wrote their states, between two operations:
        the pack changes only while no update is in flight, so each update
        reads one state (a live pack changes during one too, but then no
        single state could be compared).
        """
        self.check()
        randomize(self.device.pack, self.rng)

    def check(self) -> None:
        """Compare the publication with what the simulator sent."""
        self.figures.publishes += 1
        now = self.clock.now
        success = self.coordinator.last_update_success
        if not success:
            if self.last_success:
                self.figures.outages += 1
            self.last_success = False
            if self.state("voltage") != STATE_UNAVAILABLE:
                self.problem("an entity stayed available during an outage")
            return
        self.last_success = True
        while self.sent and self.sent[0][0] < self.last_publish - IN_FLIGHT:
            self.sent.popleft()
        self.last_publish = now
        snap = self.coordinator.data
        candidates = {truth for _, truth in self.sent}
        matched = [truth for truth in candidates if truth.matches(snap) == []]
        if not matched:
            mismatches = [truth.matches(snap) for truth in candidates]
            closest = min(mismatches, key=len, default=["nothing was sent"])
            self.problem(f"published values the simulator never held: {closest}")
        else:
            self.check_energy(now, matched[0])
        self.check_entities(snap)

    def check_energy(self, now: float, truth: Truth) -> None:
        """The totals moved no more than the true pack, and never went down.

        The totals change only at a reading the tracker took; since the last
        change, the integrator can have counted at most the largest true power
        published since then over the time that really passed (a command's
        read-back publishes without being integrated, so it only widens that).
        The first window opens at the tracker's last reading, which can be
        older than the first publication (the setup's, before a read-back).
        """
        energy = self.coordinator.tracker.energy
        charge, discharge = energy.charge_energy, energy.discharge_energy
        if self._energy is None:
            then, power = self._tracked
            powers = [truth.power] if power is None else [truth.power, power]
            self._energy = (then, charge, discharge, powers)
            return
        then, last_charge, last_discharge, powers = self._energy
        powers.append(truth.power)
        moved_in, moved_out = charge - last_charge, discharge - last_discharge
        if min(moved_in, moved_out) < -EPSILON:
            self.problem(f"an energy total went down by {min(moved_in, moved_out)}")
        if abs(moved_in) <= EPSILON and abs(moved_out) <= EPSILON:
            return
        hours = (now - then) / 3600
        most_in = max(0.0, *powers) * hours / 1000
        most_out = max(0.0, *(-p for p in powers)) * hours / 1000
        self.figures.energy_counted_kwh += moved_in + moved_out
        self.figures.energy_bound_kwh += most_in + most_out
        if moved_in > most_in * (1 + 1e-9) + EPSILON:
            self.problem(f"charge energy moved {moved_in} kWh, at most {most_in}")
        if moved_out > most_out * (1 + 1e-9) + EPSILON:
            self.problem(f"discharge energy moved {moved_out} kWh, at most {most_out}")
        self._energy = (now, charge, discharge, [truth.power])

    def check_entities(self, snap: BatterySnapshot) -> None:
        voltage = self.state("voltage")
        if voltage is None or voltage == STATE_UNAVAILABLE:
            self.problem("entities did not recover on a good update")
        elif abs(float(voltage) - snap.voltage) > EPSILON:
            self.problem(f"voltage entity shows {voltage}, snapshot {snap.voltage}")
        for kind, state in snap.switches.items():
            shown = self.state(kind.value)
            want = (
                {True: STATE_ON, False: STATE_OFF}.get(state)
                if state is not None
                else None
            )
            if shown is not None and want is not None and shown != want:
                self.problem(f"{kind} shows {shown}, read back {state}")


async def run_soak(
    hass: HomeAssistant,
    clock: VirtualClock,
    proxy: VirtualProxy,
    family: str,
    *,
    steps: int,
    seed: int,
    storage: dict[str, Any] | None = None,
) -> SoakFigures:
    """Run ``steps`` updates of one pack of ``family`` with random faults.

    ``storage`` is the test's ``hass_storage``: with it, the stored state is
    corrupted once, half-way, between an unload and a new setup.
    """
    rng = random.Random(seed)
    figures = SoakFigures(family, steps, seed)
    link = BleLink()
    device = link.apply(bench_device(family, "A4:C1:38:50:AC:01"))
    randomize(device.pack, rng)
    proxy.add(device)
    proxy.advertise(device)
    entry = make_entry(device, family)
    entry.add_to_hass(hass)
    log = _Log(entry.title)
    root = logging.getLogger()
    # pytest keeps every record (and so every exception and frame it refers
    # to) until the test ends; Home Assistant does not. Set its capture aside.
    harness = [h for h in root.handlers if type(h).__module__ == "_pytest.logging"]
    for handler in harness:
        root.removeHandler(handler)
    root.addHandler(log)
    checker = _Checker(hass, clock, device, figures, rng)
    wall_clock = tracker_module.now
    setattr(  # noqa: B010
        tracker_module, "now", lambda: wall_clock() + checker.wall_offset
    )
    try:
        await clock.run(hass.config_entries.async_setup(entry.entry_id))
        checker.attach(entry.runtime_data.coordinator)

        async def corrupt_store() -> None:
            if storage is None:
                return
            device.faults.clear()
            checker.clear_faults()
            await clock.run(hass.config_entries.async_unload(entry.entry_id))
            key = f"{DOMAIN}.{entry.entry_id}"
            storage[key] = {
                "version": 1,
                "minor_version": 1,
                "key": key,
                "data": rng.choice(BAD_STORES),
            }
            figures.store_corruptions += 1
            await clock.run(hass.config_entries.async_setup(entry.entry_id))
            # A failed first connection makes Home Assistant retry the setup.
            for _ in range(SETUP_RETRIES):
                if entry.state is ConfigEntryState.LOADED:
                    break
                await clock.advance(DEFAULT_UPDATE_INTERVAL)
            checker.attach(entry.runtime_data.coordinator)

        await _steps(
            hass=hass,
            clock=clock,
            proxy=proxy,
            device=device,
            checker=checker,
            rng=rng,
            figures=figures,
            corrupt_store=corrupt_store,
        )
        coordinator: LithiumBmsCoordinator = entry.runtime_data.coordinator
        stats = coordinator.client.stats
        figures.reads, figures.read_failures = stats.reads, stats.read_failures
        figures.implausible_refused = stats.implausible_snapshots
        figures.problems += _leaks(proxy, device, coordinator)
        late_by = LATE_BY[1] * coordinator.client.driver.request_timeout
        await clock.run(hass.config_entries.async_unload(entry.entry_id))
        # A write still on the modelled link reaches the device, and an answer
        # the soak made late still leaves it, as on a real link: neither is a
        # timer left behind by the integration.
        await clock.advance(max(link.write_latency, late_by))
    finally:
        setattr(tracker_module, "now", wall_clock)  # noqa: B010
        root.removeHandler(log)
        for handler in harness:
            root.addHandler(handler)
    figures.errors_logged = log.errors
    figures.recoveries_logged = log.recoveries
    figures.store_resets_logged = log.store_resets
    figures.unknown_mask_warnings = log.unknown_mask
    figures.problems += list(log.unexpected)
    if proxy.slot_counter.used or device.connected:
        figures.problems.append("a connection outlived the unload")
    return figures


@dataclass
class _Episodes:
    """When the running protection, clock jump and absence end."""

    gone_until: int = -1
    protected_until: int = -1
    jumped_until: int = -1


async def _steps(
    *,
    hass: HomeAssistant,
    clock: VirtualClock,
    proxy: VirtualProxy,
    device: SimulatedBms,
    checker: _Checker,
    rng: random.Random,
    figures: SoakFigures,
    corrupt_store: Callable[[], Any],
) -> None:
    episodes = _Episodes()
    trace_from, measure_from = figures.steps // 2, 3 * figures.steps // 4
    corrupt_at = figures.steps // 3
    # Each kind of trouble the test asserts happens at least once, whatever
    # the dice say: from these steps on it is forced until it has happened.
    jump_at, gone_at, protect_at = (figures.steps // d for d in (5, 6, 4))
    baseline: tracemalloc.Snapshot | None = None
    tasks = 0
    for step in range(figures.steps):
        if step == trace_from:
            gc.collect()
            tracemalloc.start()
        elif step == measure_from:
            baseline, tasks = traced_memory(), len(asyncio.all_tasks())
        if step >= corrupt_at and not device.gone and not figures.store_corruptions:
            await corrupt_store()
        _absence(
            step,
            episodes,
            proxy=proxy,
            device=device,
            checker=checker,
            rng=rng,
            figures=figures,
            force=step >= gone_at and not figures.gone_periods,
        )
        _protection(
            step,
            episodes,
            device,
            rng,
            figures,
            force=step >= protect_at and not figures.protections,
        )
        _clock_jump(step, episodes, checker, rng, figures, force=step == jump_at)
        device.writes.clear()  # the simulator's own log of requests
        if not device.gone and rng.random() < P_FAULT:
            device.inject(rng.choice(ANSWER_FAULTS))
        if not device.gone and rng.random() < P_LINK_FAULT:
            checker.inject(rng.choice(list(LinkFault)))
        command_due = (
            step >= protect_at
            and bool(device.pack.alarms)
            and not figures.commands_under_protection
        )
        if not device.gone and (rng.random() < P_COMMAND or command_due):
            await _command(
                hass=hass,
                clock=clock,
                device=device,
                checker=checker,
                rng=rng,
                figures=figures,
            )
        await clock.advance(DEFAULT_UPDATE_INTERVAL)
    device.gone = False
    if baseline is not None:
        grown = traced_memory().compare_to(baseline, "filename")
        figures.memory_growth = sum(stat.size_diff for stat in grown)
        figures.task_growth = len(asyncio.all_tasks()) - tasks
    tracemalloc.stop()


def _absence(
    step: int,
    episodes: _Episodes,
    *,
    proxy: VirtualProxy,
    device: SimulatedBms,
    checker: _Checker,
    rng: random.Random,
    figures: SoakFigures,
    force: bool,
) -> None:
    """The device goes away for minutes, at random, and comes back."""
    if step == episodes.gone_until:
        device.gone = False
        proxy.advertise(device)
    elif episodes.gone_until < step and (force or rng.random() < P_GONE):
        figures.gone_periods += 1
        episodes.gone_until = step + rng.randint(*GONE_UPDATES)
        device.gone = True
        device.faults.clear()
        checker.clear_faults()
        if device.connected:
            device._drop_link()


def _protection(
    step: int,
    episodes: _Episodes,
    device: SimulatedBms,
    rng: random.Random,
    figures: SoakFigures,
    *,
    force: bool,
) -> None:
    """A protection holds one MOSFET off for a while, then clears."""
    if step == episodes.protected_until:
        device.pack.alarms.clear()
    elif episodes.protected_until < step and (force or rng.random() < P_PROTECTION):
        figures.protections += 1
        episodes.protected_until = step + rng.randint(*PROTECTION_UPDATES)
        device.pack.alarms = {rng.choice(HOLDING_ALARMS)}


def _clock_jump(
    step: int,
    episodes: _Episodes,
    checker: _Checker,
    rng: random.Random,
    figures: SoakFigures,
    *,
    force: bool,
) -> None:
    """The wall clock jumps ahead or back, then is corrected."""
    if step == episodes.jumped_until:
        checker.wall_offset = 0.0
    elif episodes.jumped_until < step and (force or rng.random() < P_CLOCK_JUMP):
        figures.clock_jumps += 1
        episodes.jumped_until = step + rng.randint(*JUMP_UPDATES)
        checker.wall_offset = rng.choice(CLOCK_JUMPS)


async def _command(
    *,
    hass: HomeAssistant,
    clock: VirtualClock,
    device: SimulatedBms,
    checker: _Checker,
    rng: random.Random,
    figures: SoakFigures,
) -> None:
    """Flip one switch through the service, sometimes ignored by the BMS.

    Afterwards the simulator's settings tell what really happened: a confirmed
    command took effect, and no other switch changed, except to the state the
    user last asked of it (a BMS that ignored that request, or whose answer was
    lost, gets it again with the next write of a register shared by both, as
    JBD's 0xE1; never a state nobody asked for).
    """
    kinds = [
        k
        for k in checker.coordinator.client.driver.switches
        if k.value in checker.entities
    ]
    if not kinds:
        return
    kind = rng.choice(sorted(kinds))
    before = checker.state(kind.value)
    if before not in (STATE_ON, STATE_OFF):
        return
    if rng.random() < P_IGNORED:
        device.inject(Fault.IGNORE_COMMAND)
    figures.commands += 1
    figures.commands_under_protection += bool(device.pack.alarms)
    settings_before = dict(Truth.of(device.pack).switches)
    wanted = before == STATE_OFF
    checker.requested[kind] = wanted
    service = SERVICE_TURN_ON if wanted else SERVICE_TURN_OFF
    call = hass.services.async_call(
        Platform.SWITCH,
        service,
        {ATTR_ENTITY_ID: checker.entities[kind.value]},
        blocking=True,
    )
    try:
        await clock.run(call)
    except HomeAssistantError:
        figures.commands_rejected += 1
        confirmed = False
    else:
        figures.commands_confirmed += 1
        confirmed = True
    device.faults.clear()
    settings = dict(Truth.of(device.pack).switches)
    if confirmed and settings[kind] is not wanted:
        checker.problem(f"{kind} -> {wanted} confirmed, but the BMS holds {settings}")
    for other, setting in settings.items():
        if (
            other is not kind
            and setting != settings_before[other]
            and setting is not checker.requested.get(other)
        ):
            checker.problem(f"switching {kind} changed {other} to {setting}")
    shown = checker.state(kind.value)
    read = checker.coordinator.data.switches.get(kind)
    if shown in (STATE_ON, STATE_OFF) and (shown == STATE_ON) is not read:
        checker.problem(f"{kind} shows {shown} after a command, read back {read}")


def traced_memory() -> tracemalloc.Snapshot:
    """Traced memory, without the test harness keeping every log record."""
    gc.collect()
    return tracemalloc.take_snapshot().filter_traces(
        [
            tracemalloc.Filter(False, logging.__file__),
            tracemalloc.Filter(False, "*/_pytest/*"),
            tracemalloc.Filter(False, "*/freezegun/*"),
            tracemalloc.Filter(False, tracemalloc.__file__),
        ]
    )


def _leaks(
    proxy: VirtualProxy, device: SimulatedBms, coordinator: LithiumBmsCoordinator
) -> list[str]:
    holders = proxy.slot_counter.holders
    if len(holders) > 1 or (holders and not coordinator.client.is_connected):
        return [f"slots held at the end: {holders}"]
    if device.connected and not coordinator.client.is_connected:
        return ["the device has a central the client does not know"]
    return []
