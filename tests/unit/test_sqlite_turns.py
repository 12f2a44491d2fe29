"""Writers of one process on one SQLite file take turns without ever meeting SQLite's busy
handler (which sleeps in growing steps): a turn ends once the COMMIT is done, not before."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, insert
from sqlmodel import Session

from orient.assistant.store.db import open_engine
from orient.assistant.store.tables import FeedEventRow

FEED = FeedEventRow.__table__  # type: ignore[attr-defined]


def test_concurrent_writers_never_wait_in_sqlites_busy_handler(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "turns.db")
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _no_busy_wait(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA busy_timeout=0")  # a collision fails at once: "database is locked"

    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def writer(n: int) -> None:
        start.wait()
        try:
            for i in range(60):
                with Session(engine) as session:
                    session.connection().execute(insert(FEED).values(
                        at=datetime(2026, 1, 1, tzinfo=UTC), kind=f"w{n}-{i}"))
                    session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    engine.dispose()
    assert not errors, errors[0]
