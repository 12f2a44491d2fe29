"""A sent referral as a FHIR R4 Bundle for the hospital's software (issue 13). Pure: the
referral, the dossier's answers as the caller may see them and the directory's unit in, a
Bundle out (a dict that fhir.resources has validated, resource by resource and whole).

It mirrors what the importer reads (`orient.assistant.importing.fhir`, FR Core profiles,
https://hl7.fr/ig/fhir/core), so that a Bundle exported here and imported into a new dossier
proposes the same values (tests/api/test_fhir_export_api.py compares them field by field):

ServiceRequest
    The referral: its id as identifier (``urn:ietf:rfc:3986``, ``urn:uuid:<id>``), the dossier's
    id as ``requisition`` (the referrals of one dossier to several units share it), ``status``
    from the referral's status, ``intent`` ``order``, the specialty (``code``: ROR activity codes
    of TRE-R211 and the French label), the timing (``priority``: ``asap`` for today, ``urgent``
    within 24 or 48 h; ``occurrencePeriod`` from the sending to the end of the delay), the reason
    (``reasonCode.text`` = ``medical.reason``) and the diagnosis (``reasonReference``), the
    requester, the unit as ``performer``, everything else of the dossier as ``note`` lines
    ("Label : value"), and the other resources as ``supportingInfo``.
Practitioner
    The requesting doctor: RPPS (``https://rpps.esante.gouv.fr``, and the national id
    ``urn:oid:1.2.250.1.71.4.2.1`` = ``8`` + RPPS), name, callback phone and MSSanté address.
Patient (FR Core Patient INS when the identity is qualified, else FR Core Patient)
    The INS (``urn:oid:1.2.250.1.213.1.4.8`` NIR, ``.9`` NIA, ``.10``/``.11`` test and demo)
    only with the status ``qualifiee`` (RNIV); the identity-reliability extension with the status
    (PROV, RECUP, VALI, QUAL); the official name (birth name, first names, and the FR Core list
    of birth first names), the used name (``usual``), ``gender``, ``birthDate``, the birthplace
    as its INSEE code (``patient-birthPlace``), the home address with the commune's INSEE code,
    the phone; ``generalPractitioner``: the requester when the doctor is the GP.
RelatedPerson
    The caregiver (name, phone).
Condition
    The diagnosis hypothesis (``encounter-diagnosis``, provisional, its ICD-10 coding) and the
    history (``problem-list-item``, as typed).
Observation (LOINC, vital signs)
    8480-6 and 8462-4 as components of the panel 85354-9 (alone when only one was given),
    8867-4, 9279-1, 59408-5 (and 2708-6), 8310-5, 29463-7, and 3151-8 for the inhaled oxygen
    flow (0 L/min: ambient air); measured as attested by the doctor's signature.
MedicationStatement
    The treatments as typed; the anticoagulant class as an ATC coding of the same statement
    (B01AA VKA, B01AE/B01AF DOAC, B01AB heparin, B01AC antiplatelet).
AllergyIntolerance
    The allergies as typed; "aucune allergie connue" as SNOMED CT 716186003.
Flag
    Each warning the dossier keeps (spec: warnings travel with the dossier), as the caller's
    view shows them.
Organization, HealthcareService
    The chosen unit (HealthcareService, with its ROR activities) of its establishment
    (Organization, FINESS ``http://finess.sante.gouv.fr``).

Not exported: the answers the caller may not read (the caller gives them filtered), the INS of
an identity that is not qualified, the signature's hash, the audit.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from importlib import import_module
from typing import Any

from orient.dialogs.hnp import HNP, SPECIALTIES
from orient.dialogs.hnp_vitals import AMBIENT_AIR, flow_of
from orient.models.fields import Warning
from orient.models.localtime import PARIS, moment_of

__all__ = ["ExportedUnit", "ReferralFacts", "bundle_bytes", "referral_bundle"]

FHIR_MEDIA_TYPE = "application/fhir+json"
FR_CORE = "https://hl7.fr/ig/fhir/core/StructureDefinition/"
INS_NIR, INS_NIA, INS_TEST, INS_DEMO = (f"urn:oid:1.2.250.1.213.1.4.{n}" for n in (8, 9, 10, 11))
INS_SYSTEMS = {"production": INS_NIR, "test": INS_TEST, "demo": INS_DEMO}
RPPS_SYSTEM = "https://rpps.esante.gouv.fr"
ID_NAT_PS = "urn:oid:1.2.250.1.71.4.2.1"
FINESS_SYSTEM = "http://finess.sante.gouv.fr"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ATC = "http://www.whocc.no/atc"
IPS_ABSENT = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
COMMUNE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"
ACTIVITY_SYSTEM = ("https://mos.esante.gouv.fr/NOS/TRE_R211-ActiviteOperationnelle/FHIR/"
                   "TRE-R211-ActiviteOperationnelle")
IDENTITY_STATUS_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status"
UNIT_SYSTEM = "urn:orient:unit"  # the directory's unit ids (a FINESS and a specialty)
# one namespace for the resources' ids: the same referral exported twice gives the same ids
_NAMESPACE = uuid.UUID("6f0c2b8e-3a5d-4c1e-9b7a-0d4e5f6a7b8c")

IDENTITY_STATUS = {"provisoire": ("PROV", "Identité provisoire"), "recuperee": ("RECUP", "Identité récupérée"),
                   "validee": ("VALI", "Identité validée"), "qualifiee": ("QUAL", "Identité qualifiée")}
GENDER = {"F": "female", "M": "male", "I": "other"}  # the importer reads "other" as Indéterminé
PRIORITY = {"today": "asap", "within_24h": "urgent", "within_48h": "urgent"}
# the referral's status (lifecycle.md) as a ServiceRequest's
STATUS = {"sent": "active", "read": "active", "info_requested": "active", "accepted": "active",
          "admitted": "active", "closed": "completed", "refused": "revoked", "cancelled": "revoked"}
ANTICOAGULANT_ATC = {
    "vka": (("B01AA", "Antivitamines K"),),
    "doac": (("B01AE", "Inhibiteurs directs de la thrombine"), ("B01AF", "Inhibiteurs directs du facteur Xa")),
    "heparin": (("B01AB", "Héparines"),),
    "antiplatelet": (("B01AC", "Antiagrégants plaquettaires"),),
}
NONE_TEXTS = {"aucun", "aucune", "néant", "neant"}
NO_KNOWN_ALLERGY = "aucune allergie connue"

# (field, LOINC code, display, UCUM code, unit shown)
_VITALS = (
    ("medical.heart_rate", "8867-4", "Heart rate", "/min", "/min"),
    ("medical.resp_rate", "9279-1", "Respiratory rate", "/min", "/min"),
    ("medical.spo2", "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%"),
    ("medical.temperature", "8310-5", "Body temperature", "Cel", "°C"),
    ("medical.weight", "29463-7", "Body weight", "kg", "kg"),
)
_VITAL_PROFILE = {"medical.heart_rate": "fr-core-observation-heart-rate",
                  "medical.resp_rate": "fr-core-observation-resp-rate",
                  "medical.spo2": "fr-core-observation-oxygen-saturation",
                  "medical.temperature": "fr-core-observation-body-temperature",
                  "medical.weight": "fr-core-observation-body-weight"}
# answers that have a resource of their own (or are the ServiceRequest's own elements): the others
# go in the ServiceRequest's notes, as "Label : value"
_MAPPED = {
    "requester.rpps", "requester.name", "requester.callback_phone", "requester.mssante",
    "patient.birth_name", "patient.first_names", "patient.used_name", "patient.birth_date", "patient.sex",
    "patient.birth_place", "patient.ins", "patient.identity_status", "patient.commune", "patient.address",
    "patient.phone", "context.caregiver_name", "context.caregiver_phone", "context.gp_is_requester",
    "request.specialty", "request.timing", "medical.reason", "medical.diagnosis", "medical.diagnosis_code",
    "medical.history", "medical.treatments", "medical.allergies", "medical.bp_systolic",
    "medical.bp_diastolic", "medical.heart_rate", "medical.spo2", "medical.spo2_confirmed",
    "medical.temperature", "medical.resp_rate", "medical.oxygen", "medical.weight",
}
# the resource types a Bundle may hold; their fhir.resources models are imported on the first export
# (importing them costs about 0.2 s that the hub's start, and so the first question, would pay)
_RESOURCES = frozenset({
    "ServiceRequest", "Practitioner", "Patient", "RelatedPerson", "Condition", "Observation",
    "MedicationStatement", "AllergyIntolerance", "Flag", "Organization", "HealthcareService",
    "Bundle",
})


def _model(resource_type: str) -> Any:
    """The fhir.resources (R4B) model of a resource type of `_RESOURCES`."""
    if resource_type not in _RESOURCES:
        raise KeyError(resource_type)
    return getattr(import_module(f"fhir.resources.R4B.{resource_type.lower()}"), resource_type)


@dataclass(frozen=True)
class ReferralFacts:
    """The referral itself (a row of the `referral` table)."""

    id: str
    dossier_id: str
    status: str
    timing: str
    sent_at: datetime


@dataclass(frozen=True)
class ExportedUnit:
    """The receiving unit and its establishment, as the directory knows them."""

    id: str
    name: str
    finess: str
    establishment: str = ""
    activities: tuple[str, ...] = ()
    phone: str | None = None
    address: str = ""
    postcode: str = ""
    city: str = ""


@dataclass(frozen=True)
class Place:
    """A commune of the directory: its name and its postcode when it has only one."""

    name: str
    postcode: str | None = None


@dataclass
class _Builder:
    referral: ReferralFacts
    answers: Mapping[str, Any]
    entries: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{self.referral.id}/{name}')}"

    def add(self, name: str, resource: dict[str, Any]) -> dict[str, str]:
        """Validate one resource with fhir.resources and keep it; returns a reference to it."""
        cls = _model(resource["resourceType"])
        url = self.url(name)
        resource = {"resourceType": resource["resourceType"], "id": url.rsplit(":", 1)[1],
                    **{k: v for k, v in resource.items() if k != "resourceType"}}
        checked = cls.model_validate(resource)
        self.entries.append((url, json.loads(checked.model_dump_json())))
        return {"reference": url}


def _label(field_id: str) -> str:
    spec = HNP.field(field_id)
    return spec.letter_label or spec.label


def _display(field_id: str, value: Any) -> str:
    return HNP.field(field_id).display(value)


def _is_none(text: Any) -> bool:
    return str(text).strip().casefold() in NONE_TEXTS


def _instant(moment: datetime | str) -> str:
    return moment_of(moment).astimezone(PARIS).isoformat(timespec="seconds")


def _phone(value: str, use: str) -> dict[str, Any]:
    return {"system": "phone", "value": value, "use": use}


def ins_system(number: str, environment: str = "production") -> str:
    """The FR Core system of an INS: NIA (first digit 7 or 8), else NIR, or the test and demo
    systems of a hub that holds no real patients."""
    if environment in ("test", "demo"):
        return INS_SYSTEMS[environment]
    return INS_NIA if number[:1] in ("7", "8") else INS_NIR


def _measured_at(signed_at: str | None, facts: ReferralFacts) -> str:
    return _instant(signed_at) if signed_at else _instant(facts.sent_at)


def _period(facts: ReferralFacts) -> dict[str, str]:
    """From the sending to the end of the delay asked: the end of that day in Paris for
    « aujourd'hui », else 24 or 48 hours."""
    start = moment_of(facts.sent_at).astimezone(PARIS)
    if facts.timing == "today":
        end = datetime.combine(start.date(), time(23, 59, 59), tzinfo=PARIS)
    else:
        end = start + timedelta(hours=48 if facts.timing == "within_48h" else 24)
    return {"start": start.isoformat(timespec="seconds"), "end": end.isoformat(timespec="seconds")}


