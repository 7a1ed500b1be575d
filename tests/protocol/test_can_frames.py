"""Pylontech CAN: the captured frames, malformed frames, the decoder's rules."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from bms_simulator.can import CanBroadcaster, Limits, demo_pack
from custom_components.lithium_bms.protocol.can import decoder as decoder_module
from custom_components.lithium_bms.protocol.can import (
    frames,
    growatt_frames,
    jk_frames,
)
from custom_components.lithium_bms.protocol.can.decoder import (
    FRESH_FOR,
    GROWATT,
    JK,
    PYLONTECH,
    PylonDecoder,
)
from custom_components.lithium_bms.protocol.can.driver import PylonCanDriver
from custom_components.lithium_bms.protocol.errors import FrameError
from custom_components.lithium_bms.protocol.plausibility import check
from custom_components.lithium_bms.protocol.snapshot import Alarm

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "can_vectors.json").read_text()
)


def _plain(
    part: frames.Decoded | growatt_frames.GrowattDecoded | jk_frames.JkDecoded | None,
) -> dict[str, Any] | None:
    if part is None:
        return None
    if isinstance(part, str):
        return {"kind": "name", "name": part}
    kind = {
        frames.ChargeLimits: "limits",
        frames.ChargeState: "state",
        frames.Measurement: "measurement",
        frames.Protection: "protection",
        frames.AlarmFlags: "alarms",
        frames.Requests: "requests",
        frames.BatteryInfo: "info",
        frames.InstalledCapacity: "installed",
        jk_frames.JkStatus: "jk_status",
        jk_frames.JkTemperatures: "jk_temperatures",
        jk_frames.JkCapacity: "jk_capacity",
        jk_frames.JkCells: "jk_cells",
        growatt_frames.GrowattLimits: "growatt_limits",
        growatt_frames.GrowattCounts: "growatt_counts",
        growatt_frames.GrowattMeasurement: "growatt_measurement",
        growatt_frames.GrowattCells: "growatt_cells",
        growatt_frames.GrowattMaker: "growatt_maker",
    }[type(part)]
    values = dataclasses.asdict(part)
    if "alarms" in values:
        values["alarms"] = sorted(values["alarms"])
    if "voltages" in values:
        values["voltages"] = list(values["voltages"])
    return {"kind": kind, **values}


def _decode_vector(
    vector: dict[str, Any],
) -> frames.Decoded | growatt_frames.GrowattDecoded | jk_frames.JkDecoded | None:
    arbitration_id = int(vector["id"], 16)
    data = bytes.fromhex(vector["hex"])
    extended = vector.get("extended", False)
    jk = jk_frames.decode_jk(arbitration_id, extended, data)
    if jk is not None:
        assert jk[0] == 0, "the captured BMS is at address 0"
        return jk[1]
    if vector["name"].startswith("growatt_"):
        return growatt_frames.decode_growatt(arbitration_id, data)
    return None if extended else frames.decode(arbitration_id, data)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_captured_frame_decodes_exactly(vector: dict[str, Any]) -> None:
    assert vector["source"]
    assert vector["note"]
    part = _decode_vector(vector)
    if vector["name"].endswith("_unknown"):
        # No source states its values: decoded without an error, not checked.
        assert vector["expected"] is None
        return
    assert _plain(part) == vector["expected"]


@pytest.mark.parametrize(
    ("arbitration_id", "data"),
    [
        (0x351, bytes.fromhex("1402c012c0")),  # 5 of 6 bytes
        (0x355, bytes.fromhex("5800")),
        (0x355, bytes.fromhex("6500 6400".replace(" ", ""))),  # SOC 101 %
        (0x356, bytes.fromhex("7a13f2fe")),
        (0x356, bytes.fromhex("f2fff2fe6b01")),  # negative pack voltage
        (0x359, bytes.fromhex("0000")),
        (0x35C, b""),
        (0x35E, b"        "),
        (0x35E, b"PY\x01LON"),
        (0x351, bytes(9)),
        (0x35A, bytes.fromhex("aaaaaaaaaaaaaa")),  # 7 of 8 bytes
        (0x35F, bytes.fromhex("4c6901176900")[:5]),
        (0x379, bytes.fromhex("9c")),
        (0x379, bytes(2)),  # no capacity installed
    ],
)
def test_malformed_frame_is_refused(arbitration_id: int, data: bytes) -> None:
    with pytest.raises(FrameError):
        frames.decode(arbitration_id, data)


def test_protection_bits_name_each_alarm() -> None:
    every = frames.decode_protection(bytes([0b1001_1110, 0b0000_1001, 0, 0, 1]))
    assert every.alarms == frames.SUPPORTED_ALARMS
    warnings_only = frames.decode_protection(bytes([0, 0, 0xFF, 0xFF]))
    assert warnings_only.alarms == frozenset()
    assert warnings_only.code == 0xFFFF0000
    assert warnings_only.modules is None


def test_alarm_pairs_name_each_alarm() -> None:
    """Each mapped pair reads 01 (active); 10 is cleared, 00 and 11 not active."""
    flags = bytearray(8)
    for byte, bit in frames.ALARM_PAIRS:
        flags[byte] |= 0b01 << bit
    every = frames.decode_alarms(bytes(flags))
    assert every.alarms == frames.V13_SUPPORTED_ALARMS
    assert every.code == int.from_bytes(flags, "little")
    cleared = frames.decode_alarms(bytes([0xAA] * 8))
    assert cleared.alarms == frozenset()
    neither = frames.decode_alarms(bytes([0xFF] * 4 + [0] * 4))
    assert neither.alarms == frozenset()
    # The unmapped pairs (general alarm, contactor) and the warnings never
    # raise an alarm.
    unmapped = frames.decode_alarms(
        bytes([0b0000_0001, 0, 0b0000_0100, 0]) + bytes([0x55] * 4)
    )
    assert unmapped.alarms == frozenset()
    # The plain temperature pairs show as the discharge ones.
    hot = frames.decode_alarms(bytes([0b0100_0001]) + bytes(7))
    assert hot.alarms == {Alarm.DISCHARGE_OVERTEMPERATURE}
    assert hot.code == 0b0100_0001
    cold = frames.decode_alarms(bytes([0, 0b0000_0001]) + bytes(6))
    assert cold.alarms == {Alarm.DISCHARGE_UNDERTEMPERATURE}
    overvoltage = frames.decode_alarms(bytes([0b0000_0100]) + bytes(7))
    assert overvoltage.alarms == {Alarm.PACK_OVERVOLTAGE}


def test_request_flags() -> None:
    requests = frames.decode_requests(bytes([0x38]))
    assert requests == frames.Requests(
        charge_enabled=False,
        discharge_enabled=False,
        force_charge=True,
        full_charge_request=True,
    )
    assert frames.decode_requests(bytes([0x10])).force_charge  # force charge II


def test_six_byte_limits_have_no_discharge_voltage() -> None:
    limits = frames.decode_limits(bytes.fromhex("1402c012c012"))
    assert limits.discharge_voltage is None


def test_pack_round_trip() -> None:
    packet = frames.pack(0x1806E5F4, b"\x01", extended=True)
    assert frames.unpack(packet) == (0x1806E5F4, True, b"\x01")
    with pytest.raises(FrameError):
        frames.unpack(b"\x00\x01")


def _feed_vectors(decoder: PylonDecoder, prefix: str) -> None:
    for vector in VECTORS:
        if vector["name"].startswith(prefix):
            decoder.feed(
                frames.pack(
                    int(vector["id"], 16),
                    bytes.fromhex(vector["hex"]),
                    extended=vector.get("extended", False),
                )
            )


def test_decoder_builds_the_captured_reading() -> None:
    decoder = PylonDecoder()
    _feed_vectors(decoder, "v12_")
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert snapshot.voltage == 49.86
    assert snapshot.current == -27.0
    assert snapshot.state_of_charge == 88
    assert snapshot.state_of_health == 94
    assert [t.value for t in snapshot.temperatures] == [36.3]
    assert snapshot.charge_voltage_limit == 53.2
    assert snapshot.charge_current_limit == 480.0
    assert snapshot.discharge_current_limit == 480.0
    assert snapshot.discharge_voltage_limit == 45.0
    assert snapshot.charge_enabled
    assert snapshot.discharge_enabled
    assert snapshot.force_charge is False
    assert snapshot.full_charge_request is False
    assert snapshot.manufacturer_name == "PYLON"
    assert snapshot.alarms == frozenset()
    assert snapshot.supported_alarms == frames.SUPPORTED_ALARMS
    assert decoder.modules == 6
    assert snapshot.cell_voltages == ()


def test_v13_reading_has_the_sma_alarms_and_no_requests() -> None:
    decoder = PylonDecoder()
    _feed_vectors(decoder, "v13_")
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert (snapshot.voltage, snapshot.state_of_charge) == (49.87, 84)
    assert snapshot.supported_alarms == frames.V13_SUPPORTED_ALARMS
    assert snapshot.alarms == frozenset()
    assert snapshot.force_charge is None
    assert snapshot.charge_enabled is None
    assert snapshot.design_capacity is None
    assert decoder.stats.unknown == 0
    assert decoder.modules is None


def test_byd_reading_has_its_capacities() -> None:
    """The BYD capture: 105 Ah available of 156 Ah installed, every alarm clear."""
    decoder = PylonDecoder()
    _feed_vectors(decoder, "byd_")
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert (snapshot.voltage, snapshot.current) == (53.1, -0.7)
    assert (snapshot.state_of_charge, snapshot.state_of_health) == (67, 100)
    assert snapshot.remaining_capacity == 105
    assert snapshot.design_capacity == 156
    assert snapshot.full_capacity is None
    assert snapshot.alarms == frozenset()
    assert snapshot.supported_alarms == frames.V13_SUPPORTED_ALARMS
    assert snapshot.protection_code == 0xAAAAAAAAAAAAAAAA
    assert snapshot.charge_voltage_limit == 58.4
    assert snapshot.manufacturer_name == "BYD"


def test_both_alarm_frames_are_joined() -> None:
    """A battery sending 0x359 and 0x35A: the alarms of both, 0x359's code."""
    decoder = PylonDecoder()
    _feed_vectors(decoder, "v12_")
    decoder.feed(frames.pack(0x35A, bytes([0, 0, 0b0001_0000, 0]) + bytes(4)))
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert snapshot.alarms == {Alarm.SHORT_CIRCUIT}
    assert snapshot.supported_alarms == (
        frames.SUPPORTED_ALARMS | frames.V13_SUPPORTED_ALARMS
    )
    assert snapshot.protection_code == 0


