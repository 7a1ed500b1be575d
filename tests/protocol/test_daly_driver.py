"""The Daly driver against the Daly simulator, in every protocol variant."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bms_simulator.device import Fault
from bms_simulator.families.daly import DalySimulator
from bms_simulator.pack import PackModel
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.daly import a5, d2
from custom_components.lithium_bms.protocol.daly.driver import PROBES, DalyDriver
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    BmsTimeoutError,
    ChecksumError,
    CommandNotConfirmedError,
    CommandUnverifiableError,
    FrameError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.snapshot import (
    Alarm,
    BatterySnapshot,
    SwitchKind,
)

ADDRESS = "B4:E8:42:00:11:22"
VECTORS = {
    v["name"]: bytes.fromhex(v["hex"])
    for v in json.loads(
        (Path(__file__).parent / "data" / "daly_vectors.json").read_text()
    )
}
FIRST_PROBE = 0.3
PROBE = 0.15
# When a dongle that wakes this late answers: during the retried D2 probe,
# during the A5 0x80 probe, during the A5 0x40 probe, during the P81 probe.
DURING_D2_RETRY = FIRST_PROBE + PROBE / 2
DURING_A5_80 = FIRST_PROBE + 1.5 * PROBE
DURING_A5_40 = FIRST_PROBE + 2.5 * PROBE
DURING_P81 = FIRST_PROBE + 3.5 * PROBE


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts so silent probes cost little."""
    for name, value in {
        "request_timeout": 0.3,
        "first_probe_timeout": FIRST_PROBE,
        "probe_timeout": PROBE,
        "ack_timeout": 0.1,
        "confirm_delay": 0.01,
        "connect_delay": 0.0,
    }.items():
        monkeypatch.setattr(DalyDriver, name, value)


def pack_model(**changes: Any) -> PackModel:
    values: dict[str, Any] = {
        "cell_voltages": [3.301, 3.312, 3.298, 3.305, 3.333, 3.289, 3.3, 3.31],
        "current": -12.34,
        "soc": 67.8,
        "full_capacity": 280.0,
        "design_capacity": 280.0,
        "cycles": 42,
        "temperatures": [21.4, 22.6, 19.5],
        "mosfet_temperature": 31.2,
        "balancing_cells": {2, 5},
    }
    return PackModel(**(values | changes))


def make(
    mode: str = "d2",
    options: DriverOptions | None = None,
    pack: PackModel | None = None,
    *,
    probe: bool = False,
    **attributes: Any,
) -> tuple[DalySimulator, BmsClient]:
    """A simulator and a client; the variant is given unless ``probe``."""
    sim = DalySimulator(ADDRESS, mode=mode, pack=pack or pack_model())
    for name, value in attributes.items():
        setattr(sim, name, value)
    options = options or DriverOptions()
    if not probe and options.variant is None:
        variant = {"d2": "d2", "p81": "p81", "a5": "a5_80"}[mode]
        options = replace(options, variant=variant)
    driver = DalyDriver(SimulatorTransport(sim), options)
    return sim, BmsClient(driver)


def assert_matches_pack(snap: BatterySnapshot, pack: PackModel) -> None:
    """Equal to the pack model within the protocol's resolution."""
    assert snap.voltage == pytest.approx(pack.voltage, abs=0.05)
    assert snap.current == pytest.approx(pack.current, abs=0.05)
    assert snap.state_of_charge == pytest.approx(pack.soc, abs=0.05)
    assert snap.cell_voltages == pytest.approx(pack.cell_voltages, abs=5e-4)
    cells = [t.value for t in snap.probe_temperatures]
    assert cells == pytest.approx(pack.temperatures, abs=0.5)
    assert snap.remaining_capacity == pytest.approx(pack.remaining_capacity, abs=0.05)
    assert snap.cycles == pack.cycles
    assert snap.charge_mosfet == pack.charge_fet
    assert snap.discharge_mosfet == pack.discharge_fet
    assert snap.alarms == {Alarm(a) for a in pack.alarms}


