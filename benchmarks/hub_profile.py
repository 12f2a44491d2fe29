"""One send, in process: where its time goes.

Prepares signed dossiers (as benchmarks/hub.py does), then runs `POST /dossiers/{id}/send`
through the ASGI app (httpx ASGITransport, no network), one at a time, and prints the mean time
per send and the SQL statements per send. With `--profile`, the sync endpoint runs on the event
loop's thread (instead of the thread pool) so that cProfile sees all of it, and the top functions
are printed.

Usage: python benchmarks/hub_profile.py [--sends N] [--profile] [--sort tottime|cumtime]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hub import prepare

from orient.assistant.hub.app import Hub, create_app
from orient.assistant.store.db import open_engine


def _inline_threadpool() -> None:
    """Run sync endpoints and dependencies on the calling thread (profiling only)."""
    import fastapi.dependencies.utils as dep_utils
    from fastapi import routing

    async def inline(func: Any, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    routing.run_in_threadpool = inline  # type: ignore[assignment]
    dep_utils.run_in_threadpool = inline  # type: ignore[assignment]


async def run(app: Any, token: str, ids: list[str]) -> list[float]:
    times = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub",
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        for dossier_id in ids:
            t0 = time.perf_counter()
            response = await http.post(f"/dossiers/{dossier_id}/send",
                                       json={"idempotency_key": str(uuid.uuid4())})
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.text
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sends", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'hub.db'}"
        ids, token = prepare(url, args.sends + 20)
        hub = Hub(open_engine(url))
        app = create_app(hub)
        statements = [0]

        for engine in {hub.db, hub.reads}:
            @event.listens_for(engine, "before_cursor_execute")
            def _count(*_a: Any) -> None:
                statements[0] += 1

        if args.profile:
            _inline_threadpool()
        asyncio.run(run(app, token, ids[:20]))  # warm-up: directory index, caches
        statements[0] = 0
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        times = asyncio.run(run(app, token, ids[20:]))
        if profiler:
            profiler.disable()
        times.sort()
        print(f"sends: {len(times)}, mean {sum(times) / len(times) * 1000:.2f} ms, "
              f"median {times[len(times) // 2] * 1000:.2f} ms, "
              f"SQL statements per send: {statements[0] / len(times):.1f}")
        if profiler:
            stats = pstats.Stats(profiler)
            stats.sort_stats(args.sort).print_stats(args.top)
        hub.db.dispose()
        hub.reads.dispose()


if __name__ == "__main__":
    main()