# -- the resources ------------------------------------------------------------------------------

def _practitioner(b: _Builder) -> dict[str, str] | None:
    a = b.answers
    rpps = a.get("requester.rpps")
    if not rpps and not a.get("requester.name"):
        return None
    resource: dict[str, Any] = {"resourceType": "Practitioner",
                                "meta": {"profile": [FR_CORE + "fr-core-practitioner"]}}
    if rpps:
        resource["identifier"] = [
            {"use": "official", "type": {"coding": [{"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203",
                                                      "code": "RPPS"}]},
             "system": RPPS_SYSTEM, "value": rpps},
            {"use": "official", "type": {"coding": [{"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203",
                                                      "code": "IDNPS"}]},
             "system": ID_NAT_PS, "value": "8" + rpps},
        ]
    if a.get("requester.name"):
        resource["name"] = [{"use": "official", "text": a["requester.name"]}]
    telecom = []
    if a.get("requester.callback_phone"):
        telecom.append({**_phone(a["requester.callback_phone"], "work"), "rank": 1})
    if a.get("requester.mssante"):
        telecom.append({"system": "email", "value": a["requester.mssante"], "use": "work"})
    if telecom:
        resource["telecom"] = telecom
    return b.add("requester", resource)


def _patient(b: _Builder, requester: dict[str, str] | None, commune: Callable[[str], Place | None],
             ins_environment: str) -> dict[str, str]:
    a = b.answers
    status = a.get("patient.identity_status")
    qualified = status == "qualifiee"
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "meta": {"profile": [FR_CORE + ("fr-core-patient-ins" if qualified else "fr-core-patient")]},
    }
    extensions: list[dict[str, Any]] = []
    if status in IDENTITY_STATUS:
        code, display = IDENTITY_STATUS[status]
        extensions.append({"url": FR_CORE + "fr-core-identity-reliability", "extension": [
            {"url": "identityStatus", "valueCoding": {"system": IDENTITY_STATUS_SYSTEM, "code": code,
                                                       "display": display}}]})
    place = a.get("patient.birth_place")
    if place:
        abroad = str(place).startswith("99")
        found = None if abroad else commune(place)
        coding: dict[str, Any] = {"code": place}
        if not abroad:
            coding["system"] = COMMUNE_SYSTEM
        if found is not None:
            coding["display"] = found.name
        address: dict[str, Any] = {"extension": [{"url": FR_CORE + "fr-core-address-insee-code",
                                                  "valueCoding": coding}]}
        if found is not None:
            address["city"] = found.name
        elif abroad:
            address["text"] = f"Né(e) à l'étranger (code pays INSEE {place})"
        extensions.append({"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
                           "valueAddress": address})
    if extensions:
        resource["extension"] = extensions
    ins = a.get("patient.ins")
    if ins and qualified:  # RNIV: the INS number travels only with a qualified identity
        resource["identifier"] = [{"use": "official", "system": ins_system(ins, ins_environment), "value": ins}]
    names: list[dict[str, Any]] = []
    if a.get("patient.birth_name") or a.get("patient.first_names"):
        official: dict[str, Any] = {"use": "official"}
        if a.get("patient.birth_name"):
            official["family"] = a["patient.birth_name"]
        if a.get("patient.first_names"):
            official["given"] = str(a["patient.first_names"]).split()
            official["extension"] = [{"url": FR_CORE + "fr-core-patient-birth-list-given-name",
                                      "valueString": a["patient.first_names"]}]
        names.append(official)
    if a.get("patient.used_name"):
        usual: dict[str, Any] = {"use": "usual", "family": a["patient.used_name"]}
        if a.get("patient.first_names"):
            usual["given"] = str(a["patient.first_names"]).split()[:1]
        names.append(usual)
    if names:
        resource["name"] = names
    if a.get("patient.phone"):
        mobile = str(a["patient.phone"]).startswith(("+336", "+337"))
        resource["telecom"] = [_phone(a["patient.phone"], "mobile" if mobile else "home")]
    if a.get("patient.sex") in GENDER:
        resource["gender"] = GENDER[a["patient.sex"]]
    if a.get("patient.birth_date"):
        resource["birthDate"] = a["patient.birth_date"]
    insee = a.get("patient.commune")
    if insee:
        found = commune(insee)
        home: dict[str, Any] = {
            "extension": [{"url": FR_CORE + "fr-core-address-insee-code", "valueCoding": {
                "system": COMMUNE_SYSTEM, "code": insee, **({"display": found.name} if found else {})}}],
            "use": "home",
        }
        if a.get("patient.address"):
            # the address as typed is its text; the city is named only beside a typed address (a
            # reader would otherwise take the commune's name for the address)
            home["text"] = a["patient.address"]
            home["line"] = [a["patient.address"]]
            if found is not None:
                home["city"] = found.name
                if found.postcode:
                    home["postalCode"] = found.postcode
        home["country"] = "FRA"
        resource["address"] = [home]
    if a.get("context.gp_is_requester") is True and requester is not None:
        resource["generalPractitioner"] = [requester]
    elif a.get("context.gp_is_requester") is False and a.get("context.gp_name"):
        resource["generalPractitioner"] = [b.add("general-practitioner", {
            "resourceType": "Practitioner", "name": [{"text": a["context.gp_name"]}]})]
    return b.add("patient", resource)


