"""Terminal (C1) and bidirectional control characters are refused wherever C0 controls are
(issue 11, finding 9): in every text of a request (answers, a unit's question, refusal and
cancellation reasons, the contact of an acceptance, account names, a field name), in a path, in
free text read by the engine and in a name given on the command line. Each refusal is a French
422 (400 for a path) naming the code point, and nothing is stored, so nothing reaches a terminal,
a dashboard or the letter."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from api_helpers import RECEIVER_UNITS, Env, Roles, detail_of, make_env, receiver_roles

from orient.models.readers import ReadError, read_text

# CSI (drives a terminal like ESC [), NEL, the ends of the C1 block, right-to-left override,
# left-to-right embedding, first strong isolate, pop directional isolate
CHARACTERS = ["\u009b", "\u0085", "\u0080", "\u009f", "\u202e", "\u202a", "\u2068", "\u2069"]


@pytest.fixture(scope="module")
def world(module_sqlite_url: str) -> Iterator[dict[str, Any]]:
    env = make_env(module_sqlite_url)
    r = receiver_roles(env)
    draft = env.fill(r.owner, stop_before="medical.reason")["dossier_id"]
    _, refs = env.sent(r.owner, units=RECEIVER_UNITS[:2])
    env.bring(refs[0]["id"], "read", r.recv_unit)
    yield {"env": env, "r": r, "draft": draft, "read": refs[0]["id"], "sent": refs[1]["id"]}
    env.close()


def _cases(w: dict[str, Any], bad: str) -> list[tuple[str, str, str, Any, dict[str, Any]]]:
    env: Env = w["env"]
    r: Roles = w["r"]
    version = env.dossier(r.owner, w["draft"])["version"]
    admission = (env.clock() + timedelta(hours=2)).isoformat()
    return [
        ("answer", "POST", f"/dossiers/{w['draft']}/answer", r.owner,
         {"text": f"Dyspnée {bad}d'effort depuis 3 jours", "version": version}),
        ("field name", "POST", f"/dossiers/{w['draft']}/edit", r.owner,
         {"field": f"motif{bad}", "version": version}),
        ("unit question", "POST", f"/inbox/{w['read']}/request-info", r.recv_unit,
         {"question": f"Dernière {bad}créatininémie ?"}),
        ("refusal reason", "POST", f"/inbox/{w['read']}/refuse", r.recv_unit,
         {"reason": "other", "text": f"Pas de {bad}place"}),
        ("acceptance contact", "POST", f"/inbox/{w['read']}/accept", r.recv_unit,
         {"admission_at": admission, "contact": f"Poste {bad}4521"}),
        ("cancellation reason", "POST", f"/referrals/{w['sent']}/cancel", r.owner,
         {"reason": "other", "text": f"Transféré{bad}"}),
        ("account name", "POST", "/users", r.admin, {"role": "secretary", "name": f"Léa {bad}Martin"}),
    ]


@pytest.mark.parametrize("bad", CHARACTERS, ids=[f"U+{ord(c):04X}" for c in CHARACTERS])
def test_every_request_text_refuses_terminal_and_bidi_controls(world: dict[str, Any], bad: str) -> None:
    env: Env = world["env"]
    before = env.db_state(RECEIVER_UNITS[:2])
    for name, method, path, who, body in _cases(world, bad):
        response = env.call(method, path, who, json=body)
        assert response.status_code == 422, (name, response.status_code, response.text)
        detail = detail_of(response)
        assert f"caractère de contrôle interdit (U+{ord(bad):04X})" in detail, (name, detail)
        assert response.json()["errors"], (name, response.text)
    assert env.db_state(RECEIVER_UNITS[:2]) == before, "a refused request stored something"
    env.audit_ok()


@pytest.mark.parametrize("bad", ["%C2%9B", "%E2%80%AE", "%E2%81%A6"])
def test_a_path_with_such_a_character_is_refused(world: dict[str, Any], bad: str) -> None:
    env: Env = world["env"]
    response = env.call("GET", f"/dossiers/abc{bad}def", world["r"].owner)
    assert response.status_code == 400, response.text
    assert detail_of(response) == "Adresse invalide : caractère de contrôle dans le chemin."


@pytest.mark.parametrize("bad", CHARACTERS, ids=[f"U+{ord(c):04X}" for c in CHARACTERS])
def test_free_text_read_by_the_engine_refuses_them(bad: str) -> None:
    """What the engine reads (replay, embedded hub) is refused too, with the field's expectation."""
    with pytest.raises(ReadError) as caught:
        read_text(f"Douleur {bad}thoracique", min_length=15)
    assert caught.value.reason == f"caractère de contrôle interdit (U+{ord(bad):04X})"
    assert read_text("Douleur\tthoracique \u200f") == "Douleur thoracique \u200f"  # RLM: a mark, kept


def test_the_command_line_refuses_them_in_an_account_name(tmp_path: Any) -> None:
    db = tmp_path / "cli.db"
    run = subprocess.run(
        [sys.executable, "-m", "orient.assistant.cli", "users", "add", "--role", "secretary",
         "--name", "Léa \u202eNITRAM", "--db", str(db)],
        check=False, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0, run.stdout
    assert "caractère de contrôle interdit (U+202E)" in run.stderr, run.stderr
    assert "NITRAM" not in run.stdout


def test_the_access_log_shows_such_a_path_escaped(world: dict[str, Any],
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """The log line of a refused path names its characters instead of writing them to the
    terminal or file that reads the log."""
    env: Env = world["env"]
    with caplog.at_level("INFO", logger="orient.hub"):
        env.call("GET", "/dossiers/abc%C2%9B31m%E2%80%AEdef", world["r"].owner)
    lines = [r.getMessage() for r in caplog.records if r.name == "orient.hub"]
    assert any("/dossiers/abc\\x9b31m\\u202edef 400" in line for line in lines), lines
    assert not any("\u009b" in line or "\u202e" in line for line in lines)
