"""JK reassembly: split, glued and noisy notifications."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Container
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_simulator.families.jk import ERROR_BITS as JK_ERROR_BITS
from bms_simulator.families.jk import JkLayout, JkSimulator, notifications
from bms_simulator.pack import PackModel
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    ChecksumError,
    FrameError,
    ProtocolError,
)
from custom_components.lithium_bms.protocol.jk import JkDriver
from custom_components.lithium_bms.protocol.jk.frames import (
    FRAME_HEADER,
    FrameType,
    Layout,
    check_frame,
    decode_cell_info,
    decode_device_info,
    decode_settings,
)
from custom_components.lithium_bms.protocol.jk.stream import COUNTER_STEP, JkReassembler

FRAMES = [
    bytes.fromhex(v["hex"])
    for v in json.loads(
        (Path(__file__).parent / "data" / "jk_vectors.json").read_text()
    )
]
CELLS, SETTINGS = FRAMES[2], FRAMES[7]
ACK = bytes.fromhex("aa5590ebc8010100000000000000000000000044")
NOISE = b"AT\r\n"
# The start of a device-info frame: any frame may precede it, so it releases a
# cell or settings frame that waits for the next frame's counter.
RELEASE = FRAME_HEADER + b"\x03\x00"


def _feed_all(chunks: list[bytes]) -> tuple[list[bytes], list[Exception]]:
    reassembler = JkReassembler()
    frames: list[bytes] = []
    errors: list[Exception] = []
    for chunk in chunks:
        got, errs = reassembler.feed(chunk)
        frames += got
        errors += errs
    return frames, errors


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _seal(frame: bytearray) -> bytes:
    frame[299] = sum(frame[:299]) & 0xFF
    return bytes(frame)


def _stream(frames: list[bytes]) -> list[bytes]:
    """Captured frames renumbered as one BMS numbers them (see COUNTER_STEP)."""
    out: list[bytes] = []
    for frame in frames:
        data = bytearray(frame)
        if out:
            step = COUNTER_STEP.get((out[-1][4], data[4]), 1)
            data[5] = (out[-1][5] + step) & 0xFF
        out.append(_seal(data))
    return out


def _successor(frame: bytes, step: int = 1) -> bytes:
    """The head of a cell frame that follows ``frame`` ``step`` counts later."""
    return FRAME_HEADER + bytes((FrameType.CELL_INFO, (frame[5] + step) & 0xFF))


@pytest.mark.parametrize("size", [1, 20, 128, 300, 1000])
def test_split_frames_are_rebuilt(size: int) -> None:
    frames = _stream(FRAMES)
    got, errors = _feed_all(_chunks(b"".join(frames) + RELEASE, size))
    assert got == frames
    assert errors == []


def test_real_module_split_128_128_44() -> None:
    frames, errors = _feed_all([CELLS[:128], CELLS[128:256], CELLS[256:], RELEASE])
    assert frames == [CELLS]
    assert errors == []


def test_real_jk_pb_notifications() -> None:
    """The cuts of a JK-PB 14.20 session (syssi/esphome-jk-bms
    docs/pb2a16s15p-discharge-precharge-time/btsnoop_hci.log): AT noise in
    notifications of its own and in front of a frame, 128/22/128/22-byte
    frames, the ack and noise in one 24-byte notification."""
    info, settings_, cells, more = _stream([FRAMES[4], SETTINGS, CELLS, CELLS])
    notes = [NOISE, NOISE, info[:128], info[128:150], info[150:278], info[278:]]
    notes += [ACK + NOISE, NOISE, NOISE + settings_[:124], settings_[124:150]]
    notes += [settings_[150:278], settings_[278:]]
    for frame in (cells, more):
        notes += [frame[:128], frame[128:150], frame[150:278], frame[278:]]
        notes += [NOISE, NOISE]
    frames, errors = _feed_all(notes)
    assert frames == [info, settings_, cells]  # ``more`` waits for its successor
    assert errors == []


def test_glued_frame_and_head_of_the_next() -> None:
    settings_, cells = _stream([SETTINGS, CELLS])
    frames, _ = _feed_all([settings_ + cells[:84], cells[84:], RELEASE])
    assert frames == [settings_, cells]


def test_noise_notifications_inside_a_frame_are_dropped() -> None:
    chunks = [CELLS[:100], NOISE, CELLS[100:200], ACK, NOISE + CELLS[200:], RELEASE]
    frames, errors = _feed_all(chunks)
    assert frames == [CELLS]
    assert errors == []


def test_noise_and_ack_between_frames_are_skipped() -> None:
    settings_, cells = _stream([SETTINGS, CELLS])
    stream = NOISE + settings_ + ACK + NOISE + NOISE + cells + ACK
    frames, errors = _feed_all(_chunks(stream, 20))
    assert frames == [settings_, cells]
    assert errors == []


def test_320_byte_frame_with_appended_ack() -> None:
    frames, errors = _feed_all([FRAMES[4] + ACK, CELLS, RELEASE])
    assert frames == [FRAMES[4], CELLS]
    assert errors == []


def test_header_split_across_notifications() -> None:
    frames, _ = _feed_all([b"junk\x55", b"\xaa", b"\xeb\x90" + CELLS[4:], RELEASE])
    assert frames == [CELLS]


def test_false_header_does_not_swallow_the_frame_behind_it() -> None:
    fake = FRAME_HEADER + bytes(60)
    frames, errors = _feed_all([fake + CELLS[:200], CELLS[200:], RELEASE])
    assert frames == [CELLS]
    assert len(errors) == 1


def test_bad_checksum_is_reported_and_the_next_frame_survives() -> None:
    broken = CELLS[:299] + bytes(((CELLS[299] + 1) & 0xFF,))
    frames, errors = _feed_all(_chunks(broken + SETTINGS + RELEASE, 128))
    assert frames == [SETTINGS]
    assert errors
    assert isinstance(errors[0], ChecksumError)


def test_truncated_frame_is_dropped_at_the_next_header() -> None:
    settings_, cells = _stream([SETTINGS, CELLS])
    frames, errors = _feed_all([cells[:150], settings_, cells, RELEASE])
    assert frames == [settings_, cells]
    assert errors


def test_unknown_type_is_a_frame_error() -> None:
    odd = bytearray(CELLS)
    odd[4] = 0x09
    frames, errors = _feed_all([_seal(odd)])
    assert frames == []
    assert isinstance(errors[0], FrameError)


def test_reset_drops_a_partial_frame() -> None:
    reassembler = JkReassembler()
    reassembler.feed(CELLS[:200])
    reassembler.reset()
    frames, _ = reassembler.feed(CELLS[200:] + SETTINGS + RELEASE)
    assert frames == [SETTINGS]


def test_a_cell_frame_waits_for_the_next_frame() -> None:
    """Only the next frame's counter shows a frame glued at the same offset."""
    reassembler = JkReassembler()
    assert reassembler.feed(CELLS) == ([], [])
    assert reassembler.feed(_successor(CELLS)[:5]) == ([], [])
    assert reassembler.feed(_successor(CELLS)[5:]) == ([CELLS], [])


