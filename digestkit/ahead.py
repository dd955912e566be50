"""Work done ahead of need in one background thread: the event runner's next digest.

While the kept kernel runs one event's notebook, the runner's own process only waits for it;
:class:`Ahead` lets it build the next event's digest meanwhile. The work must be pure (it
writes nothing): a result is used only if asked for under the same key, and a computation that
failed is simply not used, so the caller computes it again in place and meets the error where
it handles errors.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, Generic, TypeVar

__all__ = ["SWITCH_INTERVAL", "Ahead"]

V = TypeVar("V")

#: The interpreter's thread switch interval while an :class:`Ahead` is open (seconds). The
#: caller's thread mostly waits on sockets: each time it wakes (a kernel message, a send) it
#: needs the GIL back from the busy background thread, which by default (5 ms) made it wait
#: several milliseconds per message, hundreds of times per pass.
SWITCH_INTERVAL = 0.0002


class Ahead(Generic[V]):
    """Results of ``compute`` started ahead in one background thread and taken once each.

    Use it as a context manager (it sets :data:`SWITCH_INTERVAL` meanwhile); leaving it waits
    for what is still running. Only one
    computation runs at a time, and :meth:`settle` waits for it: call it before the caller's own
    thread reads what the computation reads, when that is not safe to share.
    """

    def __init__(self, compute: Callable[..., V]) -> None:
        self._compute = compute
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digestkit-ahead")
        self._pending: dict[Hashable, Future[V]] = {}
        self.used = 0  # results taken, for tests and benchmarks
        self._interval = sys.getswitchinterval()

    def __enter__(self) -> Ahead[V]:
        sys.setswitchinterval(min(self._interval, SWITCH_INTERVAL))
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        sys.setswitchinterval(self._interval)

    def start(self, key: Hashable, *args: Any) -> None:
        """Start ``compute(*args)`` in the background unless ``key``'s is started already.

        Results finished and never taken are dropped: their key's turn has passed.
        """
        for done in [k for k, f in self._pending.items() if k != key and f.done()]:
            del self._pending[done]
        if key not in self._pending:
            self._pending[key] = self._pool.submit(self._compute, *args)

    def settle(self) -> None:
        """Wait until nothing is running in the background."""
        wait(self._pending.values())

    def take(self, key: Hashable) -> V | None:
        """The result started under ``key`` (waiting for it); None if none was or it failed."""
        future = self._pending.pop(key, None)
        if future is None or future.exception() is not None:
            return None
        self.used += 1
        return future.result()
