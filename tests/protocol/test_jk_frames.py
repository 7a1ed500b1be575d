"""JK frames: builders, layout selection and decoders against captured vectors."""

from __future__ import annotations

import contextlib
import json
import re
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
    UnsupportedError,
)
from custom_components.lithium_bms.protocol.jk.frames import (
    DEVICE_INFO_REQUEST,
    SETTINGS_REQUEST,
    FrameType,
    JkCellInfo,
    Layout,
    build_command,
    build_switch,
    check_frame,
    decode_alarms,
    decode_cell_info,
    decode_device_info,
    decode_settings,
    fitting_layouts,
    guess_layout,
    has_extra_probes,
    layout_for_version,
    needs_pairing,
    supported_alarms,
)
from custom_components.lithium_bms.protocol.snapshot import (
    Alarm,
    SwitchKind,
    TemperatureKind,
)

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "jk_vectors.json").read_text()
)


def _frame(name_part: str) -> bytes:
    return next(bytes.fromhex(v["hex"]) for v in VECTORS if name_part in v["name"])


def _seal(frame: bytearray | bytes) -> bytes:
    """Recompute byte 299 of a 300-byte frame."""
    data = bytearray(frame)
    data[299] = sum(data[:299]) & 0xFF
    return bytes(data)


def _cell_frame_of(kind: int = 2, **fields: tuple[str, int, Any]) -> bytes:
    data = bytearray(300)
    data[:5] = b"\x55\xaa\xeb\x90" + bytes((kind,))
    for fmt, offset, value in fields.values():
        struct.pack_into("<" + fmt, data, offset, value)
    return _seal(data)


# Section 2.2 of the protocol notes: frames checked against ESPHome's tests.
READY_MADE = {
    "device_info": "AA5590EB970000000000000000000000000000" + "11",
    "settings": "AA5590EB960000000000000000000000000000" + "10",
    "charge_on": "AA5590EB1D0401000000000000000000000000" + "9C",
    "charge_off": "AA5590EB1D0400000000000000000000000000" + "9B",
    "discharge_on": "AA5590EB1E0401000000000000000000000000" + "9D",
    "discharge_off": "AA5590EB1E0400000000000000000000000000" + "9C",
    "balancer_on": "AA5590EB1F0401000000000000000000000000" + "9E",
    "balancer_off": "AA5590EB1F0400000000000000000000000000" + "9D",
    "jk04_balancer_on": "AA5590EB6C0101000000000000000000000000" + "E8",
    "jk04_balancer_off": "AA5590EB6C0100000000000000000000000000" + "E7",
}


def test_requests_are_the_ready_made_frames() -> None:
    assert bytes.fromhex(READY_MADE["device_info"]) == DEVICE_INFO_REQUEST
    assert bytes.fromhex(READY_MADE["settings"]) == SETTINGS_REQUEST
    assert build_command(0xA1).hex() == "aa5590eba1" + "00" * 14 + "1b"


@pytest.mark.parametrize("layout", [Layout.JK02_24S, Layout.JK02_32S])
def test_jk02_switch_frames_are_the_ready_made_frames(layout: Layout) -> None:
    for kind, name in (
        (SwitchKind.CHARGE, "charge"),
        (SwitchKind.DISCHARGE, "discharge"),
        (SwitchKind.BALANCER, "balancer"),
    ):
        assert build_switch(layout, kind, True) == bytes.fromhex(
            READY_MADE[name + "_on"]
        )
        assert build_switch(layout, kind, False) == bytes.fromhex(
            READY_MADE[name + "_off"]
        )


def test_jk04_has_only_the_balancer_switch() -> None:
    on = build_switch(Layout.JK04, SwitchKind.BALANCER, True)
    off = build_switch(Layout.JK04, SwitchKind.BALANCER, False)
    assert on == bytes.fromhex(READY_MADE["jk04_balancer_on"])
    assert off == bytes.fromhex(READY_MADE["jk04_balancer_off"])
    for kind in (SwitchKind.CHARGE, SwitchKind.DISCHARGE):
        with pytest.raises(UnsupportedError):
            build_switch(Layout.JK04, kind, True)