def _caregiver(b: _Builder, patient: dict[str, str]) -> dict[str, str] | None:
    a = b.answers
    if not a.get("context.caregiver_name"):
        return None
    resource: dict[str, Any] = {
        "resourceType": "RelatedPerson",
        "meta": {"profile": [FR_CORE + "fr-core-related-person"]},
        "patient": patient,
        "relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                                      "code": "CAREGIVER", "display": "caregiver"}],
                          "text": _label("context.caregiver_name")}],
        "name": [{"text": a["context.caregiver_name"]}],
    }
    if a.get("context.caregiver_phone"):
        resource["telecom"] = [_phone(a["context.caregiver_phone"], "mobile")]
    return b.add("caregiver", resource)


def _conditions(b: _Builder, patient: dict[str, str], icd10_label: Callable[[str], str | None],
                recorded: str) -> tuple[dict[str, str] | None, list[dict[str, str]]]:
    a = b.answers
    diagnosis = None
    history = []
    category = "http://terminology.hl7.org/CodeSystem/condition-category"
    clinical = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active"}]}
    if a.get("medical.diagnosis"):
        code: dict[str, Any] = {"text": a["medical.diagnosis"]}
        if a.get("medical.diagnosis_code"):
            coding = {"system": ICD10, "code": a["medical.diagnosis_code"]}
            label = icd10_label(a["medical.diagnosis_code"])
            code["coding"] = [{**coding, **({"display": label} if label else {})}]
        diagnosis = b.add("diagnosis", {
            "resourceType": "Condition", "meta": {"profile": [FR_CORE + "fr-core-condition"]},
            "clinicalStatus": clinical,
            "verificationStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "provisional"}]},
            "category": [{"coding": [{"system": category, "code": "encounter-diagnosis"}]}],
            "code": code, "subject": patient, "recordedDate": recorded[:10],
        })
    if a.get("medical.history"):
        text = a["medical.history"]
        code = {"text": text}
        if _is_none(text):
            code["coding"] = [{"system": IPS_ABSENT, "code": "no-known-problems", "display": "No known problems"}]
        history.append(b.add("history", {
            "resourceType": "Condition", "meta": {"profile": [FR_CORE + "fr-core-condition"]},
            "clinicalStatus": clinical,
            "category": [{"coding": [{"system": category, "code": "problem-list-item"}],
                          "text": _label("medical.history")}],
            "code": code, "subject": patient, "recordedDate": recorded[:10],
        }))
    return diagnosis, history


