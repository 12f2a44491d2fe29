"""A new dossier from a document: a FHIR R4 Bundle exported by the practice software, or a
pasted letter. The document is the request's body, as is: its SHA-256 (the origin recorded with
every value it gave) is that of the bytes the person chose. Nothing is saved when the document
is refused (422, 413 when too big); otherwise the dossier is created with the values proposed,
and its first question asks their confirmation."""

from __future__ import annotations

from typing import Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from orient.assistant.hub import schemas as s
from orient.assistant.hub.access import (
    BadRequest,
    Forbidden,
    Hub,
    actor_of,
    hub_of,
    model_response,
    require,
    shows_medical,
)
from orient.assistant.hub.auth import Principal
from orient.assistant.hub.routes_dossiers import step_out
from orient.assistant.importing import ImportRefused, ImportResult
from orient.assistant.importing.fhir import read_bundle
from orient.assistant.importing.letter import read_letter
from orient.assistant.store import accounts
from orient.models.fields import Fill
from orient.models.provenance import Proposal, Source
from orient.models.users import Actor, Role

router = APIRouter(prefix="/dossiers", tags=["dossiers"])
FILLERS = require(Role.DOCTOR, Role.SECRETARY)
IMPORT_PATH = "/dossiers/import"


class ImportOut(BaseModel):
    step: s.StepOut  # the new dossier; its question lists the values to confirm
    origin: str  # "sha256:<hex>" of the document
    notes: list[str]  # French remarks: what was left out, what to check


def _fillable(hub: Hub, actor: Actor) -> set[str] | None:
    if actor.role == Role.DOCTOR:
        return None
    return {f.id for f in hub.service.dialog.fields if f.fill == Fill.SECRETARY}


def _read(hub: Hub, kind: str, body: bytes, actor: Actor) -> ImportResult:
    owner = actor.rpps or actor.on_behalf_of
    if kind == "fhir":
        return read_bundle(body, doctor_rpps=owner, today=hub.clock().date())
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused("La lettre n'est pas un texte UTF-8. Rien n'a été importé.") from None
    return read_letter(text, icd10=hub.service.lookups.icd10)


def import_document(hub: Hub, actor: Actor, kind: str, body: bytes) -> ImportOut:
    """Read the document, then create the dossier with its values proposed (one transaction)."""
    try:
        found = _read(hub, kind, body, actor)
    except ImportRefused as exc:
        raise BadRequest(str(exc)) from None
    fields = _fillable(hub, actor)
    shown = found.for_reader(fields, shows_medical(actor))
    notes = [n.text for n in shown.notes]
    if len(shown.values) < len(found.values):
        notes.append("Les valeurs du volet médical sont pour le médecin : elles ne sont pas proposées "
                     "ici (le médecin peut importer le même document depuis sa session).")
    if not shown.values:
        raise BadRequest("Le document ne contient rien que vous puissiez remplir : " + notes[-1]
                         + " Rien n'a été importé.")
    source = Source.IMPORT if found.kind == "import" else Source.LETTER
    proposals = [Proposal(v.field, v.text, source, found.origin) for v in shown.values]
    step = hub.service.create(actor, proposals)
    return ImportOut(step=step_out(hub, step), origin=found.origin, notes=notes)


@router.post("/import", status_code=201, response_model=ImportOut,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/fhir+json": {"schema": {"type": "object"}},
                 "text/plain": {"schema": {"type": "string"}}}}})
async def import_new(request: Request,
                     kind: Literal["fhir", "letter"] = Query("fhir", description="fhir: a FHIR R4 "
                                                             "Bundle; letter: a pasted letter"),
                     doctor_rpps: str | None = Query(None, max_length=11),
                     who: Principal = Depends(FILLERS)) -> Response:
    """A new dossier from a document sent as the body (a FHIR R4 Bundle in JSON, or the text of
    a letter); the values found wait for the person's confirmation."""
    hub = hub_of(request)
    body = await request.body()
    try:
        actor = actor_of(hub, who, doctor_rpps)
    except accounts.AccessError as exc:
        raise Forbidden(str(exc)) from None
    out = await anyio.to_thread.run_sync(import_document, hub, actor, kind, body)
    return model_response(out, status_code=201)