# Probing.


@pytest.mark.parametrize(
    ("mode", "attributes", "variant"),
    [
        ("d2", {}, "d2"),
        ("a5", {}, "a5_80"),
        ("a5", {"a5_hosts": {0x80, 0x40}}, "a5_80"),
        ("a5", {"a5_hosts": {0x40}}, "a5_40"),
        ("p81", {}, "p81"),
        # Late answers: the D2 probe is retried, a late D2 answer counts during
        # the next probes, a late A5 answer is confirmed per host address.
        ("d2", {"first_answer_delay": DURING_D2_RETRY}, "d2"),
        ("d2", {"first_answer_delay": DURING_A5_80}, "d2"),
        ("a5", {"first_answer_delay": DURING_A5_40}, "a5_80"),
        ("a5", {"first_answer_delay": DURING_A5_40, "a5_hosts": {0x40}}, "a5_40"),
        ("p81", {"first_answer_delay": DURING_P81}, "p81"),
    ],
)
async def test_probe_detects_the_variant(
    mode: str, attributes: dict[str, Any], variant: str
) -> None:
    sim, client = make(mode, probe=True, **attributes)
    snap = await client.read_snapshot()
    assert client.driver.variant == variant
    assert_matches_pack(snap, sim.pack)
    await client.close()


async def test_probe_order_and_frames() -> None:
    sim, client = make("p81", probe=True)
    await client.read_snapshot()
    probes = [w.hex() for w in sim.writes[:5]]
    assert probes == [
        "d2030000003ed7b9",
        "d2030000003ed7b9",
        a5.build_request(0x90, 0x80).hex(),
        a5.build_request(0x90, 0x40).hex(),
        "8103000000405bfa",
    ]


async def test_probe_fails_when_nothing_answers() -> None:
    _sim, client = make("a5", probe=True, a5_hosts=set())
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    assert client.driver.variant is None


async def test_stored_variant_skips_probing() -> None:
    sim, client = make("a5", DriverOptions(variant="a5_40"), a5_hosts={0x40})
    snap = await client.read_snapshot()
    assert sim.writes[0] == a5.build_request(0x90, 0x40)
    assert all(w[0] == a5.START for w in sim.writes)
    assert_matches_pack(snap, sim.pack)


async def test_unknown_stored_variant_is_probed() -> None:
    sim, client = make("d2", DriverOptions(variant="bogus"))
    await client.read_snapshot()
    assert client.driver.variant == "d2"
    assert sim.writes[0] == d2.build_read(0, 0x3E)


async def test_probe_runs_once_across_reconnects() -> None:
    sim, client = make("a5", probe=True, a5_hosts={0x40})
    await client.read_snapshot()
    await client.close()
    sim.writes.clear()
    await client.read_snapshot()
    assert sim.connections == 2
    assert sim.writes[0] == a5.build_request(0x90, 0x40)


# Values and request counts.


@pytest.mark.parametrize(
    ("mode", "attributes", "per_update"),
    [
        # D2: the status block, the settings (MOS switches) and the balancer.
        ("d2", {}, 3),
        ("d2", {"status_registers": 62}, 4),
        ("d2", {"status_registers": 62, "mos_block": False}, 3),
        ("d2", {"settings_block": False}, 2),
        ("p81", {}, 2),
        ("a5", {}, 7),
    ],
)
async def test_values_and_requests_per_update(
    mode: str, attributes: dict[str, Any], per_update: int
) -> None:
    sim, client = make(mode, **attributes)
    sim.pack.alarms = set() if mode == "p81" else {"cell_overvoltage", "soc_low"}
    first = await client.read_snapshot()
    before = len(sim.writes)
    snap = await client.read_snapshot()
    assert len(sim.writes) - before == per_update
    assert first == snap
    assert_matches_pack(snap, sim.pack)
    has_mos_block = mode != "a5" and attributes.get("mos_block", True)
    assert snap.mosfet_temperature == (
        round(sim.pack.mosfet_temperature) if has_mos_block else None
    )
    if mode == "a5" or has_mos_block:
        assert snap.balancing_cells == frozenset({2, 5})
    assert snap.balancing is True
    has_settings = mode == "d2" and attributes.get("settings_block", True)
    assert snap.design_capacity == (280.0 if has_settings else None)
    assert snap.reported_cell_count == len(sim.pack.cell_voltages)