@pytest.mark.parametrize(
    ("version", "layout"),
    [
        ("3.3.0", Layout.JK04),
        ("5.99", Layout.JK04),
        ("6.0", Layout.JK02_24S),
        ("10.07", Layout.JK02_24S),
        ("10.08", Layout.JK02_24S),
        ("11.50", Layout.JK02_32S),
        ("15.38", Layout.JK02_32S),
        ("19.27", Layout.JK02_32S),
        (" 19.31 ", Layout.JK02_32S),
    ],
)
def test_layout_follows_the_software_major(version: str, layout: Layout) -> None:
    assert layout_for_version(version) is layout


@pytest.mark.parametrize("version", ["", "V10.07", "x.1", "."])
def test_unreadable_version_is_a_frame_error(version: str) -> None:
    with pytest.raises(FrameError):
        layout_for_version(version)


@pytest.mark.parametrize(
    ("version", "pairing", "extras"),
    [
        ("11.50", False, False),
        ("14.20", False, True),
        ("19.05", False, True),
        ("19.27", False, True),
        ("19.3", True, True),
        ("19.30", True, True),
        ("19.31", True, True),
        ("20.01", True, True),
    ],
)
def test_pairing_and_extra_probes_by_version(
    version: str, pairing: bool, extras: bool
) -> None:
    assert needs_pairing(version) is pairing
    assert has_extra_probes(version) is extras


def _vector_version(name: str) -> str:
    match = re.search(r"(?:sw|fw)(\d+\.\d+)", name)
    assert match, name
    return match.group(1)


def _vector_layout(vector: dict[str, Any]) -> Layout:
    protocol = vector["expected"].get("protocol")
    if protocol is not None:
        return Layout(protocol)
    return layout_for_version(_vector_version(vector["name"]))


def _check_cell_field(info: JkCellInfo, key: str, value: Any) -> None:
    temps = info.temperatures
    match key:
        case "protocol":
            pass  # selects the layout, see _vector_layout
        case "total_voltage_V" | "voltage_V":
            assert info.voltage == value
        case "current_A" | "current_A_jk_sign":
            assert info.current == value
        case "t1_C":
            assert temps[0].kind is TemperatureKind.CELL
            assert temps[0].value == value
        case "t2_C":
            assert temps[1].kind is TemperatureKind.CELL
            assert temps[1].value == value
        case "mos_C":
            assert temps[-1].kind is TemperatureKind.MOSFET
            assert temps[-1].value == value
        case "soc_pct":
            assert info.soc == value
        case "soh_pct":
            assert info.soh == value
        case "capacity_remaining_Ah" | "remaining_Ah":
            assert info.remaining_capacity == value
        case "full_capacity_Ah" | "full_charge_capacity_Ah_aged":
            assert info.full_capacity == value
        case "cycles":
            assert info.cycles == value
        case "runtime_s":
            assert info.runtime == value
        case "charging_mosfet":
            assert info.charge_fet is value
        case "discharging_mosfet":
            assert info.discharge_fet is value
        case "cells":
            assert len(info.cell_voltages) == value
            assert len(info.cell_resistances) == value
        case "balancing":
            assert info.balancing is value
        case "total_cycle_capacity_Ah":
            assert info.total_cycle_capacity == value
        case "errors_bitmask":
            assert info.errors == int(value.split()[0], 16)
        case "charge_status" | "battery_type":
            number = int(re.search(r"\((\d+)\)", value).group(1))  # type: ignore[union-attr]
            assert getattr(info, key) == number
        case "min_cell":
            cells = info.cell_voltages
            assert cells.index(min(cells)) + 1 == value
        case "max_cell":
            cells = info.cell_voltages
            assert cells.index(max(cells)) + 1 == value
        case _:
            cell = re.fullmatch(r"cell(\d+)_V", key)
            assert cell, f"unchecked expectation {key}"
            assert info.cell_voltages[int(cell.group(1)) - 1] == value


