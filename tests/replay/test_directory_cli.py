"""`orient directory search|why` and the replay's proposals on the real directory (FINESS sites and the
demo catalogue): JSON output, French usage errors with exit status 2, "why", and a replay whose
proposals come from the shipped data (spec/hnp-dossier.md "Matching", spec/replay.md)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orient.assistant import cli
from orient.assistant.directory.matching import BAND_FR

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "scenarios"
FINESS_CSV = ROOT / "assistant" / "directory" / "data" / "finess_hospitals_fr_2020.csv"
PROPOSAL_KEYS = {"unit_id", "finess", "establishment", "unit", "specialty", "distance_km",
                 "availability", "demo", "reasons"}
TOULOUSE_CARDIO = ("--specialty", "cardiology", "--commune", "Toulouse", "--age", "80")


def orient_command() -> list[str]:
    found = shutil.which("orient", path=str(Path(sys.executable).parent)) or shutil.which("orient")
    return [found] if found else [sys.executable, "-m", "orient.assistant.cli"]


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    return subprocess.run([*orient_command(), *map(str, args)], check=False, cwd=ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store for the module: the directory loads into it on the first command only."""
    return tmp_path_factory.mktemp("directory") / "orient.db"


@pytest.fixture(scope="module")
def finess_numbers() -> set[str]:
    with FINESS_CSV.open(encoding="utf-8") as lines:
        return {row["finess_et"] for row in csv.DictReader(lines)}


@pytest.fixture(scope="module")
def toulouse_cardiology(db: Path) -> list[dict[str, Any]]:
    proc = run_cli("directory", "search", *TOULOUSE_CARDIO, "--json", "--db", db)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data, list)
    return data


def band(proposal: dict[str, Any]) -> int:
    """The distance band, as the proposal's distance reason names it."""
    text = " ".join(proposal["reasons"])
    found = [i for i, label in enumerate(BAND_FR) if f"({label})" in text]
    assert len(found) == 1, proposal["reasons"]
    return found[0]


def assert_well_formed(proposals: list[dict[str, Any]], specialty: str, finess: set[str]) -> None:
    for p in proposals:
        assert set(p) == PROPOSAL_KEYS, p
        assert p["specialty"] == specialty
        assert p["demo"] is True
        assert isinstance(p["distance_km"], (int, float)) and not isinstance(p["distance_km"], bool)
        assert p["distance_km"] >= 0
        assert p["availability"] in ("available", "limited")
        assert p["finess"] in finess and p["unit_id"].startswith(p["finess"])
        assert p["reasons"] and all(isinstance(r, str) for r in p["reasons"])
        assert any("démonstration" in r for r in p["reasons"])
        assert any(f"{p['distance_km']:.1f}".replace(".", ",") + " km" in r for r in p["reasons"])
    keys = [(band(p), p["availability"] != "available", p["distance_km"]) for p in proposals]
    assert keys == sorted(keys)  # band, availability, then distance (no response time measured yet)


# -- search -------------------------------------------------------------------------------------------
def test_search_json_for_a_real_commune(toulouse_cardiology: list[dict[str, Any]],
                                        finess_numbers: set[str]) -> None:
    assert 1 <= len(toulouse_cardiology) <= 20
    assert len(toulouse_cardiology) == 20  # a city with many hospitals: the first 20
    assert_well_formed(toulouse_cardiology, "cardiology", finess_numbers)
    assert band(toulouse_cardiology[0]) == 0 and toulouse_cardiology[0]["distance_km"] < 10
    assert len({p["unit_id"] for p in toulouse_cardiology}) == len(toulouse_cardiology)


def test_search_limit_gives_the_head_of_the_list(db: Path, toulouse_cardiology: list[dict[str, Any]]) -> None:
    proc = run_cli("directory", "search", *TOULOUSE_CARDIO, "--json", "--limit", "3", "--db", db)
    assert proc.returncode == 0, proc.stderr
    head = json.loads(proc.stdout)
    assert [p["unit_id"] for p in head] == [p["unit_id"] for p in toulouse_cardiology[:3]]


