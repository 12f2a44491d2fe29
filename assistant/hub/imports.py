"""A new dossier from a document (POST /dossiers/import, served by routes_dossiers): a FHIR R4
Bundle exported by the practice software, or a pasted letter. The document is the request's body,
as is: its SHA-256 (the origin recorded with every value it gave) is that of the bytes the person
chose. Nothing is saved when the document is refused (422, 413 when too big); otherwise the
dossier is created with the values proposed, and its first question asks their confirmation.

Not a route module: it imports no route (the route passes the step's output builder)."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from orient.assistant.hub import schemas as s
from orient.assistant.hub.access import BadRequest, Hub, shows_medical
from orient.assistant.importing import ImportRefused, ImportResult
from orient.assistant.importing.letter import read_letter
from orient.assistant.service import Step
from orient.models.fields import Fill
from orient.models.provenance import Proposal, Source
from orient.models.users import Actor, Role

IMPORT_PATH = "/dossiers/import"


class ImportOut(BaseModel):
    step: s.StepOut  # the new dossier; its question lists the values to confirm
    origin: str  # "sha256:<hex>" of the document
    notes: list[str]  # French remarks: what was left out, what to check
    proposed: int  # values read and proposed (those their rule refused are in step.refused)


def _fillable(hub: Hub, actor: Actor) -> set[str] | None:
    if actor.role == Role.DOCTOR:
        return None
    return {f.id for f in hub.service.dialog.fields if f.fill == Fill.SECRETARY}


def _read(hub: Hub, kind: str, body: bytes, actor: Actor) -> ImportResult:
    owner = actor.rpps or actor.on_behalf_of
    if kind == "fhir":
        from orient.assistant.importing.fhir import read_bundle  # fhir.resources: on first use

        return read_bundle(body, doctor_rpps=owner, today=hub.clock().date())
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused("La lettre n'est pas un texte UTF-8. Rien n'a été importé.") from None
    return read_letter(text, icd10=hub.service.lookups.icd10)


def import_document(hub: Hub, actor: Actor, kind: str, body: bytes,
                    step_out: Callable[[Hub, Step], s.StepOut]) -> ImportOut:
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
    return ImportOut(step=step_out(hub, step), origin=found.origin, notes=notes,
                     proposed=len(proposals))