CELL_VECTORS = [v for v in VECTORS if bytes.fromhex(v["hex"])[4] == 2]


@pytest.mark.parametrize("vector", CELL_VECTORS, ids=lambda v: v["name"])
def test_cell_vectors_decode_exactly(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["hex"])
    layout = _vector_layout(vector)
    extras = layout is Layout.JK02_32S and has_extra_probes(
        _vector_version(vector["name"])
    )
    info = decode_cell_info(frame, layout, extra_probes=extras)
    for key, value in vector["expected"].items():
        _check_cell_field(info, key, value)


def test_every_cell_vector_layout_is_covered() -> None:
    layouts = {_vector_layout(v) for v in CELL_VECTORS}
    assert layouts == set(Layout)


SETTINGS_FIELDS = {
    "cell_uvp_V": "cell_uvp",
    "cell_uvpr_V": "cell_uvp_recovery",
    "cell_ovp_V": "cell_ovp",
    "cell_ovpr_V": "cell_ovp_recovery",
    "cell_count": "cell_count",
    "charge_switch": "charge_switch",
    "discharge_switch": "discharge_switch",
    "balancer_switch": "balancer_switch",
    "nominal_capacity_Ah": "nominal_capacity",
    "balance_start_V": "balance_start_voltage",
    "max_charge_A": "max_charge_current",
    "max_discharge_A": "max_discharge_current",
    "controls_bitmask_282": "controls",
}


def test_settings_vector_decodes_exactly() -> None:
    (vector,) = [v for v in VECTORS if bytes.fromhex(v["hex"])[4] == 1]
    settings_ = decode_settings(bytes.fromhex(vector["hex"]), Layout.JK02_32S)
    for key, value in vector["expected"].items():
        actual = getattr(settings_, SETTINGS_FIELDS[key])
        expected = int(value, 16) if isinstance(value, str) else value
        assert actual == expected, key
    assert settings_.switch(SwitchKind.CHARGE) is True
    assert settings_.switch(SwitchKind.DISCHARGE) is True
    assert settings_.switch(SwitchKind.BALANCER) is True


DEVICE_FIELDS = {
    "vendor": "vendor",
    "hw": "hw_version",
    "sw": "sw_version",
    "uptime_s": "uptime",
    "power_on_count": "power_on_count",
    "device_name": "device_name",
    "passcode": "passcode",
    "mfg_date": "manufacturing_date",
    "serial": "serial_number",
    "setup_passcode": "setup_passcode",
}


@pytest.mark.parametrize(
    "vector",
    [v for v in VECTORS if bytes.fromhex(v["hex"])[4] == 3],
    ids=lambda v: v["name"],
)
def test_device_info_vectors_decode_exactly(vector: dict[str, Any]) -> None:
    info = decode_device_info(bytes.fromhex(vector["hex"]))
    for key, value in vector["expected"].items():
        assert getattr(info, DEVICE_FIELDS[key]) == value, key


def test_device_info_versions_pick_the_layouts() -> None:
    v19 = decode_device_info(_frame("JK device info, JK02_32S"))
    v10 = decode_device_info(_frame("JK device info, JK02_24S"))
    assert layout_for_version(v19.sw_version) is Layout.JK02_32S
    assert layout_for_version(v10.sw_version) is Layout.JK02_24S


def test_jk04_settings_hold_cell_count_and_balancer() -> None:
    frame = bytearray(_cell_frame_of(kind=1))
    frame[34] = 16
    frame[114] = 1
    frame[118] = 1  # a JK02 charge switch byte, meaningless on JK04
    jk04 = decode_settings(_seal(frame), Layout.JK04)
    assert jk04.cell_count == 16
    assert jk04.balancer_switch is True
    assert jk04.switch(SwitchKind.CHARGE) is None
    assert jk04.nominal_capacity is None
    frame[114] = 0
    assert decode_settings(_seal(frame), Layout.JK04).balancer_switch is False


def test_aged_pack_full_capacity_differs_from_nominal() -> None:
    cells = decode_cell_info(_frame("aged pack"), Layout.JK02_32S)
    nominal = decode_settings(_frame("settings frame"), Layout.JK02_32S)
    assert cells.full_capacity == 251.235
    assert nominal.nominal_capacity == 320.0