async def test_d2_update_reads_status_settings_and_balancer() -> None:
    sim, client = make("d2")
    await client.read_snapshot()
    sim.writes.clear()
    await client.read_snapshot()
    assert [w.hex() for w in sim.writes] == [
        "d203000000505655",
        "d20300800029965f",
        "d20300cf0001a796",
    ]


@pytest.mark.parametrize(
    ("attribute", "kind"),
    [
        ("charge_enabled", SwitchKind.CHARGE),
        ("discharge_enabled", SwitchKind.DISCHARGE),
        ("balancer_enabled", SwitchKind.BALANCER),
    ],
)
@pytest.mark.parametrize("protection", [set(), {"short_circuit"}])
async def test_d2_switch_changed_in_the_vendor_app_shows_at_the_next_update(
    attribute: str, kind: SwitchKind, protection: set[str]
) -> None:
    sim, client = make("d2")
    sim.pack.alarms = protection
    assert (await client.read_snapshot()).switches[kind] is True
    # Behind the driver's back, as the vendor app would; a protection that
    # holds both MOSFETs off must not hide the change either.
    setattr(sim.pack, attribute, False)
    assert (await client.read_snapshot()).switches[kind] is False
    setattr(sim.pack, attribute, True)
    assert (await client.read_snapshot()).switches[kind] is True


async def test_p81_reads_no_settings_block() -> None:
    # The real P81 0x100 block has another layout than D2's settings and holds
    # the parameter password (see the "P81 settings" vector): not read at all.
    sim, client = make("p81")
    snap = await client.read_snapshot()
    await client.read_device_info()
    assert snap.design_capacity is None
    starts = {int.from_bytes(w[2:4], "big") for w in sim.writes}
    assert starts == {0x00, 0x41, 0x178}


async def test_optional_d2_blocks_are_dropped_after_a_first_silence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim, client = make("d2", settings_block=False)
    original = sim._modbus_read

    def without_balancer(start: int, count: int) -> None:
        if start != d2.REG_BALANCER:
            original(start, count)

    monkeypatch.setattr(sim, "_modbus_read", without_balancer)
    snap = await client.read_snapshot()
    assert snap.switches[SwitchKind.BALANCER] is None
    assert snap.switches[SwitchKind.CHARGE] is True  # the MOSFET
    sim.writes.clear()
    await client.read_snapshot()
    assert sim.writes == [d2.build_read(0, d2.STATUS_LONG)]


async def test_settings_that_stop_answering_fail_the_update() -> None:
    sim, client = make("d2")
    await client.read_snapshot()
    sim.settings_block = False
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()


async def test_protection_code_and_alarms() -> None:
    sim, client = make("d2")
    sim.pack.alarms = {"short_circuit", "mosfet_fault", "frontend_error"}
    snap = await client.read_snapshot()
    assert snap.alarms == {
        Alarm.SHORT_CIRCUIT,
        Alarm.MOSFET_FAULT,
        Alarm.FRONTEND_ERROR,
    }
    assert snap.problem
    assert snap.protection_code == int.from_bytes(
        b"".join(sim.d2_registers()[r].to_bytes(2, "big") for r in range(0x3A, 0x3E)),
        "big",
    )
    assert Alarm.SOC_LOW in snap.supported_alarms


