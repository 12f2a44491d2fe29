"""`orient replay` of the journey a clinician walked (issue 9): an 84-year-old woman with pneumonia
from Saint-Laurent-de-Neste, « médecine polyvalente, à défaut pneumologie ». The second specialty
is refused when it repeats the first; the ICD-10 code picked by its number among the suggestions
is not a perinatal one; a perinatal code typed anyway is kept with a warning; the proposals mix
both specialties, the first before the second in each distance band, from real acute hospitals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_replay import ROOT, assert_well_formed, replay_file, write

from orient.assistant.directory.matching import band_of

SCENARIO = ROOT / "tests" / "scenarios" / "replay_pneumonia_two_specialties.json"
LANNEMEZAN = "650784218"
LUCHON_CONVALESCENCE = "310000013"


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return replay_file(SCENARIO)


def test_the_second_specialty_is_asked_after_the_first_and_cannot_repeat_it(report: dict[str, Any]) -> None:
    assert_well_formed(report)
    asked = report["asked"]
    assert asked[asked.index("request.specialty") + 1] == "request.specialty_alt"
    [refused] = [r for r in report["rejected"] if r["field"] == "request.specialty_alt"]
    assert refused["input"] == "Médecine polyvalente" and "déjà la spécialité souhaitée" in refused["message"]
    assert report["dossier"]["request.specialty"] == "general_medicine"
    assert report["dossier"]["request.specialty_alt"] == "pulmonology"
    assert report["status"] == "ready" and report["errors"] == []


def test_the_code_picked_by_number_is_not_a_perinatal_one(report: dict[str, Any]) -> None:
    code = report["dossier"]["medical.diagnosis_code"]
    assert code.startswith("J") and code != "P23"  # "2": the second code that fits an 84-year-old
    assert not [w for w in report["warnings"] if w["field"] == "medical.diagnosis_code"]


def test_a_perinatal_code_typed_for_her_is_kept_with_a_warning(tmp_path: Path) -> None:
    data = json.loads(SCENARIO.read_text(encoding="utf-8"))
    data["answers"]["medical.diagnosis_code"] = ["P23"]
    typed = replay_file(write(tmp_path, "p23.json", data))
    assert typed["dossier"]["medical.diagnosis_code"] == "P23"
    [warning] = [w for w in typed["warnings"] if w["field"] == "medical.diagnosis_code"]
    assert "période périnatale" in warning["message"] and "la patiente a" in warning["message"]


def test_proposals_of_both_specialties_the_first_before_the_second_in_each_band(report: dict[str, Any]) -> None:
    proposals = report["proposals"]
    assert len(proposals) == 20
    assert {p["specialty"] for p in proposals} == {"general_medicine", "pulmonology"}
    keys = [(band_of(p["distance_km"]), p["specialty"] != "general_medicine") for p in proposals]
    assert keys == sorted(keys)
    for p in proposals:
        first_reason = p["reasons"][0]
        if p["specialty"] == "pulmonology":
            assert first_reason.startswith("Pneumologie (autre spécialité acceptable)")
        else:
            assert first_reason.startswith("Médecine polyvalente : ")
    # the local acute hospital first, the convalescence centre nowhere
    assert proposals[0]["finess"] == LANNEMEZAN and proposals[0]["distance_km"] < 10
    assert LUCHON_CONVALESCENCE not in {p["finess"] for p in proposals}