def test_bit_19_reminder_is_no_alarm() -> None:
    cells = decode_cell_info(_frame("aged pack"), Layout.JK02_32S)
    assert cells.errors == 0x80000
    assert decode_alarms(cells.errors) == frozenset()


@pytest.mark.parametrize(
    ("bit", "alarm"),
    [
        (0, Alarm.WIRE_RESISTANCE),
        (1, Alarm.MOSFET_OVERTEMPERATURE),
        (2, Alarm.CELL_COUNT_MISMATCH),
        (5, Alarm.PACK_OVERVOLTAGE),
        (6, Alarm.CHARGE_OVERCURRENT),
        (7, Alarm.SHORT_CIRCUIT),
        (8, Alarm.CHARGE_OVERTEMPERATURE),
        (9, Alarm.CHARGE_UNDERTEMPERATURE),
        (10, Alarm.COPROCESSOR_ERROR),
        (11, Alarm.CELL_UNDERVOLTAGE),
        (12, Alarm.PACK_UNDERVOLTAGE),
        (13, Alarm.DISCHARGE_OVERCURRENT),
        (14, Alarm.SHORT_CIRCUIT),
        (15, Alarm.DISCHARGE_OVERTEMPERATURE),
        (16, Alarm.MOSFET_FAULT),
        (17, Alarm.MOSFET_FAULT),
        (22, Alarm.TEMPERATURE_SENSOR_FAULT),
    ],
)
def test_error_bits_name_alarms(bit: int, alarm: Alarm) -> None:
    assert decode_alarms(1 << bit) == {alarm}


@pytest.mark.parametrize("bit", [3, 4, 18, 19])
def test_states_and_reminders_are_not_alarms(bit: int) -> None:
    assert decode_alarms(1 << bit) == frozenset()


def test_supported_alarms_follow_the_bitmap_width() -> None:
    assert supported_alarms(Layout.JK04) == frozenset()
    narrow = supported_alarms(Layout.JK02_24S)
    wide = supported_alarms(Layout.JK02_32S)
    assert Alarm.CELL_UNDERVOLTAGE in narrow
    assert Alarm.MOSFET_FAULT not in narrow
    assert Alarm.TEMPERATURE_SENSOR_FAULT in wide
    assert narrow < wide
    assert Alarm.CELL_OVERVOLTAGE not in wide  # JK reports it only as "full"


def test_24s_errors_are_a_little_endian_u16() -> None:
    frame = bytearray(_frame("sw10.07"))
    frame[136:138] = (1 << 11 | 1 << 14).to_bytes(2, "little")
    info = decode_cell_info(_seal(frame), Layout.JK02_24S)
    assert info.errors == 1 << 11 | 1 << 14
    assert decode_alarms(info.errors) == {Alarm.CELL_UNDERVOLTAGE, Alarm.SHORT_CIRCUIT}


def test_disconnected_and_absent_probes_read_none() -> None:
    frame = bytearray(_frame("sw10.07"))
    frame[132:134] = (-2000).to_bytes(2, "little", signed=True)
    info = decode_cell_info(_seal(frame), Layout.JK02_24S)
    assert [t.value for t in info.temperatures] == [20.7, None, 23.4]
    frame[182] = 0b110  # T1 absent
    info = decode_cell_info(_seal(frame), Layout.JK02_24S)
    assert [t.value for t in info.temperatures] == [None, None, 23.4]


def test_zero_presence_byte_is_ignored() -> None:
    frame = bytearray(_frame("sw10.07"))
    frame[182] = 0
    info = decode_cell_info(_seal(frame), Layout.JK02_24S)
    assert [t.value for t in info.temperatures] == [20.7, 20.7, 23.4]