async def test_p81_has_no_named_alarms_or_switches() -> None:
    sim, client = make("p81")
    sim.heater = True
    snap = await client.read_snapshot()
    assert snap.switches == {}
    assert snap.supported_alarms == frozenset()
    assert snap.heater is True
    with pytest.raises(UnsupportedError):
        await client.set_switch(SwitchKind.CHARGE, False)
    assert sim.pack.charge_enabled


@pytest.mark.parametrize("mode", ["d2", "p81", "a5"])
async def test_invert_current(mode: str) -> None:
    sim, client = make(mode, DriverOptions(invert_current=True))
    snap = await client.read_snapshot()
    assert snap.current == pytest.approx(-sim.pack.current, abs=0.05)
    assert snap.power > 0


async def test_device_info() -> None:
    _sim, client = make("d2")
    info = await client.read_device_info()
    assert (info.sw_version, info.hw_version) == ("SIM-D2-1.0", "SIM-HW-2")
    _sim, client = make("p81")
    info = await client.read_device_info()
    assert (info.sw_version, info.hw_version) == ("SIM-D2-1.0", "SIM-HW-2")
    sim, client = make("a5")
    info = await client.read_device_info()
    assert info.manufacturer == "Daly"
    assert info.sw_version is None
    writes = len(sim.writes)
    assert await client.read_device_info() is info
    assert len(sim.writes) == writes


def test_the_version_replies_are_the_sensitive_frames() -> None:
    driver = make("d2")[1].driver
    sensitive = {name for name, frame in VECTORS.items() if driver.is_sensitive(frame)}
    assert sensitive == {
        "D2 version frame (0xA9 x32), real app snoop",
        "P81 version frame (0x178 x74, ESS-DL-BMS)",
    }
    assert not any(driver.is_sensitive(probe) for probe in PROBES.values())


@pytest.mark.parametrize("mode", ["d2", "p81"])
async def test_the_serial_number_stays_out_of_the_frame_log(mode: str) -> None:
    sim, client = make(mode)
    await client.read_device_info()
    await client.read_snapshot()
    log = [entry for _, entry in client.frame_log]
    assert any(entry.startswith("redacted") for entry in log)
    for secret in (sim.serial_number, sim.password):
        assert not any(secret.encode().hex() in entry for entry in log)


# Legacy multi-frame replies.


@pytest.mark.parametrize("mtu", [13, 20, 26, 244])
async def test_a5_multi_frame_notifications(mtu: int) -> None:
    cells = [3.2 + i / 1000 for i in range(16)]
    sim, client = make("a5", pack=pack_model(cell_voltages=cells), mtu=mtu)
    snap = await client.read_snapshot()
    assert_matches_pack(snap, sim.pack)


async def test_a5_uart_style_frame_count() -> None:
    sim, client = make("a5", all_cell_frames=False)
    assert_matches_pack(await client.read_snapshot(), sim.pack)


@pytest.mark.parametrize("all_cell_frames", [True, False])
async def test_a5_missing_frame_is_a_frame_error(all_cell_frames: bool) -> None:
    sim, client = make("a5", all_cell_frames=all_cell_frames)
    await client.read_snapshot()
    # 8 cells: frames 1-3 are needed; drop a middle one, then the last one.
    for dropped in (2, 3):
        sim.drop_frame = dropped
        with pytest.raises(FrameError):
            await client.read_snapshot()
    assert_matches_pack(await client.read_snapshot(), sim.pack)


async def test_a5_optional_commands_are_dropped_after_a_silence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim, client = make("a5")
    original = sim._a5_reply

    def without_balancing_and_failures(command: int) -> list[bytes]:
        return [] if command in (0x97, 0x98) else original(command)

    monkeypatch.setattr(sim, "_a5_reply", without_balancing_and_failures)
    snap = await client.read_snapshot()
    assert snap.balancing_cells is None
    assert snap.supported_alarms == frozenset()
    before = len(sim.writes)
    await client.read_snapshot()
    assert len(sim.writes) - before == 5


# Faults.


