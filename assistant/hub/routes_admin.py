"""Accounts, delegations, statistics, audit export and the directory search."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from orient.assistant import accounts_admin
from orient.assistant.directory.criteria import CriteriaError, criteria_from_text
from orient.assistant.hub import schemas as s
from orient.assistant.hub.access import (
    BadRequest,
    Conflict,
    Forbidden,
    hub_of,
    owners_of,
    principal,
    require,
)
from orient.assistant.hub.auth import DEFAULT_TTL, Principal, issue_token, revoke_token, token_hash
from orient.assistant.store import audit
from orient.assistant.store import referrals as store
from orient.assistant.store.dossiers import NotFound
from orient.assistant.store.tables import (
    AuditEntryRow,
    ReferralRow,
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
                                                 detail=detail)], at=hub.now())
        session.commit()


@router.get("/me", response_model=s.UserOut, tags=["comptes"])
def me(who: Principal = Depends(principal)) -> s.UserOut:
    return s.UserOut(id=who.user_id, role=who.role.value, name=who.name, rpps=who.rpps,
                     unit_ids=list(who.unit_ids))


@router.post("/users", status_code=201, response_model=s.NewUserOut, tags=["comptes"])
def add_user(body: s.UserIn, request: Request, who: Principal = Depends(ADMIN)) -> s.NewUserOut:
    hub = hub_of(request)
    with hub.session() as session:
        try:
            user_id, token = accounts_admin.add_user(
                session, role=body.role, name=body.name, rpps=body.rpps, code=body.code,
                unit_ids=body.unit_ids, by=who.user_id, now=hub.now())
        except accounts_admin.AccountError as exc:
            raise BadRequest(str(exc)) from None
        token_t = TokenRow.__table__  # type: ignore[attr-defined]
        token_id = session.connection().execute(
            select(token_t.c.id).where(token_t.c.token_hash == token_hash(token))).scalar_one()
    user = s.UserOut(id=user_id, role=body.role, name=body.name, rpps=body.rpps, unit_ids=body.unit_ids)
    return s.NewUserOut(user=user, token=token, token_id=token_id)


@router.post("/users/{user_id}/tokens", status_code=201, response_model=s.TokenOut, tags=["comptes"])
def new_token(user_id: str, request: Request, who: Principal = Depends(ADMIN)) -> s.TokenOut:
    hub = hub_of(request)
    now = hub.now()
    with hub.session() as session:
        if session.get(UserRow, user_id) is None:
            raise NotFound(f"Utilisateur introuvable : « {user_id} ».")
        token_id, token = issue_token(session, user_id, now=now, label="admin")
        audit.append(session, [audit.AuditRecord(event="token_issued", actor=who.user_id, role="admin",
                                                 detail=f"{user_id}: {token_id}")], at=now)
        session.commit()
    return s.TokenOut(token=token, token_id=token_id, expires_at=now + DEFAULT_TTL)


@router.delete("/tokens/{token_id}", tags=["comptes"])
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
                                                 role=who.role.value, detail=token_id)], at=hub.now())
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
                scopes=list(body.scopes), until=body.until, by=who.user_id, now=hub.now())
        except accounts_admin.AccountError as exc:
            raise BadRequest(str(exc)) from None
    return {"id": delegation_id, "scopes": scopes, "until": until.isoformat()}


@router.get("/stats", response_model=s.StatsOut, tags=["statistiques"])
def stats(request: Request, who: Principal = Depends(principal)) -> s.StatsOut:
    """Response times per unit and overall (median, p90), counts by status, overdue count; over
    the caller's referrals (their units' for a unit, all for an admin)."""
    hub = hub_of(request)
    now = hub.now()
    with hub.session() as session:
        rows = [store.row_of(r)
                for r in session.connection().execute(select(ReferralRow.__table__))]  # type: ignore[attr-defined]
        if who.role == Role.RECEIVER:
            rows = [r for r in rows if r.unit_id in who.unit_ids]
        elif who.role != Role.ADMIN:
            owners = set(owners_of(session, who, hub))
            rows = [r for r in rows if r.owner_rpps in owners]
    minutes: dict[str, list[float]] = {}
    for r in rows:
        sent, answered = store.aware(r.sent_at), store.aware(r.answered_at)
        if sent and answered:
            minutes.setdefault(r.unit_id, []).append((answered - sent).total_seconds() / 60)

    def out(values: list[float]) -> s.ResponseTimeOut:
        st = store.response_stats(values)
        return s.ResponseTimeOut(count=st.count, median_minutes=st.median_minutes, p90_minutes=st.p90_minutes)

    return s.StatsOut(
        overall=out([m for ms in minutes.values() for m in ms]),
        by_unit={unit: out(ms) for unit, ms in sorted(minutes.items())},
        by_status=dict(Counter(r.status for r in rows)),
        overdue=sum(1 for r in rows if store.overdue(r, now)),
    )


@router.get("/audit/export", tags=["audit"])
def audit_export(request: Request, who: Principal = Depends(ADMIN)) -> StreamingResponse:
    """The audit chain as JSON lines (hashes of answers, never the answers)."""
    hub = hub_of(request)
    with hub.session() as session:
        rows = [dict(r._mapping) for r in session.connection().execute(
            select(AuditEntryRow.__table__).order_by(AuditEntryRow.__table__.c.seq))]  # type: ignore[attr-defined]
    _audit(request, who, "audit_exported", f"{len(rows)} entrées")

    def lines() -> Iterator[str]:
        for row in rows:
            yield json.dumps(row, ensure_ascii=False, default=str) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get("/audit/verify", tags=["audit"])
def audit_verify(request: Request, who: Principal = Depends(principal)) -> dict[str, Any]:
    """Whether the chain verifies (any user: it shows no entry, only the verdict)."""
    result = hub_of(request).service.verify_audit()
    return {"ok": result.ok, "entries": result.entries, "message": result.message, "bad_seq": result.bad_seq}


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