def test_decoder_needs_state_and_measurement() -> None:
    decoder = PylonDecoder()
    _feed_vectors(decoder, "sample_")  # no 0x356 in the sample
    assert decoder.snapshot() is None
    assert decoder.manufacturer is None


def test_malformed_frame_never_changes_the_reading() -> None:
    decoder = PylonDecoder()
    _feed_vectors(decoder, "v12_")
    with pytest.raises(FrameError):
        decoder.feed(frames.pack(0x355, bytes.fromhex("ff00")))
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert snapshot.state_of_charge == 88
    assert decoder.stats.malformed == 1
    assert decoder.stats.last_malformed


def test_extended_and_unknown_ids_are_ignored() -> None:
    decoder = PylonDecoder()
    assert not decoder.feed(frames.pack(0x355, bytes(4), extended=True))
    assert not decoder.feed(frames.pack(0x123, bytes(8)))
    assert decoder.stats.unknown == 2
    assert decoder.snapshot() is None


def test_stale_parts_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(decoder_module.time, "monotonic", lambda: now[0])
    decoder = PylonDecoder()
    _feed_vectors(decoder, "v12_")
    assert decoder.snapshot() is not None
    now[0] += FRESH_FOR + 0.1
    assert decoder.snapshot() is None
    decoder.reset()
    assert decoder.snapshot() is None