def test_32s_probe_order_and_presence() -> None:
    """Byte 254 is a second MOSFET probe: it mirrors byte 144 in every capture."""
    frame = bytearray(_frame("sw19.27"))
    frame[214] = 0b001111  # MOS, T1, T2, byte 254; not 256 and 258
    info = decode_cell_info(_seal(frame), Layout.JK02_32S, extra_probes=True)
    cell, mosfet = TemperatureKind.CELL, TemperatureKind.MOSFET
    assert [t.kind for t in info.temperatures] == [cell] * 4 + [mosfet] * 2
    assert [t.value for t in info.temperatures] == [11.9, 12.7, None, None, 12.8, 12.8]
    plain = decode_cell_info(_seal(frame), Layout.JK02_32S)
    assert [t.value for t in plain.temperatures] == [11.9, 12.7, 12.8]


def test_extra_probes_of_a_v19_pack() -> None:
    """v19 (JK-PB2A16S20P): T1, T2 and the probes at 256/258 are cell probes."""
    info = decode_cell_info(_frame("sw19.27"), Layout.JK02_32S, extra_probes=True)
    cells = [t.value for t in info.temperatures if t.kind is TemperatureKind.CELL]
    mosfets = [t.value for t in info.temperatures if t.kind is TemperatureKind.MOSFET]
    assert cells == [11.9, 12.7, 12.6, 11.4]
    assert mosfets == [12.8, 12.8]


def test_heater_only_on_32s() -> None:
    frame = bytearray(_frame("sw19.27"))
    frame[183 + 32] = 1
    assert decode_cell_info(_seal(frame), Layout.JK02_32S).heater is True
    assert decode_cell_info(_frame("sw10.07"), Layout.JK02_24S).heater is None