def _medication(b: _Builder, patient: dict[str, str], recorded: str) -> dict[str, str] | None:
    a = b.answers
    text = a.get("medical.treatments")
    if not text:
        return None
    concept: dict[str, Any] = {"text": text}
    codings = [{"system": ATC, "code": code, "display": display}
               for code, display in ANTICOAGULANT_ATC.get(a.get("medical.anticoagulation") or "", ())]
    if _is_none(text):
        codings = [{"system": IPS_ABSENT, "code": "no-known-medications", "display": "No known medications"}]
    if codings:
        concept["coding"] = codings
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "meta": {"profile": [FR_CORE + "fr-core-medication-statement"]},
        "status": "active", "medicationCodeableConcept": concept, "subject": patient, "dateAsserted": recorded,
    }
    if a.get("medical.anticoagulation"):
        resource["note"] = [{"text": f"{_label('medical.anticoagulation')} : "
                                     f"{_display('medical.anticoagulation', a['medical.anticoagulation'])}"}]
    return b.add("treatments", resource)


def _allergies(b: _Builder, patient: dict[str, str], recorded: str) -> dict[str, str] | None:
    text = b.answers.get("medical.allergies")
    if not text:
        return None
    code: dict[str, Any] = {"text": text}
    if text == NO_KNOWN_ALLERGY or _is_none(text):
        code["coding"] = [{"system": SNOMED, "code": "716186003", "display": "No known allergy"}]
    return b.add("allergies", {
        "resourceType": "AllergyIntolerance",
        "meta": {"profile": [FR_CORE + "fr-core-allergy-intolerance"]},
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
        "code": code, "patient": patient, "recordedDate": recorded,
    })


