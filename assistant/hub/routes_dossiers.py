"""Dossier endpoints: the conversation, review, proposals, choice, signature and sending."""

from __future__ import annotations

from typing import Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import select

from orient.assistant.engine import Question
from orient.assistant.hub import imports
from orient.assistant.hub import schemas as s
from orient.assistant.hub.access import (
    Conflict,
    Forbidden,
    Hub,
    actor_for_dossier,
    actor_of,
    hub_of,
    model_response,
    owners_of,
    require,
    shows_medical,
    visible_answers,
)
from orient.assistant.hub.auth import Principal
from orient.assistant.hub.openapi import CONFLICT
from orient.assistant.hub.views import (
    display,
    kept_warnings,
    referral_out,
    review_sections,
    unit_label,
    warning_out,
)
from orient.assistant.service import Step
from orient.assistant.store import accounts
from orient.assistant.store.dossiers import StaleWrite, load
from orient.assistant.store.tables import DossierRow
from orient.dialogs.hnp import HNP, patient_label
from orient.models.provenance import Proposal, Source
from orient.models.users import Actor, Role, Scope

router = APIRouter(prefix="/dossiers", tags=["dossiers"])
FILLERS = require(Role.DOCTOR, Role.SECRETARY)


def question_out(hub: Hub, q: Question | None) -> s.QuestionOut | None:
    if q is None:
        return None
    spec = q.field
    dialog = hub.service.dialog
    return s.QuestionOut(
        field=spec.id, label=spec.label, section=q.section,
        section_title=dialog.section_title(q.section), question=q.text, why=spec.why,
        type=spec.type.value, required=q.required, options=list(spec.options), current=q.current,
        current_display=None if q.current is None else display(hub, spec.id, q.current, spec.display(q.current)),
        changing=q.changing, suggestions=list(q.suggestions), suggestions_title=q.suggestions_title,
        confirm=[s.ConfirmItemOut(
            number=i.number, field=i.field.id, label=i.field.label, section=i.field.section,
            section_title=dialog.section_title(i.field.section),
            display=display(hub, i.field.id, i.value, i.display), source=i.source.source.value,
            origin=i.source.origin, current_display=i.current_display) for i in q.confirm],
        run=[s.RunItemOut(field=i.field, label=i.label, section_title=i.section_title,
                          conditional=i.conditional, text=i.text) for i in q.run],
    )




def step_out(hub: Hub, step: Step) -> s.StepOut:
    return s.StepOut(
        ok=step.ok, dossier_id=step.dossier_id, status=step.status.value, version=step.version,
        question=question_out(hub, step.question), message=step.message,
        warnings=[warning_out(w) for w in step.warnings],
        duplicates=step.duplicates, blocked_reason=step.blocked_reason, missing=step.missing,
        progress=[s.ProgressOut(section=p.section, title=p.title, answered=p.answered, total=p.total)
                  for p in step.progress],
        recorded=None if step.recorded is None else (
            _recorded(hub, *step.recorded) if not step.also_recorded else " · ".join(
                f"{hub.service.dialog.field(f).label} : {_recorded(hub, f, v)}"
                for f, v in [step.recorded, *step.also_recorded])),
        refused=[s.RefusedOut(field=r.field, text=r.text, message=r.message) for r in step.refused],
    )


def _recorded(hub: Hub, field_id: str, value: Any) -> str:
    spec = hub.service.dialog.field(field_id)
    return display(hub, field_id, value, spec.display(value))


def guarded(hub: Hub, actor: Actor, dossier_id: str, run: Any) -> Response:
    """Run a versioned write; a stale one is refused with the current state (409)."""
    try:
        return model_response(step_out(hub, run()))
    except StaleWrite as exc:
        current = hub.service.open(actor, dossier_id)
        raise Conflict(str(exc), current=step_out(hub, current).model_dump(mode="json")) from None


@router.post("", status_code=201, response_model=s.StepOut)
def create(body: s.NewDossier, request: Request, who: Principal = Depends(FILLERS)) -> Response:
    hub = hub_of(request)
    try:
        actor = actor_of(hub, who, body.doctor_rpps)
    except accounts.AccessError as exc:  # nothing to hide here: she has no such delegation
        raise Forbidden(str(exc)) from None
    return model_response(step_out(hub, hub.service.create(actor)), status_code=201)


@router.post("/import", status_code=201, response_model=imports.ImportOut,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/fhir+json": {"schema": {"type": "object"}},
                 "text/plain": {"schema": {"type": "string"}}}}})
async def import_new(request: Request,
                     kind: Literal["fhir", "letter"] = Query("fhir", description="fhir: a FHIR R4 "
                                                             "Bundle; letter: a pasted letter"),
                     doctor_rpps: str | None = Query(None, max_length=11),
                     who: Principal = Depends(FILLERS)) -> Response:
    """A new dossier from a document sent as the body (a FHIR R4 Bundle in JSON, or the text of
    a letter); the values found wait for the person's confirmation (hub/imports.py)."""
    hub = hub_of(request)
    body = await request.body()
    try:
        actor = actor_of(hub, who, doctor_rpps)
    except accounts.AccessError as exc:
        raise Forbidden(str(exc)) from None
    out = await anyio.to_thread.run_sync(imports.import_document, hub, actor, kind, body, step_out)
    return model_response(out, status_code=201)


