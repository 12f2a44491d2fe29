"""Answers chained with « ; », replayed end to end (docs/replay-import.md, "Runs"): an input
holding « ; » at a structured question is a run; the fields it fills are not asked, the
confirmation is the question `dossier.confirm`; a refused part is in `rejected` and its question
comes back; at a free-text question « ; » stays in the text."""

from __future__ import annotations

from pathlib import Path

from test_replay import SCENARIOS, assert_well_formed, replay_file, scenario_data, write


def test_a_whole_referral_in_runs() -> None:
    report = replay_file(SCENARIOS / "replay_runs.json")
    assert_well_formed(report)
    assert report["status"] == "ready" and report["audit_ok"] and report["missing"] == []
    asked = report["asked"]
    # the identity in one run: only the refused birth date and the free-text address come back
    i = asked.index("patient.birth_name")
    assert asked[i:i + 5] == ["patient.birth_name", "dossier.confirm", "patient.birth_date",
                              "patient.address", "patient.phone"]
    assert [r["field"] for r in report["rejected"]] == ["patient.birth_date"]
    assert report["rejected"][0]["input"] == "31/02/1942"
    assert asked.count("dossier.confirm") == 6 and len(asked) == 21
    d = report["dossier"]
    assert (d["patient.birth_date"], d["patient.sex"], d["patient.commune"]) == ("1942-03-12", "F", "31555")
    assert (d["context.living"], d["request.specialty"], d["request.timing"]) == (
        "home_with_others", "pulmonology", "within_24h")
    assert "patient.used_name" not in d and "request.specialty_alt" not in d  # empty parts: passed
    # a vital-signs part fills both pressures; a free-text field filled from a run
    assert (d["medical.allergies"], d["medical.bp_systolic"], d["medical.bp_diastolic"]) == (
        "aucune allergie connue", 128, 74)
    # « ; » typed at a free-text question is part of the text
    assert d["medical.history"] == "BPCO ; tabagisme sevré"


def test_non_at_the_confirmation_asks_every_field_as_usual(tmp_path: Path) -> None:
    data = scenario_data("replay_runs.json")
    data["answers"]["dossier.confirm"] = ["", "non", "", "", "", "", "", ""]
    data["answers"].update({"patient.first_names": ["Jeanne"], "patient.sex": ["F"],
                            "patient.identity_status": ["provisoire"], "patient.commune": ["Toulouse"]})
    data["answers"]["patient.birth_name"] = ["Martin;Jeanne;;31/02/1942;F;;;provisoire;Toulouse", "Martin"]
    report = replay_file(write(tmp_path, "runs_non.json", data))
    asked = report["asked"]
    i = asked.index("patient.birth_name")
    assert asked[i:i + 4] == ["patient.birth_name", "dossier.confirm", "patient.birth_name",
                              "patient.first_names"]
    assert report["status"] == "ready" and report["dossier"]["patient.birth_name"] == "MARTIN"


def test_a_secretarys_run_stops_before_the_doctors_part(tmp_path: Path) -> None:
    data = {"role": "secretary", "answers": {
        "requester.callback_phone": ["05 61 00 00 00"],
        "patient.birth_name": ["Martin;Jeanne;;12/03/1942;F;;;provisoire;Toulouse;;;2;;aucune;oui;5;2"],
        "logistics.transport": ["taxi"],
    }}
    report = replay_file(write(tmp_path, "runs_secretary.json", data))
    assert report["status"] == "awaiting_doctor"
    d = report["dossier"]
    assert d["context.gp_is_requester"] is True and "request.specialty" not in d
    assert "request.specialty" not in report["asked"] and "logistics.transport" in report["asked"]
