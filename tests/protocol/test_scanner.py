"""The shared reassembly scanner, with a toy family: ``<< len data sum``."""

from __future__ import annotations

from custom_components.lithium_bms.protocol.errors import ChecksumError, ProtocolError
from custom_components.lithium_bms.protocol.scanner import (
    MAX_BUFFER,
    NEED_MORE,
    FrameRules,
    Scanner,
    refusal,
)

START = 0x3C


class ToyRules(FrameRules):
    """``3C <len> <data> <sum>``; ``!`` noise in front of a chunk is dropped."""

    name = "toy"
    starts = bytes((START,))

    def __init__(self, *, resume_on_stall: bool = False) -> None:
        self.resume_on_stall = resume_on_stall
        self.dropped_total = 0

    def length(self, buf: bytearray, pos: int) -> int | None:
        if len(buf) - pos < 2:
            return NEED_MORE
        return 3 + buf[pos + 1] if buf[pos + 1] < 0x40 else 0

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        body = buf[pos + 1 : pos + length - 1]
        if sum(body) & 0xFF != buf[pos + length - 1]:
            return ChecksumError("toy checksum mismatch")
        return None

    def clean(self, data: bytes) -> bytes:
        return data.lstrip(b"!")

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        if not self.resume_on_stall:
            return None
        later = buf.find(START, pos + 1)
        return later if later >= 0 else None

    def dropped(self, count: int) -> None:
        self.dropped_total += count


def frame(data: bytes) -> bytes:
    body = bytes((len(data),)) + data
    return bytes((START,)) + body + bytes((sum(body) & 0xFF,))


def test_frames_split_and_glued_come_out_whole() -> None:
    stream = frame(b"ab") + frame(b"") + frame(b"xyz")
    scanner = Scanner(ToyRules())
    frames: list[bytes] = []
    for byte in stream:
        found, errors = scanner.feed(bytes((byte,)))
        frames += found
        assert errors == []
    assert frames == [frame(b"ab"), frame(b""), frame(b"xyz")]
    assert Scanner(ToyRules()).feed(stream) == (frames, [])


def test_garbage_and_a_refused_candidate_never_hide_a_frame() -> None:
    bad = bytearray(frame(b"hello"))
    bad[-1] ^= 0xFF
    scanner = Scanner(ToyRules())
    frames, errors = scanner.feed(b"\x00\xff" + bytes(bad) + frame(b"ok"))
    assert frames == [frame(b"ok")]
    assert [type(e) for e in errors] == [ChecksumError]


def test_one_need_more_signal_waits_for_the_rest() -> None:
    scanner = Scanner(ToyRules())
    assert scanner.feed(frame(b"abc")[:3]) == ([], [])
    assert scanner.pending == frame(b"abc")[:3]
    assert scanner.feed(frame(b"abc")[3:]) == ([frame(b"abc")], [])
    assert scanner.pending == b""


def test_the_clean_hook_drops_noise_in_front_of_a_chunk() -> None:
    assert Scanner(ToyRules()).feed(b"!!" + frame(b"a")) == ([frame(b"a")], [])


def test_the_stalled_hook_drops_an_incomplete_candidate() -> None:
    truncated = frame(b"long payload")[:6]
    waiting = Scanner(ToyRules())
    assert waiting.feed(truncated + frame(b"next")) == ([], [])
    resuming = Scanner(ToyRules(resume_on_stall=True))
    frames, errors = resuming.feed(truncated + frame(b"next"))
    assert frames == [frame(b"next")]
    assert [str(e) for e in errors] == ["incomplete toy frame"]


def test_next_valid_skips_starts_that_are_no_complete_valid_frame() -> None:
    bad = bytearray(frame(b"bad"))
    bad[-1] ^= 0xFF
    cut = frame(b"cut short")[:4]
    buf = bytearray(frame(b"waiting")[:3] + bad + cut + frame(b"ok"))
    rules = ToyRules()
    assert rules.next_valid(buf, 0) == 3 + len(bad) + len(cut)
    assert rules.next_valid(bytearray(frame(b"waiting")[:3] + bad + cut), 0) is None


def test_refusal_returns_what_the_checker_raises() -> None:
    def checker(data: bytes) -> None:
        if data != b"good":
            raise ChecksumError("not good")

    assert refusal(checker, b"good") is None
    error = refusal(checker, b"bad")
    assert isinstance(error, ChecksumError)
    assert str(error) == "not good"


def test_the_buffer_stays_bounded() -> None:
    class Endless(ToyRules):
        def length(self, buf: bytearray, pos: int) -> int | None:
            return NEED_MORE

    scanner = Scanner(Endless())
    _, errors = scanner.feed(bytes((START,)) + bytes(MAX_BUFFER + 1))
    assert [str(e) for e in errors] == ["toy bytes overflowed the buffer"]
    assert scanner.pending == b""


def test_consumed_bytes_are_dropped_in_batches_and_reset_empties() -> None:
    rules = ToyRules()
    scanner = Scanner(rules)
    for _ in range(10):
        scanner.feed(frame(b"abcd"))
    assert rules.dropped_total == 10 * len(frame(b"abcd"))
    scanner.feed(frame(b"abcd")[:4])
    scanner.reset()
    assert scanner.pending == b""