@router.get("", response_model=list[s.DossierSummary])
def list_dossiers(request: Request, who: Principal = Depends(FILLERS)) -> list[s.DossierSummary]:
    hub = hub_of(request)
    with hub.session() as session:
        owners = owners_of(session, who, hub)
        rows = session.exec(select(DossierRow).where(DossierRow.owner_rpps.in_(owners))  # type: ignore[attr-defined]
                            .order_by(DossierRow.updated_at.desc())).all()  # type: ignore[attr-defined]
        out = []
        for row in rows:
            answers = load(session, row.id).answers
            out.append(s.DossierSummary(id=row.id, status=row.status, version=row.version,
                                        patient=patient_label(answers) or "(patient non renseigné)",
                                        patient_name=patient_label(answers, born=False),
                                        patient_born=HNP.field("patient.birth_date").display(
                                            answers.get("patient.birth_date")),
                                        updated_at=row.updated_at))
        return out


@router.get("/{dossier_id}", response_model=s.DossierOut)
def read(dossier_id: str, request: Request, who: Principal = Depends(FILLERS)) -> s.DossierOut:
    hub = hub_of(request)
    actor = actor_for_dossier(hub, who, dossier_id)
    step = hub.service.open(actor, dossier_id)
    state = hub.service.state(actor, dossier_id)
    medical = shows_medical(actor)
    hub.service.record(actor, dossier_id, "dossier_read",
                       "volet médical inclus" if medical else "volet médical masqué")
    chosen = hub.service.chosen(actor, dossier_id)
    return s.DossierOut(
        id=state.id, status=state.status.value, version=state.version, owner_rpps=state.owner_rpps,
        answers=visible_answers(state.answers, actor), medical_hidden=not medical,
        missing=step.missing, blocked_reason=step.blocked_reason, signed=state.signature is not None,
        signed_at=state.signature.at if state.signature else None,
        chosen_units=chosen, chosen_labels=[unit_label(hub, u) for u in chosen],
        question=question_out(hub, step.question), warnings=kept_warnings(state.warnings, medical),
        **_abilities(hub, actor, dossier_id, step, chosen),
    )


def _abilities(hub: Hub, actor: Actor, dossier_id: str, step: Step, chosen: list[str]) -> dict[str, Any]:
    """What the caller may do next with the dossier (the TUI shows only those keys) and where
    it stands: units already sent to (in the order they were chosen), progress per section."""
    from orient.assistant.store import referrals as store

    with hub.read_session() as session:
        referred = {r.unit_id for r in store.referrals_of(session, dossier_id)}
    sent = [u for u in chosen if u in referred] + sorted(referred - set(chosen))
    return {
        "sent_units": sent, "may_sign": actor.role == Role.DOCTOR, "may_send": actor.has_scope(Scope.SEND),
        "progress": [s.ProgressOut(section=p.section, title=p.title, answered=p.answered, total=p.total)
                     for p in step.progress],
    }


@router.post("/{dossier_id}/answer", response_model=s.StepOut, responses=CONFLICT)
def answer(dossier_id: str, body: s.AnswerIn, request: Request,
           who: Principal = Depends(FILLERS)) -> Response:
    hub = hub_of(request)
    actor = actor_for_dossier(hub, who, dossier_id)
    return guarded(hub, actor, dossier_id,
                   lambda: hub.service.answer(actor, dossier_id, body.text, body.version))


@router.post("/{dossier_id}/proposals", response_model=s.StepOut, responses=CONFLICT)
def propose(dossier_id: str, body: s.ProposalsIn, request: Request,
            who: Principal = Depends(FILLERS)) -> Response:
    """Values from outside the conversation (profile, import, letter): never taken silently;
    they wait for the person's confirmation (the next question asks it)."""
    hub = hub_of(request)
    actor = actor_for_dossier(hub, who, dossier_id)
    proposals = [Proposal(p.field, p.text, Source(p.source), p.origin) for p in body.proposals]
    return guarded(hub, actor, dossier_id,
                   lambda: hub.service.propose(actor, dossier_id, proposals, body.base_version))


@router.post("/{dossier_id}/back", response_model=s.StepOut, responses=CONFLICT)
def back(dossier_id: str, body: s.VersionIn, request: Request,
         who: Principal = Depends(FILLERS)) -> Response:
    hub = hub_of(request)
    actor = actor_for_dossier(hub, who, dossier_id)
    return guarded(hub, actor, dossier_id, lambda: hub.service.back(actor, dossier_id, body.version))


@router.post("/{dossier_id}/edit", response_model=s.StepOut, responses=CONFLICT)
def edit(dossier_id: str, body: s.EditIn, request: Request,
         who: Principal = Depends(FILLERS)) -> Response:
    hub = hub_of(request)
    actor = actor_for_dossier(hub, who, dossier_id)
    return guarded(hub, actor, dossier_id,
                   lambda: hub.service.edit(actor, dossier_id, body.field, body.version))


