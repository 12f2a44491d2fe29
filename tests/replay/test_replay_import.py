"""`orient replay` with an `import` key (docs/replay-import.md): the dossier starts from a FHIR R4
Bundle, whose values are confirmed at the confirmation question like any answer; a Bundle that
would be refused makes the scenario unusable (exit 2) and nothing is saved."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlmodel import Session, select
from test_replay import ROOT, SCENARIOS, run_cli, write

from orient.assistant.importing import example_bundle
from orient.assistant.store.db import open_engine
from orient.assistant.store.tables import DossierRow

FIXTURES = ROOT / "tests" / "fixtures" / "fhir"


def report_of(path: Path, *extra: str | Path) -> dict:
    proc = run_cli("replay", path, *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_fixture_is_the_shipped_example() -> None:
    assert (FIXTURES / "patiente_pneumopathie.json").read_bytes() == example_bundle()


def test_a_referral_from_an_imported_bundle_is_confirmed_signed_and_audited() -> None:
    report = report_of(SCENARIOS / "replay_import.json")
    assert report["status"] == "signed" and report["errors"] == [] and report["audit_ok"]
    origin = "sha256:" + hashlib.sha256(example_bundle()).hexdigest()
    assert report["import"]["origin"] == origin
    assert report["rejected"] == []
    # the imported values are answers once confirmed (the scenario gives no input: Enter)
    asked = report["asked"]
    assert asked[:2] == ["request.red_flags", "dossier.confirm"]
    for field_id in ("patient.birth_name", "patient.ins", "medical.history", "medical.treatments",
                     "medical.allergies", "medical.bp_systolic", "medical.oxygen"):
        assert field_id not in asked
    dossier = report["dossier"]
    assert dossier["patient.birth_name"] == "BERTRAND" and dossier["patient.identity_status"] == "qualifiee"
    assert dossier["medical.anticoagulation"] == "doac" and dossier["medical.oxygen"] == "2 L/min"
    assert dossier["medical.bp_systolic"] == 128 and dossier["medical.diagnosis_code"] == "J18.9"
    # 28 values came from the file: not a question of the dossier's identity or medical history is asked
    imported = {"patient.", "context.caregiver", "medical.history", "medical.treatments", "medical.allergies"}
    assert not [f for f in asked if any(f.startswith(p) for p in imported)]


def test_an_ins_with_a_wrong_key_is_refused_then_asked_and_typed() -> None:
    report = report_of(SCENARIOS / "replay_import_ins_wrong_key.json")
    # the imported status "qualifiée" cannot stand without a valid INS (RNIV): refused too, and asked
    assert [r["field"] for r in report["rejected"]] == ["patient.ins", "patient.identity_status"]
    assert "clé 50" in report["rejected"][0]["message"]
    assert "patient.identity_status" in report["asked"]
    assert "patient.ins" in report["asked"]
    assert report["dossier"]["patient.ins"] == "238033155504749"


def test_a_bundle_of_another_fhir_version_makes_the_scenario_unusable_and_saves_nothing(tmp_path: Path) -> None:
    db = tmp_path / "replay.db"
    proc = run_cli("replay", SCENARIOS / "replay_import_stu3.json", "--db", db)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "FHIR STU3" in proc.stderr and "Rien n'a été importé" in proc.stderr
    if db.exists():
        engine = open_engine(f"sqlite:///{db}")
        with Session(engine) as session:
            assert session.exec(select(DossierRow)).all() == []


def test_a_bad_import_key_is_named(tmp_path: Path) -> None:
    for value, words in ((42, "chemin d'un Bundle"), ("absent.json", "illisible « absent.json »")):
        path = write(tmp_path, "s.json", {"role": "doctor", "import": value, "answers": {}})
        proc = run_cli("replay", path)
        assert proc.returncode == 2 and words in proc.stderr
    (tmp_path / "broken.json").write_text('{"resourceType": "Bundle",', encoding="utf-8")
    path = write(tmp_path, "s.json", {"role": "doctor", "import": "broken.json", "answers": {}})
    proc = run_cli("replay", path)
    assert proc.returncode == 2 and "JSON valide" in proc.stderr
    # an unknown key next to it is still an error
    path = write(tmp_path, "s.json", {"role": "doctor", "import": "broken.json", "imports": "x"})
    proc = run_cli("replay", path)
    assert proc.returncode == 2 and "imports" in proc.stderr


def test_import_does_not_combine_with_dossier() -> None:
    proc = run_cli("replay", SCENARIOS / "replay_import.json", "--dossier", "x")
    assert proc.returncode == 2 and "--dossier" in proc.stderr