def _with_mask(frame: bytes, mask: int) -> bytes:
    """A 32S frame reduced to the cells of ``mask``, its totals made to agree."""
    data = bytearray(frame)
    data[70:74] = mask.to_bytes(4, "little")
    for i in range(32):
        if not mask >> i & 1:
            data[6 + 2 * i : 8 + 2 * i] = bytes(2)
            data[80 + 2 * i : 82 + 2 * i] = bytes(2)
    cells = [int.from_bytes(data[6 + 2 * i : 8 + 2 * i], "little") for i in range(32)]
    cells = [c for i, c in enumerate(cells) if mask >> i & 1]
    struct.pack_into("<I", data, 150, sum(cells))
    struct.pack_into("<HHBB", data, 74, sum(cells) // len(cells), 0, 0, 0)
    struct.pack_into("<H", data, 76, max(cells) - min(cells))
    return _seal(data)


def test_cells_follow_the_enabled_mask() -> None:
    info = decode_cell_info(_with_mask(_frame("sw19.27"), 0b1011), Layout.JK02_32S)
    assert info.cell_voltages == (3.381, 3.377, 3.377)
    assert info.reported_cell_count == 3
    frame = bytearray(_frame("sw19.27"))
    frame[70:74] = bytes(4)  # no mask: cells up to the last non-zero one
    info = decode_cell_info(_seal(frame), Layout.JK02_32S)
    assert len(info.cell_voltages) == 16
    assert info.reported_cell_count is None


def test_cell_frames_state_their_cell_count() -> None:
    assert (
        decode_cell_info(_frame("sw19.27"), Layout.JK02_32S).reported_cell_count == 16
    )
    assert (
        decode_cell_info(_frame("sw10.07"), Layout.JK02_24S).reported_cell_count == 24
    )
    assert decode_cell_info(_frame("JK04"), Layout.JK04).reported_cell_count is None


def test_a_mask_that_disagrees_with_the_cells_is_refused() -> None:
    frame = bytearray(_frame("sw19.27"))
    frame[70:74] = (0b1011).to_bytes(4, "little")
    with pytest.raises(FrameError, match="outside the mask"):
        decode_cell_info(_seal(frame), Layout.JK02_32S)


# (layout, offset, value): one field of a real frame made impossible.
BROKEN_FIELDS = [
    (Layout.JK02_32S, 150, 54_028 + 2_000),  # pack voltage far from the cells
    (Layout.JK02_32S, 74, 3_000),  # average cell
    (Layout.JK02_32S, 76, 400),  # cell delta
    (Layout.JK02_32S, 78, 16),  # max-cell index past the last cell
    (Layout.JK02_32S, 198, 2),  # charge MOSFET state
    (Layout.JK02_32S, 199, 0x0D),  # discharge MOSFET state
    (Layout.JK02_32S, 172, 3),  # balancing action
    (Layout.JK02_32S, 173, 101),  # SOC
    (Layout.JK02_32S, 190, 200),  # SOH
    (Layout.JK02_32S, 215, 7),  # heater state
    (Layout.JK02_32S, 60, 3_300),  # a cell outside the mask (cell 28)
    (Layout.JK02_32S, 140, 60),  # a resistance outside the mask (cell 31)
    (Layout.JK02_24S, 118, 0),  # pack voltage
    (Layout.JK02_24S, 166, 0xD0),  # charge MOSFET state
]


@pytest.mark.parametrize(("layout", "offset", "value"), BROKEN_FIELDS)
def test_a_cell_frame_whose_fields_disagree_is_refused(
    layout: Layout, offset: int, value: int
) -> None:
    frame = bytearray(_frame("sw19.27" if layout is Layout.JK02_32S else "sw10.07"))
    size = 4 if offset in (118, 150) else 2 if offset in (60, 74, 76, 140) else 1
    frame[offset : offset + size] = value.to_bytes(size, "little")
    with pytest.raises(FrameError, match="inconsistent"):
        decode_cell_info(_seal(frame), layout)


def test_a_jk04_frame_whose_average_disagrees_is_refused() -> None:
    frame = bytearray(_frame("JK04"))
    struct.pack_into("<f", frame, 202, 3.6)
    with pytest.raises(FrameError, match="average"):
        decode_cell_info(_seal(frame), Layout.JK04)


@pytest.mark.parametrize(("offset", "value"), [(114, 0), (114, 33), (115, 1), (118, 2)])
def test_a_settings_frame_with_impossible_words_is_refused(
    offset: int, value: int
) -> None:
    frame = bytearray(_frame("settings frame 0x01"))
    frame[offset] = value
    with pytest.raises(FrameError, match="inconsistent"):
        decode_settings(_seal(frame), Layout.JK02_32S)


def test_a_device_info_frame_with_a_garbled_version_is_refused() -> None:
    frame = bytearray(_frame("JK device info, JK02_32S"))
    frame[30] = 0xD0
    with pytest.raises(FrameError, match="software version"):
        decode_device_info(_seal(frame))


def test_jk04_balancer_cells_and_resistances() -> None:
    info = decode_cell_info(_frame("JK04"), Layout.JK04)
    assert info.current is None
    assert info.soc is None
    assert info.temperatures == ()
    assert info.balance_current == 1.172
    assert info.cell_resistances[0] == 0.1593
    assert min(info.cell_voltages) == info.cell_voltages[0]


def test_jk04_rejects_non_numbers() -> None:
    frame = bytearray(_frame("JK04"))
    frame[6:10] = struct.pack("<f", float("nan"))
    with pytest.raises(FrameError):
        decode_cell_info(_seal(frame), Layout.JK04)


def test_check_frame_errors() -> None:
    good = _frame("sw19.27")
    assert check_frame(good) is FrameType.CELL_INFO
    with pytest.raises(FrameError):
        check_frame(good[:299])
    with pytest.raises(FrameError):
        check_frame(b"\x00" + good[1:])
    with pytest.raises(ChecksumError):
        check_frame(good[:299] + bytes(((good[299] + 1) & 0xFF,)))
    with pytest.raises(FrameError):
        check_frame(_cell_frame_of(kind=4))


def test_decoders_check_the_frame_type() -> None:
    with pytest.raises(FrameError):
        decode_settings(_frame("sw19.27"), Layout.JK02_32S)
    with pytest.raises(FrameError):
        decode_device_info(_frame("settings frame"))
    with pytest.raises(FrameError):
        decode_cell_info(_frame("JK device info, JK02_24S"), Layout.JK02_24S)


def test_decoders_want_exactly_300_bytes() -> None:
    """A 320-byte buffer (frame + C8 ack) is split by the reassembler, not here."""
    ack = bytes.fromhex("aa5590ebc8010100000000000000000000000044")
    frame = _frame("JK device info, JK02_32S")
    with pytest.raises(FrameError, match="300-byte"):
        decode_device_info(frame + ack)
    with pytest.raises(FrameError, match="300-byte"):
        check_frame(frame[:299])
    assert decode_device_info(frame).sw_version == "19.27"


def _decode_all(frame: bytes, layout: Layout, extras: bool) -> None:
    """Run every decoder; only protocol errors may escape."""
    with contextlib.suppress(ProtocolError):
        cells = decode_cell_info(frame, layout, extra_probes=extras)
        assert len(cells.cell_voltages) == len(cells.cell_resistances)
        assert all(
            t.value is None or -3277 < t.value < 3277 for t in cells.temperatures
        )
    with contextlib.suppress(ProtocolError):
        decode_settings(frame, layout)
    with contextlib.suppress(ProtocolError):
        assert "\x00" not in decode_device_info(frame).sw_version


@settings(max_examples=200, deadline=None)
@given(
    body=st.binary(min_size=294, max_size=294),
    kind=st.sampled_from([1, 2, 3, 5]),
    layout=st.sampled_from(list(Layout)),
    extras=st.booleans(),
)
def test_decoders_raise_only_protocol_errors(
    body: bytes, kind: int, layout: Layout, extras: bool
) -> None:
    frame = _seal(b"\x55\xaa\xeb\x90" + bytes((kind,)) + body + b"\x00")
    _decode_all(frame, layout, extras)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=400), layout=st.sampled_from(list(Layout)))
