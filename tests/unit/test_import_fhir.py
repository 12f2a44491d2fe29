"""The FHIR R4 Bundle reader (assistant/importing/fhir.py): each resource type read into the text
its field's rule reads, what cannot be read without guessing left out with a French note, and a
file that cannot be imported refused whole with a French message."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest

from orient.assistant.importing import (
    MAX_BUNDLE_BYTES,
    ImportRefused,
    example_bundle,
    origin_of,
)
from orient.assistant.importing.fhir import read_bundle
from orient.models.identifiers import nir_check

DOCTOR = "10003456786"  # the demo doctor, the Practitioner of the example
EXAMPLE: dict[str, Any] = json.loads(example_bundle())
TODAY = date(2026, 12, 3)


def bundle(*changes: Any, drop: tuple[str, ...] = (), add: tuple[dict[str, Any], ...] = ()) -> bytes:
    """The example Bundle, with resources (by id) changed by functions, dropped, or added."""
    data = copy.deepcopy(EXAMPLE)
    data["entry"] = [e for e in data["entry"] if e["resource"]["id"] not in drop]
    by_id = {e["resource"]["id"]: e["resource"] for e in data["entry"]}
    for change in changes:
        change(by_id)
    data["entry"] += [{"resource": r} for r in add]
    return json.dumps(data).encode()


def values(data: bytes, **kwargs: Any) -> dict[str, str]:
    result = read_bundle(data, doctor_rpps=kwargs.pop("doctor_rpps", DOCTOR), today=TODAY, **kwargs)
    return {v.field: v.text for v in result.values}


def notes(data: bytes, doctor_rpps: str | None = DOCTOR) -> str:
    return " | ".join(n.text for n in read_bundle(data, doctor_rpps=doctor_rpps, today=TODAY).notes)


def refusal(data: bytes) -> str:
    with pytest.raises(ImportRefused) as caught:
        read_bundle(data, doctor_rpps=DOCTOR)
    message = str(caught.value)
    assert "Rien n'a été importé" in message or "rien n'a été importé" in message
    return message


# -- the shipped example -------------------------------------------------------------------------
def test_the_shipped_example_gives_every_section_of_the_case() -> None:
    data = example_bundle()
    result = read_bundle(data, doctor_rpps=DOCTOR, today=TODAY)
    assert result.kind == "import" and result.origin == origin_of(data)
    assert result.origin.startswith("sha256:") and len(result.origin) == 7 + 64
    got = {v.field: v.text for v in result.values}
    assert got == {
        "patient.birth_name": "BERTRAND",
        "patient.first_names": "Jeanne Marie",
        "patient.used_name": "LAFARGUE",
        "patient.birth_date": "1938-03-12",
        "patient.sex": "F",
        "patient.birth_place": "31555",
        "patient.ins": "238033155504749",
        "patient.identity_status": "qualifiee",
        "patient.commune": "31555",
        "patient.address": "12 rue des Lilas, 31400 Toulouse",
        "patient.phone": "05 61 22 33 44",
        "context.caregiver_name": "Hélène LAFARGUE",
        "context.caregiver_phone": "06 71 82 93 04",
        "context.gp_is_requester": "oui",
        "medical.diagnosis": "Pneumopathie aiguë communautaire",
        "medical.diagnosis_code": "J18.9",
        "medical.history": "Insuffisance cardiaque à fraction d'éjection préservée (I50.9, 2019) ; "
                           "Fibrillation atriale paroxystique (I48.0, 2018) ; Diabète de type 2 (E11.9, 2005)",
        "medical.treatments": "Apixaban 2,5 mg comprimé : 1 comprimé matin et soir ; Furosémide 40 mg "
                              "comprimé : 1 comprimé le matin ; Metformine 850 mg comprimé : 1 comprimé "
                              "matin et soir",
        "medical.anticoagulation": "doac",
        "medical.allergies": "Amoxicilline (urticaire généralisée)",
        "medical.bp_systolic": "128",
        "medical.bp_diastolic": "74",
        "medical.heart_rate": "96",
        "medical.resp_rate": "24",
        "medical.spo2": "92",
        "medical.oxygen": "2 L/min",
        "medical.temperature": "38.5",
        "medical.weight": "62",
    }
    # in the dialog's order, so that the INS rules see the traits before the status
    order = [v.field for v in result.values]
    assert order.index("patient.ins") < order.index("patient.identity_status")
    assert nir_check(got["patient.ins"]) is None  # a test INS with a valid key
    assert "NIR de test" in " ".join(n.text for n in result.notes)


def test_vital_signs_not_of_the_day_are_said_so() -> None:
    result = read_bundle(example_bundle(), doctor_rpps=DOCTOR, today=date(2026, 12, 5))
    note = next(n for n in result.notes if n.text.startswith("Constantes"))
    assert "03/12/2026 à 08:40" in note.text and "ne sont pas du jour" in note.text and note.medical


# -- Patient -------------------------------------------------------------------------------------
def _patient(change: Any) -> Any:
    return lambda r: change(r["jeanne-lafargue"])


def _set_ins(system: str, value: str, type_code: str | None = None, use: str = "official") -> Any:
    def change(p: dict[str, Any]) -> None:
        ident: dict[str, Any] = {"use": use, "system": system, "value": value}
        if type_code:
            ident["type"] = {"coding": [{"code": type_code}]}
        p["identifier"] = [ident]
    return _patient(change)


@pytest.mark.parametrize("oid", ["8", "9", "10", "11"])
def test_each_ins_system_gives_the_ins(oid: str) -> None:
    got = values(bundle(_set_ins(f"urn:oid:1.2.250.1.213.1.4.{oid}", "2 38 03 31555 047 49")))
    assert got["patient.ins"] == "2 38 03 31555 047 49"


def test_the_billing_number_an_old_ins_and_local_ids_are_not_the_ins() -> None:
    data = bundle(_set_ins("urn:oid:1.2.250.1.213.1.4.8", "238033155504749", type_code="NH"))
    assert "patient.ins" not in values(data)
    assert "facturation" in notes(data)
    assert "patient.ins" not in values(bundle(_set_ins("urn:oid:1.2.250.1.213.1.4.8", "238033155504749",
                                                       use="old")))
    assert "patient.ins" not in values(bundle(_set_ins("https://hopital.example/ipp", "123")))


def test_the_nir_comes_before_the_nia_and_two_numbers_are_noted() -> None:
    def two(p: dict[str, Any]) -> None:
        p["identifier"] = [{"use": "temp", "system": "urn:oid:1.2.250.1.213.1.4.9", "value": "838033155504712"},
                           {"use": "official", "system": "urn:oid:1.2.250.1.213.1.4.8", "value": "238033155504749"}]
    data = bundle(_patient(two))
    assert values(data)["patient.ins"] == "238033155504749"
    assert "plusieurs matricules INS" in notes(data)


def test_an_ins_with_a_wrong_key_is_still_proposed_for_its_rule_to_refuse() -> None:
    got = values(bundle(_set_ins("urn:oid:1.2.250.1.213.1.4.10", "238033155504750")))
    assert got["patient.ins"] == "238033155504750"  # the field's rule refuses it, with its reason
    assert nir_check(got["patient.ins"]) is not None


@pytest.mark.parametrize(("code", "status"), [("PROV", "provisoire"), ("RECUP", "recuperee"),
                                              ("VALI", "validee"), ("QUAL", "qualifiee")])
def test_the_identity_reliability_extension_gives_the_status(code: str, status: str) -> None:
    def change(p: dict[str, Any]) -> None:
        p["extension"][0]["extension"][0]["valueCoding"]["code"] = code
    assert values(bundle(_patient(change)))["patient.identity_status"] == status


def test_an_identity_code_outside_the_four_statuses_is_left_out() -> None:
    def change(p: dict[str, Any]) -> None:
        p["extension"][0]["extension"][0] = {"url": "identityStatus", "valueCoding": {"code": "DOUB"}}
    data = bundle(_patient(change))
    assert "patient.identity_status" not in values(data)
    assert "« DOUB »" in notes(data)


def test_names_birth_date_sex_address_and_phone_without_fr_core_extras() -> None:
    def change(p: dict[str, Any]) -> None:
        p["name"] = [{"use": "official", "family": "Bertrand", "given": ["Jeanne", "Marie"]}]
        p["gender"] = "other"
        p["address"] = [{"use": "home", "line": ["12 rue des Lilas"], "postalCode": "31400", "city": "Toulouse"}]
        p["telecom"] = [{"system": "phone", "value": "05 61 22 33 44", "use": "home"},
                        {"system": "phone", "value": "06 11 22 33 44", "use": "mobile"},
                        {"system": "email", "value": "x@example.fr"}]
        del p["extension"][1]  # no birth place
    got = values(bundle(_patient(change)))
    assert got["patient.first_names"] == "Jeanne Marie" and got["patient.birth_name"] == "Bertrand"
    assert "patient.used_name" not in got and "patient.birth_place" not in got
    assert got["patient.sex"] == "I"
    assert got["patient.commune"] == "31400 Toulouse"  # the commune table settles postcode and name
    assert got["patient.phone"] == "06 11 22 33 44"  # a mobile first


def test_a_partial_birth_date_is_not_completed() -> None:
    data = bundle(_patient(lambda p: p.update(birthDate="1938")))
    assert "patient.birth_date" not in values(data)
    assert "incomplète" in notes(data)


# -- Practitioner and the general practitioner ---------------------------------------------------
def test_a_practitioner_who_is_not_the_dossiers_doctor_is_noted() -> None:
    data = example_bundle()
    assert "médecin demandeur" not in notes(data)
    text = notes(data, doctor_rpps="10000000008")
    assert "RPPS 10003456786" in text and "10000000008" in text and "votre patient" in text
    got = values(data, doctor_rpps="10000000008")
    assert got["context.gp_is_requester"] == "non"  # the GP is the Bundle's practitioner
    assert got["context.gp_name"] == "Claire MARTIN"


def test_an_invalid_rpps_in_the_file_is_noted() -> None:
    def change(r: dict[str, Any]) -> None:
        r["claire-martin"]["identifier"] = [{"system": "https://rpps.esante.gouv.fr", "value": "10003456780"}]
    assert "n'est pas valide" in notes(bundle(change))


# -- RelatedPerson ---------------------------------------------------------------------------------
def test_the_caregiver_comes_from_the_related_person_else_from_the_patients_contact() -> None:
    got = values(bundle(drop=("helene-lafargue",)))
    assert "context.caregiver_name" not in got

    def contact(p: dict[str, Any]) -> None:
        p["contact"] = [{"name": {"family": "Lafargue", "given": ["Paul"]},
                         "telecom": [{"system": "phone", "value": "06 00 00 00 01"}]}]
    got = values(bundle(_patient(contact), drop=("helene-lafargue",)))
    assert (got["context.caregiver_name"], got["context.caregiver_phone"]) == ("Paul Lafargue", "06 00 00 00 01")


def test_a_resource_about_another_patient_is_left_out() -> None:
    def elsewhere(r: dict[str, Any]) -> None:
        r["helene-lafargue"]["patient"] = {"reference": "Patient/someone-else"}
        r["apixaban"]["subject"] = {"reference": "Patient/someone-else"}
    data = bundle(elsewhere)
    got = values(data)
    assert "context.caregiver_name" not in got and "Apixaban" not in got["medical.treatments"]
    assert "ne concerne pas le patient" in notes(data)


# -- Condition -------------------------------------------------------------------------------------
def test_conditions_refuted_or_in_error_are_left_out_and_resolved_ones_are_history() -> None:
    def change(r: dict[str, Any]) -> None:
        r["diabete"]["verificationStatus"]["coding"][0]["code"] = "refuted"
        r["pneumopathie"]["clinicalStatus"]["coding"][0]["code"] = "resolved"
    got = values(bundle(change))
    assert "Diabète" not in got["medical.history"]
    assert "medical.diagnosis" not in got
    assert got["medical.history"].startswith("Pneumopathie aiguë communautaire (J18.9)")


# -- medications -----------------------------------------------------------------------------------
def _atc(res_id: str, code: str, text: str) -> Any:
    def change(r: dict[str, Any]) -> None:
        r[res_id]["medicationCodeableConcept"] = {
            "coding": [{"system": "http://www.whocc.no/atc", "code": code}], "text": text}
    return change


@pytest.mark.parametrize(("code", "expected"), [("B01AA03", "vka"), ("B01AE07", "doac"), ("B01AF01", "doac"),
                                                ("B01AB05", "heparin"), ("B01AC06", "antiplatelet")])
def test_atc_b01a_gives_the_anticoagulant(code: str, expected: str) -> None:
    assert values(bundle(_atc("apixaban", code, "Médicament")))["medical.anticoagulation"] == expected


def test_several_antithrombotic_classes_or_an_unclassed_one_are_left_to_ask() -> None:
    data = bundle(_atc("furosemide", "B01AC06", "Aspirine 75 mg"))
    assert "medical.anticoagulation" not in values(data)
    assert "AOD" in notes(data) and "antiagrégant" in notes(data)
    assert "medical.anticoagulation" not in values(bundle(_atc("apixaban", "B01AX05", "Fondaparinux")))


def test_no_b01a_among_coded_treatments_is_no_and_an_uncoded_one_leaves_it_asked() -> None:
    assert values(bundle(_atc("apixaban", "C09AA05", "Ramipril 5 mg")))["medical.anticoagulation"] == "none"

    def uncoded(r: dict[str, Any]) -> None:
        r["apixaban"]["medicationCodeableConcept"] = {"text": "Préviscan 20 mg"}
    assert "medical.anticoagulation" not in values(bundle(uncoded))


def test_a_medication_request_with_a_medication_reference_and_stopped_treatments() -> None:
    medication = {"resourceType": "Medication", "id": "warfarine",
                  "code": {"coding": [{"system": "http://www.whocc.no/atc", "code": "B01AA03"}],
                           "text": "Warfarine 5 mg"}}
    request = {"resourceType": "MedicationRequest", "id": "rx", "status": "active", "intent": "order",
               "medicationReference": {"reference": "Medication/warfarine"},
               "subject": {"reference": "Patient/jeanne-lafargue"},
               "dosageInstruction": [{"text": "selon INR"}]}

    def stop(r: dict[str, Any]) -> None:
        r["apixaban"]["status"] = "stopped"
    got = values(bundle(stop, add=(medication, request)))
    assert got["medical.treatments"].endswith("Warfarine 5 mg : selon INR")
    assert "Apixaban" not in got["medical.treatments"]
    assert got["medical.anticoagulation"] == "vka"


# -- AllergyIntolerance ----------------------------------------------------------------------------
def test_no_known_allergy_and_refuted_allergies() -> None:
    def none_known(r: dict[str, Any]) -> None:
        r["allergie-amoxicilline"]["code"] = {"coding": [{"system": "http://snomed.info/sct",
                                                          "code": "716186003"}]}
        r["allergie-amoxicilline"].pop("reaction")
    assert values(bundle(none_known))["medical.allergies"] == "aucune"

    def refuted(r: dict[str, Any]) -> None:
        r["allergie-amoxicilline"]["verificationStatus"]["coding"][0]["code"] = "refuted"
    assert "medical.allergies" not in values(bundle(refuted))


# -- Observation -----------------------------------------------------------------------------------
def test_the_latest_vital_sign_wins_and_a_unit_is_never_converted() -> None:
    older = copy.deepcopy(next(e["resource"] for e in EXAMPLE["entry"] if e["resource"]["id"] == "frequence-cardiaque"))
    older.update(id="fc-hier", effectiveDateTime="2026-12-02T08:00:00+01:00")
    older["valueQuantity"]["value"] = 70

    def fahrenheit(r: dict[str, Any]) -> None:
        r["temperature"]["valueQuantity"] = {"value": 101.3, "unit": "°F", "system": "http://unitsofmeasure.org",
                                             "code": "[degF]"}
        r["debit-oxygene"]["valueQuantity"]["value"] = 0
    data = bundle(fahrenheit, add=(older,))
    got = values(data)
    assert got["medical.heart_rate"] == "96"
    assert "medical.temperature" not in got and "[degF]" in notes(data)
    assert got["medical.oxygen"] == "air ambiant"


def test_a_spo2_by_its_other_loinc_code() -> None:
    def other(r: dict[str, Any]) -> None:
        r["saturation"]["code"]["coding"] = [{"system": "http://loinc.org", "code": "2708-6"}]
    assert values(bundle(other))["medical.spo2"] == "92"


# -- files that are refused whole --------------------------------------------------------------------
def test_broken_json_not_fhir_and_not_a_bundle() -> None:
    assert "JSON valide" in refusal(b'{"resourceType": "Bundle", "entry": [')
    assert "pas une ressource FHIR" in refusal(b'{"name": "Jeanne"}')
    assert "pas une ressource FHIR" in refusal(b"[1, 2, 3]")
    assert "ressource Patient, pas un Bundle" in refusal(b'{"resourceType": "Patient"}')
    assert "vide" in refusal(b"  ")
    assert "XML" in refusal(b'<Bundle xmlns="http://hl7.org/fhir"/>')
    assert "UTF-8" in refusal("Lafargue".encode("utf-16"))


def test_a_huge_file_is_refused_before_it_is_read() -> None:
    message = refusal(b" " * (MAX_BUNDLE_BYTES + 1))
    assert "trop volumineux" in message and "2 Mio" in message


@pytest.mark.parametrize(("marker", "version"), [
    ({"meta": {"tag": [{"system": "http://hl7.org/fhir/FHIR-version", "code": "3.0.2"}]}}, "STU3"),
    ({"meta": {"tag": [{"system": "http://hl7.org/fhir/FHIR-version", "code": "5.0.0"}]}}, "R5"),
    ({"fhirVersion": "5.0.0"}, "R5"),
    ({"meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/Bundle|3.0.1"]}}, "STU3"),
])
def test_a_bundle_declared_in_another_fhir_version(marker: dict[str, Any], version: str) -> None:
    data = copy.deepcopy(EXAMPLE)
    data.update(marker)
    message = refusal(json.dumps(data).encode())
    assert f"FHIR {version}" in message and "FHIR R4" in message


def test_a_bundle_shaped_by_another_fhir_version() -> None:
    def r5(r: dict[str, Any]) -> None:
        med = r["apixaban"]
        med["medication"] = {"concept": med.pop("medicationCodeableConcept")}
    message = refusal(bundle(r5))
    assert "« medication »" in message and "FHIR R5" in message and "MedicationStatement/apixaban" in message

    def stu3(r: dict[str, Any]) -> None:
        r["allergie-amoxicilline"]["verificationStatus"] = "confirmed"
        r["allergie-amoxicilline"]["clinicalStatus"] = "active"
    assert "FHIR STU3" in refusal(bundle(stu3))

    def stu3_taken(r: dict[str, Any]) -> None:
        r["furosemide"]["taken"] = "y"
    assert "FHIR STU3" in refusal(bundle(stu3_taken))


def test_a_resource_not_conforming_to_r4_is_named() -> None:
    def bad(r: dict[str, Any]) -> None:
        r["jeanne-lafargue"]["birthDate"] = "12/03/1938"
    message = refusal(bundle(bad))
    assert "Patient/jeanne-lafargue" in message and "birthDate" in message


def test_a_bundle_needs_exactly_one_patient() -> None:
    assert "aucun patient" in refusal(bundle(drop=("jeanne-lafargue",)))
    second = {"resourceType": "Patient", "id": "autre", "gender": "male"}
    assert "2 patients" in refusal(bundle(add=(second,)))


def test_a_bundle_with_nothing_orient_reads() -> None:
    data = {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": {"resourceType": "Patient", "id": "p"}},
                      {"resource": {"resourceType": "Encounter", "id": "e", "status": "finished",
                                    "class": {"code": "AMB"}}}]}
    assert "aucune information" in refusal(json.dumps(data).encode())
