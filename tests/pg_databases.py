"""A throw-away database on a PostgreSQL server (shared by the per-test and per-module fixtures)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new, empty database on `server` (a URL without database name), dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        # and the database's audit keys, kept outside it (docs/security.md)
        from sqlalchemy.engine import make_url

        from orient.assistant.store.keys import folder_for

        folder = folder_for(make_url(f"{server}/{name}"))
        if folder is not None and name in folder.name:
            shutil.rmtree(folder, ignore_errors=True)
