"""Accounts, delegations, audit export and the directory search (statistics: routes_stats.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select

from orient.assistant import accounts_admin
from orient.assistant.directory.criteria import CriteriaError, criteria_from_text
from orient.assistant.hub import schemas as s
from orient.assistant.hub.access import (
    BadRequest,
    Conflict,
    Forbidden,
    hub_of,
    principal,
    require,
)
from orient.assistant.hub.auth import DEFAULT_TTL, Principal, issue_token, revoke_token, token_hash
from orient.assistant.hub.openapi import CONFLICT
from orient.assistant.store import audit
from orient.assistant.store.dossiers import NotFound
from orient.assistant.store.tables import (
    AuditEntryRow,
    TokenRow,
    UserRow,
)
from orient.models.users import Role

router = APIRouter()
ADMIN = require(Role.ADMIN)


def _audit(request: Request, who: Principal, event: str, detail: str) -> None:
    hub = hub_of(request)
    with hub.session() as session:
        audit.append(session, [audit.AuditRecord(event=event, actor=who.user_id, role=who.role.value,
                                                 detail=detail, session_id=who.token_id)], at=hub.now())
        session.commit()


@router.get("/me", response_model=s.UserOut, tags=["comptes"])
def me(request: Request, who: Principal = Depends(principal)) -> s.UserOut:
    return s.UserOut(id=who.user_id, role=who.role.value, name=who.name, rpps=who.rpps,
                     unit_ids=list(who.unit_ids), scopes=_scopes(request, who))


def _scopes(request: Request, who: Principal) -> list[str]:
    from orient.assistant.store.accounts import AccessError, actor_for
    from orient.models.users import Scope

    if who.role == Role.DOCTOR:
        return [x.value for x in Scope]
    if who.role != Role.SECRETARY:
        return []
    hub = hub_of(request)
    with hub.read_session() as session:
        try:
            return sorted(x.value for x in actor_for(session, who.user_id, now=hub.now()).scopes)
        except AccessError:
            return []


# Accounts that sign or read medical data: an admin never receives a token for them (finding 2).
PERSONAL_ROLES = ("doctor", "secretary", "receiver")
OUT_OF_BAND = ("Le jeton de ce compte n'est pas remis à l'administrateur : il est créé sur la machine "
               "du hub (« orient users token COMPTE », affiché une seule fois) et remis à son titulaire seul.")


@router.post("/users", status_code=201, response_model=s.NewUserOut, tags=["comptes"])
def add_user(body: s.UserIn, request: Request, who: Principal = Depends(ADMIN)) -> s.NewUserOut:
    """Create an account. Only an admin account comes with its token: a doctor's, a secretary's or
    a unit's is delivered out of band (OUT_OF_BAND)."""
    hub = hub_of(request)
    personal = body.role in PERSONAL_ROLES
    with hub.session() as session:
        try:
            user_id, token = accounts_admin.add_user(
                session, role=body.role, name=body.name, rpps=body.rpps, code=body.code,
                unit_ids=body.unit_ids, by=who.user_id, now=hub.now(),
                delivery=None if personal else "admin", session_id=who.token_id)
        except accounts_admin.AccountError as exc:
            raise BadRequest(str(exc)) from None
        token_id = None
        if token is not None:
            token_t = TokenRow.__table__  # type: ignore[attr-defined]
            token_id = session.connection().execute(
                select(token_t.c.id).where(token_t.c.token_hash == token_hash(token))).scalar_one()
    user = s.UserOut(id=user_id, role=body.role, name=body.name, rpps=body.rpps, unit_ids=body.unit_ids)
    return s.NewUserOut(user=user, token=token, token_id=token_id, message=OUT_OF_BAND if personal else None)


@router.post("/users/{user_id}/tokens", status_code=201, response_model=s.TokenOut, tags=["comptes"])
def new_token(user_id: str, request: Request, who: Principal = Depends(ADMIN)) -> s.TokenOut:
    """A new token for an admin account. Refused for a person who signs or reads medical data: the
    admin would act, and be audited, as them (their token is delivered out of band)."""
    hub = hub_of(request)
    now = hub.now()
    with hub.session() as session:
        target = session.get(UserRow, user_id)
        if target is None:
            raise NotFound(f"Utilisateur introuvable : « {user_id} ».")
        if target.role in PERSONAL_ROLES:
            audit.append(session, [audit.AuditRecord(
                event="token_refused", actor=who.user_id, role="admin", session_id=who.token_id,
                detail=f"{user_id}: compte {target.role}")], at=now)
            session.commit()
            raise Forbidden("Un administrateur ne reçoit pas de jeton pour un compte qui signe ou lit des "
                            "données médicales (médecin, secrétaire, unité receveuse). " + OUT_OF_BAND)
        token_id, token = issue_token(session, user_id, now=now, label="admin", delivery="admin",
                                      issued_by=who.user_id)
        audit.append(session, [audit.AuditRecord(event="token_issued", actor=who.user_id, role="admin",
                                                 detail=f"{user_id}: {token_id} (admin)",
                                                 session_id=who.token_id)], at=now)
        session.commit()
    return s.TokenOut(token=token, token_id=token_id, expires_at=now + DEFAULT_TTL)