@pytest.mark.parametrize("mode", ["d2", "a5", "p81"])
async def test_bad_checksum_then_recovery(mode: str) -> None:
    sim, client = make(mode)
    await client.read_snapshot()
    sim.inject(Fault.BAD_CHECKSUM)
    with pytest.raises(ChecksumError):
        await client.read_snapshot()
    assert_matches_pack(await client.read_snapshot(), sim.pack)


@pytest.mark.parametrize("fault", [Fault.NO_ANSWER, Fault.TRUNCATED])
async def test_silence_then_recovery(fault: Fault) -> None:
    sim, client = make("d2")
    await client.read_snapshot()
    sim.inject(fault)
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    assert_matches_pack(await client.read_snapshot(), sim.pack)
    assert client.stats.connects == 2


# Switches.


@pytest.mark.parametrize("kind", [SwitchKind.CHARGE, SwitchKind.DISCHARGE])
@pytest.mark.parametrize("mode", ["d2", "a5"])
async def test_mosfet_switches_with_read_back(mode: str, kind: SwitchKind) -> None:
    sim, client = make(mode)
    attribute = "charge_enabled" if kind is SwitchKind.CHARGE else "discharge_enabled"
    await client.read_snapshot()
    snap = await client.set_switch(kind, False)
    assert getattr(sim.pack, attribute) is False
    assert snap.switches[kind] is False
    assert_matches_pack(snap, sim.pack)
    snap = await client.set_switch(kind, True)
    assert getattr(sim.pack, attribute) is True
    assert snap.switches[kind] is True
    assert_matches_pack(snap, sim.pack)


async def test_d2_switch_frames_are_byte_exact() -> None:
    sim, client = make("d2")
    await client.set_switch(SwitchKind.CHARGE, False)
    await client.set_switch(SwitchKind.DISCHARGE, True)
    await client.set_switch(SwitchKind.BALANCER, False)
    writes = [w.hex() for w in sim.writes if w[1] == d2.WRITE]
    assert writes == ["d20600a500008a4a", "d20600a60001bb8a", "d20600cf0000aa56"]


async def test_a5_switch_frames_use_the_host_address() -> None:
    sim, client = make("a5", DriverOptions(variant="a5_40"), a5_hosts={0x40})
    await client.set_switch(SwitchKind.DISCHARGE, False)
    assert a5.build_request(0xD9, 0x40, b"\x00") in sim.writes


async def test_d2_balancer_switch() -> None:
    sim, client = make("d2")
    snap = await client.read_snapshot()
    assert snap.switches[SwitchKind.BALANCER] is True
    snap = await client.set_switch(SwitchKind.BALANCER, False)
    assert sim.pack.balancer_enabled is False
    assert snap.switches[SwitchKind.BALANCER] is False
    assert d2.build_read(0xCF, 1) in sim.writes


async def test_a5_has_no_balancer_switch() -> None:
    _sim, client = make("a5")
    snap = await client.read_snapshot()
    assert SwitchKind.BALANCER not in snap.switches
    with pytest.raises(UnsupportedError):
        await client.set_switch(SwitchKind.BALANCER, False)


async def test_d2_switch_state_is_the_register_not_the_mosfet() -> None:
    sim, client = make("d2")
    sim.pack.alarms = {"cell_overvoltage"}
    sim.pack.charge_enabled = False
    snap = await client.set_switch(SwitchKind.CHARGE, True)
    assert sim.pack.charge_enabled is True
    assert snap.switches[SwitchKind.CHARGE] is True
    assert snap.charge_mosfet is False


async def test_d2_switch_without_settings_reads_the_mosfet() -> None:
    _sim, client = make("d2", settings_block=False)
    snap = await client.read_snapshot()
    assert snap.design_capacity is None
    assert snap.switches[SwitchKind.CHARGE] is True
    snap = await client.set_switch(SwitchKind.CHARGE, False)
    assert snap.switches[SwitchKind.CHARGE] is False
    assert snap.charge_mosfet is False


