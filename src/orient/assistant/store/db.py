"""Opening a database: a SQLAlchemy URL (SQLite by default, PostgreSQL for several users) or a
plain file path. SQLite files are created readable by their owner only."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import SQLModel, create_engine

from orient.assistant.store import tables  # noqa: F401 - registers the tables


class DatabaseError(ValueError):
    """A database URL or file that cannot be used; the message is French."""


def default_db_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "orient" / "orient.db"


def to_url(db: str | os.PathLike[str] | None) -> str:
    if db is None:
        return f"sqlite:///{default_db_path()}"
    text = str(db)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def _prepare_sqlite_file(path: str) -> None:
    if not path or path == ":memory:":
        return
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    if not file.exists():
        fd = os.open(file, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


def open_engine(db: str | os.PathLike[str] | None = None, *, create: bool = True) -> Engine:
    """An engine for `db` with the schema created. Raises DatabaseError with a French message."""
    url_text = to_url(db)
    try:
        url = make_url(url_text)
    except ArgumentError as exc:
        raise DatabaseError(f"Adresse de base de données invalide : « {url_text} ».") from exc
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:" and not create and not Path(url.database).exists():
            raise DatabaseError(f"Base de données introuvable : « {url.database} ».")
        _prepare_sqlite_file(url.database or "")
        engine = create_engine(url, connect_args={"check_same_thread": False})
        _sqlite_tuning(engine)
    else:
        try:
            engine = create_engine(url, pool_pre_ping=True)
        except Exception as exc:
            raise DatabaseError(f"Base de données inutilisable « {url.render_as_string()} » : {exc}") from exc
    try:
        SQLModel.metadata.create_all(engine)
    except Exception as exc:
        raise DatabaseError(f"Base de données inaccessible « {url.render_as_string()} » : {exc}") from exc
    return engine


def _sqlite_tuning(engine: Engine) -> None:
    """WAL journal (a killed process loses nothing committed), foreign keys, and transactions that
    take the write lock at BEGIN so that two writers never deadlock on an upgrade."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")
