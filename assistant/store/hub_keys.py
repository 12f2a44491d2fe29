"""Random keys kept in the database and shared by every hub process on it (table `hub_key`).
Made on first use; two processes making one at once keep the first committed."""

from __future__ import annotations

import secrets

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from orient.assistant.store.tables import HubKeyRow

_KEY = HubKeyRow.__table__  # type: ignore[attr-defined]


def hub_key(db: Engine, name: str) -> bytes:
    """The key called `name` (32 random bytes), made now if the database has none yet."""
    with db.connect() as conn:
        found = conn.execute(select(_KEY.c.value).where(_KEY.c.name == name)).scalar()
    if found is None:
        try:
            with db.begin() as conn:
                conn.execute(insert(_KEY).values(name=name, value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another process made it first: use theirs
        with db.connect() as conn:
            found = conn.execute(select(_KEY.c.value).where(_KEY.c.name == name)).scalar_one()
    return bytes.fromhex(found)
