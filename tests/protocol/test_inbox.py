"""The frame inbox: waiting for frames, errors, bounds."""

from __future__ import annotations

import asyncio
import time

import pytest

from custom_components.lithium_bms.protocol.errors import (
    BmsConnectionError,
    BmsTimeoutError,
    ChecksumError,
    FrameError,
)
from custom_components.lithium_bms.protocol.inbox import MAX_PENDING, FrameInbox

from .fakes import any_frame


def test_take_returns_oldest_match_and_removes_it() -> None:
    inbox = FrameInbox()
    for frame in (b"a1", b"b1", b"a2", b"b2"):
        inbox.put(frame)
    is_b = lambda f: f.startswith(b"b")  # noqa: E731
    assert inbox.take(is_b) == b"b1"
    assert inbox.take(is_b) == b"b2"
    assert inbox.take(is_b) is None
    assert inbox.take(any_frame) == b"a1"
    assert inbox.take(any_frame) == b"a2"
    assert inbox.take(any_frame) is None


def test_inbox_keeps_only_the_newest_frames() -> None:
    inbox = FrameInbox()
    for i in range(MAX_PENDING + 8):
        inbox.put(bytes((i,)))
    assert inbox.take(any_frame) == bytes((8,))


async def test_wait_for_a_frame_already_there() -> None:
    inbox = FrameInbox()
    inbox.put(b"x")
    assert await inbox.wait_for(lambda f: f == b"x", 0.01) == b"x"


async def test_wait_for_a_later_frame_skipping_others() -> None:
    inbox = FrameInbox()
    loop = asyncio.get_running_loop()
    loop.call_soon(inbox.put, b"other")
    loop.call_later(0.01, inbox.put, b"wanted")
    assert await inbox.wait_for(lambda f: f == b"wanted", 1.0) == b"wanted"
    assert inbox.take(any_frame) == b"other"


async def test_wait_for_times_out() -> None:
    inbox = FrameInbox()
    inbox.put(b"other")
    with pytest.raises(BmsTimeoutError):
        await inbox.wait_for(lambda f: f == b"wanted", 0.02)


async def test_remembered_error_replaces_the_timeout() -> None:
    inbox = FrameInbox()
    first, last = FrameError("first"), ChecksumError("last")
    inbox.reject(first)
    inbox.reject(last)
    with pytest.raises(ChecksumError) as caught:
        await inbox.wait_for(any_frame, 0.02)
    assert caught.value is last


async def test_rejected_data_does_not_hide_a_good_frame() -> None:
    inbox = FrameInbox()
    inbox.reject(ChecksumError("bad"))
    asyncio.get_running_loop().call_soon(inbox.put, b"good")
    assert await inbox.wait_for(any_frame, 1.0) == b"good"


async def test_fail_wakes_a_waiter() -> None:
    inbox = FrameInbox()
    error = BmsConnectionError("gone")
    asyncio.get_running_loop().call_later(0.01, inbox.fail, error)
    started = asyncio.get_running_loop().time()
    with pytest.raises(BmsConnectionError) as caught:
        await inbox.wait_for(any_frame, 5.0)
    assert caught.value is error
    assert asyncio.get_running_loop().time() - started < 1.0


async def test_fail_before_waiting_and_frames_still_delivered() -> None:
    inbox = FrameInbox()
    inbox.put(b"kept")
    inbox.fail(BmsConnectionError("gone"))
    assert await inbox.wait_for(any_frame, 0.01) == b"kept"
    with pytest.raises(BmsConnectionError):
        await inbox.wait_for(any_frame, 0.01)


async def test_clear_forgets_frames_errors_and_failure() -> None:
    inbox = FrameInbox()
    inbox.put(b"old")
    inbox.reject(FrameError("old"))
    inbox.fail(BmsConnectionError("old"))
    inbox.clear()
    assert inbox.take(any_frame) is None
    with pytest.raises(BmsTimeoutError):
        await inbox.wait_for(any_frame, 0.01)


async def test_a_frame_in_before_the_deadline_is_taken_after_a_stall() -> None:
    """The loop stalls (a busy host) past the deadline: the frame that arrived
    in time and the deadline fire in the same turn, and the frame still wins."""
    inbox = FrameInbox()
    loop = asyncio.get_running_loop()
    loop.call_later(0.01, inbox.put, b"answer")
    loop.call_soon(time.sleep, 0.1)
    assert await inbox.wait_for(any_frame, 0.05) == b"answer"


async def test_a_stall_with_nothing_received_still_times_out() -> None:
    inbox = FrameInbox()
    asyncio.get_running_loop().call_soon(time.sleep, 0.1)
    with pytest.raises(BmsTimeoutError):
        await inbox.wait_for(any_frame, 0.05)
