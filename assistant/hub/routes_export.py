"""A sent referral as a FHIR R4 Bundle for the hospital's software (GET /referrals/{id}/fhir).

Who may export what, as who may read what (access.py, secrecy.py):
- the receiving unit's users: the referrals sent to their unit, medical section included, as
  the unit's view shows them (POST /inbox/{id}/open);
- the requesting doctor, and a secretary under the doctor's delegation: the dossier's referrals,
  the medical section only with `read_medical` (as GET /dossiers/{id});
- nobody else (another doctor, another unit: 404; an admin: 403).
Everyone gets the INS number only with a qualified identity (hnp_rules.outgoing). Every export is
audited (`referral_exported`, with whether the medical section went out); it changes nothing else.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from orient.assistant.exporting.fhir import (
    FHIR_MEDIA_TYPE,
    ExportedUnit,
    Place,
    ReferralFacts,
    bundle_bytes,
    referral_bundle,
)
from orient.assistant.hub.access import Hub, actor_of, hub_of, owners_of, require, shows_medical
from orient.assistant.hub.auth import Principal
from orient.assistant.hub.views import unit_and_establishment
from orient.assistant.store import accounts, audit
from orient.assistant.store import referrals as store
from orient.assistant.store.dossiers import NotFound, load
from orient.assistant.store.referrals import aware
from orient.dialogs.hnp_rules import outgoing
from orient.models.users import Role

router = APIRouter(tags=["demandes"])
EXPORTERS = require(Role.DOCTOR, Role.SECRETARY, Role.RECEIVER)
# A hub that holds only test or demonstration patients marks their INS with the FR Core test
# (.10) or demo (.11) system: ORIENT_INS_ENVIRONMENT=test or demo (default: production).
INS_ENVIRONMENT_VARIABLE = "ORIENT_INS_ENVIRONMENT"

FHIR_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "La demande en Bundle FHIR R4 (type collection) : ServiceRequest, Practitioner, "
                       "Patient (FR Core), RelatedPerson, Condition, Observation (LOINC), "
                       "MedicationStatement, AllergyIntolerance, Flag, Organization, HealthcareService",
        "content": {FHIR_MEDIA_TYPE: {"schema": {
            "type": "object", "required": ["resourceType", "type", "entry"],
            "properties": {"resourceType": {"type": "string", "enum": ["Bundle"]},
                           "type": {"type": "string"}, "entry": {"type": "array", "items": {"type": "object"}}},
        }}},
    },
}


def _ins_environment() -> str:
    value = os.environ.get(INS_ENVIRONMENT_VARIABLE, "production").strip().casefold()
    return value if value in ("test", "demo") else "production"


def _commune(hub: Hub, code: str) -> Place | None:
    communes = hub.service.lookups.communes
    found = communes.get(code) if communes is not None else None
    if found is None:
        return None
    return Place(found.name, found.postcodes[0] if len(found.postcodes) == 1 else None)


def _unit(hub: Hub, unit_id: str) -> ExportedUnit:
    unit, est = unit_and_establishment(hub, unit_id)
    if unit is None:  # a unit that left the directory: its id still says where the referral went
        return ExportedUnit(id=unit_id, name=unit_id, finess=unit_id.split("-", 1)[0])
    return ExportedUnit(id=unit.id, name=unit.name, finess=unit.finess, establishment=est.name if est else "",
                        activities=tuple(unit.activities), phone=unit.phone,
                        address=est.address if est else "", postcode=est.postcode if est else "",
                        city=est.commune if est else "")


@router.get("/referrals/{referral_id}/fhir", response_class=Response, responses=FHIR_RESPONSE)
def export_fhir(referral_id: str, request: Request, who: Principal = Depends(EXPORTERS)) -> Response:
    """La demande pour le logiciel de l'hôpital, en Bundle FHIR R4 (`application/fhir+json`) : ce
    que l'appelant peut lire, le matricule INS seulement pour une identité qualifiée. Export tracé
    dans le journal d'audit."""
    hub = hub_of(request)
    now = hub.now()
    missing = NotFound(f"Demande introuvable : « {referral_id} ».")
    with hub.session() as session:
        ref = store.get(session, referral_id)
        if ref is None:
            raise missing
        if who.role == Role.RECEIVER:
            if ref.unit_id not in who.unit_ids:
                raise missing
            medical = True  # the unit reads the whole referral (POST /inbox/{id}/open)
        else:
            if ref.owner_rpps not in owners_of(session, who, hub):
                raise missing
            try:
                actor = actor_of(hub, who, ref.owner_rpps)
            except accounts.AccessError:
                raise missing from None
            medical = shows_medical(actor)
        state = load(session, ref.dossier_id)
        audit.append(session, [audit.AuditRecord(
            event="referral_exported", actor=who.user_id, role=who.role.value, dossier_id=ref.dossier_id,
            detail=f"{ref.id}: FHIR, volet médical {'inclus' if medical else 'masqué'}",
            session_id=who.token_id)], at=now)
        session.commit()
    sent = aware(ref.sent_at)
    assert sent is not None
    icd10 = hub.service.lookups.icd10
    bundle = referral_bundle(
        ReferralFacts(ref.id, ref.dossier_id, ref.status, ref.timing, sent),
        outgoing(state.answers), unit=_unit(hub, ref.unit_id), warnings=state.warnings,
        signed_at=state.signature.at if state.signature else None, medical=medical,
        commune=lambda code: _commune(hub, code),
        icd10_label=(lambda code: icd10.label(code)) if icd10 is not None else (lambda _code: None),
        now=now, ins_environment=_ins_environment())
    return Response(bundle_bytes(bundle), media_type=FHIR_MEDIA_TYPE)