def test_device_info_does_not_wait() -> None:
    """Firmware that needs pairing sends the device info and nothing after it."""
    assert JkReassembler().feed(FRAMES[4]) == ([FRAMES[4]], [])


@pytest.mark.parametrize("step", [0, 2, 255])
def test_a_counter_that_does_not_follow_refuses_the_frame(step: int) -> None:
    frames, errors = _feed_all([CELLS, _successor(CELLS, step)])
    assert frames == []
    assert isinstance(errors[0], FrameError)


@pytest.mark.parametrize(
    "after", [b"\x00", CELLS[100:140], b"AT\r\x00", b"\xaa\x55\x00"]
)
def test_bytes_after_a_frame_that_are_no_boundary_refuse_it(after: bytes) -> None:
    frames, errors = _feed_all([SETTINGS + after, RELEASE])
    assert frames == []
    assert "boundary" in str(errors[0])


@pytest.mark.parametrize("inner", [FRAME_HEADER, ACK[:4], NOISE])
def test_a_header_ack_or_noise_inside_a_frame_refuses_it(inner: bytes) -> None:
    cut = bytes(CELLS[:150] + inner + CELLS[150 + len(inner) :])
    frames, errors = _feed_all([cut, RELEASE])
    assert frames == []
    assert "bytes were lost" in str(errors[0])


@st.composite
def noisy_streams(draw: st.DrawFn) -> tuple[list[bytes], list[bytes]]:
    """Frames of one BMS cut at random points, with noise anywhere.

    Junk may precede the stream; between frames the BMS sends only the ack
    or ``AT CR LF`` (captures), and anything else there marks a gap.
    """
    frames = _stream(draw(st.lists(st.sampled_from(FRAMES), min_size=1, max_size=6)))
    stream = bytearray(draw(st.binary(max_size=40).filter(lambda b: b"\x55" not in b)))
    for frame in frames:
        stream += draw(st.sampled_from([b"", NOISE, ACK])) + frame
    stream += RELEASE
    cuts = sorted(draw(st.sets(st.integers(1, len(stream) - 1), max_size=40)))
    chunks = [
        bytes(stream[a:b])
        for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)
    ]
    notes: list[bytes] = []
    for chunk in chunks:
        notes += draw(st.lists(st.sampled_from([NOISE, ACK]), max_size=2))
        notes.append(chunk)
    return frames, notes


