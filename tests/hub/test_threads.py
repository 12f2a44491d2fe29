"""The hub's thread pool: a few threads on SQLite (one writer at a time), set by the lifespan."""

from __future__ import annotations

import asyncio
from pathlib import Path

import anyio.to_thread

from orient.assistant.hub.app import SQLITE_THREADS, Hub, create_app
from orient.assistant.store.db import open_engine


def _threads_in_lifespan(hub: Hub) -> int:
    app = create_app(hub)

    async def run() -> int:
        async with app.router.lifespan_context(app):
            return int(anyio.to_thread.current_default_thread_limiter().total_tokens)

    try:
        return asyncio.run(run())
    finally:
        hub.db.dispose()
        hub.reads.dispose()


def test_sqlite_hub_runs_its_blocking_endpoints_on_a_few_threads(tmp_path: Path) -> None:
    assert _threads_in_lifespan(Hub(open_engine(tmp_path / "a.db"))) == SQLITE_THREADS


def test_the_number_of_threads_can_be_chosen(tmp_path: Path) -> None:
    hub = Hub(open_engine(tmp_path / "b.db"))
    hub.threads = 12
    assert _threads_in_lifespan(hub) == 12
