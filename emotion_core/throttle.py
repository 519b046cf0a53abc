"""Exponential back-off after failed attempts (wrong passwords, wrong API tokens).

:class:`Backoff` is the policy: how long a caller waits after a number of failures. :class:`Throttle` keeps
that state in memory for many keys (source addresses); :mod:`emotion_core.accounts` keeps an account's state in
its ``users`` row with the same policy.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from emotion_core.errors import TooManyAttempts
from emotion_core.storage.db import utcnow


@dataclass(frozen=True)
class Backoff:
    """The first ``free`` failures cost nothing; each further one makes the caller wait ``base``, doubled per
    failure up to ``cap``. Failures are forgotten once ``forget_after`` has passed since the wait ended."""

    free: int
    base: timedelta
    cap: timedelta
    forget_after: timedelta

    def delay(self, failures: int) -> timedelta:
        if failures <= self.free:
            return timedelta(0)
        return min(self.cap, self.base * 2 ** min(failures - self.free - 1, 32))

    def after_failure(self, failures: int, until: datetime | None, now: datetime) -> tuple[int, datetime]:
        """The failure count and the earliest next attempt once one more failure happens at ``now``,
        given the count so far and the end of the current wait (``until``, None before any failure)."""
        if until is None or now > until + self.forget_after:
            failures = 0
        failures += 1
        return failures, now + self.delay(failures)


def refuse_until(until: datetime | None, now: datetime) -> None:
    """Raise :class:`TooManyAttempts` if the wait that ends at ``until`` is not over at ``now``."""
    if until is not None and until > now:
        raise TooManyAttempts(math.ceil((until - now).total_seconds()))


class Throttle:
    """Back-off state per key (a source address), in memory, for one process.

    Thread-safe, and bounded: past ``max_keys`` keys, the one whose last failure is oldest is dropped.
    """

    def __init__(self, backoff: Backoff, *, clock: Callable[[], datetime] = utcnow, max_keys: int = 10_000):
        self.backoff = backoff
        self.clock = clock
        self.max_keys = max_keys
        self._state: OrderedDict[str, tuple[int, datetime]] = OrderedDict()  # key -> (failures, wait ends)
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Raise :class:`TooManyAttempts` while ``key`` must wait."""
        with self._lock:
            _, until = self._state.get(key, (0, None))
        refuse_until(until, self.clock())

    def failure(self, key: str) -> None:
        with self._lock:
            failures, until = self._state.pop(key, (0, None))
            self._state[key] = self.backoff.after_failure(failures, until, self.clock())
            if len(self._state) > self.max_keys:
                self._state.popitem(last=False)

    def forgive(self, key: str, failures: int) -> None:
        """Take up to ``failures`` failures off ``key``'s count (the key is forgotten at zero)."""
        with self._lock:
            if key not in self._state:
                return
            count, until = self._state[key]
            if count <= failures:
                del self._state[key]
            else:
                self._state[key] = (count - failures, until)
