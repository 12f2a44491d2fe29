"""`orient replay` and identity vigilance (spec/hnp-dossier.md, rows patient.birth_place,
patient.ins, patient.identity_status; "Commune resolution"; "Warnings travel with the dossier"),
and refused empty inputs (spec/replay.md: a refused input is recorded and the next one is tried)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_replay import SCENARIOS, label, replay_file, scenario_data, write

from orient.assistant import replay
from orient.assistant.service import DossierService
from orient.assistant.store.db import open_engine

FEMALE_TOULOUSE = "238033155512370"  # a woman born in March 1938 in the 31 (Haute-Garonne)
MALE_TOULOUSE = "138033155512323"  # the same, but a man: contradicts the doctor's patient
FEMALE_SEINE_SAINT_DENIS = "238039306612368"  # born in March 1938 in the 93


def full(tmp_path: Path, name: str, **answers: list[str]) -> dict[str, Any]:
    """The doctor's full referral (signed, sent to the first two proposals) with some answers
    replaced; the patient is a woman born on 12/03/1938."""
    data = scenario_data("doctor_full.json")
    data["answers"].update(answers)
    return replay_file(write(tmp_path, name, data))


def test_a_contradicting_ins_never_goes_with_a_qualified_identity(tmp_path: Path) -> None:
    report = full(tmp_path, "contradiction.json", **{
        "patient.birth_place": ["Toulouse"], "patient.ins": [MALE_TOULOUSE],
        "patient.identity_status": ["qualifiée"]})
    # the INS was kept with a warning, the status refused: no other input, the questions end
    assert report["dossier"]["patient.ins"] == MALE_TOULOUSE
    assert [w["code"] for w in report["warnings"]] == ["ins_mismatch"]
    assert [r["field"] for r in report["rejected"]] == ["patient.birth_date", "patient.identity_status"]
    refusal = report["rejected"][-1]["message"]
    assert label("patient.identity_status") in refusal and "sexe" in refusal
    assert "Provisoire ou Validée" in refusal  # the statuses still possible
    assert report["status"] == "draft" and report["referrals"] == []
    assert "patient.identity_status" not in report["dossier"]
    assert "patient.identity_status" in report["missing"]


def test_a_contradicting_ins_may_go_with_a_validated_identity_and_its_warning_stays(tmp_path: Path) -> None:
    report = full(tmp_path, "validated.json", **{
        "patient.birth_place": ["Toulouse"], "patient.ins": [MALE_TOULOUSE],
        "patient.identity_status": ["qualifiée", "récupérée", "validée"]})
    assert [r["input"] for r in report["rejected"][1:]] == ["qualifiée", "récupérée"]
    assert report["status"] == "sent"
    assert report["dossier"]["patient.identity_status"] == "validee"
    # the warning accepted during the conversation is still with the dossier at the end
    kept = report["dossier_warnings"]
    assert [(w["field"], w["code"]) for w in kept] == [("patient.ins", "ins_mismatch")]
    assert "sexe" in kept[0]["message"]


def test_without_ins_the_identity_cannot_be_qualified_or_recovered(tmp_path: Path) -> None:
    report = full(tmp_path, "no_ins.json", **{"patient.identity_status": ["qualifiée", "2", "provisoire"]})
    assert [r["input"] for r in report["rejected"][1:]] == ["qualifiée", "2"]
    assert all("aucun n'est saisi" in r["message"] for r in report["rejected"][1:])
    assert report["dossier"]["patient.identity_status"] == "provisoire"
    assert report["status"] == "sent"


def test_a_matching_ins_is_qualified_and_the_birthplace_is_compared_by_departement(tmp_path: Path) -> None:
    # born in Balma (31044): same département as the code in the INS (31555), no contradiction
    report = full(tmp_path, "qualified.json", **{
        "patient.birth_place": ["Balma"], "patient.ins": [FEMALE_TOULOUSE],
        "patient.identity_status": ["qualifiée"]})
    assert report["rejected"] == [r for r in report["rejected"] if r["field"] == "patient.birth_date"]
    assert report["dossier"]["patient.birth_place"] == "31044"
    assert report["dossier"]["patient.identity_status"] == "qualifiee"
    assert report["warnings"] == [] and report["dossier_warnings"] == []
    assert report["status"] == "sent"


def test_birthplace_by_commune_name_with_a_numbered_pick(tmp_path: Path) -> None:
    report = full(tmp_path, "birthplace.json", **{
        "patient.birth_place": ["St-Denis", "3"], "patient.ins": [FEMALE_SEINE_SAINT_DENIS],
        "patient.identity_status": ["qualifiée"], "patient.commune": ["Saint-Denis", "9", "4"]})
    rejected = {(r["field"], r["input"]): r["message"] for r in report["rejected"]}
    listed = rejected[("patient.birth_place", "St-Denis")]
    assert "1. Saint-Denis (11, 11339)" in listed and "3. Saint-Denis (93, 93066)" in listed
    assert "numéro" in listed
    assert "n° 9" in rejected[("patient.commune", "9")]  # beyond the candidates: refused, listed again
    d = report["dossier"]
    assert d["patient.birth_place"] == "93066" and d["patient.commune"] == "97411"
    assert d["patient.identity_status"] == "qualifiee"
    assert report["status"] == "sent"


def test_birthplace_abroad_and_the_ins(tmp_path: Path) -> None:
    report = full(tmp_path, "abroad.json", **{
        "patient.birth_place": ["99100", "99 134"], "patient.ins": [FEMALE_TOULOUSE],
        "patient.identity_status": ["qualifiée", "validée"]})
    assert "désigne la France" in report["rejected"][1]["message"]
    assert report["dossier"]["patient.birth_place"] == "99134"
    assert "étranger" in report["warnings"][0]["message"]  # the INS says born in the 31
    assert report["dossier"]["patient.identity_status"] == "validee"


def test_a_refused_empty_input_is_recorded_and_the_next_one_is_tried(tmp_path: Path) -> None:
    report = full(tmp_path, "empty.json", **{"patient.birth_name": ["", "Martin"],
                                              "medical.reason": ["", "trop court", "Dyspnée croissante depuis trois jours"]})
    empties = [r for r in report["rejected"] if r["input"] == ""]
    assert [r["field"] for r in empties] == ["patient.birth_name", "medical.reason"]
    assert all("une réponse est requise" in r["message"] for r in empties)
    assert report["dossier"]["patient.birth_name"] == "MARTIN"
    assert report["dossier"]["medical.reason"].startswith("Dyspnée")
    assert report["status"] == "sent"


def test_a_duplicate_suspicion_names_the_dossier_the_user_may_open(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "shared.db")
    try:
        service = DossierService(engine)
        scenario = replay.load_scenario(SCENARIOS / "doctor_full.json")
        first_id, first = replay.run_dossier(scenario, service)
        assert first["status"] == "sent" and first["dossier_warnings"] == []
        _, second = replay.run_dossier(scenario, service)
        [duplicate] = [w for w in second["warnings"] if w["code"] == "duplicate"]
        assert duplicate["dossiers"] == [first_id] and "l'ouvrir" in duplicate["message"]
        assert [w["code"] for w in second["dossier_warnings"]] == ["duplicate"]
        assert "dossiers" not in second["dossier_warnings"][0]
    finally:
        engine.dispose()
