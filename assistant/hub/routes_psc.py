"""Sign-in with Pro Santé Connect for a terminal (hub/psc.py), and logout.

GET /auth/psc says whether PSC is configured; POST /auth/psc/start gives a sign-in id, the URL to
open and a poll secret; the browser comes back to GET /auth/psc/callback; POST /auth/psc/poll hands
the terminal its Orient token once. POST /auth/logout revokes the caller's token.
POST /dossiers/{id}/sign/psc starts a signature by a fresh PSC authentication (hub/psc_sign.py):
the same poll then says whether the dossier was signed.
"""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from orient.assistant.hub import psc as p
from orient.assistant.hub import psc_sign
from orient.assistant.hub import schemas as s_schemas
from orient.assistant.hub.access import (
    BadRequest,
    Forbidden,
    Hub,
    NotFound,
    actor_for_dossier,
    hub_of,
    principal,
    require,
)
from orient.assistant.hub.auth import Principal, issue_token, revoke_token
from orient.assistant.hub.openapi import CONFLICT
from orient.assistant.store import audit
from orient.assistant.store.tables import PscSigninRow
from orient.models.users import Role

router = APIRouter(tags=["connexion"])


class PscInfo(BaseModel):
    enabled: bool
    sign_with_psc: bool = False


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: Literal["login"] = "login"


class StartOut(BaseModel):
    signin_id: str
    poll_secret: str
    url: str
    expires_at: str
    interval: float = 2.0


class SignPscIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(..., ge=0)


class PollIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signin_id: str = Field(max_length=100)
    poll_secret: str = Field(max_length=200)


class PollOut(BaseModel):
    status: Literal["pending", "done", "delivered", "refused", "cancelled", "expired"]
    message: str
    token: str | None = None
    token_id: str | None = None
    expires_at: str | None = None
    user_name: str | None = None
    role: str | None = None


def _psc(hub: Hub) -> p.PscClient:
    if hub.psc is None:
        raise NotFound("Connexion Pro Santé Connect non configurée sur ce hub : utilisez un jeton "
                       "d'accès (--token).")
    psc: p.PscClient = hub.psc
    return psc


def _audit(session: Session, hub: Hub, event: str, actor: str, role: str, detail: str) -> None:
    audit.append(session, [audit.AuditRecord(event=event, actor=actor, role=role, detail=detail)],
                 at=hub.now())


# 404: PSC is not configured on this hub, or the sign-in is unknown (hub/openapi.py documents it)
NOT_CONFIGURED: dict[int | str, dict[str, object]] = {
    404: {"model": s_schemas.ErrorOut,
          "description": "Pro Santé Connect non configuré sur ce hub, ou connexion inconnue"}}

@router.get("/auth/psc", response_model=PscInfo)
def psc_info(request: Request) -> PscInfo:
    """Whether this hub signs people in with Pro Santé Connect (no token needed)."""
    hub = hub_of(request)
    return PscInfo(enabled=hub.psc is not None,
                   sign_with_psc=hub.psc is not None and hub.psc.settings.sign_with_psc)


@router.post("/auth/psc/start", response_model=StartOut, responses=NOT_CONFIGURED)
def psc_start(body: StartIn, request: Request) -> StartOut:
    hub = hub_of(request)
    psc = _psc(hub)
    try:
        with hub.session() as session:
            started = p.start(session, psc, hub.now(), body.purpose)
    except p.PscRefused as exc:
        raise BadRequest(str(exc)) from None
    return StartOut(signin_id=started.signin_id, poll_secret=started.poll_secret, url=started.url,
                    expires_at=started.expires_at.isoformat())


CHECKING = "checking"  # the browser came back; the hub is exchanging the code and checking
_MESSAGES = {
    "pending": "En attente de la connexion dans le navigateur.",
    CHECKING: "Retour du navigateur : vérification de la connexion…",
    "refused": "Connexion refusée : relancez-la depuis le terminal.",
    "expired": "La connexion a expiré sans réponse de Pro Santé Connect : relancez-la.",
    "cancelled": "Connexion annulée dans Pro Santé Connect.",
    "delivered": "Cette connexion a déjà été remise à un terminal : relancez-la si besoin.",
}
_SIGN_MESSAGES = {  # the same outcomes for a signature by PSC (hub/psc_sign.py)
    "pending": "En attente de l'authentification Pro Santé Connect dans le navigateur.",
    CHECKING: "Retour du navigateur : vérification de l'authentification…",
    "refused": "Signature refusée : relancez-la depuis le terminal. Rien n'est signé.",
    "expired": "La demande de signature a expiré sans réponse de Pro Santé Connect : relancez-la. "
               "Rien n'est signé.",
    "cancelled": "Signature annulée dans Pro Santé Connect : rien n'est signé.",
    "delivered": "Le résultat de cette signature a déjà été remis au terminal.",
}


