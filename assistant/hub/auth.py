"""Who is calling: bearer tokens (random, stored hashed, expiring, revocable) and roles."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy import insert, select, update
from sqlmodel import Session

from orient.assistant.store.referrals import aware
from orient.assistant.store.tables import TokenRow, UserRow, UserUnitRow
from orient.models.users import Role

TOKEN = TokenRow.__table__  # type: ignore[attr-defined]
USER = UserRow.__table__  # type: ignore[attr-defined]
USER_UNIT = UserUnitRow.__table__  # type: ignore[attr-defined]
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


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: Role
    name: str
    token_id: str
    rpps: str | None = None
    unit_ids: tuple[str, ...] = field(default_factory=tuple)


class AuthError(PermissionError):
    """401: no valid token; the message is French."""


def principal_for(session: Session, token: str | None, now: datetime) -> tuple[Principal, datetime]:
    """The caller and when the token expires; raises AuthError (401) with a French message."""
    if not token:
        raise AuthError("Jeton d'accès manquant : ajoutez l'en-tête « Authorization: Bearer <jeton> ».")
    conn = session.connection()
    row = conn.execute(select(TOKEN).where(TOKEN.c.token_hash == token_hash(token))).first()
    if row is None:
        raise AuthError("Jeton d'accès inconnu.")
    if row.revoked_at is not None:
        raise AuthError("Jeton d'accès révoqué.")
    expires = aware(row.expires_at)
    if expires is not None and expires <= now:
        raise AuthError("Jeton d'accès expiré : demandez-en un nouveau.")
    user = conn.execute(select(USER).where(USER.c.id == row.user_id)).first()
    if user is None:
        raise AuthError("Jeton d'accès sans utilisateur.")
    units = tuple(r.unit_id for r in conn.execute(select(USER_UNIT).where(USER_UNIT.c.user_id == user.id)))
    assert expires is not None
    return Principal(user.id, Role(user.role), user.name, row.id, user.rpps, units), expires