def _observation(b: _Builder, name: str, patient: dict[str, str], when: str, profile: str,
                 code: list[dict[str, str]], **value: Any) -> dict[str, str]:
    return b.add(name, {
        "resourceType": "Observation", "meta": {"profile": [FR_CORE + profile]}, "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "vital-signs", "display": "Vital Signs"}]}],
        "code": {"coding": code}, "subject": patient, "effectiveDateTime": when, **value,
    })


def _quantity(value: float, ucum: str, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": ucum}


def _observations(b: _Builder, patient: dict[str, str], when: str) -> list[dict[str, str]]:
    a = b.answers
    out = []
    bp = [(f, loinc, display) for f, loinc, display in (
        ("medical.bp_systolic", "8480-6", "Systolic blood pressure"),
        ("medical.bp_diastolic", "8462-4", "Diastolic blood pressure")) if a.get(f) is not None]
    if len(bp) == 2:
        out.append(_observation(
            b, "blood-pressure", patient, when, "fr-core-observation-bp",
            [{"system": LOINC, "code": "85354-9", "display": "Blood pressure panel with all children optional"}],
            component=[{"code": {"coding": [{"system": LOINC, "code": loinc, "display": display}]},
                        "valueQuantity": _quantity(a[f], "mm[Hg]", "mmHg")} for f, loinc, display in bp]))
    for f, loinc, display in bp if len(bp) == 1 else ():
        out.append(_observation(b, f.split(".")[1], patient, when, "fr-core-observation-bp",
                                [{"system": LOINC, "code": loinc, "display": display}],
                                valueQuantity=_quantity(a[f], "mm[Hg]", "mmHg")))
    for f, loinc, display, ucum, unit in _VITALS:
        if a.get(f) is None:
            continue
        code = [{"system": LOINC, "code": loinc, "display": display}]
        if f == "medical.spo2":
            code.append({"system": LOINC, "code": "2708-6", "display": "Oxygen saturation in Arterial blood"})
        out.append(_observation(b, f.split(".")[1], patient, when, _VITAL_PROFILE[f], code,
                                valueQuantity=_quantity(a[f], ucum, unit)))
    oxygen = a.get("medical.oxygen")
    if oxygen:
        flow = flow_of(oxygen)
        out.append(_observation(
            b, "oxygen", patient, when, "fr-core-observation",
            [{"system": LOINC, "code": "3151-8", "display": "Inhaled oxygen flow rate"}],
            valueQuantity=_quantity(0 if flow is None else flow, "L/min", "L/min"),
            **({"note": [{"text": AMBIENT_AIR}]} if oxygen == AMBIENT_AIR else {})))
    return out


def _flags(b: _Builder, patient: dict[str, str], requester: dict[str, str] | None,
           warnings: Sequence[Warning], when: str) -> list[dict[str, str]]:
    """A warning about the requester's answers (a personal mailbox) is about the requester; the
    others about the patient."""
    out = []
    for i, w in enumerate(warnings):
        clinical = w.section == "medical"
        subject = requester if w.section == "requester" and requester is not None else patient
        out.append(b.add(f"warning-{i}", {
            "resourceType": "Flag", "status": "active",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/flag-category",
                                      "code": "clinical" if clinical else "admin",
                                      "display": "Clinical" if clinical else "Administrative"}]}],
            "code": {"coding": [{"system": "urn:orient:warning", "code": w.code}], "text": w.message},
            "subject": subject, "period": {"start": when},
        }))
    return out