def _message(row: PscSigninRow, status: str) -> str:
    return (_SIGN_MESSAGES if psc_sign.is_signing(row) else _MESSAGES).get(status, "")


@router.post("/dossiers/{dossier_id}/sign/psc", response_model=StartOut,
             responses={**NOT_CONFIGURED, **CONFLICT}, tags=["dossiers"])
def psc_sign_start(dossier_id: str, body: SignPscIn, request: Request,
                   who: Principal = Depends(require(Role.DOCTOR, Role.SECRETARY))) -> StartOut:
    """The doctor signs the dossier as it is at `version` by a fresh Pro Santé Connect
    authentication (when the hub is so configured): the URL to open, then POST /auth/psc/poll."""
    hub = hub_of(request)
    if who.role != Role.DOCTOR:
        actor_for_dossier(hub, who, dossier_id)  # a stranger still gets 404, not a hint
        raise Forbidden("Seul le médecin peut signer le dossier.")
    actor = actor_for_dossier(hub, who, dossier_id)
    try:
        started = psc_sign.start(hub, who, actor, dossier_id, body.version)
    except p.PscRefused as exc:
        raise BadRequest(str(exc)) from None
    return StartOut(signin_id=started.signin_id, poll_secret=started.poll_secret, url=started.url,
                    expires_at=started.expires_at.isoformat())


@router.post("/auth/psc/poll", response_model=PollOut, responses=NOT_CONFIGURED)
def psc_poll(body: PollIn, request: Request) -> PollOut:
    """The state of a sign-in, for the terminal that started it; once done, its Orient token (once)."""
    hub = hub_of(request)
    _psc(hub)
    now = hub.now()
    with hub.session() as session:
        row = session.get(PscSigninRow, body.signin_id)
        if row is None or row.poll_hash != p.digest(body.poll_secret):
            raise NotFound("Connexion Pro Santé Connect inconnue.")
        if row.status in ("pending", CHECKING) and p.aware(row.expires_at) <= now:
            row.status, row.message = "expired", _message(row, "expired")
            session.add(row)
            session.commit()
        if row.status == CHECKING:  # the browser is back, the hub is checking: not an outcome yet
            return PollOut(status="pending", message=_message(row, CHECKING))
        if row.status != "done":
            message = _message(row, "delivered") if row.status == "delivered" else row.message
            return PollOut(status=row.status, message=message or _message(row, row.status))  # type: ignore[arg-type]
        if psc_sign.is_signing(row):  # the dossier is signed: nothing to hand over but the news
            row.status = "delivered"
            session.add(row)
            session.commit()
            return PollOut(status="done", message=row.message or "Dossier signé.")
        from orient.assistant.store.tables import UserRow

        user = session.get(UserRow, row.user_id)
        assert user is not None and row.session_expires_at is not None
        expires = p.aware(row.session_expires_at)
        token_id, token = issue_token(session, user.id, ttl=max(expires - now, timedelta(seconds=1)),
                                      label=f"psc:{row.id}", now=now, delivery="psc")
        row.status, row.token_id = "delivered", token_id
        session.add(row)
        _audit(session, hub, "psc_signin", user.id, user.role, f"{row.id}: {token_id}")
        session.commit()
        return PollOut(status="done", message=f"Connecté(e) : {user.name}.", token=token,
                       token_id=token_id, expires_at=expires.isoformat(), user_name=user.name,
                       role=user.role)


def _page(title: str, text: str, status: int = 200) -> HTMLResponse:
    body = (f"<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Orient : "
            f"{html.escape(title, quote=False)}</title></head><body><h1>{html.escape(title, quote=False)}</h1>"
            f"<p>{html.escape(text, quote=False)}</p></body></html>")
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store",
                                                           "Referrer-Policy": "no-referrer"})


