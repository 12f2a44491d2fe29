"""Who is calling: the principal behind a bearer token, and its role. The tokens themselves
(random, stored hashed, expiring, revocable) are issued and revoked by store/tokens.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from orient.assistant.store.referrals import aware
from orient.assistant.store.tables import TokenRow, UserRow, UserUnitRow
from orient.assistant.store.tokens import token_hash
from orient.models.users import Role

TOKEN = TokenRow.__table__  # type: ignore[attr-defined]
USER = UserRow.__table__  # type: ignore[attr-defined]
USER_UNIT = UserUnitRow.__table__  # type: ignore[attr-defined]
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
