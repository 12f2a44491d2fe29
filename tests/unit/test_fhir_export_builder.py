"""The FHIR export's builder (pure): the values that have a special form (none known, ambient
air, a birth abroad, a lone systolic pressure, each anticoagulant class) are written so that the
importer reads them back; the INS system by the number and the hub's environment; nothing medical
for a caller who may not read it; the same referral gives the same resource ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from orient.assistant.exporting.fhir import (
    ExportedUnit,
    Place,
    ReferralFacts,
    bundle_bytes,
    referral_bundle,
)
from orient.assistant.importing.fhir import read_bundle
from orient.models.fields import Warning
from orient.models.localtime import PARIS

SENT = datetime(2026, 12, 3, 8, 22, tzinfo=PARIS)
FACTS = ReferralFacts("7b620438-7b52-4e87-b8bb-47a47f875cda", "56a81db8-3917-4ce5-9709-77b2692fa0ee",
                      "sent", "today", SENT)
UNIT = ExportedUnit("310783048-pulmonology", "Pneumologie", "310783048", "HOPITAL PURPAN", ("114",))
DOCTOR = "10003456786"
BASE: dict[str, Any] = {
    "requester.rpps": DOCTOR, "requester.name": "Dr Claire Martin", "requester.callback_phone": "+33561000000",
    "patient.birth_name": "BERTRAND", "patient.first_names": "Jeanne Marie", "patient.birth_date": "1938-03-12",
    "patient.sex": "F", "patient.identity_status": "qualifiee", "patient.ins": "238033155504749",
    "patient.commune": "31555", "request.specialty": "pulmonology", "request.timing": "today",
    "medical.reason": "Pneumopathie hypoxémiante chez une patiente âgée",
}


def _bundle(answers: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    bundle = referral_bundle(FACTS, {**BASE, **answers}, unit=UNIT, now=SENT,
                             commune=lambda code: Place("Toulouse") if code == "31555" else None, **kwargs)
    Bundle.model_validate(bundle)
    return bundle


def _read(bundle: dict[str, Any]) -> dict[str, str]:
    found = read_bundle(bundle_bytes(bundle), doctor_rpps=DOCTOR)
    return {v.field: v.text for v in found.values}


def _kinds(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["resourceType"] for e in bundle["entry"]]


def test_values_without_content_are_coded_and_read_back() -> None:
    bundle = _bundle({"medical.allergies": "aucune allergie connue", "medical.treatments": "aucun",
                      "medical.history": "aucun", "medical.oxygen": "air ambiant", "medical.bp_systolic": 145,
                      "patient.birth_place": "99134"})
    read = _read(bundle)
    assert (read["medical.allergies"], read["medical.treatments"], read["medical.history"]) == (
        "aucune", "aucun", "aucun")
    assert read["medical.oxygen"] == "air ambiant"
    assert read["medical.bp_systolic"] == "145" and "medical.bp_diastolic" not in read
    assert read["patient.birth_place"] == "99134"
    allergy = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "AllergyIntolerance")
    assert allergy["code"]["coding"][0]["code"] == "716186003"
    request = bundle["entry"][0]["resource"]
    assert request["priority"] == "asap" and request["occurrencePeriod"]["end"].startswith("2026-12-03T23:59:59")


@pytest.mark.parametrize("anticoagulation", ["vka", "doac", "heparin", "antiplatelet"])
def test_each_anticoagulant_class_is_read_back(anticoagulation: str) -> None:
    read = _read(_bundle({"medical.treatments": "Traitement habituel", "medical.anticoagulation": anticoagulation}))
    assert read["medical.anticoagulation"] == anticoagulation
    assert read["medical.treatments"] == "Traitement habituel"


@pytest.mark.parametrize(("ins", "environment", "system"), [
    ("238033155504749", "production", "urn:oid:1.2.250.1.213.1.4.8"),
    ("755555555555555", "production", "urn:oid:1.2.250.1.213.1.4.9"),
    ("238033155504749", "test", "urn:oid:1.2.250.1.213.1.4.10"),
    ("238033155504749", "demo", "urn:oid:1.2.250.1.213.1.4.11"),
])
def test_the_ins_system_follows_the_number_and_the_hub(ins: str, environment: str, system: str) -> None:
    bundle = _bundle({"patient.ins": ins}, ins_environment=environment)
    patient = bundle["entry"][2]["resource"]
    assert patient["resourceType"] == "Patient" and patient["identifier"][0]["system"] == system


@pytest.mark.parametrize("status", ["provisoire", "recuperee", "validee"])
def test_no_ins_without_a_qualified_identity(status: str) -> None:
    bundle = _bundle({"patient.identity_status": status})
    assert "238033155504749" not in bundle_bytes(bundle).decode()
    assert _read(bundle)["patient.identity_status"] == status


def test_nothing_medical_for_a_caller_who_may_not_read_it() -> None:
    warnings = [Warning("medical.spo2_confirmed", "spo2_low", "SpO2 basse (86 %)"),
                Warning("patient.birth_date", "minor", "Patient mineur")]
    answers = {"medical.diagnosis": "Pneumopathie", "medical.history": "HTA", "medical.treatments": "Amlodipine",
               "medical.allergies": "Pénicilline", "medical.spo2": 86, "medical.mobility": "independent"}
    hidden = _bundle(answers, warnings=warnings, medical=False)
    assert set(_kinds(hidden)) == {"ServiceRequest", "Practitioner", "Patient", "Flag", "Organization",
                                   "HealthcareService"}
    text = bundle_bytes(hidden).decode()
    for medical in ("Pneumopathie", "HTA", "Amlodipine", "Pénicilline", "86 %", "Mobilité"):
        assert medical not in text, medical
    assert "Patient mineur" in text
    shown = _bundle(answers, warnings=warnings)
    assert {"Condition", "MedicationStatement", "AllergyIntolerance", "Observation"} <= set(_kinds(shown))
    assert "SpO2 basse (86 %)" in bundle_bytes(shown).decode()


def test_the_same_referral_gives_the_same_ids() -> None:
    first, second = _bundle({}), _bundle({})
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]
    assert all(e["fullUrl"].startswith("urn:uuid:") for e in first["entry"])
