"""The schema: a new database gets the tables as defined and is marked at the latest migration;
the Alembic migrations give the same schema, on SQLite and on PostgreSQL; an older database is
upgraded by them."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from orient.assistant.store import tables  # noqa: F401 - registers the tables
from orient.assistant.store.db import SCHEMA_HEAD, open_engine, schema_version, upgrade


def test_schema_head_is_the_latest_migration() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("orient.assistant.store") / "migrations"))
    assert ScriptDirectory.from_config(cfg).get_heads() == [SCHEMA_HEAD]


def _diff(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), SQLModel.metadata))


def _schema(engine: Engine) -> dict[str, Any]:
    """Every table's columns (name, type, nullability, default), primary key, indexes, unique
    constraints and foreign keys, as the database reports them."""
    found = inspect(engine)
    return {
        table: {
            "columns": [(c["name"], str(c["type"]), c["nullable"], c.get("default"))
                        for c in found.get_columns(table)],
            "pk": found.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in found.get_indexes(table)),
            "unique": sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table)),
            "fks": sorted((tuple(f["constrained_columns"]), f["referred_table"],
                           tuple(f["referred_columns"])) for f in found.get_foreign_keys(table)),
        }
        for table in sorted(found.get_table_names())
    }


def _both_ways(new_url: str, migrated_url: str) -> None:
    created = open_engine(new_url)  # an empty database: the tables as defined
    migrated = create_engine(migrated_url)
    upgrade(migrated)  # the same from the migrations, one by one
    try:
        assert schema_version(created) == schema_version(migrated) == SCHEMA_HEAD
        assert _diff(created) == [], "the tables as created differ from their definitions"
        assert _diff(migrated) == [], "tables changed without a migration: " + repr(_diff(migrated))
        assert _schema(created) == _schema(migrated)
        upgrade(created)  # Alembic takes the mark: nothing to run, nothing changed
        assert _schema(created) == _schema(migrated)
    finally:
        created.dispose()
        migrated.dispose()


def test_a_new_database_and_the_migrations_give_one_schema_on_sqlite(tmp_path: Path) -> None:
    _both_ways(str(tmp_path / "new.db"), f"sqlite:///{tmp_path / 'migrated.db'}")


def test_a_new_database_and_the_migrations_give_one_schema_on_postgresql(pg_server: str) -> None:
    from pg_databases import fresh_database

    with fresh_database(pg_server) as new_url, fresh_database(pg_server) as migrated_url:
        _both_ways(new_url, migrated_url)


def test_a_database_with_tables_but_no_mark_is_left_to_the_migrations(tmp_path: Path) -> None:
    # not empty: the tables are not created over it; Alembic runs and says what is wrong
    engine = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE dossier (id TEXT PRIMARY KEY)"))
    engine.dispose()
    with pytest.raises(ValueError, match="Base de données inutilisable"):
        open_engine(tmp_path / "other.db")
