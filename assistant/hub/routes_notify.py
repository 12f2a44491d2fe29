"""E-mail notification preferences and the outbox as the admin sees it (notify/, store/outbox.py).

- `/me/notifications`: a doctor or a secretary chooses what they receive (and, for a doctor,
  whether the delegated secretaries get a copy); a doctor's address is the profile's MSSanté
  address unless another is given here.
- `/units/{unit_id}/notifications`: the unit's address, set by an admin; the unit's users choose
  which events the unit receives.
- `/admin/notifications`: the messages (never their text), their status and errors; a failed one
  can be sent again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from orient.assistant.hub.access import BadRequest, Conflict, Forbidden, hub_of, require
from orient.assistant.hub.auth import Principal
from orient.assistant.hub.openapi import CONFLICT
from orient.assistant.hub.schemas import Strict
from orient.assistant.notify import preferences
from orient.assistant.notify.events import KIND_FR, kinds_for
from orient.assistant.store import audit, outbox, profiles
from orient.assistant.store.dossiers import NotFound
from orient.assistant.store.tables import NotifySubscriptionRow, UnitRow
from orient.models.users import Role

router = APIRouter(tags=["notifications"])
PEOPLE = require(Role.DOCTOR, Role.SECRETARY)
UNIT_SIDE = require(Role.RECEIVER, Role.ADMIN)
ADMIN = require(Role.ADMIN)
ADDRESS_FIELD = preferences.ADDRESS_FIELD


class PreferencesIn(Strict):
    address: str | None = Field(None, max_length=320, description="absent: unchanged; empty: removed")
    events: list[Annotated[str, Field(max_length=40)]] | None = Field(
        None, max_length=20, description="event kinds (see `available`); absent: unchanged; [] : none")
    copy_secretary: bool | None = Field(None, strict=True, description="a doctor: copies to the delegated secretaries")


class PreferencesOut(BaseModel):
    subject: str
    address: str | None = None
    effective_address: str | None = None  # where messages go (a doctor: the profile's by default)
    mssante: bool = False  # whether patient data may go to it
    events: list[str]
    available: dict[str, str]  # kind -> French label
    copy_secretary: bool = False


class NotificationOut(BaseModel):
    id: str
    kind: str
    referral_id: str | None
    recipient: str
    address: str
    level: str
    status: str
    attempts: int
    next_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class NotificationsOut(BaseModel):
    enabled: bool
    counts: dict[str, int]
    items: list[NotificationOut]


def _is_mssante(request: Request, address: str | None) -> bool:
    mailer = getattr(hub_of(request), "mailer", None)
    if address is None:
        return False
    if mailer is not None:
        return bool(mailer.settings.is_mssante(address))
    from orient.assistant.notify.settings import SmtpSettings

    return SmtpSettings.model_construct().is_mssante(address)  # the default list (.mssante.fr)


def _out(request: Request, subject: str, row: NotifySubscriptionRow | None,
         fallback: str | None = None) -> PreferencesOut:
    kinds = kinds_for(subject)
    events = list(kinds) if row is None or row.events is None else [e for e in row.events.split(",") if e]
    address = row.address if row else None
    effective = address or fallback
    return PreferencesOut(subject=subject, address=address, effective_address=effective,
                          mssante=_is_mssante(request, effective), events=events,
                          available={k: KIND_FR[k] for k in kinds},
                          copy_secretary=bool(row.copy_secretary) if row else False)


def _save(request: Request, who: Principal, subject: str, body: PreferencesIn, session: Session) -> None:
    hub = hub_of(request)
    try:
        preferences.update(session, subject, by=who.user_id, role=who.role.value, now=hub.now(),
                           address=body.address, events=body.events, copy_secretary=body.copy_secretary,
                           session_id=who.token_id)
    except preferences.PreferenceError as exc:
        raise BadRequest(str(exc)) from None
    session.commit()


@router.get("/me/notifications", response_model=PreferencesOut)
def my_preferences(request: Request, who: Principal = Depends(PEOPLE)) -> PreferencesOut:
    hub = hub_of(request)
    subject = f"user:{who.user_id}"
    with hub.read_session() as session:
        row = outbox.subscription(session, subject)
        fallback = profiles.get(session, who.rpps).get(ADDRESS_FIELD) if who.rpps else None
        return _out(request, subject, row, fallback)


@router.put("/me/notifications", response_model=PreferencesOut)
def set_my_preferences(body: PreferencesIn, request: Request, who: Principal = Depends(PEOPLE)) -> PreferencesOut:
    """What the caller receives by e-mail; a refused value changes nothing."""
    hub = hub_of(request)
    subject = f"user:{who.user_id}"
    with hub.session() as session:
        _save(request, who, subject, body, session)
    return my_preferences(request, who)


def _unit(request: Request, who: Principal, unit_id: str, session: Session) -> str:
    if who.role == Role.RECEIVER and unit_id not in who.unit_ids:
        raise Forbidden("Vous ne gérez que les notifications de vos propres unités.")
    if session.get(UnitRow, unit_id) is None:
        raise NotFound(f"Unité introuvable : « {unit_id} ».")
    return f"unit:{unit_id}"


@router.get("/units/{unit_id}/notifications", response_model=PreferencesOut)
def unit_preferences(unit_id: str, request: Request, who: Principal = Depends(UNIT_SIDE)) -> PreferencesOut:
    hub = hub_of(request)
    with hub.read_session() as session:
        subject = _unit(request, who, unit_id, session)
        return _out(request, subject, outbox.subscription(session, subject))


@router.put("/units/{unit_id}/notifications", response_model=PreferencesOut)
def set_unit_preferences(unit_id: str, body: PreferencesIn, request: Request,
                         who: Principal = Depends(UNIT_SIDE)) -> PreferencesOut:
    """The unit's address (an admin sets it) and the events it receives (an admin or the unit)."""
    hub = hub_of(request)
    if body.address is not None and who.role != Role.ADMIN:
        raise Forbidden("L'adresse de notification d'une unité est fixée par l'administrateur.")
    with hub.session() as session:
        subject = _unit(request, who, unit_id, session)
        _save(request, who, subject, body, session)
    return unit_preferences(unit_id, request, who)


