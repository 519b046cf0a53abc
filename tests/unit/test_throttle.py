"""Back-off after failures, on a clock the tests move by hand."""

from datetime import datetime, timedelta, timezone

import pytest

from emotion_core.errors import TooManyAttempts
from emotion_core.throttle import Backoff, Throttle

POLICY = Backoff(free=2, base=timedelta(seconds=1), cap=timedelta(seconds=10), forget_after=timedelta(hours=1))


class FakeClock:
    """A UTC clock that stands still until told to move."""

    def __init__(self):
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def wait_of(throttle: Throttle, key: str) -> int:
    """Seconds ``key`` is told to wait (0 when it may try now)."""
    try:
        throttle.check(key)
    except TooManyAttempts as refused:
        return refused.retry_after
    return 0


def test_delay_is_free_then_doubles_up_to_the_cap():
    assert [POLICY.delay(n).total_seconds() for n in range(1, 9)] == [0, 0, 1, 2, 4, 8, 10, 10]
    assert POLICY.delay(10_000) == POLICY.cap


def test_a_key_waits_after_its_free_failures_and_others_do_not():
    clock = FakeClock()
    throttle = Throttle(POLICY, clock=clock)
    waits = []
    for _ in range(6):
        throttle.failure("10.0.0.1")
        waits.append(wait_of(throttle, "10.0.0.1"))
        clock.advance(waits[-1])
    assert waits == [0, 0, 1, 2, 4, 8]
    throttle.failure("10.0.0.1")
    clock.advance(0.5)
    with pytest.raises(TooManyAttempts, match="try again in 10 s") as refused:
        throttle.check("10.0.0.1")
    assert refused.value.retry_after == 10  # 9.5 s rounded up: never an invitation to come back too early
    assert wait_of(throttle, "10.0.0.2") == 0


def test_failures_are_forgotten_after_a_quiet_spell():
    clock = FakeClock()
    throttle = Throttle(POLICY, clock=clock)
    for _ in range(4):
        throttle.failure("a")
    clock.advance(POLICY.cap.total_seconds() + POLICY.forget_after.total_seconds() + 1)
    throttle.failure("a")
    assert wait_of(throttle, "a") == 0  # counted as the first failure again


def test_forgive_takes_failures_off_the_count():
    clock = FakeClock()
    throttle = Throttle(POLICY, clock=clock)
    for _ in range(4):
        throttle.failure("a")
    throttle.forgive("a", 1)
    clock.advance(60)
    throttle.failure("a")  # the 4th again, not the 5th
    assert wait_of(throttle, "a") == 2
    throttle.forgive("a", 10)
    throttle.failure("a")
    assert wait_of(throttle, "a") == 0
    throttle.forgive("never failed", 1)  # nothing to forgive is no error
    assert wait_of(throttle, "never failed") == 0


def test_memory_is_bounded_by_dropping_the_stalest_key():
    throttle = Throttle(POLICY, clock=FakeClock(), max_keys=2)
    for key in ("old", "newer", "old", "newest"):
        for _ in range(POLICY.free + 1):
            throttle.failure(key)
    assert wait_of(throttle, "newer") == 0  # dropped: its last failure is the oldest
    assert wait_of(throttle, "old") > 0 and wait_of(throttle, "newest") > 0


@pytest.mark.parametrize("seconds, text", [(1, "1 s"), (119, "119 s"), (120, "2 min"), (900, "15 min"),
                                           (901, "16 min")])
def test_the_wait_is_said_in_seconds_or_whole_minutes(seconds, text):
    assert str(TooManyAttempts(seconds)) == f"too many failed attempts: try again in {text}."
