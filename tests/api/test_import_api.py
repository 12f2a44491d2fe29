"""A new dossier from a document through the hub (POST /dossiers/import): a FHIR R4 Bundle or a
letter as the body; every value waits for the person's confirmation, the audit says import (or
letter) and the document's SHA-256; a refused document saves nothing."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest
from api_helpers import Env, looks_french
from sqlalchemy import func
from sqlmodel import select

from orient.assistant.importing import MAX_BUNDLE_BYTES, example_bundle
from orient.assistant.store.tables import AuditEntryRow, DossierRow

FHIR = {"Content-Type": "application/fhir+json"}
LETTER = "Motif : pneumopathie hypoxémiante chez une patiente âgée\nAllergies : aucune\nTA 128/74 FC 96"


def _import(env: Env, who: Any, content: bytes, kind: str = "fhir", **params: str) -> Any:
    return env.call("POST", "/dossiers/import", who, content=content, params={"kind": kind, **params},
                    headers=FHIR if kind == "fhir" else {"Content-Type": "text/plain"})


def _counts(env: Env) -> tuple[int, int]:
    with env.session() as session:
        dossiers = session.exec(select(func.count()).select_from(DossierRow)).one()
        entries = session.exec(select(func.count()).select_from(AuditEntryRow)).one()
    return int(dossiers), int(entries)


def _audit(env: Env, dossier_id: str) -> list[AuditEntryRow]:
    with env.session() as session:
        return list(session.exec(select(AuditEntryRow).where(AuditEntryRow.dossier_id == dossier_id)
                                 .order_by(AuditEntryRow.seq)).all())  # type: ignore[arg-type]


def test_an_imported_bundle_is_confirmed_before_it_counts_and_audited_with_its_hash(env: Env) -> None:
    doctor = env.demo_doctor
    data = example_bundle()
    origin = "sha256:" + hashlib.sha256(data).hexdigest()
    response = _import(env, doctor, data)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["origin"] == origin and any("NIR de test" in n for n in body["notes"])
    step = body["step"]
    dossier_id = step["dossier_id"]
    assert step["refused"] == []
    # the red flags come first for a doctor; nothing imported counts yet
    assert step["question"]["field"] == "request.red_flags"
    view = env.ok("GET", f"/dossiers/{dossier_id}", doctor)
    assert "patient.birth_name" not in view["answers"] and "medical.allergies" not in view["answers"]

    step = env.ok("POST", f"/dossiers/{dossier_id}/answer", doctor, json={"text": "aucun", "version": step["version"]})
    q = step["question"]
    assert q["field"] == "dossier.confirm"
    items = {i["field"]: i for i in q["confirm"]}
    assert len(items) == 28 and {i["source"] for i in q["confirm"]} == {"import"}
    assert {i["origin"] for i in q["confirm"]} == {origin}
    assert items["patient.commune"]["display"] == "Toulouse (31, 31555)"
    assert items["medical.anticoagulation"]["display"] == "AOD"
    assert items["medical.oxygen"]["display"] == "2 L/min"
    assert [i["number"] for i in q["confirm"]] == list(range(1, 29))

    step = env.ok("POST", f"/dossiers/{dossier_id}/answer", doctor, json={"text": "", "version": step["version"]})
    assert step["ok"] and step["question"]["field"] == "requester.callback_phone"
    answers = env.ok("GET", f"/dossiers/{dossier_id}", doctor)["answers"]
    assert answers["patient.birth_name"] == "BERTRAND" and answers["patient.ins"] == "238033155504749"
    assert answers["medical.treatments"].startswith("Apixaban 2,5 mg")
    assert answers["medical.spo2"] == 92 and answers["medical.temperature"] == 38.5
    review = env.ok("GET", f"/dossiers/{dossier_id}/review", doctor)
    by_field = {i["field"]: i for s in review for i in s["items"]}
    assert (by_field["medical.allergies"]["source"], by_field["medical.allergies"]["origin"]) == ("import", origin)

    entries = _audit(env, dossier_id)
    accepted = {e.field_id: e.detail for e in entries if e.event == "answer_accepted"}
    assert accepted["patient.ins"] == f"source=import;origin={origin}"
    assert accepted["request.red_flags"] == "source=typed"
    assert sum(1 for e in entries if e.event == "answer_proposed") == 28
    assert not any(e.event == "signed" for e in entries)  # the import never signs
    assert env.ok("GET", "/audit/verify", env.admin)["ok"]


def test_a_number_drops_an_imported_value_and_asks_it(sqlite_env: Env) -> None:
    env, doctor = sqlite_env, sqlite_env.demo_doctor
    step = _import(env, doctor, example_bundle()).json()["step"]
    step = env.ok("POST", f"/dossiers/{step['dossier_id']}/answer", doctor, json={"text": "aucun", "version": step["version"]})
    number = next(i["number"] for i in step["question"]["confirm"] if i["field"] == "medical.weight")
    step = env.ok("POST", f"/dossiers/{step['dossier_id']}/answer", doctor,
                  json={"text": str(number), "version": step["version"]})
    assert step["ok"] and step["question"]["field"] == "medical.weight"


def test_an_ins_with_a_wrong_key_is_shown_refused_and_asked(sqlite_env: Env) -> None:
    env, doctor = sqlite_env, sqlite_env.demo_doctor
    data = json.loads(example_bundle())
    data["entry"][0]["resource"]["identifier"][0]["value"] = "238033155504750"
    step = _import(env, doctor, json.dumps(data).encode()).json()["step"]
    refused = {r["field"]: r for r in step["refused"]}
    assert "patient.ins" in refused
    message = refused["patient.ins"]["message"]
    assert looks_french(message) and "clé" in message and "238033155504750" in message
    step = env.ok("POST", f"/dossiers/{step['dossier_id']}/answer", doctor, json={"text": "aucun", "version": step["version"]})
    assert "patient.ins" not in {i["field"] for i in step["question"]["confirm"]}
    step = env.ok("POST", f"/dossiers/{step['dossier_id']}/answer", doctor, json={"text": "", "version": step["version"]})
    answers = env.ok("GET", f"/dossiers/{step['dossier_id']}", doctor)["answers"]
    assert "patient.ins" not in answers  # nothing of the wrong number is kept


def _stu3() -> bytes:
    data = json.loads(example_bundle())
    data["meta"]["tag"] = [{"system": "http://hl7.org/fhir/FHIR-version", "code": "3.0.2"}]
    return json.dumps(data).encode()


def _r5() -> bytes:
    data = copy.deepcopy(json.loads(example_bundle()))
    med = next(e["resource"] for e in data["entry"] if e["resource"]["id"] == "apixaban")
    med["medication"] = {"concept": med.pop("medicationCodeableConcept")}
    return json.dumps(data).encode()


@pytest.mark.parametrize(("content", "status", "words"), [
    (_stu3, 422, "FHIR STU3"),
    (_r5, 422, "FHIR R5"),
    (lambda: b'{"name": "Jeanne"}', 422, "pas une ressource FHIR"),
    (lambda: b'{"resourceType": "Bundle", "entry": [', 422, "JSON valide"),
    (lambda: b"x" * (MAX_BUNDLE_BYTES + 1), 413, "trop volumineuse"),
])
def test_a_refused_document_is_a_french_error_and_saves_nothing(
        sqlite_env: Env, content: Any, status: int, words: str) -> None:
    env = sqlite_env
    before = _counts(env)
    response = _import(env, env.demo_doctor, content())
    assert response.status_code == status
    detail = response.json()["detail"]
    assert words in detail and looks_french(detail)
    assert _counts(env) == before


def test_a_letter_gives_a_dossier_and_one_with_nothing_recognisable_saves_nothing(sqlite_env: Env) -> None:
    env, doctor = sqlite_env, sqlite_env.demo_doctor
    before = _counts(env)
    response = _import(env, doctor, "Cher confrère, merci.".encode(), kind="letter")
    assert response.status_code == 422 and response.json()["detail"].startswith("Rien de reconnaissable")
    assert _counts(env) == before
    body = env.ok("POST", "/dossiers/import", doctor, content=LETTER.encode(), params={"kind": "letter"},
                  status=201)
    step = env.ok("POST", f"/dossiers/{body['step']['dossier_id']}/answer", doctor,
                  json={"text": "aucun", "version": body["step"]["version"]})
    assert {i["source"] for i in step["question"]["confirm"]} == {"letter"}
    assert [i["field"] for i in step["question"]["confirm"]] == [
        "medical.reason", "medical.allergies", "medical.bp_systolic", "medical.bp_diastolic", "medical.heart_rate"]


def test_a_secretary_gets_her_fields_only_and_no_medical_note(sqlite_env: Env) -> None:
    env = sqlite_env
    secretary = env.user("secretary")
    doctor = env.user("doctor")
    env.delegate(doctor, secretary, ["fill_admin"])
    body = env.ok("POST", "/dossiers/import", secretary, content=example_bundle(), headers=FHIR,
                  params={"doctor_rpps": doctor.rpps}, status=201)
    step = body["step"]
    fields = [i["field"] for i in step["question"]["confirm"]]
    assert fields and not any(f.startswith("medical.") for f in fields)
    assert step["refused"] == []
    assert not any("Constantes" in n for n in body["notes"])
    assert any("volet médical sont pour le médecin" in n for n in body["notes"])
    # the Bundle's practitioner is not her doctor: said, and the GP is named
    assert any("n'est pas le médecin demandeur" in n for n in body["notes"])
    assert "context.gp_name" in fields


def test_an_unknown_kind_and_a_stranger(sqlite_env: Env) -> None:
    env = sqlite_env
    assert _import(env, env.demo_doctor, example_bundle(), kind="pdf").status_code == 422
    assert env.call("POST", "/dossiers/import", None, content=example_bundle()).status_code == 401
    assert env.call("POST", "/dossiers/import", env.admin, content=example_bundle()).status_code == 403


def test_the_client_imports(sqlite_env: Env) -> None:
    from orient.assistant.client import HubClient

    env = sqlite_env
    client = HubClient.in_process(env.app, env.demo_doctor.token)
    try:
        out = env.run(client.import_dossier(example_bundle()))
    finally:
        env.run(client.close())
    assert out["origin"].startswith("sha256:") and out["step"]["question"]["field"] == "request.red_flags"
