"""Renogy: the captured vectors, the status bits, SOC, reassembly under damage."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from bms_simulator.families.renogy import ALARM_BITS, RenogyBattery, demo_pack
from custom_components.lithium_bms.protocol.codecs import modbus
from custom_components.lithium_bms.protocol.errors import ChecksumError, FrameError
from custom_components.lithium_bms.protocol.plausibility import (
    ImplausibleDataError,
    check,
)
from custom_components.lithium_bms.protocol.renogy import frames
from custom_components.lithium_bms.protocol.renogy.driver import RenogyDriver
from custom_components.lithium_bms.protocol.renogy.stream import RenogyReassembler
from custom_components.lithium_bms.protocol.snapshot import Alarm, BatterySnapshot

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "renogy_vectors.json").read_text()
)


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [v for v in VECTORS if v["kind"] == kind]


def names(found: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in found]


def data(v: dict[str, Any]) -> bytes:
    return modbus.parse_response(bytes.fromhex(v["hex"])).data


def good_frames() -> list[bytes]:
    return [bytes.fromhex(v["hex"]) for v in VECTORS if v["kind"] != "bad"]


def test_the_requests_are_the_reference_bytes() -> None:
    assert frames.CELLS.request.hex() == "300313880022455c"
    assert frames.BATTERY.request.hex() == "300313b20007a48a"
    assert frames.STATUS.request.hex() == "300313ec0008855c"
    assert frames.INFO.request.hex() == "300313f0001c4495"


@pytest.mark.parametrize("v", of_kind("cells"), ids=names(of_kind("cells")))
def test_cell_vectors_decode_exactly(v: dict[str, Any]) -> None:
    cells = frames.decode_cells(data(v))
    assert cells.reported_cells == v["expected"]["cells"]
    assert list(cells.voltages) == v["expected"]["cell_V"]
    assert list(cells.temperatures) == v["expected"]["cell_temperature_C"]


@pytest.mark.parametrize("v", of_kind("battery"), ids=names(of_kind("battery")))
def test_battery_vectors_decode_exactly(v: dict[str, Any]) -> None:
    battery = frames.decode_battery(
        data(v), frames.VARIANTS[v["variant"]].current_scale
    )
    expected = v["expected"]
    assert battery.current == expected["current_A"]
    assert battery.voltage == expected["voltage_V"]
    assert battery.remaining == expected["remaining_Ah"]
    assert battery.total == expected["total_Ah"]
    assert battery.cycles == expected["cycles"]
    assert battery.state_of_charge == expected["soc_pct"]


@pytest.mark.parametrize("v", of_kind("status"), ids=names(of_kind("status")))
def test_status_vectors_decode_exactly(v: dict[str, Any]) -> None:
    status = frames.decode_status(data(v))
    expected = v["expected"]
    assert sorted(status.alarms) == expected["alarms"]
    assert status.charge_fet is expected["charge_mosfet"]
    assert status.discharge_fet is expected["discharge_mosfet"]
    assert status.heater is expected["heater"]
    if "protection_code" in expected:
        assert status.protection_code == expected["protection_code"]


def test_the_info_vector_names_the_battery() -> None:
    (v,) = of_kind("info")
    info = frames.decode_info(data(v), "Renogy")
    assert info.model == v["expected"]["model"]
    assert info.sw_version == v["expected"]["sw_version"]
    assert info.serial_number == v["expected"]["serial_number"]


def test_the_bad_vectors_are_refused_or_no_candidate() -> None:
    for v in of_kind("bad"):
        found, errors = RenogyReassembler().feed(bytes.fromhex(v["hex"]))
        assert found == [], v["name"]
        if v["expected"]["error"] == "ChecksumError":
            assert any(isinstance(e, ChecksumError) for e in errors)


def test_a_short_block_and_too_many_cells_are_refused() -> None:
    (cells,) = [v for v in of_kind("cells") if v["variant"] == "classic"]
    with pytest.raises(FrameError):
        frames.decode_cells(data(cells)[:-2])
    seventeen = bytearray(data(cells))
    seventeen[1] = 17
    with pytest.raises(FrameError):
        frames.decode_cells(bytes(seventeen))
    with pytest.raises(FrameError):
        frames.decode_battery(bytes(12), 0.01)


@pytest.mark.parametrize("name", sorted(ALARM_BITS))
def test_each_simulated_alarm_bit_decodes_to_its_key(name: str) -> None:
    battery = RenogyBattery("60:98:66:00:00:01", "BT-TH-00000001", demo_pack())
    battery.pack.alarms = {name}
    reply = battery.answer(frames.STATUS.request)
    assert reply is not None
    assert Alarm(name) in frames.decode_status(modbus.parse_response(reply).data).alarms
    assert Alarm(name) in frames.SUPPORTED_ALARMS


def test_the_cell_alarm_pairs_and_the_warnings() -> None:
    status = bytearray(16)
    status[3] = 0b0110  # cell 1 below (01), cell 2 above (10)
    assert frames.decode_status(bytes(status)).alarms == {
        Alarm.CELL_UNDERVOLTAGE,
        Alarm.CELL_OVERVOLTAGE,
    }
    status = bytearray(16)
    status[15] = 0x81  # status 2: cell low voltage, discharge high temperature
    assert frames.decode_status(bytes(status)).alarms == {
        Alarm.CELL_UNDERVOLTAGE,
        Alarm.DISCHARGE_OVERTEMPERATURE,
    }
    status = bytearray(16)
    status[8] = 0xC0  # BMS board temperature "other alarm" (11) is no limit
    assert frames.decode_status(bytes(status)).alarms == frozenset()


def test_soc_is_the_quotient_not_the_product_bms_ble_ha_430() -> None:
    # #430: an RBT200LFP12-BT at 99.5 % (199 of 200 Ah) was shown as 398 %,
    # 199 * 200 / 100. Encoded by the simulator's own table.
    battery = RenogyBattery("60:98:66:00:00:02", "BT-TH-00000002", demo_pack())
    battery.pack.full_capacity = 200.0
    battery.pack.soc = 99.5
    reply = battery.answer(frames.BATTERY.request)
    assert reply is not None
    decoded = frames.decode_battery(modbus.parse_response(reply).data, 0.01)
    assert (decoded.remaining, decoded.total) == (199.0, 200.0)
    assert decoded.state_of_charge == 99.5
    assert frames.decode_battery(bytes(14), 0.01).state_of_charge is None


def test_the_gate_refuses_a_soc_like_398_percent() -> None:
    shown = BatterySnapshot(
        voltage=13.3,
        current=0.0,
        cell_voltages=(3.3, 3.3, 3.4, 3.3),
        state_of_charge=398.0,
    )
    with pytest.raises(ImplausibleDataError, match="state of charge"):
        check(shown, RenogyDriver.limits)


@pytest.mark.parametrize("split", [1, 2, 3, 5, 7, 19, 64])
def test_reassembly_split_anywhere_and_glued(split: int) -> None:
    stream = b"".join(good_frames())
    reassembler = RenogyReassembler()
    found: list[bytes] = []
    for start in range(0, len(stream), split):
        found += reassembler.feed(stream[start : start + split])[0]
    assert found == good_frames()


def test_every_single_cut_of_each_frame_reassembles() -> None:
    for frame in good_frames():
        for cut in range(1, len(frame)):
            reassembler = RenogyReassembler()
            first = reassembler.feed(frame[:cut])[0]
            assert first + reassembler.feed(frame[cut:])[0] == [frame]


def test_garbage_and_a_refused_candidate_never_hide_the_next_frame() -> None:
    good = good_frames()[1]
    bad = bytearray(good)
    bad[6] ^= 0x40
    foreign = bytes.fromhex(of_kind("bad")[1]["hex"])
    frames_found, errors = RenogyReassembler().feed(
        b"\x00\xffnoise" + good[:9] + bytes(bad) + foreign + good
    )
    assert frames_found == [good]
    assert any(isinstance(e, ChecksumError) for e in errors)


def test_fuzz_damage_never_publishes_a_frame_that_was_not_sent() -> None:
    rng = random.Random(14)
    stream = b"".join(good_frames())
    sent = set(good_frames())
    for _ in range(300):
        damaged = bytearray(stream)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        reassembler = RenogyReassembler()
        found, _ = reassembler.feed(bytes(damaged))
        assert set(found) <= sent
        reassembler.reset()
        assert reassembler.feed(stream)[0] == good_frames()


def test_the_board_block_and_its_limits() -> None:
    battery = RenogyBattery("60:98:66:00:00:03", "BT-TH-00000003", demo_pack())
    battery.pack.mosfet_temperature = -3.5
    battery.ambient = [21.5, -1.0]
    reply = battery.answer(frames.BOARD.request)
    assert reply is not None
    board = frames.decode_board(modbus.parse_response(reply).data)
    assert board == frames.Board(-3.5, (21.5, -1.0))
    three = bytearray(modbus.parse_response(reply).data)
    three[3] = 3
    with pytest.raises(FrameError):
        frames.decode_board(bytes(three))
    sizes = [b.size for b in (frames.CELLS, frames.BOARD, frames.BATTERY)]
    sizes += [frames.STATUS.size, frames.INFO.size]
    assert len(set(sizes)) == len(sizes), "each reply tells its block by its size"
