"""Opening a database: a SQLAlchemy URL (SQLite by default, PostgreSQL for several users) or a
plain file path. SQLite files are created readable by their owner only."""

from __future__ import annotations

import os
import threading
from collections import deque
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    event,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import SQLModel, create_engine

from orient.assistant.store import keys
from orient.assistant.store.tables import AuditEntryRow, AuditHeadRow


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


ORIENT_TABLES = {"dossier", "answer", "audit_entry", "audit_head"}


def _french(exc: Exception) -> str:
    """A short French reason for a driver error (the English detail follows in brackets)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    known = (
        ("Can't load plugin", "type de base de données inconnu"),
        ("file is not a database", "ce fichier n'est pas une base de données SQLite"),
        ("No module named 'psycopg", "le pilote PostgreSQL (psycopg) n'est pas installé"),
        ("Connection refused", "le serveur refuse la connexion"),
        ("unable to open database file", "impossible d'ouvrir le fichier"),
        ("password authentication failed", "authentification refusée"),
        ("does not exist", "la base n'existe pas sur le serveur"),
    )
    for needle, french in known:
        if needle in text:
            return f"{french} ({text})"
    return text


def open_engine(
    db: str | os.PathLike[str] | None = None, *, create: bool = True, readonly: bool = False
) -> Engine:
    """An engine for `db` with the schema and the audit head created (missing tables too). Without
    `create` the database must exist already. With `readonly` nothing is written at all (a SQLite
    file is opened read-only) and it must be an Orient database. Raises DatabaseError with a
    French message."""
    url_text = to_url(db)
    try:
        url = make_url(url_text)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseError(f"Adresse de base de données invalide : « {url_text} ».") from exc
    shown = url.render_as_string()
    try:
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            path = Path(url.database)
            if (readonly or not create) and not path.exists():
                raise DatabaseError(f"Base de données introuvable : « {url.database} ».")
            if readonly:
                engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", hide_parameters=True)
            else:
                _prepare_sqlite_file(url.database)
                engine = create_engine(url, connect_args={"check_same_thread": False},
                                       hide_parameters=True)
                _sqlite_tuning(engine)
        else:
            # no statement parameters in error messages or logs: they may hold patient data
            engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
        if not readonly:
            migrate(engine)
            _ensure_audit_head(engine)
            _ensure_keys(engine, url)
        else:
            present = set(inspect(engine).get_table_names())
            if not present & ORIENT_TABLES:
                raise DatabaseError(f"« {shown} » n'est pas une base de données Orient.")
            keys.attach(engine, url)
    except DatabaseError:
        raise
    except keys.KeysError as exc:
        raise DatabaseError(str(exc)) from exc
    except Exception as exc:
        raise DatabaseError(f"Base de données inutilisable « {shown} » : {_french(exc)}.") from exc
    return engine


def close_engine(engine: Engine) -> None:
    """Close a database: the audit checkpoint still due is written now, while its key folder
    is there (a throw-away folder is often removed right after), then the connections close."""
    found = keys.of(engine).anchor  # anchor.Anchor, once a commit moved the head
    if found is not None:
        found.flush()
    engine.dispose()


SCHEMA_HEAD = "0008_notify"  # the latest migration in migrations/versions (checked by a test)


def schema_version(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if "alembic_version" not in inspect(conn).get_table_names():
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema (skipped when the database is already at the latest
    migration, so that opening stays fast). An empty database gets the tables as defined, marked
    at the latest migration, as Alembic's documentation advises (importing Alembic and replaying
    every migration costs a first start 10 MB and a quarter of a second; tests check that the
    migrations give the same schema); a database at an older migration is upgraded by Alembic
    with the migrations shipped in the package."""
    if schema_version(engine) == SCHEMA_HEAD:
        return
    with engine.begin() as conn:
        one_at_a_time(conn, LOCK_SCHEMA)  # two processes starting on one new database
        if not inspect(conn).get_table_names():
            create_latest(conn)
            return
    upgrade(engine)


LOCK_SCHEMA = 7_301_001  # PostgreSQL advisory lock keys (any numbers, fixed, Orient's own)
LOCK_DIRECTORY = 7_301_002


