"""The hub: the platform as an HTTP API (FastAPI). It runs the engine, so that every rule is
enforced in one place and a secretary and a doctor on two machines share one conversation.

`create_app(hub)` receives its collaborators (database, clock), so tests pass their own.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import orient
from orient.assistant.hub import (
    openapi,
    routes_admin,
    routes_dossiers,
    routes_export,
    routes_feed,
    routes_notify,
    routes_profile,
    routes_psc,
    routes_referrals,
    routes_security,
    routes_stats,
)
from orient.assistant.hub.access import BadRequest, Conflict, Forbidden, Hub, json_error
from orient.assistant.hub.auth import AuthError
from orient.assistant.hub.imports import IMPORT_PATH
from orient.assistant.importing import MAX_BUNDLE_BYTES
from orient.assistant.service import SendError
from orient.assistant.store.accounts import AccessError
from orient.assistant.store.dossiers import NotFound, StaleWrite
from orient.assistant.store.referrals import ReferralError

__all__ = ["Hub", "create_app"]

MAX_BODY = 64 * 1024
# A document sent to be imported (a practice software's FHIR export) is larger than a request.
BODY_LIMITS = {IMPORT_PATH: MAX_BUNDLE_BYTES}
VERSION = "0.1.0"


_TYPE_FR = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu",
    "string_type": "texte attendu",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "bool_type": "vrai ou faux attendu",
    "list_type": "liste attendue",
    "datetime_type": "date et heure attendues (ISO 8601)",
    "datetime_parsing": "date et heure attendues (ISO 8601)",
    "datetime_from_date_parsing": "date et heure attendues (ISO 8601)",
    "literal_error": "valeur non permise",
    "string_too_short": "texte trop court",
    "string_too_long": "texte trop long",
    "too_short": "liste trop courte",
    "too_long": "liste trop longue",
    "greater_than_equal": "valeur trop petite",
    "json_invalid": "JSON invalide",
    "value_error": "valeur refusée (caractère de contrôle interdit)",
    "model_attributes_type": "objet JSON attendu",
    "dict_type": "objet JSON attendu",
}


def _validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "corps"
        message = _TYPE_FR.get(err.get("type", ""), "valeur invalide")
        if err.get("type") == "value_error" and (err.get("ctx") or {}).get("error"):
            message = f"valeur refusée ({err['ctx']['error']})"  # e.g. the control characters found
        if err.get("type") == "literal_error":
            expected = (err.get("ctx") or {}).get("expected")
            message += f" (attendu : {expected})" if expected else ""
        out.append({"field": where, "message": message})
    return out


class BodyLimit:
    """Refuse bodies over MAX_BODY bytes (413) before the application reads them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _CONTROL_IN_PATH.search(scope.get("path", "")):
            await _refuse(send, 400, "Adresse invalide : caractère de contrôle dans le chemin.")
            return
        limit = BODY_LIMITS.get(scope.get("path", ""), MAX_BODY)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send, limit)
            return
        seen = 0
        exceeded = False

        async def limited() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:  # a body without Content-Length: stop reading, answer 413
                exceeded = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return message

        replaced = False

        async def sending(message: Message) -> None:
            nonlocal replaced
            if exceeded:
                if not replaced:
                    replaced = True
                    await _too_large(send, limit)
                return
            await send(message)

        await self.app(scope, limited, sending)


_CONTROL_IN_PATH = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


async def _too_large(send: Send, limit: int = MAX_BODY) -> None:
    size = f"{limit // (1024 * 1024)} Mio" if limit >= 1024 * 1024 else f"{limit // 1024} Kio"
    await _refuse(send, 413, f"Requête trop volumineuse (au plus {size}).")


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8")]})
    await send({"type": "http.response.body", "body": body})


SQLITE_THREADS = 4


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    hub: Hub = app.state.hub
    threads = hub.threads or (SQLITE_THREADS if hub.db.dialect.name == "sqlite" else None)
    if threads:  # the limiter FastAPI's thread pool uses, for this event loop
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    if hub.db.dialect.name == "postgresql" and hub.notifier is None:
        from orient.assistant.hub.notify import PgNotifier

        hub.notifier = PgNotifier(hub.db)
        hub.notifier.start()
        hub.poll_seconds = max(hub.poll_seconds, 2.0)  # NOTIFY wakes requests; polling is a backstop
    if hub.mailer is not None:  # e-mail notifications (notify/worker.py)
        hub.mailer.start()
    try:
        yield
    finally:
        if hub.mailer is not None:
            hub.mailer.stop()
        if hub.notifier is not None:
            hub.notifier.stop()
            hub.notifier = None


def create_app(hub: Hub) -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
        docs_url=None,  # only /health, /version and /openapi.json answer without a token
        redoc_url=None,
        title="Orient hub",
        version=VERSION,
        description="Demandes d'hospitalisation non programmée (HNP) : dossiers, envoi, réponses.",
    )
    app.state.hub = hub

    @app.exception_handler(RequestValidationError)
    async def invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        listed = " ; ".join(f"« {e['field']} » : {e['message']}" for e in errors)
        return json_error(422, f"Requête invalide : {listed}.", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        french = {
            400: "Corps de requête illisible (JSON ou UTF-8 invalide).",
            404: f"Adresse inconnue : « {request.url.path} ».",
            405: f"Méthode {request.method} non permise sur « {request.url.path} ».",
        }
        answer = json_error(exc.status_code, french.get(exc.status_code, "Requête refusée."))
        answer.headers.update(exc.headers or {})
        if exc.status_code == 405:  # every method of the path (Starlette names the last route's)
            answer.headers["Allow"] = ", ".join(openapi.allowed_methods(app, request.url.path))
        return answer

    @app.exception_handler(AuthError)
    async def unauthenticated(_r: Request, exc: AuthError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})

    for kind, status in ((Forbidden, 403), (AccessError, 404), (NotFound, 404), (SendError, 409),
                         (ReferralError, 409), (BadRequest, 422)):
        app.add_exception_handler(kind, _handler(status))

    @app.exception_handler(StaleWrite)
    async def stale(_r: Request, exc: StaleWrite) -> JSONResponse:
        return json_error(409, str(exc))

    @app.exception_handler(Conflict)
    async def conflict(_r: Request, exc: Conflict) -> JSONResponse:
        return json_error(409, str(exc), current=exc.current)

    @app.get("/health", tags=["système"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/version", tags=["système"])
    def version() -> dict[str, str]:
        return {"version": getattr(orient, "__version__", VERSION)}

    app.include_router(routes_dossiers.router)
    app.include_router(routes_referrals.router)
    app.include_router(routes_export.router)
    app.include_router(routes_feed.router)
    app.include_router(routes_security.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_profile.router)
    app.include_router(routes_psc.router)
    app.include_router(routes_stats.router)
    app.include_router(routes_notify.router)
    openapi.install(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(AccessLog)
    return app


log = logging.getLogger("orient.hub")


class AccessLog:
    """One log line per request: method, path (ids only, never the query string, which may hold
    search criteria), status and duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            log.info("%s %s %s %.1fms", scope["method"], _printable(scope["path"]), status,
                     (time.perf_counter() - start) * 1000)


def _printable(path: str) -> str:
    """A path as one log line: control and bidirectional characters as \\x9b, \\u202e (a refused
    path may hold them; they must not drive the terminal that reads the log)."""
    return _CONTROL_IN_PATH.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), path)


def _handler(status: int) -> Callable[[Request, Exception], Any]:
    async def handle(_r: Request, exc: Exception) -> JSONResponse:
        return json_error(status, str(exc))

    return handle
