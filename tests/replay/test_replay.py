"""`orient replay` end to end (spec/replay.md): the CLI run as a subprocess on scenario files, and
the replay run in-process twice on one database for the secretary -> doctor hand-over."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from orient.assistant import replay
from orient.assistant.service import DossierService
from orient.assistant.store.db import open_engine
from orient.assistant.store.tables import DossierRow
from orient.dialogs.hnp import HNP
from orient.models.fields import Fill

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "scenarios"
OUTPUT_KEYS = {
    "status", "asked", "rejected", "warnings", "dossier", "missing", "blocked_reason",
    "dossier_warnings", "proposals", "referrals", "errors", "audit_ok",
}
DOCTOR_FIELDS = {f.id for f in HNP.fields if f.fill == Fill.DOCTOR}


def label(field_id: str) -> str:
    return HNP.field(field_id).label


def orient_command() -> list[str]:
    """The installed `orient` (the venv's first), else the module run with this interpreter."""
    found = shutil.which("orient", path=str(Path(sys.executable).parent)) or shutil.which("orient")
    return [found] if found else [sys.executable, "-m", "orient.assistant.cli"]


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    return subprocess.run(
        [*orient_command(), *map(str, args)], cwd=ROOT, env=env, check=False, capture_output=True,
        text=True, encoding="utf-8", timeout=120,
    )


def replay_file(path: Path, *extra: str | Path) -> dict[str, Any]:
    proc = run_cli("replay", path, *extra)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert isinstance(report, dict)
    return report


def write(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def scenario_data(name: str) -> dict[str, Any]:
    return json.loads((SCENARIOS / name).read_text(encoding="utf-8"))


def assert_well_formed(report: dict[str, Any]) -> None:
    assert set(report) == OUTPUT_KEYS
    assert isinstance(report["asked"], list) and all(isinstance(a, str) for a in report["asked"])
    assert all(set(r) == {"field", "input", "message"} for r in report["rejected"])
    for w in report["warnings"] + report["dossier_warnings"]:
        assert set(w) - {"dossiers"} == {"field", "code", "message"}, w
    assert isinstance(report["proposals"], list) and isinstance(report["referrals"], list)
    assert all(isinstance(e, str) and e for e in report["errors"])
    assert report["audit_ok"] is True


@pytest.fixture(scope="module")
def doctor_full() -> dict[str, Any]:
    return replay_file(SCENARIOS / "replay_doctor_full.json")


# --------------------------------------------------------------------------- a full referral


def test_output_has_exactly_the_keys_of_the_spec(doctor_full: dict[str, Any]) -> None:
    assert set(doctor_full) == OUTPUT_KEYS
    assert_well_formed(doctor_full)


def test_doctor_full_referral_is_signed(doctor_full: dict[str, Any]) -> None:
    report = doctor_full
    assert report["status"] == "signed"
    assert report["missing"] == []
    assert report["rejected"] == [] and report["warnings"] == [] and report["errors"] == []
    assert report["blocked_reason"] is None
    assert report["audit_ok"] is True
    assert report["asked"][0] == "request.red_flags"
    assert "requester.rpps" not in report["asked"] and "requester.name" not in report["asked"]
    # the conditional questions were asked because their conditions held
    for field_id in ("context.caregiver_phone", "context.gp_name", "request.prior_contact_name"):
        assert field_id in report["asked"]
    assert "medical.spo2_confirmed" not in report["asked"]  # SpO2 96 %


def test_doctor_full_referral_values_are_normalised(doctor_full: dict[str, Any]) -> None:
    d = doctor_full["dossier"]
    expected = {
        "requester.rpps": "10003456786",
        "requester.name": "Dr Claire Martin",
        "requester.callback_phone": "+262262123456",  # 0262: La Réunion keeps +262
        "requester.mssante": "claire.martin@medecin.mssante.fr",
        "patient.birth_name": "N'GUYEN-LEVEQUE",  # upper-case, no accents, plain apostrophe
        "patient.first_names": "Anne Marie",  # trimmed, spaces folded
        "patient.birth_date": "1938-03-12",  # jjmmaaaa -> ISO
        "patient.sex": "F",
        "patient.birth_place": "31555",
        "patient.ins": "238033155512370",
        "patient.identity_status": "qualifiee",
        "patient.commune": "76351",  # Le Havre
        "patient.address": "3 rue des Lilas",
        "patient.phone": "+33612345678",
        "context.living": "nursing_home",
        "context.caregiver_phone": "+33611223344",
        "context.legal_protection": "curatorship",
        "context.gp_is_requester": False,
        "context.gp_name": "Lefèvre",
        "request.red_flags": [],
        "request.specialty": "acute_geriatrics",
        "request.timing": "within_48h",
        "request.prior_contact": True,
        "medical.diagnosis_code": "R41.0",
        "medical.history": "aucun",
        "medical.treatments": "aucun",
        "medical.anticoagulation": "antiplatelet",
        "medical.allergies": "Pénicilline",
        "medical.bp_systolic": 130,
        "medical.bp_diastolic": 80,
        "medical.heart_rate": 88,
        "medical.spo2": 96,
        "medical.temperature": 38.5,
        "medical.isolation": "mdro",
        "medical.precautions": ["contact", "droplet"],
        "medical.mobility": "wheelchair",
        "medical.cognition": "mild",
        "medical.gir": 3,
        "medical.care_level": "no_icu",
        "logistics.transport": "ambulance",
        "logistics.needs": ["oxygen", "single_room"],
        "logistics.companion": False,
        "consent.patient_informed": True,
    }
    for field_id, value in expected.items():
        assert d[field_id] == value, field_id
        assert type(d[field_id]) is type(value), field_id  # numbers are numbers, bools bools
    assert list(d) == [f.id for f in HNP.fields if f.id in d]  # flat, in spec order
    assert "medical.spo2_confirmed" not in d


# --------------------------------------------------------------------------- secretary then doctor


def test_secretary_part_then_doctor_in_process(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "shared.db")
    try:
        service = DossierService(engine)
        secretary = replay.run(replay.load_scenario(SCENARIOS / "replay_secretary_part.json"), service)
        assert_well_formed(secretary)
        assert secretary["status"] == "awaiting_doctor"
        assert secretary["asked"][0] == "requester.callback_phone"
        assert not set(secretary["asked"]) & DOCTOR_FIELDS
        assert "context.caregiver_phone" in secretary["asked"] and "context.gp_name" in secretary["asked"]
        assert secretary["missing"]
        # the demo secretary may not read the medical section: it is missing as a whole, none of
        # its fields named (which of them are required depends on medical answers)
        assert set(secretary["missing"]) <= DOCTOR_FIELDS | {"medical"}
        assert {"request.red_flags", "medical", "consent.patient_informed"} <= set(secretary["missing"])
        assert not [f for f in secretary["missing"] if f.startswith("medical.")]
        assert secretary["dossier"]["patient.birth_name"] == "DUPONT-LEGER"
        assert secretary["dossier"]["context.gp_is_requester"] is False

        with Session(engine) as session:
            ids = [row.id for row in session.exec(select(DossierRow))]
        assert len(ids) == 1

        doctor = replay.run(
            replay.load_scenario(SCENARIOS / "replay_doctor_after_secretary.json"), service, ids[0]
        )
        assert_well_formed(doctor)
        assert doctor["asked"][0] == "request.red_flags"
        assert set(doctor["asked"]) <= DOCTOR_FIELDS  # only the doctor's remaining fields
        assert "patient.birth_name" not in doctor["asked"]
        assert doctor["status"] == "signed"
        assert doctor["missing"] == [] and doctor["errors"] == []
        # the secretary's answers are still there, next to the doctor's
        assert doctor["dossier"]["patient.birth_name"] == "DUPONT-LEGER"
        assert doctor["dossier"]["context.caregiver_phone"] == "+33612345678"
        assert doctor["dossier"]["request.timing"] == "today"
        assert doctor["dossier"]["medical.allergies"] == "aucune allergie connue"
        with Session(engine) as session:
            assert len(list(session.exec(select(DossierRow)))) == 1
    finally:
        engine.dispose()


def test_secretary_part_then_doctor_through_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    secretary = replay_file(SCENARIOS / "replay_secretary_part.json", "--db", db)
    assert secretary["status"] == "awaiting_doctor"
    with sqlite3.connect(db) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM dossier")]
    assert len(ids) == 1
    doctor = replay_file(SCENARIOS / "replay_doctor_after_secretary.json", "--db", db, "--dossier", ids[0])
    assert doctor["asked"][0] == "request.red_flags"
    assert doctor["status"] == "signed" and doctor["missing"] == []
    assert doctor["audit_ok"] is True
    verify = run_cli("audit", "verify", "--db", db)
    assert verify.returncode == 0, verify.stdout + verify.stderr


# --------------------------------------------------------------------------- red flag


def test_red_flag_first_answer_blocks() -> None:
    report = replay_file(SCENARIOS / "replay_red_flag.json")
    assert_well_formed(report)
    assert report["status"] == "blocked"
    assert report["asked"] == ["request.red_flags"]
    reason = report["blocked_reason"]
    assert isinstance(reason, str) and "15" in reason
    assert "Détresse respiratoire" in reason and "Déficit neurologique aigu" in reason
    assert report["dossier"]["request.red_flags"] == ["respiratory_distress", "acute_neuro_deficit"]
    # choosing, signing and sending are refused, in French, and the replay still succeeds
    assert len(report["errors"]) == 3
    assert report["errors"][0].startswith("Choix")
    assert report["errors"][1].startswith("Signature impossible")
    assert report["errors"][2].startswith("Envoi impossible") and "15" in report["errors"][2]
    assert report["referrals"] == []


# --------------------------------------------------------------------------- refused inputs


def test_invalid_then_valid_inputs() -> None:
    report = replay_file(SCENARIOS / "replay_invalid_then_valid.json")
    assert_well_formed(report)
    expected = [
        ("request.red_flags", "peut-être"),
        ("requester.callback_phone", "12 34"),
        ("patient.birth_name", "Martin3"),
        ("patient.birth_date", "31/02/1938"),
        ("patient.sex", "X"),
        ("patient.commune", "Saint-Denis"),
        ("context.gp_is_requester", "peut-être"),
        ("request.timing", "dans 3 jours"),
    ]
    assert [(r["field"], r["input"]) for r in report["rejected"]] == expected
    for r in report["rejected"]:
        assert label(r["field"]) in r["message"], r
        assert r["input"] in r["message"], r
        assert "Attendu" in r["message"], r
        assert "n'est pas accepté" in r["message"], r
    by_field = {r["field"]: r["message"] for r in report["rejected"]}
    assert "février" in by_field["patient.birth_date"]
    assert "93066" in by_field["patient.commune"]  # the candidates are listed with their codes
    assert "48 h" in by_field["request.timing"]
    # the valid inputs that followed were accepted
    d = report["dossier"]
    assert d["patient.birth_name"] == "MARTIN" and d["patient.birth_date"] == "1938-03-12"
    assert d["patient.commune"] == "93066" and d["request.timing"] == "within_48h"
    assert d["context.gp_is_requester"] is True
    # a refused input does not add a question: each field is asked once
    assert len(report["asked"]) == len(set(report["asked"]))
    # no input for the reason: the questions end there, the status says how far it got
    assert report["asked"][-1] == "medical.reason"
    assert report["status"] == "draft"
    assert "medical.reason" in report["missing"]


# --------------------------------------------------------------------------- SpO2


def test_spo2_confirmation_refused_asks_the_spo2_again() -> None:
    report = replay_file(SCENARIOS / "replay_spo2_confirmation.json")
    assert_well_formed(report)
    asked = report["asked"]
    i = asked.index("medical.spo2")
    assert asked[i:i + 4] == ["medical.spo2", "medical.spo2_confirmed", "medical.spo2", "medical.temperature"]
    assert asked.count("medical.spo2_confirmed") == 1
    assert report["dossier"]["medical.spo2"] == 95
    assert "medical.spo2_confirmed" not in report["dossier"]
    assert report["status"] == "ready"
    # a minor: warned, not refused
    assert [w["field"] for w in report["warnings"]] == ["patient.birth_date"]
    assert "mineur" in report["warnings"][0]["message"]


def test_spo2_confirmed_is_kept(tmp_path: Path) -> None:
    data = scenario_data("replay_spo2_confirmation.json")
    data["answers"]["medical.spo2"] = ["85"]
    data["answers"]["medical.spo2_confirmed"] = ["oui"]
    report = replay_file(write(tmp_path, "spo2_yes.json", data))
    assert report["asked"].count("medical.spo2") == 1
    assert report["dossier"]["medical.spo2"] == 85
    assert report["dossier"]["medical.spo2_confirmed"] is True
    assert report["status"] == "ready"
    # the low SpO2 confirmed stays with the dossier as a warning
    assert ("medical.spo2_confirmed", "spo2_low") in [(w["field"], w["code"]) for w in report["dossier_warnings"]]


# --------------------------------------------------------------------------- after the questions


def test_choose_sign_send_on_an_incomplete_dossier_are_french_errors() -> None:
    report = replay_file(SCENARIOS / "replay_errors_incomplete.json")
    assert_well_formed(report)
    assert report["status"] == "draft"
    errors = report["errors"]
    assert len(errors) == 3
    assert errors[0].startswith("Choix des unités impossible")
    assert errors[1].startswith("Signature impossible : il manque")
    assert label("patient.birth_name") in errors[1] and label("consent.patient_informed") in errors[1]
    assert errors[2].startswith("Envoi impossible") and "pas signé" in errors[2]


def test_secretary_cannot_sign_or_send() -> None:
    report = replay_file(SCENARIOS / "replay_errors_secretary_send.json")
    assert_well_formed(report)
    assert report["status"] == "draft"
    assert report["errors"] == [
        "Seul le médecin peut signer le dossier.",
        "Envoi impossible : la délégation de la secrétaire n'inclut pas l'envoi (« send »).",
    ]


def test_choice_beyond_the_proposals_and_send_without_unit(tmp_path: Path) -> None:
    data = {**scenario_data("replay_doctor_full.json"), "choose": [999], "send": True}
    report = replay_file(write(tmp_path, "beyond.json", data))
    assert_well_formed(report)
    assert report["status"] == "signed"  # signing still happened, sending did not
    assert len(report["errors"]) == 2
    assert report["errors"][0].startswith("Choix impossible") and "999" in report["errors"][0]
    assert report["errors"][1].startswith("Envoi impossible")
    assert report["referrals"] == []


def test_proposals_once_the_questions_are_done(doctor_full: dict[str, Any]) -> None:
    """An empty list while the directory is not in the product; else ranked proposals of the
    requested specialty, each with its reasons (the same objects as `directory search --json`)."""
    proposals = doctor_full["proposals"]
    assert isinstance(proposals, list) and len(proposals) <= 20
    keys = {"unit_id", "finess", "establishment", "unit", "specialty", "distance_km",
            "availability", "demo", "reasons"}
    for p in proposals:
        assert keys <= set(p), p
        assert p["specialty"] == "acute_geriatrics"
        assert p["availability"] != "full"
        assert p["reasons"] and all(isinstance(r, str) for r in p["reasons"])


# --------------------------------------------------------------------------- unusable files


@pytest.mark.parametrize(("name", "named"), [
    ("replay_unknown_key.json", "signe"),
    ("replay_unknown_field.json", "patient.shoe_size"),
])
def test_unknown_names_exit_2_and_are_named(name: str, named: str) -> None:
    proc = run_cli("replay", SCENARIOS / name)
    assert proc.returncode == 2
    assert named in proc.stderr
    assert proc.stdout == ""


def test_broken_json_exits_2() -> None:
    proc = run_cli("replay", SCENARIOS / "replay_broken.json")
    assert proc.returncode == 2
    assert "JSON" in proc.stderr and "ligne 3" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("data", [
    {"role": "nurse", "answers": {}},
    {"role": "doctor", "answers": {"request.red_flags": "aucun"}},
    {"role": "doctor", "answers": {}, "choose": [0]},
    {"role": "doctor", "answers": {}, "sign": "yes"},
    ["role", "doctor"],
])
def test_malformed_scenarios_exit_2(tmp_path: Path, data: Any) -> None:
    proc = run_cli("replay", write(tmp_path, "bad.json", data))  # type: ignore[arg-type]
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.strip() and proc.stdout == ""


def test_missing_scenario_file_exits_2(tmp_path: Path) -> None:
    proc = run_cli("replay", tmp_path / "absent.json")
    assert proc.returncode == 2 and "absent.json" in proc.stderr