def test_simulator_frames_decode_to_its_pack() -> None:
    pack = demo_pack()
    pack.alarms = {"pack_overvoltage", "hardware_fault"}
    sim = CanBroadcaster(
        pack, manufacturer="DEYE", modules=3, limits=Limits(force_charge=True)
    )
    decoder = PylonDecoder()
    for message in sim.messages():
        decoder.feed(frames.pack(message.arbitration_id, bytes(message.data)))
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert snapshot.voltage == round(pack.voltage, 2)
    assert snapshot.current == pack.current
    assert snapshot.state_of_charge == pack.soc
    assert snapshot.alarms == {Alarm.PACK_OVERVOLTAGE, Alarm.HARDWARE_FAULT}
    assert snapshot.force_charge is True
    assert snapshot.manufacturer_name == "DEYE"
    assert decoder.modules == 3


def test_v13_simulator_frames_decode_to_its_pack() -> None:
    pack = demo_pack()
    pack.alarms = {"charge_overcurrent", "cell_voltage_difference"}
    sim = CanBroadcaster(pack, version="1.3", installed_capacity=True)
    decoder = PylonDecoder()
    messages = sim.messages()
    assert [m.arbitration_id for m in messages] == [
        0x351,
        0x355,
        0x356,
        0x35A,
        0x35E,
        0x35F,
        0x379,
    ]
    for message in messages:
        assert decoder.feed(frames.pack(message.arbitration_id, bytes(message.data)))
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert snapshot.state_of_charge == pack.soc
    assert snapshot.alarms == {Alarm.CHARGE_OVERCURRENT, Alarm.CELL_VOLTAGE_DIFFERENCE}
    assert snapshot.remaining_capacity == round(pack.remaining_capacity)
    assert snapshot.design_capacity == pack.design_capacity
    assert snapshot.charge_enabled is None


