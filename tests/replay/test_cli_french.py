"""The `orient` command speaks French: its help, usage and errors (argparse's own strings
included), the replay's file errors, and no internal sub-command shown. Run as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGLISH = ("show this help message", "usage:", "positional arguments", "options:", "error:",
           "the following arguments", "invalid choice", "choose from", "unrecognized arguments",
           "expected one argument", "==SUPPRESS==", "Expecting", "No such file", "Is a directory",
           "line ", "column")


def orient_command() -> list[str]:
    found = shutil.which("orient", path=str(Path(sys.executable).parent)) or shutil.which("orient")
    return [found] if found else [sys.executable, "-m", "orient.assistant.cli"]


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*orient_command(), *map(str, args)], check=False, cwd=ROOT,
                          env=dict(os.environ, COLUMNS="100"), capture_output=True, text=True,
                          encoding="utf-8", timeout=120)


def assert_french(text: str) -> None:
    found = [word for word in ENGLISH if word in text]
    assert not found, f"English left: {found}\n{text}"


def test_main_help_is_french_and_hides_the_internal_command() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0, proc.stderr
    assert_french(proc.stdout)
    assert "kiosk-session" not in proc.stdout
    assert "usage : orient" in proc.stdout
    assert "afficher cette aide et quitter" in proc.stdout
    assert "commandes :" in proc.stdout and "options :" in proc.stdout
    for command in ("replay", "serve", "kiosk", "users", "delegate", "directory", "audit"):
        assert f"    {command} " in proc.stdout, command


@pytest.mark.parametrize("args", [
    ("users", "add", "--help"), ("replay", "--help"), ("directory", "search", "--help"),
    ("serve", "--help"), ("delegate", "--help"), ("audit", "verify", "--help"),
])
def test_sub_command_help_is_french(args: tuple[str, ...]) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert_french(proc.stdout)
    assert "afficher cette aide et quitter" in proc.stdout


def test_role_has_help() -> None:
    proc = run_cli("users", "add", "--help")
    role = proc.stdout.split("--role", 2)[2]  # the option's line, after the usage
    assert "rôle du compte" in role.split("--name")[0]


@pytest.mark.parametrize(("args", "said"), [
    (("users", "add"), "arguments obligatoires manquants : --role, --name"),
    (("users", "add", "--role", "nurse", "--name", "X"), "argument --role : choix invalide « nurse »"),
    (("frobnicate",), "choix invalide « frobnicate »"),
    (("--hub",), "argument --hub : une valeur est attendue"),
    (("audit",), "arguments obligatoires manquants : COMMANDE"),
    (("audit", "verify", "--nope"), "arguments inconnus : --nope"),
])
def test_usage_errors_are_french(args: tuple[str, ...], said: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert_french(proc.stderr)
    assert said in proc.stderr, proc.stderr
    assert "usage : orient" in proc.stderr and " : erreur : " in proc.stderr
    assert "kiosk-session" not in proc.stderr


@pytest.mark.parametrize(("text", "said"), [
    ('{\n  "role": "doctor",\n}\n', "ligne 3, colonne 1 : virgule en trop avant « } »"),
    ('{\n  "role" "doctor"\n}\n', "ligne 2, colonne 10 : « : » est attendu"),
    ('{\n  role: "doctor"\n}\n', "ligne 2, colonne 3 : un nom de propriété entre guillemets doubles est attendu"),
    ('{"role": "doctor"}\n{}\n', "ligne 2, colonne 1 : contenu en trop après la fin du JSON"),
    ('{\n', "ligne 2, colonne 1 : le JSON s'arrête avant la fin"),
])
def test_replay_json_errors_are_french_with_file_and_line(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(text, encoding="utf-8")
    proc = run_cli("replay", path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert_french(proc.stderr)
    assert f"« {path} »" in proc.stderr and said in proc.stderr, proc.stderr


def test_replay_missing_file_or_folder_is_french(tmp_path: Path) -> None:
    proc = run_cli("replay", tmp_path / "absent.json")
    assert proc.returncode == 2
    assert_french(proc.stderr)
    assert "absent.json" in proc.stderr and "fichier introuvable" in proc.stderr
    proc = run_cli("replay", tmp_path)
    assert proc.returncode == 2
    assert_french(proc.stderr)
    assert "c'est un dossier, pas un fichier" in proc.stderr
