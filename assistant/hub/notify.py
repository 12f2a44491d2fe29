"""Waking waiting feed requests across hub processes: PostgreSQL LISTEN/NOTIFY.

Every feed event inserted on PostgreSQL also sends `NOTIFY orient_feed` in the same transaction
(delivered at commit). Each hub process keeps one listening connection in a thread and wakes its
waiting requests; they then read the events from the database, so nothing rides on the
notification itself and a missed one only delays until the next poll."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy.engine import Engine

CHANNEL = "orient_feed"


class PgNotifier:
    def __init__(self, engine: Engine) -> None:
        self.url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self._thread = threading.Thread(target=self._listen, name="orient-feed-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _listen(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self._wake()
            except Exception:  # noqa: BLE001 - reconnect after a lost connection
                self._stop.wait(1.0)

    def _wake(self) -> None:
        if self._loop is not None and self._event is not None:
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> None:
        assert self._event is not None
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return
        self._event.clear()
