"""Hub processes starting together on one new PostgreSQL database: one creates the schema and one
loads the directory, the others wait for it and find it done (a unique-key error stopped the second
`orient serve` before)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from orient.assistant.store import directory
from orient.assistant.store.db import SCHEMA_HEAD, open_engine, schema_version


def _together(n: int, work: Callable[[], Any]) -> list[Any]:
    """`work` in n threads released at the same moment; their results, or the exceptions raised."""
    start = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_schema_created_once_by_processes_starting_together(pg_url: str) -> None:
    engines = _together(4, lambda: open_engine(pg_url))
    assert not [e for e in engines if isinstance(e, Exception)], engines
    try:
        assert all(schema_version(e) == SCHEMA_HEAD for e in engines)
    finally:
        for e in engines:
            e.dispose()


def test_directory_loaded_once_by_hubs_starting_together(pg_url: str) -> None:
    engines = [open_engine(pg_url) for _ in range(3)]
    try:
        def load(engine: Any) -> bool:
            with Session(engine) as session:
                loaded = directory.ensure_directory(session)
                session.commit()
                return loaded

        turn = iter(engines)
        lock = threading.Lock()

        def next_engine() -> bool:
            with lock:
                engine = next(turn)
            return load(engine)

        results = _together(3, next_engine)
        assert not [r for r in results if isinstance(r, Exception)], results
        assert sorted(results) == [False, False, True]  # one loaded it, two found it loaded
        with Session(engines[0]) as session:
            count = session.connection().execute(select(func.count()).select_from(directory.EST))
            assert count.scalar_one() == 5368  # every FINESS establishment, once
    finally:
        for e in engines:
            e.dispose()