@router.post("/{dossier_id}/cancel-change", response_model=s.StepOut, responses=CONFLICT)
def cancel_change(dossier_id: str, body: s.VersionIn, request: Request,
                  who: Principal = Depends(FILLERS)) -> Response:
    hub = hub_of(request)
    actor = actor_for_dossier(hub, who, dossier_id)
    return guarded(hub, actor, dossier_id,
                   lambda: hub.service.cancel_change(actor, dossier_id, body.version))


@router.get("/{dossier_id}/review")
def review(dossier_id: str, request: Request, who: Principal = Depends(FILLERS)) -> list[dict[str, Any]]:
    hub = hub_of(request)
    actor = actor_for_dossier(hub, who, dossier_id)
    medical = shows_medical(actor)
    hub.service.record(actor, dossier_id, "dossier_reviewed",
                       "volet médical inclus" if medical else "volet médical masqué")
    return review_sections(hub, hub.service.review(actor, dossier_id), medical)


@router.get("/{dossier_id}/proposals")
def proposals(dossier_id: str, request: Request, limit: int = Query(20, ge=1, le=200),
              offset: int = Query(0, ge=0), who: Principal = Depends(FILLERS)) -> dict[str, Any]:
    hub = hub_of(request)
    actor = actor_for_dossier(hub, who, dossier_id)
    found = hub.service.proposals(actor, dossier_id, limit=limit, offset=offset)
    if isinstance(found, str):
        return {"proposals": [], "full": [], "more": False, "groups": {}, "ranking": None,
                "message": found}
    return {**found.as_json(), "message": None}


@router.get("/{dossier_id}/why-not/{unit_id}")
def why_not(dossier_id: str, unit_id: str, request: Request,
            who: Principal = Depends(FILLERS)) -> dict[str, str]:
    hub = hub_of(request)
    actor = actor_for_dossier(hub, who, dossier_id)
    return {"message": hub.service.why_not(actor, dossier_id, unit_id)}


@router.put("/{dossier_id}/units", responses=CONFLICT)
def choose(dossier_id: str, body: s.UnitsIn, request: Request,
           who: Principal = Depends(FILLERS)) -> dict[str, list[str]]:
    hub = hub_of(request)
    actor = actor_for_dossier(hub, who, dossier_id)
    problem = hub.service.choose(actor, dossier_id, body.unit_ids)
    if problem:
        raise Conflict(problem)
    return {"unit_ids": hub.service.chosen(actor, dossier_id)}


@router.post("/{dossier_id}/sign", response_model=s.StepOut, responses=CONFLICT)
def sign(dossier_id: str, body: s.SignIn, request: Request,
         who: Principal = Depends(FILLERS)) -> Response:
    """Only the doctor signs (roles table: a secretary never does)."""
    hub = hub_of(request)
    if who.role != Role.DOCTOR:
        actor_for_dossier(hub, who, dossier_id)  # a stranger still gets 404, not a hint
        raise Forbidden("Seul le médecin peut signer le dossier.")
    actor = actor_for_dossier(hub, who, dossier_id)
    if hub.psc is not None and hub.psc.settings.sign_with_psc:  # hub/psc_sign.py replaces the code
        raise Forbidden("Sur ce hub, la signature se fait par une nouvelle authentification Pro Santé "
                        "Connect, pas par code : POST /dossiers/{id}/sign/psc (dans Orient : F8).")
    return guarded(hub, actor, dossier_id, lambda: hub.service.sign(actor, dossier_id, body.code, body.version))


@router.post("/{dossier_id}/send", response_model=s.SendOut, responses=CONFLICT)
def send(dossier_id: str, body: s.SendIn, request: Request, who: Principal = Depends(FILLERS)) -> Response:
    hub = hub_of(request)
    if who.role == Role.DOCTOR:
        # No owner lookup first: the service checks, inside its locked transaction, that the
        # dossier exists and is the doctor's, with the same 404 as actor_for_dossier.
        actor = actor_of(hub, who, None)
    else:
        actor = actor_for_dossier(hub, who, dossier_id)
    if actor.role == Role.SECRETARY and not actor.has_scope(Scope.SEND):
        raise Forbidden("Envoi impossible : la délégation de la secrétaire n'inclut pas l'envoi (« send »).")
    result = hub.service.send(actor, dossier_id, body.idempotency_key)
    now = hub.now()
    return model_response(s.SendOut(referrals=[referral_out(hub, r, now) for r in result.referrals],
                                    repeated=result.repeated, unsent_units=result.unsent))


@router.get("/{dossier_id}/referrals", response_model=list[s.ReferralOut])
def dossier_referrals(dossier_id: str, request: Request,
                      who: Principal = Depends(FILLERS)) -> list[s.ReferralOut]:
    from orient.assistant.store import referrals as store

    hub = hub_of(request)
    actor_for_dossier(hub, who, dossier_id)
    now = hub.now()
    with hub.session() as session:
        return [referral_out(hub, r, now) for r in store.referrals_of(session, dossier_id)]
