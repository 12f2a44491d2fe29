"""Fixtures of the hub API tests (helpers: api_helpers.py).

- `db_url`: the database of one test, parametrized over SQLite (a temporary file, copied from a
  template that already holds the directory, to save time) and PostgreSQL (the `pg_url` fixture of
  tests/conftest.py). `sqlite_url` is the SQLite half alone, for the tests that do not depend on
  the database; `module_db_url` is a database shared by the tests of one module, on both.
- `env` / `sqlite_env`: an `api_helpers.Env` (a hub with a controlled clock) on that database.
- `roles` / `sqlite_roles`: the cast (owner doctor, other doctor, secretaries, receivers, admin).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from api_helpers import Env, Roles, make_env, make_roles
from pg_databases import fresh_database
from sqlmodel import Session

from orient.assistant.store.db import open_engine
from orient.assistant.store.directory import ensure_directory


# -- databases ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database with the schema and the directory loaded once; tests copy it."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = open_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        ensure_directory(session)
        session.commit()
    engine.dispose()
    return path


def _sqlite_copy(template: Path, folder: Path) -> str:
    target = folder / f"orient-{uuid.uuid4().hex[:8]}.db"
    shutil.copyfile(template, target)
    os.chmod(target, 0o600)
    return f"sqlite:///{target}"


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    return _sqlite_copy(sqlite_template, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> str:
    """The database of one test: SQLite (temporary file) or PostgreSQL (`pg_url`)."""
    if request.param == "sqlite":
        return _sqlite_copy(sqlite_template, tmp_path)
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(scope="module")
def module_sqlite_url(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database shared by the tests of one module."""
    return _sqlite_copy(sqlite_template, tmp_path_factory.mktemp("module"))


@pytest.fixture(scope="module")
def module_pg_url(pg_server: str) -> Iterator[str]:
    """A PostgreSQL database shared by the tests of one module (like `pg_url`, module-wide)."""
    with fresh_database(pg_server) as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(request: pytest.FixtureRequest) -> str:
    """Like `db_url`, for a world shared by the tests of one module: a database per module."""
    return str(request.getfixturevalue("module_sqlite_url" if request.param == "sqlite" else "module_pg_url"))


@pytest.fixture
def env(db_url: str) -> Iterator[Env]:
    """A hub with a controlled clock on the test's database (SQLite and PostgreSQL)."""
    e = make_env(db_url)
    try:
        yield e
    finally:
        e.close()


@pytest.fixture
def sqlite_env(sqlite_url: str) -> Iterator[Env]:
    """A hub with a controlled clock on SQLite only (tests independent of the database)."""
    e = make_env(sqlite_url)
    try:
        yield e
    finally:
        e.close()


@pytest.fixture
def env_factory() -> Iterator[Callable[[str], Env]]:
    made: list[Env] = []

    def make(url: str) -> Env:
        made.append(make_env(url))
        return made[-1]

    yield make
    for e in made:
        e.close()


@pytest.fixture
def roles(env: Env) -> Roles:
    return make_roles(env)


@pytest.fixture
def sqlite_roles(sqlite_env: Env) -> Roles:
    return make_roles(sqlite_env)