@router.delete("/tokens/{token_id}", tags=["comptes"], responses=CONFLICT)
def revoke(token_id: str, request: Request, who: Principal = Depends(principal)) -> dict[str, str]:
    """An admin revokes any token; anyone may revoke their own."""
    hub = hub_of(request)
    with hub.session() as session:
        row = session.get(TokenRow, token_id)
        if row is None or (who.role != Role.ADMIN and row.user_id != who.user_id):
            raise NotFound(f"Jeton introuvable : « {token_id} ».")
        if row.revoked_at is not None:
            raise Conflict("Ce jeton est déjà révoqué.")
        revoke_token(session, token_id, hub.now())
        hub.tokens.clear()
        audit.append(session, [audit.AuditRecord(event="token_revoked", actor=who.user_id,
                                                 role=who.role.value, detail=token_id,
                                                 session_id=who.token_id)], at=hub.now())
        session.commit()
    return {"token_id": token_id, "status": "revoked"}


@router.post("/delegations", status_code=201, tags=["comptes"])
def delegate(body: s.DelegationIn, request: Request,
             who: Principal = Depends(require(Role.ADMIN, Role.DOCTOR))) -> dict[str, Any]:
    """A doctor delegates to a secretary (an admin may record it for a doctor)."""
    hub = hub_of(request)
    if who.role == Role.DOCTOR and body.doctor_rpps != who.rpps:
        raise Forbidden("Un médecin ne délègue que ses propres dossiers.")
    with hub.session() as session:
        try:
            delegation_id, scopes, until = accounts_admin.delegate(
                session, doctor_rpps=body.doctor_rpps, secretary=body.secretary_id,
                scopes=list(body.scopes), until=body.until, by=who.user_id, now=hub.now(),
                session_id=who.token_id)
        except accounts_admin.AccountError as exc:
            raise BadRequest(str(exc)) from None
    return {"id": delegation_id, "scopes": scopes, "until": until.isoformat()}


@router.get("/audit/export", tags=["audit"], response_class=StreamingResponse, responses={200: {
    "description": "Une entrée du journal par ligne (JSON lines)",
    "content": {"application/x-ndjson": {"schema": {"type": "string"}}}}})
def audit_export(request: Request, who: Principal = Depends(ADMIN)) -> StreamingResponse:
    """The audit chain as JSON lines: keyed digests of answers (HMAC, key outside the database),
    never the answers. The plain hashes of entries written before keys existed are withheld
    (`value_hash_withheld`): a dictionary would reverse them."""
    hub = hub_of(request)
    with hub.session() as session:
        rows = [dict(r._mapping) for r in session.connection().execute(
            select(AuditEntryRow.__table__).order_by(AuditEntryRow.__table__.c.seq))]  # type: ignore[attr-defined]
    for row in rows:
        if row["key_id"] is None and row["value_hash"] is not None:
            row["value_hash"], row["value_hash_withheld"] = None, True
    _audit(request, who, "audit_exported", f"{len(rows)} entrées")

    def lines() -> Iterator[str]:
        for row in rows:
            yield json.dumps(row, ensure_ascii=False, default=str) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get("/audit/verify", tags=["audit"], response_model=s.AuditVerifyOut)
def audit_verify(request: Request, who: Principal = Depends(principal)) -> s.AuditVerifyOut:
    """Whether the chain verifies. An admin gets the whole verdict (entries in the log, the first
    bad entry); anybody else the verdict and the number of their own entries only, never a
    figure of the whole log, which would count everybody's activity."""
    hub = hub_of(request)
    result = hub.service.verify_audit()
    if who.role == Role.ADMIN:
        return s.AuditVerifyOut(ok=result.ok, entries=result.entries, message=result.message,
                                bad_seq=result.bad_seq)
    audit_t = AuditEntryRow.__table__  # type: ignore[attr-defined]
    with hub.read_session() as session:
        own = session.connection().execute(
            select(func.count()).select_from(audit_t).where(audit_t.c.actor == who.user_id)).scalar()
    message = ("Journal d'audit intègre." if result.ok else
               "Journal d'audit altéré : l'administrateur en a le détail (orient audit verify).")
    return s.AuditVerifyOut(ok=result.ok, entries=int(own or 0), message=message, bad_seq=None)


@router.get("/directory/search", tags=["répertoire"])
def directory_search(
    request: Request,
    specialty: str = Query(...),
    commune: str = Query(...),
    age: str = Query(...),
    needs: list[str] = Query(default=[]),
    isolation: str | None = Query(None),
    limit: str = Query("20"),
    specialty_alt: str | None = Query(None),
    who: Principal = Depends(principal),
) -> list[dict[str, Any]]:
    try:
        criteria = criteria_from_text(specialty, commune, age, needs, isolation, specialty_alt)
    except CriteriaError as exc:
        raise BadRequest(str(exc).replace("--specialty-alt", "specialty_alt").replace("--", "")) from None
    if not limit.isdigit() or not 1 <= int(limit) <= 200:
        raise BadRequest("limit : un nombre entier entre 1 et 200 est attendu.")
    result = hub_of(request).service.directory().search(criteria, limit=int(limit))
    return [p.as_json() for p in result.proposals]

