"""User accounts, personal signing codes and delegations, and the demo accounts."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from orient.assistant.store.tables import DelegationRow, UserRow, UserUnitRow
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


from orient.assistant.demo_accounts import (
    DEMO_ADMIN,
    DEMO_DELEGATION_ID,
    DEMO_DOCTOR,
    DEMO_RECEIVER,
    DEMO_SECRETARY,
    DEMO_UNIT_SITES,
)


def ensure_demo_accounts(session: Session, now: datetime | None = None) -> None:
    """Create the demo accounts once: the doctor, the secretary with her `fill_admin` delegation,
    the receiving unit's user and an administrator."""
    now = now or datetime.now(UTC)
    if session.get(UserRow, DEMO_DOCTOR.user_id) is None:
        session.add(UserRow(id=DEMO_DOCTOR.user_id, role=DEMO_DOCTOR.role.value, name=DEMO_DOCTOR.name,
                            rpps=DEMO_DOCTOR.rpps, code_hash=hash_code(DEMO_DOCTOR.code or ""),
                            created_at=now))
    if session.get(UserRow, DEMO_SECRETARY.user_id) is None:
        session.add(UserRow(id=DEMO_SECRETARY.user_id, role=DEMO_SECRETARY.role.value,
                            name=DEMO_SECRETARY.name, created_at=now))
    for account in (DEMO_RECEIVER, DEMO_ADMIN):
        if session.get(UserRow, account.user_id) is None:
            session.add(UserRow(id=account.user_id, role=account.role.value, name=account.name,
                                created_at=now))
    if not session.exec(select(UserUnitRow).where(UserUnitRow.user_id == DEMO_RECEIVER.user_id)).first():
        from orient.dialogs.hnp import SPECIALTIES

        session.flush()
        for finess in DEMO_UNIT_SITES:
            for code, _, _ in SPECIALTIES:
                session.add(UserUnitRow(user_id=DEMO_RECEIVER.user_id, unit_id=f"{finess}-{code}"))
    if session.get(DelegationRow, DEMO_DELEGATION_ID) is None:
        session.add(DelegationRow(
            id=DEMO_DELEGATION_ID, doctor_rpps=DEMO_DOCTOR.rpps or "", secretary_id=DEMO_SECRETARY.user_id,
            scopes=Scope.FILL_ADMIN.value, valid_from=now - timedelta(days=1),
            valid_to=now + timedelta(days=3650), created_by="demo",
        ))
    session.commit()


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