@router.get("/admin/notifications", response_model=NotificationsOut)
def notifications(request: Request, who: Principal = Depends(ADMIN),
                  status: Literal["pending", "sending", "sent", "failed"] | None = Query(None),
                  limit: int = Query(200, ge=1, le=1000)) -> NotificationsOut:
    """The outbox: ids, kinds, recipients, status, attempts, errors; never a message's text."""
    hub = hub_of(request)
    with hub.read_session() as session:
        items = [NotificationOut(**row) for row in outbox.listing(session, status, limit)]
        counts = outbox.counts(session)
    return NotificationsOut(enabled=getattr(hub, "mailer", None) is not None, counts=counts, items=items)


@router.post("/admin/notifications/{notification_id}/retry", responses=CONFLICT)
def retry(notification_id: str, request: Request, who: Principal = Depends(ADMIN)) -> dict[str, str]:
    """Send a failed message again (its attempts start over)."""
    hub = hub_of(request)
    with hub.session() as session:
        row = session.get(outbox.NotifyOutboxRow, notification_id)
        if row is None:
            raise NotFound(f"Notification introuvable : « {notification_id} ».")
        if not outbox.retry(session, notification_id, datetime.now(UTC)):
            raise Conflict(f"Seule une notification en échec est renvoyée (celle-ci : « {row.status} »).")
        audit.append(session, [audit.AuditRecord(event="notification_retried", actor=who.user_id,
                                                 role=who.role.value, detail=notification_id,
                                                 session_id=who.token_id)], at=hub.now())
        session.commit()
    mailer = getattr(hub, "mailer", None)
    if mailer is not None:
        mailer.wake()
    return {"id": notification_id, "status": "pending"}
