"""EG4: the captured vectors, the alarm tables, reassembly and bad input."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.eg4 import (
    ALARM_BITS,
    PROTECTION,
    WARNING,
    demo_pack,
    registers,
    reply,
)
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.codecs import modbus
from custom_components.lithium_bms.protocol.eg4 import frames
from custom_components.lithium_bms.protocol.eg4.stream import Eg4Reassembler
from custom_components.lithium_bms.protocol.errors import ChecksumError, FrameError
from custom_components.lithium_bms.protocol.snapshot import Alarm, TemperatureKind

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "eg4_vectors.json").read_text()
)


def vector(kind: str) -> dict[str, Any]:
    return next(v for v in VECTORS if v["kind"] == kind)


def frame(kind: str) -> bytes:
    return bytes.fromhex(vector(kind)["hex"])


STATUS = frame("status")


def data_of(regs: list[int]) -> bytes:
    return b"".join(r.to_bytes(2, "big") for r in regs)


def test_every_vector_names_its_source_and_expectation() -> None:
    assert {v["kind"] for v in VECTORS} == {"request", "status", "truncated"}
    for v in VECTORS:
        assert v["source"]
        assert v["expected"]
        assert v["note"]


def test_the_request_is_built_as_captured() -> None:
    expected = vector("request")["expected"]
    assert frames.status_request() == frame("request")
    request = modbus.parse_request(frame("request"))
    assert (request.address, request.function) == (
        expected["device"],
        expected["function"],
    )
    assert (request.start, request.count) == (expected["start"], expected["count"])


def test_the_status_vector_decodes_exactly() -> None:
    expected = vector("status")["expected"]
    snap = frames.decode_status(modbus.parse_response(STATUS).data)
    assert snap.voltage == expected["voltage_V"]
    assert snap.current == expected["current_A"]
    assert list(snap.cell_voltages) == expected["cell_V"]
    assert snap.reported_cell_count == expected["cell_count"]
    assert snap.state_of_charge == expected["soc_pct"]
    assert snap.state_of_health == expected["soh_pct"]
    assert snap.mosfet_temperature == expected["mosfet_C"]
    probes = [t.value for t in snap.temperatures if t.kind == TemperatureKind.CELL]
    assert probes == expected["cell_temperature_C"]
    assert snap.cycles == expected["cycles"]
    assert snap.remaining_capacity == expected["remaining_Ah"]
    assert snap.full_capacity == expected["full_Ah"]
    assert snap.design_capacity == expected["design_Ah"]
    assert snap.balancing is expected["balancing"]
    assert sorted(snap.alarms) == expected["alarms"]
    assert snap.protection_code == expected["protection_code"]
    assert snap.charge_mosfet is None
    assert snap.discharge_mosfet is None
    assert snap.heater is None


def test_the_truncated_capture_yields_nothing_and_hides_no_next_frame() -> None:
    expected = vector("truncated")["expected"]
    truncated = frame("truncated")
    assert len(truncated) == expected["visible_bytes"]
    assert truncated[2] + 5 - len(truncated) == expected["missing_bytes"]
    reassembler = Eg4Reassembler()
    assert reassembler.feed(truncated)[0] == []
    assert reassembler.feed(STATUS)[0] == [STATUS]


def test_the_simulator_encodes_the_pack_the_decoder_reads() -> None:
    pack = demo_pack()
    snap = frames.decode_status(modbus.parse_response(reply(pack)).data)
    assert snap.cell_voltages == tuple(pack.cell_voltages)
    assert snap.current == pack.current
    assert snap.remaining_capacity == pack.remaining_capacity
    assert snap.full_capacity == pack.full_capacity
    assert snap.design_capacity == pack.design_capacity
    assert snap.cycles == pack.cycles


def test_the_simulator_rebuilds_the_capture_but_register_22() -> None:
    """The captured pack as a model encodes to the captured registers.

    Register 22 (750 in the capture) is named by neither decoder with
    certainty ("max charge current" in dbus-serialbattery): the simulator
    leaves it 0. This pack fills no capacities and no cycles.
    """
    pack = PackModel(
        cell_voltages=[3.31, 3.313, 3.309, 3.313],
        current=-6.2,
        soc=48,
        full_capacity=0.0,
        design_capacity=0.0,
        cycles=0,
        temperatures=[17.0, -56.0],
        mosfet_temperature=17.0,
    )
    captured = modbus.parse_response(STATUS).registers
    simulated = modbus.parse_response(reply(pack)).registers
    differ = [
        i for i, (a, b) in enumerate(zip(captured, simulated, strict=True)) if a != b
    ]
    assert differ == [22]


@pytest.mark.parametrize("name", sorted(ALARM_BITS))
def test_each_alarm_bit_maps_to_its_key(name: str) -> None:
    pack = demo_pack()
    pack.alarms = {name}
    snap = frames.decode_status(modbus.parse_response(reply(pack)).data)
    assert snap.alarms == {Alarm(name)}
    assert Alarm(name) in frames.SUPPORTED_ALARMS
    assert snap.problem


@pytest.mark.parametrize(("bit", "alarm"), sorted(frames.WARNING_BITS.items()))
def test_each_warning_bit_raises_the_alarm_of_its_protection(
    bit: int, alarm: Alarm
) -> None:
    regs = registers(demo_pack())
    regs[WARNING] = 1 << bit
    snap = frames.decode_status(data_of(regs))
    assert snap.alarms == {alarm}
    assert snap.protection_code == (1 << bit) << 32


@pytest.mark.parametrize("bit", [6, 14, 15])
def test_bits_without_a_key_raise_nothing(bit: int) -> None:
    regs = registers(demo_pack())
    regs[PROTECTION] = 1 << bit
    snap = frames.decode_status(data_of(regs))
    assert snap.alarms == frozenset()
    assert snap.protection_code == (1 << bit) << 16


def test_a_negative_probe_and_an_open_one() -> None:
    pack = demo_pack()
    pack.temperatures = [-20.0, -56.0]
    pack.mosfet_temperature = -3.0
    snap = frames.decode_status(modbus.parse_response(reply(pack)).data)
    assert [t.value for t in snap.temperatures] == [-20.0, None, -3.0]


def test_a_balancing_pack_and_a_charging_one() -> None:
    pack = demo_pack()
    pack.balancing_cells = {3}
    pack.current = 25.5
    snap = frames.decode_status(modbus.parse_response(reply(pack)).data)
    assert snap.balancing is True
    assert snap.current == 25.5


@pytest.mark.parametrize("cells", [0, 17])
def test_an_impossible_cell_count_is_refused(cells: int) -> None:
    regs = registers(demo_pack())
    regs[36] = cells
    with pytest.raises(FrameError, match="cells"):
        frames.decode_status(data_of(regs))


@pytest.mark.parametrize("size", [0, 76, 80])
def test_a_block_of_another_size_is_refused(size: int) -> None:
    with pytest.raises(FrameError, match="bytes"):
        frames.decode_status(bytes(size))


def test_is_status_reply_tells_the_reply_and_its_refusal() -> None:
    assert frames.is_status_reply(STATUS)
    assert frames.is_status_reply(reply(demo_pack(), 40, 1))
    assert not frames.is_status_reply(reply(demo_pack(), 0, 3))


def test_reassembly_split_at_every_byte() -> None:
    for split in range(1, len(STATUS)):
        reassembler = Eg4Reassembler()
        found = reassembler.feed(STATUS[:split])[0]
        found += reassembler.feed(STATUS[split:])[0]
        assert found == [STATUS], split


def test_glued_frames_and_one_byte_notifications() -> None:
    other = reply(demo_pack())
    reassembler = Eg4Reassembler()
    assert reassembler.feed(STATUS + other)[0] == [STATUS, other]
    found: list[bytes] = []
    for byte in STATUS + other:
        found += reassembler.feed(bytes((byte,)))[0]
    assert found == [STATUS, other]


def test_a_wrong_checksum_emits_nothing() -> None:
    bad = STATUS[:-1] + bytes((STATUS[-1] ^ 0x01,))
    found, errors = Eg4Reassembler().feed(bad)
    assert found == []
    assert any(isinstance(e, ChecksumError) for e in errors)


def test_foreign_frames_are_no_candidates() -> None:
    other_device = modbus.with_crc(b"\x02" + STATUS[1:-2])
    input_read = modbus.with_crc(b"\x01\x04" + STATUS[2:-2])
    found, _ = Eg4Reassembler().feed(other_device + input_read + STATUS)
    assert found == [STATUS]


def test_a_corrupted_frame_never_hides_the_next() -> None:
    bad = bytearray(STATUS)
    bad[20] ^= 0x10
    found, errors = Eg4Reassembler().feed(b"\x01\x03" + bytes(bad) + STATUS)
    assert found == [STATUS]
    assert errors


@settings(max_examples=200, deadline=None)
@given(
    garbage=st.lists(st.binary(max_size=90), min_size=1, max_size=3),
    cut=st.integers(min_value=1, max_value=82),
)
def test_garbage_between_frames_never_gives_a_wrong_value(
    garbage: list[bytes], cut: int
) -> None:
    """Noise between, around and inside the stream: every frame out is valid."""
    stream = b"".join(g + STATUS for g in garbage)
    reassembler = Eg4Reassembler()
    found = reassembler.feed(stream[:cut])[0] + reassembler.feed(stream[cut:])[0]
    for out in found:
        assert modbus.crc_ok(out)
        assert out[:2] == b"\x01\x03"
    # A clean frame after the noise is always found whole.
    assert reassembler.feed(STATUS)[0][-1:] == [STATUS]


def test_random_damage_never_publishes_bad_data() -> None:
    rng = random.Random(14)
    for _ in range(300):
        damaged = bytearray(STATUS)
        for _ in range(rng.randint(1, 3)):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        found, _ = Eg4Reassembler().feed(bytes(damaged))
        assert found in ([], [STATUS])
