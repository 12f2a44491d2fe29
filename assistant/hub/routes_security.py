"""Signing codes locked after wrong codes (store/code_lock.py): the admin's view and unlock."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from orient.assistant.hub.access import hub_of, require
from orient.assistant.hub.auth import Principal
from orient.assistant.store import audit, code_lock
from orient.assistant.store.dossiers import NotFound
from orient.models.users import Role

router = APIRouter(tags=["comptes"])
ADMIN = require(Role.ADMIN)


@router.get("/users/locked")
def locked(request: Request, who: Principal = Depends(ADMIN)) -> list[dict[str, Any]]:
    """Accounts whose signing code is locked now, with the wait left (« 4 min »)."""
    hub = hub_of(request)
    now = hub.now()
    with hub.read_session() as session:
        found = code_lock.locked_accounts(session, now)
    return [{"user_id": x.user_id, "name": x.name, "rpps": x.rpps, "failures": x.failures,
             "locked_until": x.locked_until.isoformat(), "wait": code_lock.wait_text(x.locked_until - now)}
            for x in found]


@router.delete("/users/{user_id}/lock")
def unlock(user_id: str, request: Request, who: Principal = Depends(ADMIN)) -> dict[str, str]:
    """Lift a lock (the doctor called, the attempts were theirs); audited."""
    hub = hub_of(request)
    now = hub.now()
    with hub.session() as session:
        if not code_lock.unlock(session, user_id, now):
            raise NotFound(f"Aucun code de signature bloqué pour « {user_id} ».")
        audit.append(session, [audit.AuditRecord(event="signing_code_unlocked", actor=who.user_id, role="admin",
                                                 detail=user_id, session_id=who.token_id)], at=now)
        session.commit()
    return {"user_id": user_id, "status": "unlocked"}