@settings(max_examples=200, deadline=None)
@given(case=noisy_streams())
def test_any_split_with_noise_yields_every_frame(
    case: tuple[list[bytes], list[bytes]],
) -> None:
    expected, notifications_ = case
    frames, errors = _feed_all(notifications_)
    assert frames == expected
    assert errors == []


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.binary(max_size=350), max_size=12))
def test_feed_never_raises_and_emits_only_valid_frames(chunks: list[bytes]) -> None:
    reassembler = JkReassembler()
    for chunk in chunks:
        frames, _ = reassembler.feed(chunk)
        for frame in frames:
            check_frame(frame)
    first, second = _stream([CELLS, CELLS])
    frames, _ = reassembler.feed(first + second + RELEASE)
    assert second in frames


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.binary(max_size=350), max_size=12))
def test_driver_feed_never_raises(chunks: list[bytes]) -> None:
    driver = JkDriver(
        SimulatorTransport(JkSimulator("C8:47:8C:00:00:01", "x")), DriverOptions()
    )
    for chunk in [*chunks, SETTINGS, RELEASE]:
        driver.feed(chunk)
    assert driver.inbox.take(lambda frame: frame == SETTINGS) == SETTINGS


# --- Lost notifications (issue 10): a frame spliced across a gap never decodes.

LAYOUTS = {
    JkLayout.JK04: Layout.JK04,
    JkLayout.JK02_24S: Layout.JK02_24S,
    JkLayout.JK02_32S: Layout.JK02_32S,
}
ALARMS = sorted(JK_ERROR_BITS)


def _wander(pack: PackModel, rng: random.Random) -> None:
    """Move the simulated pack to a new random, physically possible state."""
    pack.cell_voltages = [round(rng.uniform(2.6, 3.65), 3) for _ in pack.cell_voltages]
    pack.current = round(rng.uniform(-150, 150), 3)
    pack.soc = rng.randint(0, 100)
    pack.cycles = rng.randint(0, 5000)
    pack.temperatures = [round(rng.uniform(-20, 60), 1) for _ in range(2)]
    pack.mosfet_temperature = round(rng.uniform(-20, 90), 1)
    pack.alarms = set(rng.sample(ALARMS, rng.choice((0, 0, 0, 1, 2))))
    pack.balancing_cells = {rng.randrange(len(pack.cell_voltages))}
    pack.charge_enabled = rng.random() < 0.9


def _session(
    layout: JkLayout, seed: int, cells: int = 40
) -> tuple[list[list[bytes]], set[bytes]]:
    """A simulator session: its bursts of notifications and the frames sent.

    Bytes queued together (device info + ack, settings + cells, noise + cells)
    are cut into ``mtu``-sized notifications as the simulator's pump does; the
    stream pauses after each burst.
    """
    rng = random.Random(seed)
    count = rng.choice((4, 8, 13, 16, 24))
    pack = PackModel(cell_voltages=[3.3] * count)
    sim = JkSimulator("C8:47:8C:00:00:01", "x", pack, layout)
    sent: set[bytes] = set()

    def emit(kind: str) -> bytes:
        frame: bytes = getattr(sim, kind)()
        sent.add(frame)
        return frame

    bursts = [
        emit("device_info_frame") + ACK,
        emit("settings_frame") + emit("cell_frame"),
    ]
    for _ in range(cells):
        _wander(sim.pack, rng)
        noise = NOISE if rng.random() < 0.2 else b""
        bursts.append(noise + emit("cell_frame"))
        if rng.random() < 0.1:
            bursts.append(ACK + NOISE)
        if rng.random() < 0.1:
            bursts.append(emit("settings_frame") + emit("cell_frame"))
    return [notifications(burst, sim.mtu) for burst in bursts], sent


def _decodes(frame: bytes, layout: Layout) -> bool:
    """Whether a frame decodes without error in a layout."""
    decoders: dict[int, Callable[[bytes], object]] = {
        FrameType.CELL_INFO: lambda f: decode_cell_info(f, layout),
        FrameType.SETTINGS: lambda f: decode_settings(f, layout),
        FrameType.DEVICE_INFO: decode_device_info,
    }
    try:
        decoders[frame[4]](frame)
    except ProtocolError:
        return False
    return True


