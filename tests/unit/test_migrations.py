"""The schema comes from the Alembic migrations, and they match the table definitions."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from orient.assistant.store import tables  # noqa: F401 - registers the tables
from orient.assistant.store.db import SCHEMA_HEAD, open_engine, schema_version


def test_schema_head_is_the_latest_migration() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("orient.assistant.store") / "migrations"))
    assert ScriptDirectory.from_config(cfg).get_heads() == [SCHEMA_HEAD]


def test_a_new_database_is_migrated_and_matches_the_tables(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "new.db")
    assert schema_version(engine) == SCHEMA_HEAD
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == [], "tables changed without a migration: " + repr(diff)
