"""Creating accounts and delegations (shared by the hub's API and the `orient` command)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from uuid import uuid4

from sqlmodel import Session, select

from orient.assistant.store import audit
from orient.assistant.store.accounts import find_doctor, hash_code
from orient.assistant.store.directory import ensure_directory
from orient.assistant.store.tables import DelegationRow, UnitRow, UserRow, UserUnitRow
from orient.assistant.store.tokens import issue_token
from orient.models.identifiers import rpps_valid
from orient.models.readers import ReadError, read_date
from orient.models.text import control_message

ROLES = ("doctor", "secretary", "receiver", "admin")
SCOPES = ("fill_admin", "read_medical", "send")


class AccountError(ValueError):
    """An account or delegation that cannot be created; the message is French."""


def add_user(session: Session, *, role: str, name: str, rpps: str | None = None,
             code: str | None = None, unit_ids: list[str] | None = None, by: str = "cli",
             now: datetime | None = None, delivery: str | None = "out_of_band",
             session_id: str | None = None, psc_id: str | None = None) -> tuple[str, str | None]:
    """Create a user and, unless `delivery` is None, a first token delivered that way; returns
    (user id, token shown once or None). `session_id`: the creator's token id, for the audit;
    `psc_id`: the person's Pro Santé Connect national identifier (SubjectNameID), to sign in
    through PSC."""
    now = now or datetime.now(UTC)
    unit_ids = list(unit_ids or [])
    problem = control_message(name)
    if problem:  # the API refuses them in its schema; the command line comes here directly
        raise AccountError(f"Nom du compte refusé : {problem}.")
    name = " ".join(name.split())
    if role not in ROLES:
        raise AccountError(f"Rôle inconnu « {role} » : {', '.join(ROLES)}.")
    if not name:
        raise AccountError("Le nom du compte est vide.")
    if role == "doctor":
        if not rpps or not rpps_valid(rpps):
            raise AccountError(f"RPPS « {rpps or ''} » invalide : 11 chiffres avec une clé de Luhn juste.")
        if not code or len(code) < 4:
            raise AccountError("Un médecin a un code personnel de signature de 4 caractères au moins.")
        if find_doctor(session, rpps):
            raise AccountError(f"Un compte existe déjà pour le RPPS {rpps}.")
    elif rpps or code:
        raise AccountError("Seul un médecin a un RPPS et un code de signature.")
    if role == "receiver" and not unit_ids:
        raise AccountError("Un utilisateur d'unité receveuse est rattaché à au moins une unité (--unit).")
    if role != "receiver" and unit_ids:
        raise AccountError("Seul un utilisateur d'unité receveuse est rattaché à des unités.")
    if psc_id is not None and not re.fullmatch(r"[0-9A-Za-z]{1,40}", psc_id):
        raise AccountError(f"Identifiant national « {psc_id} » invalide : chiffres et lettres, "
                           "40 au plus (par exemple 8 suivi du RPPS).")
    if psc_id and session.exec(select(UserRow).where(UserRow.psc_id == psc_id)).first():
        raise AccountError(f"Un compte existe déjà pour l'identifiant national {psc_id}.")
    if unit_ids:
        ensure_directory(session)
    unknown = [u for u in unit_ids if session.get(UnitRow, u) is None]
    if unknown:
        raise AccountError(f"Unité(s) inconnue(s) : {', '.join(unknown)}.")
    user_id = str(uuid4())
    session.add(UserRow(id=user_id, role=role, name=name, rpps=rpps,
                        code_hash=hash_code(code) if code else None, created_at=now, psc_id=psc_id or None))
    session.flush()
    for unit_id in dict.fromkeys(unit_ids):
        session.add(UserUnitRow(user_id=user_id, unit_id=unit_id))
    records = [audit.AuditRecord(event="user_created", actor=by, role="admin", detail=f"{user_id}: {role}",
                                 session_id=session_id)]
    token = None
    if delivery is not None:
        token_id, token = issue_token(session, user_id, now=now, label="création", delivery=delivery,
                                      issued_by=by)
        records.append(audit.AuditRecord(event="token_issued", actor=by, role="admin", session_id=session_id,
                                         detail=f"{user_id}: {token_id} ({delivery})"))
    audit.append(session, records, at=now)
    session.commit()
    return user_id, token


def delegate(session: Session, *, doctor_rpps: str, secretary: str, scopes: list[str],
             until_text: str | None = None, until: datetime | None = None, by: str,
             now: datetime | None = None, session_id: str | None = None) -> tuple[str, list[str], datetime]:
    """A doctor's delegation to a secretary (named by id or by name)."""
    now = now or datetime.now(UTC)
    bad = [sc for sc in scopes if sc not in SCOPES]
    if bad:
        raise AccountError(f"Portée(s) inconnue(s) : {', '.join(bad)} ; possibles : {', '.join(SCOPES)}.")
    if until is None:
        try:
            until = datetime.combine(read_date(until_text or ""), time(23, 59), tzinfo=UTC)
        except ReadError as exc:
            raise AccountError(f"--until « {until_text} » : {exc.reason or 'date illisible'} ; "
                               f"attendu : {exc.expected}.") from None
    until = until if until.tzinfo else until.replace(tzinfo=UTC)
    if until <= now:
        raise AccountError("La fin de la délégation doit être dans le futur.")
    if find_doctor(session, doctor_rpps) is None:
        raise AccountError(f"Aucun médecin avec le RPPS {doctor_rpps}.")
    found = session.get(UserRow, secretary)
    if found is None:
        matches = session.exec(select(UserRow).where(UserRow.name == secretary)).all()
        if len(matches) > 1:
            raise AccountError(f"Plusieurs comptes s'appellent « {secretary} » : donnez l'identifiant.")
        found = matches[0] if matches else None
    if found is None or found.role != "secretary":
        raise AccountError(f"Secrétaire inconnue : « {secretary} ».")
    chosen = sorted({"fill_admin", *scopes})
    delegation_id = str(uuid4())
    session.add(DelegationRow(id=delegation_id, doctor_rpps=doctor_rpps, secretary_id=found.id,
                              scopes=",".join(chosen), valid_from=now, valid_to=until, created_by=by))
    audit.append(session, [audit.AuditRecord(event="delegation_created", actor=by, role="admin",
                                             delegation_id=delegation_id,
                                             detail=f"{doctor_rpps}->{found.id}: {','.join(chosen)}",
                                             session_id=session_id)], at=now)
    session.commit()
    return delegation_id, chosen, until


def new_token(session: Session, user_ref: str, *, by: str = "cli", now: datetime | None = None) -> tuple[str, str, str]:
    """A new token for a user named by id or by name, delivered out of band (printed once on the
    server's machine by `orient users token`): (user id, token id, token)."""
    now = now or datetime.now(UTC)
    found = session.get(UserRow, user_ref)
    if found is None:
        matches = session.exec(select(UserRow).where(UserRow.name == " ".join(user_ref.split()))).all()
        if len(matches) > 1:
            raise AccountError(f"Plusieurs comptes s'appellent « {user_ref} » : donnez l'identifiant.")
        found = matches[0] if matches else None
    if found is None:
        raise AccountError(f"Compte inconnu : « {user_ref} ».")
    token_id, token = issue_token(session, found.id, now=now, label="hors ligne", delivery="out_of_band",
                                  issued_by=by)
    audit.append(session, [audit.AuditRecord(event="token_issued", actor=by, role="admin",
                                             detail=f"{found.id}: {token_id} (out_of_band)")], at=now)
    session.commit()
    return found.id, token_id, token