def test_decoders_reject_arbitrary_bytes_cleanly(data: bytes, layout: Layout) -> None:
    _decode_all(data, layout, extras=True)


# Layout from the frames, not from the software version alone (issue 10).


@pytest.mark.parametrize(
    ("model", "version", "layout"),
    [
        # syssi/esphome-jk-bms README and captures, fl4p/batmon-ha#170.
        ("JK-B5A24S", "8.0.3M", Layout.JK04),
        ("JK-B2A16S", "3.3.0", Layout.JK04),
        ("JK-B1A24S", "3.0.7", Layout.JK04),
        ("JK-B2A24S20P", "8.1.2H", Layout.JK02_24S),
        ("JK-B2A24S20P", "8.20G", Layout.JK02_24S),
        ("JK-BD6A24S10P", "8.0.6G", Layout.JK02_24S),
        ("JK-B2A24S20P", "10.07", Layout.JK02_24S),
        ("JK_B1A20S15P", "18.00", Layout.JK02_32S),
        ("JK_PB2A16S15P", "14.20", Layout.JK02_32S),
    ],
)
def test_model_and_version_guess_the_layout(
    model: str, version: str, layout: Layout
) -> None:
    assert guess_layout(model, version) is layout


@pytest.mark.parametrize("vector", CELL_VECTORS, ids=lambda v: v["name"])
def test_each_captured_cell_frame_fits_exactly_its_layout(
    vector: dict[str, Any],
) -> None:
    assert fitting_layouts(bytes.fromhex(vector["hex"])) == (_vector_layout(vector),)


@pytest.mark.parametrize(
    ("device", "cells", "layout"),
    [
        ("JK-B5A24S hw8.X sw8.0.3M", "JK04 cell info (JK-B5A24S", Layout.JK04),
        ("JK-BD6A24S10P hw8.X sw8.0.6G", "cell info (JK-BD6A24S10P", Layout.JK02_24S),
    ],
)
def test_real_8x_devices_speak_different_layouts(
    device: str, cells: str, layout: Layout
) -> None:
    """Both run software 8.x: the version alone says JK02_24S for both."""
    info = decode_device_info(_frame(device))
    assert layout_for_version(info.sw_version) is Layout.JK02_24S
    assert guess_layout(info.vendor, info.sw_version) is layout
    assert fitting_layouts(_frame(cells)) == (layout,)
