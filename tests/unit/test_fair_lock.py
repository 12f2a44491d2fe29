"""The SQLite writers' turn lock: first come, first served, and a wait that times out."""

from __future__ import annotations

import threading
import time

from orient.assistant.store.db import FairLock


def _wait_for(condition, seconds: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.001)


def test_waiters_get_the_lock_in_the_order_they_came() -> None:
    lock = FairLock()
    assert lock.acquire()
    order: list[int] = []

    def worker(i: int) -> None:
        assert lock.acquire(timeout=10)
        order.append(i)
        lock.release()

    threads = []
    for i in range(8):
        t = threading.Thread(target=worker, args=(i,))
        t.start()
        threads.append(t)
        _wait_for(lambda n=i + 1: len(lock._waiters) == n)
    lock.release()
    for t in threads:
        t.join(10)
    assert order == list(range(8))
    assert lock.acquire(timeout=0.1)  # free again


def test_a_wait_that_times_out_leaves_the_line() -> None:
    lock = FairLock()
    assert lock.acquire()
    assert lock.acquire(timeout=0.05) is False
    assert not lock._waiters
    lock.release()
    assert lock.acquire(timeout=0.1)
