"""Referral endpoints: the requester's dashboard and actions, the receiving unit's inbox and
answers, and the unit's declared availability. Every step is audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Depends, Request
from sqlalchemy import update
from sqlmodel import Session

from orient.assistant.engine import Engine
from orient.assistant.hub import schemas as s
from orient.assistant.hub.access import Forbidden, Hub, hub_of, owners_of, require
from orient.assistant.hub.auth import Principal
from orient.assistant.hub.views import referral_out, review_sections
from orient.assistant.store import audit
from orient.assistant.store import referrals as store
from orient.assistant.store.dossiers import NotFound, load
from orient.assistant.store.tables import ReferralRow, UnitRow
from orient.models.users import Role

router = APIRouter(tags=["demandes"])
REQUESTERS = require(Role.DOCTOR, Role.SECRETARY)
RECEIVERS = require(Role.RECEIVER)
UNIT = UnitRow.__table__  # type: ignore[attr-defined]


def _record(session: Session, who: Principal, ref: ReferralRow, event: str, detail: str | None,
            now: datetime) -> None:
    audit.append(session, [audit.AuditRecord(event=event, actor=who.user_id, role=who.role.value,
                                             dossier_id=ref.dossier_id, detail=detail)], at=now)


def _mine(session: Session, hub: Hub, who: Principal, referral_id: str) -> ReferralRow:
    """A referral the caller may see: its unit's (receiver) or its dossier's (requester)."""
    ref = store.get(session, referral_id)
    visible = ref is not None and (
        ref.unit_id in who.unit_ids if who.role == Role.RECEIVER
        else ref.owner_rpps in owners_of(session, who, hub)
    )
    if ref is None or not visible:
        raise NotFound(f"Demande introuvable : « {referral_id} ».")
    return ref


def _act(request: Request, who: Principal, referral_id: str, event: str,
         run: Callable[[Session, ReferralRow, datetime], ReferralRow]) -> s.ReferralOut:
    hub = hub_of(request)
    now = hub.now()
    with hub.session() as session:
        ref = _mine(session, hub, who, referral_id)
        done = run(session, ref, now)
        _record(session, who, ref, event, f"{ref.id}: {ref.status}->{done.status}", now)
        session.commit()
    return referral_out(hub, done, now)


# -- requester side ------------------------------------------------------------------------------
@router.get("/referrals", response_model=list[s.ReferralOut])
def dashboard(request: Request, who: Principal = Depends(REQUESTERS)) -> list[s.ReferralOut]:
    hub = hub_of(request)
    now = hub.now()
    with hub.read_session() as session:
        refs = [r for owner in owners_of(session, who, hub) for r in store.of_owner(session, owner)]
    return [referral_out(hub, r, now) for r in refs]


@router.post("/referrals/{referral_id}/cancel", response_model=s.ReferralOut)
def cancel(referral_id: str, body: s.CancelIn, request: Request,
           who: Principal = Depends(REQUESTERS)) -> s.ReferralOut:
    return _act(request, who, referral_id, "referral_cancelled",
                lambda session, ref, now: store.cancel(session, ref, body.reason, body.text, now))


@router.post("/referrals/{referral_id}/answer-info", response_model=s.ReferralOut)
def answer_info(referral_id: str, body: s.InfoAnswerIn, request: Request,
                who: Principal = Depends(REQUESTERS)) -> s.ReferralOut:
    return _act(request, who, referral_id, "referral_info_answered",
                lambda session, ref, now: store.answer_info(session, ref, body.text, now))


# -- receiving side ------------------------------------------------------------------------------
@router.get("/inbox", response_model=list[s.ReferralOut])
def inbox(request: Request, who: Principal = Depends(RECEIVERS)) -> list[s.ReferralOut]:
    hub = hub_of(request)
    now = hub.now()
    with hub.read_session() as session:
        refs = store.inbox(session, list(who.unit_ids))
    return [referral_out(hub, r, now) for r in refs]


@router.post("/inbox/{referral_id}/open", response_model=s.OpenedReferralOut)
def open_referral(referral_id: str, request: Request,
                  who: Principal = Depends(RECEIVERS)) -> s.OpenedReferralOut:
    """Opening a referral shows the dossier (medical section included, audited) and marks it read."""
    hub = hub_of(request)
    now = hub.now()
    with hub.session() as session:
        ref = _mine(session, hub, who, referral_id)
        if ref.status == store.R.SENT.value:
            ref = store.change(session, ref, store.R.READ, now)
        _record(session, who, ref, "referral_opened", f"{ref.id}: volet médical lu", now)
        state = load(session, ref.dossier_id)
        session.commit()
    engine = Engine(hub.service.dialog, hub.service.lookups)
    return s.OpenedReferralOut(
        referral=referral_out(hub, ref, now), dossier=state.answers,
        sections=review_sections(hub, engine.review(state), medical=True),
        signed_at=state.signature.at if state.signature else None,
    )


@router.post("/inbox/{referral_id}/accept", response_model=s.ReferralOut)
def accept(referral_id: str, body: s.AcceptIn, request: Request,
           who: Principal = Depends(RECEIVERS)) -> s.ReferralOut:
    def run(session: Session, ref: ReferralRow, now: datetime) -> ReferralRow:
        accepted, cancelled = store.accept(session, ref, body.admission_at, body.contact, now)
        for sibling in cancelled:
            _record(session, who, sibling, "referral_cancelled", f"{sibling.id}: admis ailleurs", now)
        return accepted

    return _act(request, who, referral_id, "referral_accepted", run)


@router.post("/inbox/{referral_id}/refuse", response_model=s.ReferralOut)
def refuse(referral_id: str, body: s.RefuseIn, request: Request,
           who: Principal = Depends(RECEIVERS)) -> s.ReferralOut:
    return _act(request, who, referral_id, "referral_refused",
                lambda session, ref, now: store.refuse(session, ref, body.reason, body.text, now))


@router.post("/inbox/{referral_id}/request-info", response_model=s.ReferralOut)
def request_info(referral_id: str, body: s.InfoRequestIn, request: Request,
                 who: Principal = Depends(RECEIVERS)) -> s.ReferralOut:
    return _act(request, who, referral_id, "referral_info_requested",
                lambda session, ref, now: store.request_info(session, ref, body.question, now))


@router.post("/inbox/{referral_id}/admit", response_model=s.ReferralOut)
def admit(referral_id: str, request: Request, who: Principal = Depends(RECEIVERS)) -> s.ReferralOut:
    """The patient has arrived (after acceptance)."""
    return _act(request, who, referral_id, "referral_admitted",
                lambda session, ref, now: store.admit(session, ref, now))


@router.post("/inbox/{referral_id}/close", response_model=s.ReferralOut)
def close(referral_id: str, request: Request, who: Principal = Depends(RECEIVERS)) -> s.ReferralOut:
    """The stay is over: the referral is closed."""
    return _act(request, who, referral_id, "referral_closed",
                lambda session, ref, now: store.close(session, ref, now))


@router.put("/units/{unit_id}/availability")
def availability(unit_id: str, body: s.AvailabilityIn, request: Request,
                 who: Principal = Depends(require(Role.RECEIVER, Role.ADMIN))) -> dict[str, str]:
    hub = hub_of(request)
    if who.role == Role.RECEIVER and unit_id not in who.unit_ids:
        raise Forbidden("Vous ne pouvez déclarer la disponibilité que de vos propres unités.")
    now = hub.now()
    with hub.session() as session:
        done = session.connection().execute(
            update(UNIT).where(UNIT.c.id == unit_id)
            .values(availability=body.availability, availability_at=now.isoformat(timespec="seconds"))
        )
        if done.rowcount != 1:
            raise NotFound(f"Unité introuvable : « {unit_id} ».")
        audit.append(session, [audit.AuditRecord(event="availability_declared", actor=who.user_id,
                                                 role=who.role.value, detail=f"{unit_id}: {body.availability}")],
                     at=now)
        session.commit()
    hub.service.refresh_directory()
    return {"unit_id": unit_id, "availability": body.availability}
