"""`orient export REFERRAL`: a referral sent by `orient replay` into a database, exported by the
start of its id as a FHIR R4 Bundle, to a file readable by its owner only or to stdout; French
help and errors. Run as a subprocess, as a person would."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "scenarios" / "doctor_full.json"
ENGLISH = ("usage:", "error:", "positional arguments", "options:", "show this help", "Traceback")


def orient(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[bytes]:
    found = shutil.which("orient", path=str(Path(sys.executable).parent)) or shutil.which("orient")
    command = [found] if found else [sys.executable, "-m", "orient.assistant.cli"]
    return subprocess.run([*command, *map(str, args)], check=False, cwd=cwd, capture_output=True,
                          env=dict(os.environ, COLUMNS="100"), timeout=180)


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    """A database holding the demo doctor's dossier sent to two units (one of the demo receiver's
    sites, one not)."""
    folder = tmp_path_factory.mktemp("export")
    db = folder / "orient.db"
    proc = orient("replay", SCENARIO, "--db", db)
    assert proc.returncode == 0, proc.stderr.decode()
    report = json.loads(proc.stdout)
    assert report["status"] == "sent" and len(report["referrals"]) == 2
    yield db, report["referrals"]


def _text(proc: subprocess.CompletedProcess[bytes]) -> str:
    text = proc.stderr.decode("utf-8")
    assert not any(word in text for word in ENGLISH), text
    return text


def test_a_referral_is_exported_by_the_start_of_its_id_to_a_private_file(
        sent: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    db, referrals = sent
    referral = referrals[0]["id"]
    proc = orient("export", referral[:8], "--db", db, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    path = tmp_path / f"demande-{referral[:8]}.fhir.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert str(path.name) in _text(proc) and proc.stdout == b""
    bundle = Bundle.model_validate_json(path.read_bytes())
    request = bundle.entry[0].resource
    assert request.get_resource_type() == "ServiceRequest"
    assert request.identifier[0].value == f"urn:uuid:{referral}"

    # an existing file given with -o is rewritten, and made private
    target = tmp_path / "pour-hopital.json"
    target.write_text("ancien")
    target.chmod(0o644)
    assert orient("export", referral, "--db", db, "-o", target).returncode == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text(encoding="utf-8"))["resourceType"] == "Bundle"


def test_stdout_when_asked_and_the_unit_exports_its_own_referral(sent: tuple[Path, list[dict[str, Any]]]) -> None:
    db, referrals = sent
    mine = next(r for r in referrals if r["unit_id"].startswith("310783063"))  # a demo site
    proc = orient("export", mine["id"][:10], "--db", db, "--as", "receiver", "-o", "-")
    assert proc.returncode == 0, proc.stderr.decode()
    bundle = json.loads(proc.stdout)
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Condition", "MedicationStatement", "AllergyIntolerance", "Observation"} <= types


def test_refusals_are_french_and_write_nothing(sent: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    db, referrals = sent
    other = next(r for r in referrals if not r["unit_id"].startswith("310783063"))
    # another unit's referral: the demo receiver does not see it
    proc = orient("export", other["id"][:8], "--db", db, "--as", "receiver", cwd=tmp_path)
    assert proc.returncode == 1 and "Aucune demande visible" in _text(proc)
    proc = orient("export", other["id"], "--db", db, "--as", "receiver", cwd=tmp_path)
    assert proc.returncode == 1 and "Demande introuvable" in _text(proc)
    proc = orient("export", "c4", "--db", db, cwd=tmp_path)
    assert proc.returncode == 2 and "au moins 4 caractères" in _text(proc)
    proc = orient("export", "pas-un-id", "--db", db, cwd=tmp_path)
    assert proc.returncode == 2 and "n'est pas un identifiant de demande" in _text(proc)
    proc = orient("export", other["id"], "--db", db, "-o", tmp_path / "absent" / "f.json", cwd=tmp_path)
    assert proc.returncode == 2 and "n'existe pas" in _text(proc)
    assert list(tmp_path.iterdir()) == []


def test_help_is_french() -> None:
    proc = orient("export", "--help")
    assert proc.returncode == 0
    text = proc.stdout.decode("utf-8")
    assert "usage : orient export" in text and "Bundle FHIR R4" in text and "lisible par vous seul" in text
    assert not any(word in text for word in ENGLISH)
