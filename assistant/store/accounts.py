"""User accounts, personal signing codes and delegations. The demo accounts are written by
assistant/demo_world.py: the store does not know the demo world."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from sqlmodel import Session, select

from orient.assistant.store.tables import DelegationRow, UserRow
from orient.models.users import Actor, Delegation, Role, Scope

_ITERATIONS = 120_000


def hash_code(code: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", code.encode("utf-8"), salt, _ITERATIONS)
    return f"pbkdf2_sha256${_ITERATIONS}${salt.hex()}${digest.hex()}"


def check_code(code: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        _, iterations, salt, digest = stored.split("$")
        got = hashlib.pbkdf2_hmac("sha256", code.encode("utf-8"), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def delegation_of(row: DelegationRow) -> Delegation:
    return Delegation(
        id=row.id, doctor_rpps=row.doctor_rpps, secretary_id=row.secretary_id,
        scopes=frozenset(Scope(s) for s in row.scopes.split(",") if s),
        valid_from=_aware(row.valid_from), valid_to=_aware(row.valid_to), created_by=row.created_by,
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class AccessError(PermissionError):
    """The user may not act on this dossier; the message is French."""


def actor_for(session: Session, user_id: str, doctor_rpps: str | None = None,
              now: datetime | None = None) -> Actor:
    """The actor for a user: a doctor acts for themself; a secretary acts under an active
    delegation of `doctor_rpps` (the first one, when none is named)."""
    user = session.get(UserRow, user_id)
    if user is None:
        raise AccessError(f"Utilisateur inconnu : « {user_id} ».")
    role = Role(user.role)
    if role == Role.DOCTOR:
        return Actor(user.id, role, user.name, rpps=user.rpps)
    if role != Role.SECRETARY:
        raise AccessError("Seuls un médecin ou une secrétaire déléguée remplissent un dossier.")
    now = now or datetime.now(UTC)
    query = select(DelegationRow).where(DelegationRow.secretary_id == user_id)
    if doctor_rpps:
        query = query.where(DelegationRow.doctor_rpps == doctor_rpps)
    active = [d for d in (delegation_of(r) for r in session.exec(query)) if d.active(now)]
    if not active:
        raise AccessError("Aucune délégation active d'un médecin pour cette secrétaire.")
    # the newest delegation of the first doctor found; scopes of all its active ones together
    doctor = (doctor_rpps or active[0].doctor_rpps)
    mine = sorted((d for d in active if d.doctor_rpps == doctor), key=lambda d: d.valid_from)
    scopes = frozenset().union(*(d.scopes for d in mine))
    return Actor(user.id, role, user.name, delegation_id=mine[-1].id, on_behalf_of=doctor, scopes=scopes)


def find_doctor(session: Session, rpps: str) -> UserRow | None:
    return session.exec(select(UserRow).where(UserRow.rpps == rpps)).first()


def doctor_name(session: Session, rpps: str) -> str:
    user = find_doctor(session, rpps)
    if user is None:
        raise AccessError(f"Aucun médecin enregistré avec le RPPS {rpps}.")
    return user.name


def doctor_code_ok(session: Session, rpps: str, code: str) -> bool:
    user = find_doctor(session, rpps)
    return user is not None and check_code(code, user.code_hash)