def test_a_cycle_is_heard_once_the_measurement_comes_again() -> None:
    decoder = PylonDecoder()
    _feed_vectors(decoder, "v12_")
    assert not decoder.cycle_heard
    decoder.feed(frames.pack(0x356, bytes.fromhex("7a13f2fe6b01")))
    assert decoder.cycle_heard
    decoder.reset()
    assert not decoder.cycle_heard


# The capture's C01 to C16, as its decoder states them.
JK_CELLS = (
    *(3.573, 3.572, 3.571, 3.57),
    *(3.57, 3.57, 3.571, 3.571),
    *(3.572, 3.571, 3.571, 3.571),
    *(3.57, 3.571, 3.57, 3.571),
)


def _jk_cells(group: int, millivolts: tuple[int, ...]) -> bytes:
    return frames.pack(
        jk_frames.CELLS_ID + (group << 16),
        b"".join(mv.to_bytes(2, "little") for mv in millivolts),
        extended=True,
    )


def test_jk_capture_is_a_whole_reading_with_its_cells() -> None:
    """The JK capture alone: its stated values, the 16 cells, through the gate."""
    decoder = PylonDecoder()
    _feed_vectors(decoder, "jk_")
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert decoder.protocol == JK
    assert (snapshot.voltage, snapshot.current) == (57.1, 0.0)
    assert snapshot.state_of_charge == 99
    assert snapshot.cell_voltages == JK_CELLS
    assert [t.value for t in snapshot.temperatures] == [23.0]
    assert (snapshot.remaining_capacity, snapshot.design_capacity) == (39.5, 40.0)
    assert snapshot.cycles == 0
    assert snapshot.supported_alarms == frozenset()
    check(snapshot, PylonCanDriver.limits)
    assert decoder.stats.unknown == 0


def test_jk_cells_join_a_pylontech_reading() -> None:
    decoder = PylonDecoder()
    _feed_vectors(decoder, "v12_")
    _feed_vectors(decoder, "jk_cells_")
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert decoder.protocol == PYLONTECH
    assert snapshot.voltage == 49.86, "Pylontech's measurement, not JK's"
    assert snapshot.cell_voltages == JK_CELLS


def test_jk_cells_stop_at_a_missing_group_and_drop_unfitted_cells() -> None:
    decoder = PylonDecoder()
    _feed_vectors(decoder, "jk_status")
    decoder.feed(_jk_cells(0, (3300, 3301, 3302, 3303)))
    decoder.feed(_jk_cells(1, (3304, 3305, 0, 0)))
    decoder.feed(_jk_cells(3, (3306, 3307, 3308, 3309)))  # group 2 never came
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert snapshot.cell_voltages == (3.3, 3.301, 3.302, 3.303, 3.304, 3.305)
    decoder.reset()
    _feed_vectors(decoder, "jk_status")
    decoder.feed(_jk_cells(1, (3304, 3305, 3306, 3307)))  # no first group
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert snapshot.cell_voltages == ()


def test_jk_cycle_waits_for_the_cells_to_come_again() -> None:
    decoder = PylonDecoder()
    _feed_vectors(decoder, "jk_status")
    _feed_vectors(decoder, "jk_status")
    assert decoder.cycle_heard, "no cells sent: the status twice is a cycle"
    decoder.feed(_jk_cells(0, (3300,) * 4))
    assert not decoder.cycle_heard, "cells are sent: wait for their next burst"
    decoder.feed(_jk_cells(1, (3300,) * 4))
    decoder.feed(_jk_cells(0, (3300,) * 4))
    assert decoder.cycle_heard
    decoder.reset()
    assert not decoder.cycle_heard


