"""Vital signs in one answer, replayed end to end (spec/hnp-dossier.md, medical rows): a blood
pressure `128/74` and a SpO2 with its oxygen `89 % AA` are accepted (both were refused before),
and a whole line of signs typed at the first vital-sign question fills every field it names after
one confirmation."""

from __future__ import annotations

from pathlib import Path

from test_replay import SCENARIOS, assert_well_formed, replay_file, scenario_data, write

VITALS = {
    "medical.bp_systolic": 128, "medical.bp_diastolic": 74, "medical.heart_rate": 96, "medical.spo2": 89,
    "medical.spo2_confirmed": True, "medical.temperature": 38.5, "medical.resp_rate": 24,
    "medical.oxygen": "air ambiant", "medical.weight": 62.0,
}


def test_pressure_and_spo2_with_oxygen_in_one_answer_each() -> None:
    report = replay_file(SCENARIOS / "replay_vitals_one_answer.json")
    assert_well_formed(report)
    assert report["rejected"] == []
    assert {k: report["dossier"].get(k) for k in VITALS} == VITALS
    asked = report["asked"]
    i = asked.index("medical.bp_systolic")
    # the diastolic and the oxygen are not asked: their answers came with the others
    assert asked[i:i + 8] == ["medical.bp_systolic", "medical.heart_rate", "medical.spo2",
                              "medical.spo2_confirmed", "medical.temperature", "medical.resp_rate",
                              "medical.weight", "medical.isolation"]
    assert report["status"] == "ready" and report["audit_ok"]


def test_a_line_of_vital_signs_is_confirmed_once() -> None:
    report = replay_file(SCENARIOS / "replay_vitals_line.json")
    assert_well_formed(report)
    assert report["rejected"] == []
    assert {k: report["dossier"].get(k) for k in VITALS} == VITALS
    asked = report["asked"]
    i = asked.index("medical.bp_systolic")
    assert asked[i:i + 4] == ["medical.bp_systolic", "dossier.confirm", "medical.spo2_confirmed",
                              "medical.isolation"]
    assert report["status"] == "ready" and report["audit_ok"]


def test_a_line_with_a_refused_value_asks_that_one_as_usual(tmp_path: Path) -> None:
    data = scenario_data("replay_vitals_line.json")
    data["answers"]["medical.bp_systolic"] = ["TA 128/74 FC 300 SpO2 96 % sous 2 L"]
    data["answers"]["medical.heart_rate"] = ["104"]
    report = replay_file(write(tmp_path, "line_refused.json", data))
    asked = report["asked"]
    i = asked.index("medical.bp_systolic")
    assert asked[i:i + 4] == ["medical.bp_systolic", "dossier.confirm", "medical.heart_rate", "medical.temperature"]
    d = report["dossier"]
    assert (d["medical.bp_systolic"], d["medical.heart_rate"], d["medical.spo2"], d["medical.oxygen"]) == (
        128, 104, 96, "2 L/min")


def test_the_confirmation_can_be_answered_from_a_scenario(tmp_path: Path) -> None:
    data = scenario_data("replay_vitals_line.json")
    data["answers"]["dossier.confirm"] = ["3"]  # the heart rate, typed by hand instead
    data["answers"]["medical.heart_rate"] = ["102"]
    report = replay_file(write(tmp_path, "line_fix.json", data))
    asked = report["asked"]
    i = asked.index("dossier.confirm")
    assert asked[i:i + 3] == ["dossier.confirm", "medical.heart_rate", "medical.spo2_confirmed"]
    assert report["dossier"]["medical.heart_rate"] == 102
    assert report["dossier"]["medical.weight"] == 62.0
