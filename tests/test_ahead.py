"""Work started ahead in a background thread: taken once, under its key, never when it failed."""

from __future__ import annotations

import threading

import pytest

from digestkit.ahead import Ahead


def _square(x: int) -> tuple[int, str]:
    if x < 0:
        raise ValueError("negative")
    return x * x, threading.current_thread().name


def test_a_result_is_computed_in_the_background_and_taken_once() -> None:
    with Ahead(_square) as ahead:
        ahead.start("three", 3)
        ahead.start("three", 4)  # already started under this key: not started again
        value, thread = ahead.take("three") or (None, "")
        assert value == 9 and thread.startswith("digestkit-ahead")
        assert ahead.take("three") is None  # taken already
        assert ahead.take("four") is None  # never started
        assert ahead.used == 1


def test_a_failed_computation_is_not_used() -> None:
    with Ahead(_square) as ahead:
        ahead.start("bad", -1)
        ahead.settle()
        assert ahead.take("bad") is None
        assert ahead.used == 0
    with pytest.raises(ValueError, match="negative"):
        _square(-1)  # what the caller meets when it computes it again in place


def test_a_result_never_taken_is_dropped_when_the_next_one_starts() -> None:
    with Ahead(_square) as ahead:
        ahead.start("two", 2)
        ahead.settle()
        ahead.start("five", 5)
        assert ahead.take("two") is None
        five = ahead.take("five")
        assert five is not None and five[0] == 25