def test_stale_jk_cells_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(decoder_module.time, "monotonic", lambda: now[0])
    decoder = PylonDecoder()
    _feed_vectors(decoder, "jk_")
    now[0] += FRESH_FOR + 0.1
    _feed_vectors(decoder, "jk_status")
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert snapshot.cell_voltages == ()
    assert snapshot.temperatures == ()
    assert snapshot.remaining_capacity is None


@pytest.mark.parametrize(
    ("arbitration_id", "extended", "data"),
    [
        (0x2F4, False, bytes.fromhex("3b02a00f")),  # 4 of 5 bytes
        (0x2F4, False, bytes.fromhex("3b02a00f65000000")),  # SOC 101 %
        (0x5F4, False, bytes.fromhex("49014900")),
        (0x18F128F4, True, bytes.fromhex("8b0190015a00")),
        (0x18F128F4, True, bytes.fromhex("a10190015a000000")),  # 41.7 of 40 Ah
        (0x18E028F4, True, b""),
        (0x18E128F4, True, bytes.fromhex("f20df20df3")),  # half a cell
        (0x18E028F4, True, bytes(9)),
    ],
)
def test_malformed_jk_frame_is_refused(
    arbitration_id: int, extended: bool, data: bytes
) -> None:
    with pytest.raises(FrameError):
        jk_frames.decode_jk(arbitration_id, extended, data)


def test_jk_frames_of_other_ids_are_ignored() -> None:
    decoder = PylonDecoder()
    assert not decoder.feed(frames.pack(0x18E028F5, bytes(8), extended=True))
    assert not decoder.feed(frames.pack(0x18E828F4, bytes(8), extended=True))
    assert not decoder.feed(frames.pack(0x2F4, bytes(8), extended=True))
    assert not decoder.feed(frames.pack(0x18F128F4 & 0x7FF, bytes(8)))
    assert decoder.stats.unknown == 4
    assert decoder.snapshot() is None


def test_jk_simulator_sends_the_captured_bytes() -> None:
    """The simulator, set to the captured pack, sends the capture's frames."""
    pack = demo_pack()
    pack.cell_voltages = list(JK_CELLS)
    pack.current = 0.0
    pack.soc = 99.0
    sent = {
        m.arbitration_id: bytes(m.data).hex()
        for m in CanBroadcaster(pack, version="jk").messages()
    }
    for vector in VECTORS:
        if vector["name"].startswith(("jk_status", "jk_cells_")):
            assert sent[int(vector["id"], 16)] == vector["hex"], vector["name"]


def _heard(sim: CanBroadcaster) -> PylonDecoder:
    """A decoder fed one broadcast cycle of ``sim``, every frame a known one."""
    decoder = PylonDecoder()
    for message in sim.messages():
        assert decoder.feed(
            frames.pack(
                message.arbitration_id,
                bytes(message.data),
                extended=message.is_extended_id,
            )
        )
    return decoder


def _jk_fed(decoder: PylonDecoder, *sims: CanBroadcaster) -> PylonDecoder:
    """``decoder`` fed one cycle of each simulator in turn (some not read)."""
    for sim in sims:
        for message in sim.messages():
            decoder.feed(
                frames.pack(
                    message.arbitration_id,
                    bytes(message.data),
                    extended=message.is_extended_id,
                )
            )
    return decoder


def _jk_pack(cell: float) -> CanBroadcaster:
    pack = demo_pack()
    pack.cell_voltages = [cell] * 8
    return CanBroadcaster(pack, version="jk")


def test_jk_frames_carry_the_sender_address() -> None:
    assert jk_frames.decode_jk(0x2F6, False, bytes.fromhex("3b02a00f63")) == (
        2,
        jk_frames.JkStatus(57.1, 0.0, 99),
    )
    cells = jk_frames.decode_jk(0x18E128FF, True, bytes.fromhex("f20df20d"))
    assert cells == (11, jk_frames.JkCells(1, (3.57, 3.57)))
    # Last byte F3 or below, or 0x300 on: no JK address.
    assert jk_frames.decode_jk(0x2F3, False, bytes(8)) is None
    assert jk_frames.decode_jk(0x18E028F3, True, bytes(8)) is None


