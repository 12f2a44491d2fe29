"""Bearer tokens in the database: random, stored hashed (SHA-256), expiring, revocable. The hub
(hub/auth.py) finds who is calling from them; the embedded set-up, the account commands and the
admin routes issue them."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy import insert, update
from sqlmodel import Session

from orient.assistant.store.tables import TokenRow

TOKEN = TokenRow.__table__  # type: ignore[attr-defined]
TOKEN_PREFIX = "orient_"
DEFAULT_TTL = timedelta(days=30)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


DELIVERIES = ("out_of_band", "admin", "embedded", "self", "psc")


def issue_token(session: Session, user_id: str, *, ttl: timedelta = DEFAULT_TTL, label: str = "",
                now: datetime | None = None, delivery: str = "out_of_band",
                issued_by: str | None = None) -> tuple[str, str]:
    """A new token for the user: (token id, the token itself, shown once and never stored).
    `delivery` says how it reaches its holder (TokenRow.delivery): an admin never receives one for
    a person who signs or reads medical data (docs/security.md, finding 2)."""
    assert delivery in DELIVERIES, delivery
    now = now or datetime.now(UTC)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = str(uuid4())
    session.connection().execute(insert(TOKEN).values(
        id=token_id, user_id=user_id, token_hash=token_hash(token), label=label, created_at=now,
        expires_at=now + ttl, revoked_at=None, delivery=delivery, issued_by=issued_by,
    ))
    return token_id, token


def revoke_token(session: Session, token_id: str, now: datetime | None = None) -> bool:
    done = session.connection().execute(
        update(TOKEN).where(TOKEN.c.id == token_id, TOKEN.c.revoked_at.is_(None))
        .values(revoked_at=now or datetime.now(UTC))
    )
    return done.rowcount == 1
