"""`orient directory search` as a person reads it: the groups that explain the order (distance band,
specialty when two are searched, availability) as headings in the list, the ranking rule above it,
distances as `20,8 km`, the units declared full under their own heading, and `--specialty-alt`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from orient.assistant import cli

NEAR_SAINT_LAURENT = ("--commune", "Saint-Laurent-de-Neste", "--age", "84")
HEADING = re.compile(r"^── (.+) ──$")
ROW = re.compile(r"^ ?\d+\. .+ — (\d+,\d) km \(([0-9AB]{9})-(\w+)\)( \[démo\])?$")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("listing") / "orient.db"


def search(db: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["directory", "search", *args, "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


def sections(out: str) -> list[tuple[str, list[str]]]:
    """(heading, numbered rows under it) in order."""
    found: list[tuple[str, list[str]]] = []
    for line in out.splitlines():
        heading = HEADING.match(line)
        if heading:
            found.append((heading.group(1), []))
        elif ROW.match(line):
            found[-1][1].append(line)
    return found


def test_the_list_is_grouped_by_distance_band_and_availability(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = search(db, capsys, "--specialty", "general_medicine", *NEAR_SAINT_LAURENT,
                            "--limit", "12")
    assert code == 0, err
    assert out.startswith("Classées par tranche de distance, puis lits disponibles d'abord")
    groups = [(h, rows) for h, rows in sections(out) if "complètes" not in h]
    assert sum(len(rows) for _, rows in groups) == 12
    bands = ["moins de 10 km", "10–25 km", "25–50 km", "50–100 km", "plus de 100 km"]
    seen: list[tuple[int, int]] = []
    for heading, rows in groups:
        band, availability = heading.split(" · ")
        assert band in bands and availability in ("lits disponibles", "disponibilité limitée")
        seen.append((bands.index(band), availability != "lits disponibles"))
        assert rows
    assert seen == sorted(seen) and len(set(seen)) == len(seen)  # each group once, in rank order
    # 27,4 km (limited) after 48,5 km (available) reads right: they sit under different headings
    assert "25–50 km · lits disponibles" in [h for h, _ in groups]
    assert "25–50 km · disponibilité limitée" in [h for h, _ in groups]


def test_distances_are_in_french_number_format(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = search(db, capsys, "--specialty", "pulmonology", *NEAR_SAINT_LAURENT, "--limit", "5")
    rows = [line for line in out.splitlines() if ROW.match(line)]
    assert rows and all(re.search(r" — \d+,\d km \(", row) for row in rows)
    assert not re.search(r"\d+\.\d km", out)


def test_full_units_are_listed_apart_under_their_own_heading(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = search(db, capsys, "--specialty", "pulmonology", *NEAR_SAINT_LAURENT, "--limit", "8")
    lines = out.splitlines()
    [at] = [i for i, line in enumerate(lines) if line.startswith("── Unités déclarées complètes, non proposées (")]
    full_rows = [line for line in lines[at + 1:] if line.startswith("  · ")]
    assert full_rows and all(re.search(r" — \d+,\d km \(", row) for row in full_rows)
    assert not any(re.match(r"^ ?\d+\. ", line) for line in lines[at:])  # not numbered: not choosable


def test_a_second_specialty_is_searched_and_ranked_after_the_first(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = search(db, capsys, "--specialty", "general_medicine", "--specialty-alt", "pneumologie",
                            *NEAR_SAINT_LAURENT, "--limit", "10")
    assert code == 0, err
    assert "spécialité souhaitée d'abord" in out.splitlines()[0]
    headings = [h for h, _ in sections(out) if "complètes" not in h]
    assert "moins de 10 km · Médecine polyvalente · lits disponibles" == headings[0]
    assert any(" · Pneumologie · " in h for h in headings)
    specialties = [ROW.match(row).group(3) for _, rows in sections(out) for row in rows  # type: ignore[union-attr]
                   if ROW.match(row)]
    assert {"general_medicine", "pulmonology"} <= set(specialties)
    code, out, _ = search(db, capsys, "--specialty", "general_medicine", "--specialty-alt", "pulmonology",
                          *NEAR_SAINT_LAURENT, "--json")
    assert {p["specialty"] for p in json.loads(out)} == {"general_medicine", "pulmonology"}


@pytest.mark.parametrize(("alt", "words"), [
    ("astrologie", ["--specialty-alt", "astrologie", "infectious_diseases"]),
    ("médecine polyvalente", ["--specialty-alt", "déjà la spécialité"]),
])
def test_a_bad_second_specialty_exits_2_naming_it(db: Path, capsys: pytest.CaptureFixture[str], alt: str,
                                                  words: list[str]) -> None:
    code, out, err = search(db, capsys, "--specialty", "general_medicine", "--specialty-alt", alt,
                            *NEAR_SAINT_LAURENT)
    assert code == 2 and out == ""
    for word in words:
        assert word in err


def test_infectious_diseases_is_a_specialty_of_the_search(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = search(db, capsys, "--specialty", "maladies infectieuses", "--commune", "Toulouse",
                            "--age", "45", "--limit", "3", "--json")
    assert code == 0, err
    found = json.loads(out)
    assert len(found) == 3 and {p["specialty"] for p in found} == {"infectious_diseases"}