def test_the_jk_bms_at_another_address_is_read_alone() -> None:
    """Two JK packs on one bus: the entry's address is read, the other not."""
    zero, two = _jk_pack(3.3), _jk_pack(3.4)
    two.jk_address = 2
    decoder = _jk_fed(PylonDecoder(2), zero, two, zero, two)
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert snapshot.cell_voltages == (3.4,) * 8
    assert decoder.jk_heard == {0, 2}
    assert decoder.stats.unknown == 2 * len(zero.messages())
    only_zero = _jk_fed(PylonDecoder(), two, two)
    assert only_zero.snapshot() is None, "address 2 is not the default's"


def test_listening_reads_the_lowest_jk_address_heard() -> None:
    """The flow reads the lowest address; a lower one heard later takes over."""
    one, three = _jk_pack(3.3), _jk_pack(3.4)
    one.jk_address, three.jk_address = 1, 3
    decoder = _jk_fed(PylonDecoder(None), three, three)
    assert decoder.jk_bound == 3
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert snapshot.cell_voltages == (3.4,) * 8
    _jk_fed(decoder, one)
    assert decoder.jk_bound == 1
    assert not decoder.cycle_heard, "address 3's cycle does not count for 1"
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert snapshot.cell_voltages == (3.3,) * 8, "none of address 3's cells kept"
    _jk_fed(decoder, three, one)
    assert decoder.cycle_heard
    assert decoder.jk_bound == 1
    assert PylonDecoder(None).jk_bound is None


def test_jk_simulator_frames_decode_to_its_pack() -> None:
    pack = demo_pack()
    pack.cell_voltages = [3.301, 3.302, 3.303, 3.304, 3.305, 3.306]
    pack.temperatures = [21.0, 25.0]
    sim = CanBroadcaster(pack, version="jk")
    decoder = _heard(sim)
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert decoder.protocol == JK
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == round(pack.voltage, 1)
    assert snapshot.current == pack.current
    assert snapshot.state_of_charge == pack.soc
    assert [t.value for t in snapshot.temperatures] == [23.0]
    assert snapshot.remaining_capacity == round(pack.remaining_capacity, 1)
    assert snapshot.cycles == pack.cycles


def test_pylontech_simulator_with_jk_cells() -> None:
    sim = CanBroadcaster(demo_pack(), jk_cells=True)
    decoder = _heard(sim)
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert decoder.protocol == PYLONTECH
    assert snapshot.cell_voltages == (3.325,) * 16
    assert snapshot.manufacturer_name == "PYLON"


GROWATT_CELLS = (
    *(3.464, 3.458, 3.463, 3.462),
    *(3.462, 3.465, 3.462, 3.465),
    *(3.466, 3.464, 3.466, 3.468),
    *(3.467, 3.46, 3.464, 3.463),
)


def test_growatt_capture_is_a_whole_reading_with_its_cells() -> None:
    """The Seplos capture on Growatt's protocol: every cell, through the gate."""
    decoder = PylonDecoder()
    _feed_vectors(decoder, "growatt_")
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert decoder.protocol == GROWATT
    assert (snapshot.voltage, snapshot.current) == (55.42, 0.0)
    assert (snapshot.state_of_charge, snapshot.state_of_health) == (70, 100)
    assert snapshot.cell_voltages == GROWATT_CELLS
    assert round(sum(snapshot.cell_voltages), 3) == 55.419
    assert [t.value for t in snapshot.temperatures] == [26.5]
    assert snapshot.charge_voltage_limit == 57.6
    assert (snapshot.charge_current_limit, snapshot.discharge_current_limit) == (
        180.0,
        180.0,
    )
    assert snapshot.manufacturer_name == "GT"
    assert snapshot.remaining_capacity is None, "0x314 is not read"
    assert snapshot.supported_alarms == frozenset()
    check(snapshot, PylonCanDriver.limits)


def _growatt(arbitration_id: int, data: bytes) -> bytes:
    return frames.pack(arbitration_id, data)


