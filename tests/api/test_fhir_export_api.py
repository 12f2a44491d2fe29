"""A sent referral exported for the hospital's software (GET /referrals/{id}/fhir): a FHIR R4
Bundle that fhir.resources parses, with each resource the dossier gives, what the caller may read
only (the INS only with a qualified identity, no medical resource without `read_medical`),
refused to whoever may not see the referral, audited, and read back by the import into a new
dossier with the same values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import CHU_UNITS, Env, Roles, looks_french, make_env, make_roles
from fhir.resources.R4B.bundle import Bundle
from sqlmodel import select

from orient.assistant.store.tables import AuditEntryRow

FHIR = "application/fhir+json"
INS = "238033155504749"  # a valid test NIR for a woman born in March 1938 in Toulouse (31)
RICH = {
    "requester.mssante": ["claire.martin@gmail.com"],  # a personal mailbox: a warning that travels
    "patient.used_name": ["Lafargue"],
    "patient.birth_place": ["31555"],
    "patient.ins": [INS],
    "patient.identity_status": ["qualifiée"],
    "patient.address": ["12 rue des Lilas, 31400 Toulouse"],
    "patient.phone": ["06 71 00 00 01"],
    "context.caregiver_name": ["Hélène Lafargue"],
    "context.caregiver_phone": ["06 71 82 93 04"],
    "medical.allergies": ["Amoxicilline (urticaire généralisée)"],
    "medical.heart_rate": ["96"],
    "medical.resp_rate": ["24"],
    "medical.spo2": ["88 %"],
    "medical.spo2_confirmed": ["oui"],  # a medical warning that travels
    "medical.oxygen": ["2 L/min"],
    "medical.weight": ["62"],
}
MEDICAL_TYPES = {"Condition", "Observation", "MedicationStatement", "AllergyIntolerance"}
# every field the importer reads back from an exported Bundle
ROUND_TRIP = {
    "patient.birth_name", "patient.first_names", "patient.used_name", "patient.birth_date", "patient.sex",
    "patient.birth_place", "patient.ins", "patient.identity_status", "patient.commune", "patient.address",
    "patient.phone", "context.caregiver_name", "context.caregiver_phone", "context.gp_is_requester",
    "medical.diagnosis", "medical.diagnosis_code", "medical.history", "medical.treatments",
    "medical.anticoagulation", "medical.allergies", "medical.bp_systolic", "medical.bp_diastolic",
    "medical.heart_rate", "medical.spo2", "medical.temperature", "medical.resp_rate", "medical.oxygen",
    "medical.weight",
}


class World:
    def __init__(self, env: Env, roles: Roles) -> None:
        self.env, self.r = env, roles
        answers = env.answers_for(**RICH)
        signed = env.fill(roles.owner, answers=answers)
        assert signed["status"] == "ready", signed
        self.dossier_id = signed["dossier_id"]
        env.ok("PUT", f"/dossiers/{self.dossier_id}/units", roles.owner, json={"unit_ids": list(CHU_UNITS[:2])})
        env.ok("POST", f"/dossiers/{self.dossier_id}/sign", roles.owner,
               json={"code": roles.owner.code, "version": signed["version"]})
        self.referrals = env.send(roles.owner, self.dossier_id)
        self.referral = self.referrals[0]["id"]
        # the same patient with an identity only validated: the INS stays home
        validated = env.answers_for(**{**RICH, "patient.identity_status": ["validée"]})
        step = env.fill(roles.owner, answers=validated)
        env.ok("PUT", f"/dossiers/{step['dossier_id']}/units", roles.owner, json={"unit_ids": [CHU_UNITS[0]]})
        env.ok("POST", f"/dossiers/{step['dossier_id']}/sign", roles.owner,
               json={"code": roles.owner.code, "version": step["version"]})
        self.validated_referral = env.send(roles.owner, step["dossier_id"])[0]["id"]

    def export(self, who: Any, referral: str | None = None) -> dict[str, Any]:
        response = self.env.call("GET", f"/referrals/{referral or self.referral}/fhir", who)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(FHIR)
        Bundle.model_validate_json(response.content)  # FHIR R4 (fhir.resources' R4B models)
        return dict(response.json())


@pytest.fixture(scope="module")
def world(module_sqlite_url: str) -> Iterator[World]:
    env = make_env(module_sqlite_url)
    try:
        yield World(env, make_roles(env))
    finally:
        env.close()


def _resources(bundle: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if kind is None or e["resource"]["resourceType"] == kind]


def _one(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    found = _resources(bundle, kind)
    assert len(found) == 1, (kind, len(found))
    return found[0]


def _loinc(obs: dict[str, Any]) -> set[str]:
    return {c["code"] for c in obs["code"]["coding"] if c["system"] == "http://loinc.org"}


def test_the_unit_gets_every_resource_of_the_referral(world: World) -> None:
    bundle = world.export(world.r.recv_unit)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    urls = {e["fullUrl"] for e in bundle["entry"]}
    kinds = {r["resourceType"] for r in _resources(bundle)}
    assert kinds == {"ServiceRequest", "Practitioner", "Patient", "RelatedPerson", "Condition", "Observation",
                     "MedicationStatement", "AllergyIntolerance", "Flag", "Organization", "HealthcareService"}

    request = bundle["entry"][0]["resource"]
    assert request["resourceType"] == "ServiceRequest"
    assert request["identifier"][0]["value"] == f"urn:uuid:{world.referral}"
    assert request["requisition"]["value"] == f"urn:uuid:{world.dossier_id}"
    assert (request["status"], request["intent"], request["priority"]) == ("active", "order", "urgent")
    assert request["code"]["coding"][0]["code"] == "013" and "Cardiologie" in request["code"]["text"]
    assert request["reasonCode"][0]["text"] == "Décompensation cardiaque progressive depuis 5 jours"
    assert request["occurrencePeriod"]["start"] < request["occurrencePeriod"]["end"]
    refs = [request["subject"], request["requester"], *request["performer"], *request["supportingInfo"]]
    assert all(ref["reference"] in urls for ref in refs)  # every reference resolves inside the Bundle
    notes = [n["text"] for n in request["note"]]
    assert "Mode de transport : VSL" in notes and "Mobilité : Aide technique" in notes

    doctor = _one(bundle, "Practitioner")
    assert {"system": "https://rpps.esante.gouv.fr", "value": world.r.owner.rpps} in [
        {k: i[k] for k in ("system", "value")} for i in doctor["identifier"]]
    assert {"system": "phone", "value": "+33561000000", "use": "work", "rank": 1} in doctor["telecom"]

    patient = _one(bundle, "Patient")
    assert patient["identifier"] == [{"use": "official", "system": "urn:oid:1.2.250.1.213.1.4.8", "value": INS}]
    assert patient["meta"]["profile"] == ["https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"]
    status = patient["extension"][0]
    assert status["url"].endswith("fr-core-identity-reliability")
    assert status["extension"][0]["valueCoding"]["code"] == "QUAL"
    official, usual = patient["name"]
    assert (official["family"], official["given"], usual["family"]) == ("MARTIN", ["Jeanne", "Marie"], "Lafargue")
    assert (patient["gender"], patient["birthDate"]) == ("female", "1938-03-12")
    birth = patient["extension"][1]["valueAddress"]["extension"][0]["valueCoding"]
    assert (birth["code"], birth["display"]) == ("31555", "Toulouse")
    assert patient["address"][0]["text"] == "12 rue des Lilas, 31400 Toulouse"
    assert patient["generalPractitioner"] == [request["requester"]]

    caregiver = _one(bundle, "RelatedPerson")
    assert caregiver["name"][0]["text"] == "Hélène Lafargue" and caregiver["telecom"][0]["value"] == "+33671829304"
    conditions = {c["category"][0]["coding"][0]["code"]: c for c in _resources(bundle, "Condition")}
    assert conditions["encounter-diagnosis"]["code"]["coding"][0]["code"] == "I50.0"
    assert conditions["problem-list-item"]["code"]["text"] == "HTA, diabète de type 2"
    medication = _one(bundle, "MedicationStatement")["medicationCodeableConcept"]
    assert medication["text"] == "Furosémide 40 mg, ramipril 5 mg"
    assert {c["code"] for c in medication["coding"]} == {"B01AE", "B01AF"}  # AOD
    assert _one(bundle, "AllergyIntolerance")["code"]["text"] == "Amoxicilline (urticaire généralisée)"

    observations = {frozenset(_loinc(o)): o for o in _resources(bundle, "Observation")}
    codes = set().union(*observations)
    assert {"85354-9", "8867-4", "9279-1", "59408-5", "8310-5", "29463-7", "3151-8"} <= codes
    panel = next(o for k, o in observations.items() if "85354-9" in k)
    assert [(_loinc(c).pop(), c["valueQuantity"]["value"]) for c in panel["component"]] == [
        ("8480-6", 145), ("8462-4", 85)]
    oxygen = next(o for k, o in observations.items() if "3151-8" in k)
    assert oxygen["valueQuantity"] == {"value": 2.0, "unit": "L/min", "system": "http://unitsofmeasure.org",
                                       "code": "L/min"}

    flags = {f["code"]["coding"][0]["code"]: f for f in _resources(bundle, "Flag")}
    assert set(flags) == {"not_mssante", "spo2_low"}
    assert "SpO2 basse (88 %)" in flags["spo2_low"]["code"]["text"]

    finess = _one(bundle, "Organization")["identifier"][0]
    assert finess["system"] == "http://finess.sante.gouv.fr" and finess["value"] == CHU_UNITS[0].split("-")[0]
    assert _one(bundle, "HealthcareService")["identifier"][0]["value"] == world.referrals[0]["unit_id"]


def test_the_ins_leaves_only_with_a_qualified_identity(world: World) -> None:
    for who in (world.r.recv_unit, world.r.owner):
        patient = _one(world.export(who, world.validated_referral), "Patient")
        assert "identifier" not in patient and INS not in str(patient)
        assert patient["extension"][0]["extension"][0]["valueCoding"]["code"] == "VALI"
        assert patient["meta"]["profile"][0].endswith("/fr-core-patient")


def test_without_read_medical_no_medical_resource_leaves(world: World) -> None:
    bundle = world.export(world.r.sec_deleg)
    kinds = {r["resourceType"] for r in _resources(bundle)}
    assert not kinds & MEDICAL_TYPES
    assert {"ServiceRequest", "Patient", "Practitioner", "RelatedPerson", "Organization"} <= kinds
    request = bundle["entry"][0]["resource"]
    assert "reasonCode" not in request and "reasonReference" not in request
    text = str(bundle)
    for medical in ("Décompensation", "Insuffisance cardiaque", "Furosémide", "Amoxicilline", "SpO2",
                    "Mobilité", "AOD", "I50.0"):
        assert medical not in text, medical
    assert [f["code"]["coding"][0]["code"] for f in _resources(bundle, "Flag")] == ["not_mssante"]
    # with the scope, the secretary gets what the doctor gets
    assert MEDICAL_TYPES <= {r["resourceType"] for r in _resources(world.export(world.r.sec_medical))}


def test_whoever_may_not_see_the_referral_is_refused(world: World) -> None:
    env, r = world.env, world.r
    path = f"/referrals/{world.referral}/fhir"
    for who in (r.other_doctor, r.recv_other, r.sec_none):
        response = env.call("GET", path, who)
        assert response.status_code == 404 and looks_french(response.json()["detail"])
    admin = env.call("GET", path, r.admin)
    assert admin.status_code == 403 and looks_french(admin.json()["detail"])
    assert env.call("GET", path).status_code == 401
    assert env.call("GET", "/referrals/inconnue/fhir", r.owner).status_code == 404


def test_each_export_is_audited_with_what_left(world: World) -> None:
    env = world.env
    world.export(world.r.recv_unit)
    world.export(world.r.sec_deleg)
    with env.session() as session:
        rows = session.exec(select(AuditEntryRow).where(AuditEntryRow.event == "referral_exported")).all()
    details = {(row.actor, row.detail) for row in rows}
    assert (world.r.recv_unit.id, f"{world.referral}: FHIR, volet médical inclus") in details
    assert (world.r.sec_deleg.id, f"{world.referral}: FHIR, volet médical masqué") in details
    assert all(row.dossier_id == world.dossier_id for row in rows if world.referral in (row.detail or ""))
    env.audit_ok()


def test_an_exported_referral_imported_into_a_new_dossier_gives_the_same_values(world: World) -> None:
    env, owner = world.env, world.r.owner
    original = env.dossier(owner, world.dossier_id)["answers"]
    content = env.call("GET", f"/referrals/{world.referral}/fhir", owner).content
    imported = env.call("POST", "/dossiers/import", owner, content=content, params={"kind": "fhir"},
                        headers={"Content-Type": FHIR})
    assert imported.status_code == 201, imported.text
    step = imported.json()["step"]
    assert step["refused"] == []  # every value passes its field's rule again
    step = env.ok("POST", f"/dossiers/{step['dossier_id']}/answer", owner, json={"text": "aucun", "version": step["version"]})
    assert step["question"]["field"] == "dossier.confirm"
    proposed = {i["field"] for i in step["question"]["confirm"] if i["source"] == "import"}
    assert proposed == ROUND_TRIP
    step = env.ok("POST", f"/dossiers/{step['dossier_id']}/answer", owner, json={"text": "", "version": step["version"]})
    copy = env.dossier(owner, step["dossier_id"])["answers"]
    differences = {f: (original.get(f), copy.get(f)) for f in ROUND_TRIP if original.get(f) != copy.get(f)}
    assert differences == {}
