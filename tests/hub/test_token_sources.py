"""The access token of a remote hub stays out of the process list (issue 11, finding 8): `orient`
and `orient replay` take it from the environment variable ORIENT_TOKEN or from a file readable by
its owner only (`--token-file`); a file others may read is refused in French; `--token` still
works, with a warning on stderr; `--help` says so. Run as real processes against a real
`orient serve`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hub_processes import ROOT, Server, add_user, command, environment, new_rpps, orient

from orient.assistant import cli

SCENARIO = ROOT / "tests" / "scenarios" / "replay_red_flag.json"  # a doctor's short replay


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    folder = tmp_path_factory.mktemp("tokens")
    db = f"sqlite:///{folder / 'hub.db'}"
    token = add_user(db, "doctor", "Dr Jeton Caché", "--rpps", new_rpps(811), "--code", "2468")
    server = Server(db, folder / "hub.log").start(timeout=60)
    yield server, token
    server.stop()


def _replay(server: Server, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    run = subprocess.run([*command(), "replay", str(SCENARIO), "--hub", server.url, *args],
                         capture_output=True, text=True, cwd=ROOT, env=env or environment(),
                         timeout=120, check=False)
    return run.returncode, run.stdout, run.stderr


def _private_file(folder: Path, token: str, mode: int = 0o600) -> Path:
    path = folder / "jeton"
    path.write_text(token + "\n", encoding="utf-8")
    path.chmod(mode)
    return path


def _command_line_once_started(proc: subprocess.Popen[str]) -> bytes:
    """The process's command line as `ps` shows it, read once the new program runs: right after
    the fork, /proc/PID/cmdline is still the parent's, or empty while the exec is under way."""
    seen = b""
    while proc.poll() is None:
        try:
            seen = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        except OSError:
            break
        if b"replay" in seen:
            return seen
    raise AssertionError(f"the replay ended before its command line could be read: {seen!r}")


def test_token_from_the_environment_and_never_in_the_process_list(hub: tuple[Server, str]) -> None:
    """While the replay runs, its command line (what `ps` shows every user) holds no token."""
    server, token = hub
    env = {**environment(), "ORIENT_TOKEN": token}
    proc = subprocess.Popen([*command(), "replay", str(SCENARIO), "--hub", server.url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        cmdline = _command_line_once_started(proc)
    finally:
        out, err = proc.communicate(timeout=120)
    assert token.encode() not in cmdline and b"--hub" in cmdline
    assert proc.returncode == 0, err
    assert '"status": "blocked"' in out
    assert "attention" not in err


def test_token_from_a_file_readable_by_its_owner_only(hub: tuple[Server, str], tmp_path: Path) -> None:
    server, token = hub
    env = environment()
    env.pop("ORIENT_TOKEN", None)
    path = _private_file(tmp_path, token)
    code, out, err = _replay(server, "--token-file", str(path), env=env)
    assert code == 0, err
    assert '"status": "blocked"' in out
    assert token not in err


def _main(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`orient replay` in this process: the refusals come before any connection."""
    code = cli.main(["replay", str(SCENARIO), "--hub", "http://127.0.0.1:9", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o620])
def test_a_token_file_others_may_read_is_refused_in_french(tmp_path: Path, mode: int,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = _private_file(tmp_path, "orient_secret-token", mode)
    code, out, err = _main("--token-file", str(path), capsys=capsys)
    assert (code, out) == (2, "")
    assert f"lisible ou modifiable par d'autres que vous (droits {mode:04o})" in err, err
    assert "chmod 600" in err
    assert "orient_secret-token" not in err


@pytest.mark.parametrize(("case", "expected"), [
    ("missing", "fichier introuvable"),
    ("empty", "le fichier est vide"),
    ("symlink", "lien symbolique refusé"),
    ("folder", "ce n'est pas un fichier ordinaire"),
    ("two lines", "une seule ligne attendue"),
    ("both", "soit par --token, soit par --token-file, pas les deux"),
])
def test_unusable_token_files_are_refused_in_french(tmp_path: Path, case: str, expected: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    target = _private_file(tmp_path, "orient_abc")
    path = tmp_path / "autre"
    extra: list[str] = []
    if case == "empty":
        path.write_text("\n")
        path.chmod(0o600)
    elif case == "symlink":
        path.symlink_to(target)
    elif case == "folder":
        path.mkdir(mode=0o700)
    elif case == "two lines":
        path.write_text("orient_a\norient_b\n")
        path.chmod(0o600)
    elif case == "both":
        path, extra = target, ["--token", "orient_abc"]
    code, out, err = _main("--token-file", str(path), *extra, capsys=capsys)
    assert (code, out) == (2, "")
    assert expected in err, err


def test_hub_without_any_token_says_where_to_put_it(capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORIENT_TOKEN", raising=False)
    code, _, err = _main(capsys=capsys)
    assert code == 2
    assert "ORIENT_TOKEN" in err and "--token-file" in err


def test_token_on_the_command_line_still_works_with_a_warning(hub: tuple[Server, str]) -> None:
    server, token = hub
    code, _, err = _replay(server, "--token", token)
    assert code == 0, err
    assert "attention : --token rend le jeton visible par tous dans la liste des processus" in err
    assert token not in err


def test_help_tells_where_the_token_goes() -> None:
    for args in (("--help",), ("replay", "--help")):
        shown = orient(*args)
        assert shown.returncode == 0, shown.stderr
        text = " ".join(shown.stdout.split())
        assert "ORIENT_TOKEN" in text and "--token-file" in text, text
        assert "liste des processus" in text