@pytest.mark.parametrize(("args", "flag", "words"), [
    (("--specialty", "astrology"), "--specialty", ["astrology", "cardiology"]),
    (("--commune", "Saint-Denis"), "--commune", ["plusieurs communes", "93066"]),
    (("--commune", "Xqzwvbnt"), "--commune", ["inconnue"]),
    (("--age", "abc"), "--age", ["âge"]),
    (("--age", "150"), "--age", ["âge", "150"]),
    (("--age", "-1"), "--age", ["âge"]),
    (("--limit", "0"), "--limit", ["entier"]),
    (("--limit", "abc"), "--limit", ["entier"]),
    (("--needs", "jetpack"), "--needs", ["jetpack", "oxygen"]),
    (("--isolation", "plague"), "--isolation", ["plague", "mdro"]),
])
def test_bad_arguments_exit_2_with_a_french_message_naming_them(
    db: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, str], flag: str, words: list[str],
) -> None:
    base = dict(zip(TOULOUSE_CARDIO[::2], TOULOUSE_CARDIO[1::2]))
    base.update({args[0]: args[1]})
    argv = ["directory", "search", *[x for kv in base.items() for x in kv], "--json", "--db", str(db)]
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert flag in err and "orient directory search" in err
    for word in words:
        assert word in err


def test_a_bad_argument_exits_2_from_the_command_line(db: Path) -> None:
    proc = run_cli("directory", "search", "--specialty", "cardiology", "--commune", "Toulouse",
                   "--age", "150", "--json", "--db", db)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "--age" in proc.stderr and "150" in proc.stderr


# -- why -----------------------------------------------------------------------------------------------
def test_why_of_an_unknown_unit_exits_2(db: Path) -> None:
    proc = run_cli("directory", "why", "999999999-nowhere", *TOULOUSE_CARDIO, "--db", db)
    assert proc.returncode == 2
    assert "999999999-nowhere" in proc.stderr and "inconnue" in proc.stderr


def test_why_of_a_real_unit_failing_the_specialty_names_it(db: Path) -> None:
    # Purpan (CHU Toulouse) cardiology, asked for neurology
    proc = run_cli("directory", "why", "310783048-cardiology", "--specialty", "neurology",
                   "--commune", "31555", "--age", "80", "--db", db)
    assert proc.returncode == 0, proc.stderr
    assert "n'est pas proposée" in proc.stdout
    assert "Neurologie" in proc.stdout and "097" in proc.stdout
    assert "PURPAN" in proc.stdout


def test_why_of_a_proposed_unit_gives_the_rank_search_gave(
    db: Path, toulouse_cardiology: list[dict[str, Any]],
) -> None:
    third = toulouse_cardiology[2]["unit_id"]
    proc = run_cli("directory", "why", third, *TOULOUSE_CARDIO, "--db", db)
    assert proc.returncode == 0, proc.stderr
    assert "rang 3" in proc.stdout


# -- replay ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def doctor_full_report() -> dict[str, Any]:
    scenario = json.loads((SCENARIOS / "doctor_full.json").read_text(encoding="utf-8"))
    assert scenario["choose"] == [1, 2]
    proc = run_cli("replay", SCENARIOS / "doctor_full.json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert isinstance(report, dict)
    return report


def test_replay_proposals_come_from_the_real_directory(doctor_full_report: dict[str, Any],
                                                       finess_numbers: set[str]) -> None:
    report = doctor_full_report
    assert report["status"] == "sent"  # doctor_full.json chooses 1 and 2, signs and sends
    assert [r["unit_id"] for r in report["referrals"]] == [p["unit_id"] for p in report["proposals"][:2]]
    assert report["dossier"]["request.specialty"] == "cardiology"
    proposals = report["proposals"]
    assert 2 <= len(proposals) <= 20
    assert_well_formed(proposals, "cardiology", finess_numbers)
    assert proposals[0]["finess"] in finess_numbers
    # logistics.needs asked oxygen: every proposal says the unit has it
    assert all(any("oxygène" in r for r in p["reasons"]) for p in proposals)
    assert report["errors"] == []  # choose [1, 2] worked
    assert report["audit_ok"] is True


def test_replay_proposals_are_those_of_directory_search(doctor_full_report: dict[str, Any], db: Path) -> None:
    """spec/replay.md: the same objects as `orient directory search --json` (the declaration time in
    the availability reason depends on when each store was loaded, so reasons are left out)."""
    proc = run_cli("directory", "search", "--specialty", "cardiology", "--commune", "31555",
                   "--age", "80", "--needs", "oxygen", "--isolation", "none_known", "--json", "--db", db)
    assert proc.returncode == 0, proc.stderr

    def strip(ps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in p.items() if k != "reasons"} for p in ps]

    assert strip(doctor_full_report["proposals"]) == strip(json.loads(proc.stdout))
