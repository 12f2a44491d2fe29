"""Alembic environment: the connection is handed over by `orient.assistant.store.db`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from orient.assistant.store import tables  # noqa: F401 - registers the tables

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through db.migrate()
    raise RuntimeError("orient migrations run through orient.assistant.store.db.migrate()")
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
