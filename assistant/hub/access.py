"""What every route of the hub shares: the hub's collaborators, who the caller is and what they
may reach (roles, delegations, owners), the errors the app turns into HTTP answers, and responses.

The routes import this module; it imports no route, and `app.py` only assembles the application.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import bindparam
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session, select

from orient.assistant.hub.auth import Principal, principal_for
from orient.assistant.secrecy import reads_medical
from orient.assistant.service import DossierService, paris_now
from orient.assistant.store import accounts
from orient.assistant.store.dossiers import NotFound
from orient.assistant.store.tables import DelegationRow, DossierRow
from orient.models.users import Actor, Role


@dataclass
class Hub:
    """What the hub runs on. `clock` gives the current time (tests control it)."""

    db: DbEngine
    clock: Callable[[], datetime] = paris_now
    service: DossierService = field(init=False)
    reads: DbEngine = field(init=False)
    poll_seconds: float = 0.25  # how often a waiting feed request looks for new events
    notifier: Any = None  # PostgreSQL LISTEN/NOTIFY listener, when on PostgreSQL
    # Threads running the plain (blocking) endpoints at once; None: SQLITE_THREADS on SQLite,
    # AnyIO's default (40) elsewhere. SQLite has one writer at a time: more threads only fight
    # over the GIL (a thread coming back from SQLite waits up to 5 ms for it) and delay the event
    # loop, which parses requests and writes responses.
    threads: int | None = None
    tokens: TokenCache = field(default_factory=lambda: TokenCache())
    feed_cursors: Any = None  # hub.cursors.FeedCursors, made on the first feed request
    psc: Any = None  # hub.psc.PscClient when Pro Santé Connect is configured (routes_psc.py)
    mailer: Any = None  # notify.worker.Mailer when e-mail notifications are configured (ORIENT_SMTP_*)

    def __post_init__(self) -> None:
        from orient.assistant.store.db import reader_engine

        self.service = DossierService(self.db, clock=self.clock)
        self.reads = reader_engine(self.db)

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def session(self) -> Session:
        return Session(self.db)

    def read_session(self) -> Session:
        """For lookups that write nothing (they never wait for writers)."""
        return Session(self.reads)


class TokenCache:
    """Recently checked tokens, for `SECONDS` at most: a revocation in this process clears it at
    once; one made through another hub process takes effect within `SECONDS`."""

    SECONDS = 2.0

    def __init__(self) -> None:
        self._items: dict[str, tuple[Principal, datetime, float]] = {}

    def get(self, token: str | None, now: datetime) -> Principal | None:
        item = self._items.get(token or "")
        if item is None:
            return None
        found, expires, at = item
        if time.monotonic() - at > self.SECONDS or expires <= now:
            self._items.pop(token or "", None)
            return None
        return found

    def put(self, token: str, found: Principal, expires: datetime) -> None:
        if len(self._items) > 10_000:
            self._items.clear()
        self._items[token] = (found, expires, time.monotonic())

    def clear(self) -> None:
        self._items.clear()


class Forbidden(PermissionError):
    """403: the role may not do this; the message is French."""


class Conflict(RuntimeError):
    """409 with the current state."""

    def __init__(self, message: str, current: Any = None) -> None:
        super().__init__(message)
        self.current = current


class BadRequest(ValueError):
    """400/422 with a French message."""


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


# The token travels as `Authorization: Bearer <token>`; declared as the API's security scheme, so
# that the OpenAPI document says which operations need it. A missing or non-bearer header gives
# no token here, and principal_for answers 401 in French.
BEARER = HTTPBearer(auto_error=False, scheme_name="jeton",
                    description="Jeton d'accès Orient (affiché une fois par « orient users add »).")


async def principal(request: Request,
                    credentials: HTTPAuthorizationCredentials | None = Depends(BEARER)) -> Principal:
    """The caller. Asynchronous, so that a token found in the cache costs no thread hop (FastAPI
    runs plain functions in its thread pool); the database is only read on a cache miss."""
    token = credentials.credentials.strip() if credentials else None
    hub = hub_of(request)
    cached = hub.tokens.get(token, hub.now())
    if cached is not None:
        request.state.principal = cached
        return cached
    found, expires = await anyio.to_thread.run_sync(_lookup_token, hub, token)
    hub.tokens.put(token or "", found, expires)
    request.state.principal = found
    return found


def _lookup_token(hub: Hub, token: str | None) -> tuple[Principal, datetime]:
    with hub.read_session() as session:
        return principal_for(session, token, hub.now())


def require(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(who: Principal = Depends(principal)) -> Principal:
        if who.role not in roles:
            names = ", ".join(r.value for r in roles)
            raise Forbidden(f"Action réservée aux rôles : {names} (vous êtes « {who.role.value} »).")
        return who

    check.roles = roles  # type: ignore[attr-defined]  # read by hub/openapi.py (403 documented)
    return check


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    """A body serialised once by pydantic: a model returned as such would be validated again by
    FastAPI (in a second thread-pool hop for a plain endpoint) before being serialised."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


def json_error(status: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)



def sessions(request: Request) -> Iterator[Session]:
    with hub_of(request).session() as session:
        yield session


def actor_of(hub: Hub, who: Principal, doctor_rpps: str | None) -> Actor:
    """The doctor acts for themself; a secretary under the delegation of the dossier's doctor."""
    if who.role == Role.DOCTOR:
        return Actor(who.user_id, Role.DOCTOR, who.name, rpps=who.rpps, session_id=who.token_id)
    if who.role != Role.SECRETARY:
        raise Forbidden("Seuls un médecin ou une secrétaire déléguée accèdent aux dossiers.")
    with hub.read_session() as session:
        actor = accounts.actor_for(session, who.user_id, doctor_rpps, now=hub.now())
    return replace(actor, session_id=who.token_id)  # the audit names the token it acted with


_DOSSIER = DossierRow.__table__  # type: ignore[attr-defined]
_OWNER = select(_DOSSIER.c.owner_rpps).where(_DOSSIER.c.id == bindparam("dossier_id"))  # built once


def actor_for_dossier(hub: Hub, who: Principal, dossier_id: str) -> Actor:
    if who.role not in (Role.DOCTOR, Role.SECRETARY):
        raise Forbidden("Seuls un médecin ou une secrétaire déléguée accèdent aux dossiers.")
    with hub.read_session() as session:
        owner = session.connection().execute(_OWNER, {"dossier_id": dossier_id}).scalar()
    if owner is None:
        raise NotFound(f"Dossier introuvable : « {dossier_id} ».")
    try:
        actor = actor_of(hub, who, owner)
    except accounts.AccessError:
        raise NotFound(f"Dossier introuvable : « {dossier_id} ».") from None
    if not actor.acts_for(owner):
        raise NotFound(f"Dossier introuvable : « {dossier_id} ».")
    return actor


def owners_of(session: Session, who: Principal, hub: Hub) -> list[str]:
    if who.role == Role.DOCTOR:
        return [who.rpps or ""]
    now = hub.now()
    rows = session.exec(select(DelegationRow).where(DelegationRow.secretary_id == who.user_id)).all()
    return [r.doctor_rpps for r in rows if accounts.delegation_of(r).active(now)]


def shows_medical(actor: Actor) -> bool:
    return reads_medical(actor)


def visible_answers(answers: dict[str, Any], actor: Actor) -> dict[str, Any]:
    if shows_medical(actor):
        return dict(answers)
    return {k: v for k, v in answers.items() if not k.startswith("medical.")}