def _feed_bursts(
    bursts: list[list[bytes]],
    lost: set[tuple[int, int]],
    pauses: Container[int] = range(10**6),
) -> tuple[list[bytes], list[Exception]]:
    """Feed what arrives; settle after the bursts in ``pauses``.

    The driver settles when the stream is quiet for ``pause_timeout``: after
    every burst if frames come slower than that, after none if faster.
    """
    reassembler = JkReassembler()
    frames: list[bytes] = []
    errors: list[Exception] = []
    for b, burst in enumerate(bursts):
        for n, note in enumerate(burst):
            if (b, n) not in lost:
                got, errs = reassembler.feed(note)
                frames += got
                errors += errs
        if b in pauses:
            got, errs = reassembler.settle()
            frames += got
            errors += errs
    return frames, errors


def _foreign(frames: list[bytes], sent: set[bytes], layout: Layout) -> list[bytes]:
    """Frames that decode but were never sent."""
    return [f for f in frames if f not in sent and _decodes(f, layout)]


@pytest.mark.parametrize("layout", list(JkLayout))
@pytest.mark.parametrize("pauses", [range(10**6), ()], ids=["pauses", "no-pauses"])
def test_one_lost_notification_never_yields_a_foreign_frame(
    layout: JkLayout, pauses: Container[int]
) -> None:
    """Every single lost notification of 12 sessions: no spliced frame decodes."""
    checked = 0
    for seed in range(12):
        bursts, sent = _session(layout, seed)
        for b, burst in enumerate(bursts):
            window = bursts[max(0, b - 3) : b + 4]
            at = min(b, 3)
            for n in range(len(burst)):
                frames, _ = _feed_bursts(window, {(at, n)}, pauses)
                assert _foreign(frames, sent, LAYOUTS[layout]) == []
                checked += 1
    assert checked > 1000


def test_a_splice_that_passes_the_sum_is_refused() -> None:
    """The issue-10 fault: a lost notification, and the 1-byte sum still passes.

    Session 2 of JK02_24S loses a notification whose splice passes the old
    header + length + sum check (it reads 12.877 V and 0 % SOC).
    """
    bursts, sent = _session(JkLayout.JK02_24S, 2)
    flat = [(b, n) for b, burst in enumerate(bursts) for n in range(len(burst))]
    lost = flat[62]
    stream = b"".join(
        note
        for b, burst in enumerate(bursts)
        for n, note in enumerate(burst)
        if (b, n) != lost
    )
    spliced = [
        stream[i : i + 300]
        for i in range(len(stream) - 299)
        if stream.startswith(FRAME_HEADER, i)
        and stream[i : i + 300] not in sent
        and sum(stream[i : i + 299]) & 0xFF == stream[i + 299]
    ]
    assert spliced, "the case still splices a frame that passes the sum"
    frames, errors = _feed_bursts(bursts, {lost})
    assert not set(spliced) & set(frames)
    assert set(frames) <= sent
    assert errors


type LossySession = tuple[
    list[list[bytes]], set[tuple[int, int]], set[int], set[bytes], Layout
]


@st.composite
def lossy_sessions(draw: st.DrawFn) -> LossySession:
    """A session with several notifications lost anywhere, pauses anywhere."""
    layout = draw(st.sampled_from(list(JkLayout)))
    bursts, sent = _session(layout, draw(st.integers(0, 2**16)), cells=12)
    flat = [(b, n) for b, burst in enumerate(bursts) for n in range(len(burst))]
    lost = draw(st.sets(st.sampled_from(flat), min_size=1, max_size=8))
    pauses = draw(st.sets(st.integers(0, len(bursts) - 1)))
    return bursts, lost, pauses, sent, LAYOUTS[layout]


@settings(max_examples=400, deadline=None)
@given(case=lossy_sessions())
def test_lost_notifications_never_yield_a_foreign_frame(case: LossySession) -> None:
    bursts, lost, pauses, sent, layout = case
    frames, _ = _feed_bursts(bursts, lost, pauses)
    assert _foreign(frames, sent, layout) == []


def test_a_frame_that_stops_half_way_is_dropped_at_the_pause() -> None:
    reassembler = JkReassembler()
    assert reassembler.feed(CELLS[:128]) == ([], [])
    frames, errors = reassembler.settle()
    assert frames == []
    assert "half-way" in str(errors[0])
    assert reassembler.feed(CELLS[128:]) == ([], [])  # the rest is no frame
    assert not reassembler.pending


def test_a_waiting_frame_is_released_at_the_pause() -> None:
    reassembler = JkReassembler()
    assert reassembler.feed(CELLS) == ([], [])
    assert reassembler.pending
    assert reassembler.settle() == ([CELLS], [])
    assert reassembler.settle() == ([], [])


def test_intact_sessions_yield_every_frame() -> None:
    for layout in JkLayout:
        bursts, sent = _session(layout, 7)
        frames, errors = _feed_bursts(bursts, set())
        assert sorted(frames) == sorted(sent)
        assert errors == []