@router.get("/auth/psc/callback", response_class=HTMLResponse, include_in_schema=False)
def psc_callback(request: Request, state: str = "", code: str = "", error: str = "") -> HTMLResponse:
    """Where Pro Santé Connect sends the browser back."""
    hub = hub_of(request)
    psc = _psc(hub)
    now = hub.now()
    with hub.session() as session:
        row = session.exec(select(PscSigninRow).where(PscSigninRow.state_hash == p.digest(state))).first() \
            if state else None
        if row is None and error == "access_denied":  # a provider that does not echo the state
            _audit(session, hub, "psc_refused", "psc", "anonymous", "access_denied")
            session.commit()
            return _page("Connexion annulée", "Connexion annulée dans Pro Santé Connect. Vous pouvez "
                         "revenir au terminal (Échap pour abandonner la connexion en attente).")
        if row is None:
            _audit(session, hub, "psc_refused", "psc", "anonymous", "state")
            session.commit()
            return _page("Connexion refusée", "Connexion refusée : la réponse de Pro Santé Connect ne "
                         "correspond à aucune connexion en cours (paramètre « state » inconnu). "
                         "Relancez la connexion depuis le terminal.", 400)
        if row.status != "pending":
            _audit(session, hub, "psc_refused", "psc", "anonymous", f"{row.id}: replay")
            session.commit()
            return _page("Connexion refusée", "Connexion refusée : cette réponse de Pro Santé Connect "
                         "a déjà été utilisée. Relancez la connexion depuis le terminal.", 400)
        signing = psc_sign.is_signing(row)
        if p.aware(row.expires_at) <= now:
            row.status, row.message = "expired", _message(row, "expired")
            session.add(row)
            session.commit()
            return _page("Connexion expirée", f"{row.message} Vous pouvez revenir au terminal.", 400)
        if error or not code:
            cancelled = error == "access_denied"
            row.status = "cancelled" if cancelled else "refused"
            row.message = (_message(row, "cancelled") if cancelled else
                           "Connexion refusée par Pro Santé Connect : relancez-la depuis le terminal."
                           + (psc_sign.NOTHING if signing else ""))
            session.add(row)
            _audit(session, hub, "psc_refused", "psc", "anonymous", f"{row.id}: {error or 'no_code'}"[:80])
            session.commit()
            return _page("Connexion annulée" if cancelled else "Connexion refusée",
                         row.message + " Vous pouvez revenir au terminal.", 200 if cancelled else 400)
        # the sign-in is used now, whatever follows: a second callback with its state is a replay
        row.status = CHECKING
        session.add(row)
        # the row stays loaded: no transaction (on SQLite, the write lock) held while the hub
        # talks to the provider, so that polls and other writes go on
        session.expire_on_commit = False
        session.commit()
        try:
            tokens = psc.exchange(code, row.code_verifier)
            claims = psc.verify_id_token(tokens["id_token"], nonce=row.nonce, now=now)
            claims = {**psc.userinfo(str(tokens.get("access_token") or ""), str(claims.get("sub"))),
                      **claims}
            if signing:
                signed = psc_sign.finish(hub, row, claims, now)
            else:
                who = p.Professional.from_claims(claims)
                user = p.account_for(session, who, psc.settings, now)
        except p.PscRefused as exc:
            session.rollback()
            row = session.get(PscSigninRow, row.id)
            assert row is not None
            row.status, row.message = "refused", str(exc)
            session.add(row)
            _audit(session, hub, "psc_refused", "psc", "anonymous", f"{row.id}: {exc.reason}")
            session.commit()
            return _page("Signature refusée" if signing else "Connexion refusée",
                         f"{exc} Vous pouvez revenir au terminal.", 400)
        if signing:
            row.status, row.message = "done", signed
            session.add(row)
            session.commit()
            return _page("Signature enregistrée", f"{signed} Vous pouvez revenir au terminal.")
        row.status, row.user_id = "done", user.id
        row.session_expires_at = now + timedelta(hours=psc.settings.session_hours)
        row.message = "Connexion réussie."
        session.add(row)
        session.commit()
        name = user.name
    return _page("Connexion réussie", f"Bonjour {name} : vous êtes connecté(e) à Orient. Vous "
                 "pouvez revenir au terminal.")


@router.post("/auth/logout")
def logout(request: Request, who: Principal = Depends(principal)) -> dict[str, str]:
    """Revokes the caller's token (the TUI's « Se déconnecter »)."""
    hub = hub_of(request)
    with hub.session() as session:
        revoke_token(session, who.token_id, hub.now())
        hub.tokens.clear()
        _audit(session, hub, "logout", who.user_id, who.role.value, who.token_id)
        session.commit()
    return {"status": "revoked", "token_id": who.token_id}