def _organisation(b: _Builder, unit: ExportedUnit) -> dict[str, str]:
    org: dict[str, Any] = {
        "resourceType": "Organization", "meta": {"profile": [FR_CORE + "fr-core-organization"]},
        "identifier": [{"use": "official", "type": {"coding": [{
            "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203", "code": "FINEG",
            "display": "FINESS d'entité géographique"}]}, "system": FINESS_SYSTEM, "value": unit.finess}],
        "name": unit.establishment or unit.finess,
    }
    if unit.address or unit.city:
        org["address"] = [{k: v for k, v in (("line", [unit.address] if unit.address else None),
                                             ("postalCode", unit.postcode or None),
                                             ("city", unit.city or None), ("country", "FRA")) if v}]
    establishment = b.add("establishment", org)
    service: dict[str, Any] = {
        "resourceType": "HealthcareService",
        "identifier": [{"system": UNIT_SYSTEM, "value": unit.id}],
        "providedBy": establishment, "name": unit.name,
    }
    if unit.activities:
        service["specialty"] = [{"coding": [{"system": ACTIVITY_SYSTEM, "code": code}]} for code in unit.activities]
    if unit.phone:
        service["telecom"] = [_phone(unit.phone, "work")]
    return b.add("unit", service)


def _notes(answers: Mapping[str, Any], signed_at: str | None) -> list[dict[str, str]]:
    """What has no element of its own, as the letter writes it: "Label : value"."""
    notes = []
    for spec in HNP.fields:
        if spec.id in _MAPPED or spec.id not in answers or answers[spec.id] is None:
            continue
        notes.append({"text": f"{spec.letter_label or spec.label} : {spec.display(answers[spec.id])}"})
    if signed_at:
        moment = moment_of(signed_at).astimezone(PARIS)
        notes.append({"text": f"Signée par le médecin demandeur le {moment:%d/%m/%Y à %H:%M}."})
    return notes