def test_growatt_cells_only_when_every_counted_cell_came() -> None:
    decoder = PylonDecoder()
    _feed_vectors(decoder, "growatt_measurement")
    _feed_vectors(decoder, "growatt_cells_")
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert snapshot.cell_voltages == (), "no cell count heard (0x312)"
    decoder.feed(_growatt(0x312, bytes([0, 0, 0, 0, 1, 0, 0, 15])))
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert snapshot.cell_voltages == GROWATT_CELLS[:15], "the 16th is not fitted"
    decoder.feed(_growatt(0x312, bytes([0, 0, 0, 0, 1, 0, 0, 24])))
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert snapshot.cell_voltages == (), "24 cells, only 16 carried: none shown"
    decoder.reset()
    _feed_vectors(decoder, "growatt_measurement")
    _feed_vectors(decoder, "growatt_counts")
    _feed_vectors(decoder, "growatt_cells_2")
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert snapshot.cell_voltages == (), "the first group never came"


@pytest.mark.parametrize(
    ("arbitration_id", "data"),
    [
        (0x311, bytes.fromhex("0240070807")),  # 5 of 6 bytes
        (0x312, bytes.fromhex("00000000010000")),  # 7 of 8 bytes
        (0x312, bytes.fromhex("0000000001000000")),  # 0 cells
        (0x313, bytes.fromhex("15a60000010946")),
        (0x313, bytes.fromhex("15a6000001096564")),  # SOC 101 %
        (0x313, bytes.fromhex("15a6000001094665")),  # SOH 101 %
        (0x315, bytes.fromhex("0d880d820d870d")),
        (0x320, bytes.fromhex("0001")),  # not letters
        (0x320, b"G"),
        (0x318, bytes(9)),
    ],
)
def test_malformed_growatt_frame_is_refused(arbitration_id: int, data: bytes) -> None:
    with pytest.raises(FrameError):
        growatt_frames.decode_growatt(arbitration_id, data)
    decoder = PylonDecoder()
    with pytest.raises(FrameError):
        decoder.feed(_growatt(arbitration_id, data))
    assert decoder.stats.malformed == 1
    assert decoder.snapshot() is None


def test_growatt_frames_of_other_ids_are_ignored() -> None:
    """The inverter's poll and the frames not read are dropped, not published."""
    decoder = PylonDecoder()
    for arbitration_id in (0x301, 0x314, 0x319, 0x321, 0x322):
        assert not decoder.feed(_growatt(arbitration_id, bytes(8)))
    assert not decoder.feed(frames.pack(0x313, bytes(8), extended=True))
    assert decoder.stats.unknown == 6
    assert decoder.snapshot() is None


def test_growatt_cycle_waits_for_the_cells_to_come_again() -> None:
    decoder = PylonDecoder()
    _feed_vectors(decoder, "growatt_")
    assert not decoder.cycle_heard
    _feed_vectors(decoder, "growatt_")
    assert decoder.cycle_heard


def test_growatt_simulator_sends_the_captured_bytes() -> None:
    """The simulator, set to the captured pack, sends the capture's frames."""
    pack = demo_pack()
    pack.cell_voltages = list(GROWATT_CELLS)
    pack.current, pack.soc, pack.state_of_health = 0.0, 70.0, 100.0
    pack.temperatures = [26.5, 25.8]
    sim = CanBroadcaster(pack, manufacturer="GT", modules=1, version="growatt")
    sim.limits.charge_voltage = 57.6
    sim.limits.charge_current = sim.limits.discharge_current = 180.0
    sent = {m.arbitration_id: bytes(m.data) for m in sim.messages()}
    # The bytes read: not 0x311's status nor 0x320's versions.
    read = {"growatt_limits": 6, "growatt_maker": 2}
    for vector in VECTORS:
        if vector["name"].startswith("growatt_"):
            length = read.get(vector["name"], 8)
            want = bytes.fromhex(vector["hex"])[:length]
            assert sent[int(vector["id"], 16)][:length] == want, vector["name"]


def test_growatt_simulator_frames_decode_to_its_pack() -> None:
    pack = demo_pack()
    pack.cell_voltages = [3.301, 3.302, 3.303, 3.304, 3.305, 3.306, 3.307, 3.308]
    sim = CanBroadcaster(pack, manufacturer="seplos", version="growatt")
    decoder = _heard(sim)
    snapshot = decoder.snapshot()
    assert snapshot is not None
    assert decoder.protocol == GROWATT
    assert snapshot.cell_voltages == tuple(pack.cell_voltages)
    assert snapshot.voltage == round(pack.voltage, 2)
    assert snapshot.current == pack.current
    assert snapshot.state_of_charge == pack.soc
    assert snapshot.manufacturer_name == "SE"