@pytest.mark.parametrize("mode", ["d2", "a5"])
async def test_ignored_command_is_not_confirmed(mode: str) -> None:
    sim, client = make(mode)
    await client.read_snapshot()
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(CommandNotConfirmedError):
        await client.set_switch(SwitchKind.CHARGE, False)
    assert sim.pack.charge_enabled is True
    assert client.stats.command_failures == 1
    snap = await client.set_switch(SwitchKind.CHARGE, False)
    assert snap.switches[SwitchKind.CHARGE] is False


@pytest.mark.parametrize("mode", ["d2", "a5"])
async def test_refused_command_is_not_confirmed(mode: str) -> None:
    sim, client = make(mode, refuse_commands=True)
    with pytest.raises(CommandNotConfirmedError):
        await client.set_switch(SwitchKind.DISCHARGE, False)
    assert sim.pack.discharge_enabled is True


def hold_off_by_protection(sim: DalySimulator, kind: SwitchKind) -> None:
    """A protection that holds the MOSFET of ``kind`` off."""
    sim.pack.alarms = {
        "cell_overvoltage" if kind is SwitchKind.CHARGE else "cell_undervoltage"
    }


@pytest.mark.parametrize("kind", [SwitchKind.CHARGE, SwitchKind.DISCHARGE])
@pytest.mark.parametrize(
    ("mode", "attributes"), [("a5", {}), ("d2", {"settings_block": False})]
)
async def test_off_under_protection_cannot_be_confirmed_by_the_mosfet(
    mode: str, attributes: dict[str, Any], kind: SwitchKind
) -> None:
    sim, client = make(mode, **attributes)
    attribute = "charge_enabled" if kind is SwitchKind.CHARGE else "discharge_enabled"
    hold_off_by_protection(sim, kind)
    await client.read_snapshot()
    for ignored in (True, False):
        if ignored:
            sim.inject(Fault.IGNORE_COMMAND)
        with pytest.raises(CommandUnverifiableError):
            await client.set_switch(kind, False)
        # Sent either way; whether the BMS took it, nothing it shows can say.
        assert getattr(sim.pack, attribute) is ignored
        assert (await client.read_snapshot()).switches[kind] is False


async def test_d2_off_under_protection_is_confirmed_by_the_register() -> None:
    sim, client = make("d2")
    hold_off_by_protection(sim, SwitchKind.DISCHARGE)
    await client.read_snapshot()
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(CommandNotConfirmedError) as caught:
        await client.set_switch(SwitchKind.DISCHARGE, False)
    assert not isinstance(caught.value, CommandUnverifiableError)
    snap = await client.set_switch(SwitchKind.DISCHARGE, False)
    assert sim.pack.discharge_enabled is False
    assert snap.switches[SwitchKind.DISCHARGE] is False


@pytest.mark.parametrize(
    ("mode", "attributes"), [("a5", {}), ("d2", {"settings_block": False})]
)
async def test_off_that_turns_a_conducting_mosfet_off_is_confirmed(
    mode: str, attributes: dict[str, Any]
) -> None:
    sim, client = make(mode, **attributes)
    snap = await client.set_switch(SwitchKind.CHARGE, False)
    assert snap.switches[SwitchKind.CHARGE] is False
    assert sim.pack.charge_enabled is False
    # Already off by the setting: a second "off" has nothing to show.
    with pytest.raises(CommandUnverifiableError):
        await client.set_switch(SwitchKind.CHARGE, False)
    snap = await client.set_switch(SwitchKind.CHARGE, True)
    assert snap.switches[SwitchKind.CHARGE] is True


async def test_a5_switch_without_acknowledgement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim, client = make("a5")

    def apply_silently(command: int, value: int) -> None:
        assert command == a5.CHARGE_SWITCH
        sim.pack.charge_enabled = bool(value)

    monkeypatch.setattr(sim, "_a5_switch", apply_silently)
    snap = await client.set_switch(SwitchKind.CHARGE, False)
    assert snap.switches[SwitchKind.CHARGE] is False