def referral_bundle(facts: ReferralFacts, answers: Mapping[str, Any], *, unit: ExportedUnit | None,
                    warnings: Sequence[Warning] = (), signed_at: str | None = None, medical: bool = True,
                    commune: Callable[[str], Place | None] = lambda _code: None,
                    icd10_label: Callable[[str], str | None] = lambda _code: None,
                    now: datetime | None = None, ins_environment: str = "production") -> dict[str, Any]:
    """The Bundle (type ``collection``) of one referral, as a dict validated by fhir.resources.

    ``answers``: the dossier's answers as they may leave the system (``hnp_rules.outgoing``: the
    INS is dropped here too when the identity is not qualified); ``medical``: whether the caller
    may read the medical section (without it, no medical answer, resource, note or warning).
    """
    shown = {k: v for k, v in answers.items() if medical or not k.startswith("medical.")}
    b = _Builder(facts, shown)
    recorded = _measured_at(signed_at, facts)
    requester = _practitioner(b)
    patient = _patient(b, requester, commune, ins_environment)
    supporting: list[dict[str, str]] = []
    caregiver = _caregiver(b, patient)
    if caregiver:
        supporting.append(caregiver)
    diagnosis, history = _conditions(b, patient, icd10_label, recorded)
    supporting += [x for x in (diagnosis, *history) if x]
    for made in (_medication(b, patient, recorded), _allergies(b, patient, recorded)):
        if made:
            supporting.append(made)
    supporting += _observations(b, patient, recorded)
    supporting += _flags(b, patient, requester, [w for w in warnings if medical or w.section != "medical"], recorded)
    performer = _organisation(b, unit) if unit is not None else None

    specialty = shown.get("request.specialty")
    label, activities = next(((lbl, acts) for code, lbl, acts in SPECIALTIES if code == specialty),
                             (specialty or "", ()))
    request: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "identifier": [{"use": "official", "system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{facts.id}"}],
        "requisition": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{facts.dossier_id}"},
        "status": STATUS.get(facts.status, "unknown"),
        "intent": "order",
        "category": [{"coding": [{"system": SNOMED, "code": "3457005", "display": "Patient referral"}],
                      "text": "Demande d'hospitalisation non programmée (HNP)"}],
        "subject": patient,
        "authoredOn": _instant(facts.sent_at),
        "occurrencePeriod": _period(facts),
    }
    if specialty:
        request["code"] = {"coding": [{"system": ACTIVITY_SYSTEM, "code": c} for c in activities],
                           "text": f"Hospitalisation non programmée : {label}"}
        if not request["code"]["coding"]:
            del request["code"]["coding"]
    if facts.timing in PRIORITY:
        request["priority"] = PRIORITY[facts.timing]
    if requester:
        request["requester"] = requester
    if performer:
        request["performer"] = [performer]
    if shown.get("medical.reason"):
        request["reasonCode"] = [{"text": shown["medical.reason"]}]
    if diagnosis:
        request["reasonReference"] = [diagnosis]
    if supporting:
        request["supportingInfo"] = supporting
    notes = _notes(shown, signed_at)
    if facts.timing:
        notes.insert(0, {"text": f"{_label('request.timing')} : {_display('request.timing', facts.timing)}"})
    if notes:
        request["note"] = notes
    b.add("referral", request)
    # the ServiceRequest first: it is what the Bundle is about
    entries = [b.entries[-1], *b.entries[:-1]]
    bundle = {
        "resourceType": "Bundle",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": b.url("bundle")},
        "type": "collection",
        "timestamp": _instant(now or datetime.now(PARIS)),
        "entry": [{"fullUrl": url, "resource": res} for url, res in entries],
    }
    checked = _model("Bundle").model_validate(bundle)
    return dict(json.loads(checked.model_dump_json()))


def bundle_bytes(bundle: Mapping[str, Any]) -> bytes:
    """The Bundle as a file: UTF-8 JSON, indented, accents kept."""
    return (json.dumps(bundle, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