def one_at_a_time(conn: Connection, key: int) -> None:
    """Processes sharing a PostgreSQL database take this step in turn, until the end of `conn`'s
    transaction (SQLite: the write lock taken at BEGIN already does it)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def create_latest(conn: Connection) -> None:
    """The tables of tables.py and Alembic's version table at SCHEMA_HEAD, in `conn`'s
    transaction."""
    SQLModel.metadata.create_all(conn)
    version = Table("alembic_version", MetaData(),
                    Column("version_num", String(32), nullable=False),
                    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))
    version.create(conn)
    conn.execute(insert(version).values(version_num=SCHEMA_HEAD))


def upgrade(engine: Engine) -> None:
    """Run the shipped Alembic migrations up to the latest."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("orient.assistant.store") / "migrations"))
    with engine.begin() as conn:
        one_at_a_time(conn, LOCK_SCHEMA)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _ensure_audit_head(engine: Engine) -> None:
    """The head record exists from the start, so that a log wiped with its head is detected."""
    with engine.begin() as conn:
        if conn.execute(select(AuditHeadRow.__table__)).first() is None:  # type: ignore[attr-defined]
            conn.execute(insert(AuditHeadRow.__table__).values(id=1, seq=0, hash="0" * 64))  # type: ignore[attr-defined]


def _ensure_keys(engine: Engine, url: Any) -> None:
    """The database's keys (keys.py), created 0600 at first start. A database whose log already
    uses keys that are not there is refused: new keys would leave its entries unverifiable."""
    ring = keys.attach(engine, url)
    if ring.exists():
        return
    entry = AuditEntryRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        keyed = conn.execute(select(entry.c.seq).where(entry.c.key_id.is_not(None)).limit(1)).first()
    if keyed is not None:
        raise DatabaseError(f"Clés d'audit introuvables (« {ring.folder} ») alors que le journal de "
                            "cette base en utilise : restaurez le dossier des clés (ou indiquez-le "
                            f"par la variable {keys.KEYS_VARIABLE}) avant de démarrer.")
    ring.ensure()


def reader_engine(engine: Engine) -> Engine:
    """An engine for read-only work: on SQLite, statements outside any write transaction (WAL
    readers never wait for writers); elsewhere the same engine."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine
    reads = create_engine(engine.url, connect_args={"check_same_thread": False}, hide_parameters=True)
    keys.attach(reads, engine.url)

    @event.listens_for(reads, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # autocommit: each read sees the latest commit
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    return reads


class FairLock:
    """A lock handed to its waiters in the order they came (threading.Lock wakes any of them)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self, timeout: float = -1) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            ticket = threading.Lock()
            ticket.acquire()
            self._waiters.append(ticket)
        if ticket.acquire(timeout=timeout):
            return True  # handed over by release()
        with self._mutex:
            try:
                self._waiters.remove(ticket)
            except ValueError:  # handed over just as the wait ended: it is ours
                return True
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # the next in line owns it now
            else:
                self._held = False


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

    # Transactions of this process take turns on a lock of their own before asking SQLite for
    # its write lock: waiting here wakes at once when the previous one ends, while SQLite's busy
    # handler sleeps in growing steps (which made the slowest requests wait a second). The turns
    # are first come, first served (a plain lock wakes any waiter, and with 40 threads some
    # waited over a second).
    turn = FairLock()
    holder: dict[int, bool] = {}  # by connection: whether it holds the turn
    committing: dict[int, int] = {}  # pooled DBAPI connection -> the connection committing on it

    def _release(conn) -> None:  # type: ignore[no-untyped-def]
        if holder.pop(id(conn), False):
            turn.release()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        holder[id(conn)] = turn.acquire(timeout=15)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except Exception:
            _release(conn)
            raise

    # A committed turn ends once SQLite's COMMIT is done: SQLAlchemy's commit event comes just
    # before the DBAPI commit, and a turn ended there sent the next writer into SQLite's busy
    # handler. So the event only notes which connection commits, and this engine's own dialect
    # ends the turn after the DBAPI commit. A rollback (rare and quick, and on a connection
    # already invalidated no ROLLBACK is sent at all) ends the turn at the rollback event.
    @event.listens_for(engine, "commit")
    def _on_commit(conn):  # type: ignore[no-untyped-def]
        committing[id(conn.connection)] = id(conn)

    dialect = engine.dialect
    plain_commit = dialect.do_commit

    def do_commit(pooled: Any) -> None:
        try:
            plain_commit(pooled)
        finally:
            key = committing.pop(id(pooled), None)
            if key is not None and holder.pop(key, False):
                turn.release()

    dialect.do_commit = do_commit  # type: ignore[method-assign,assignment]
    event.listen(engine, "rollback", _release)
