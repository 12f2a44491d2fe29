"""The signing code locks after wrong codes (docs/security.md, finding 5): 5 wrong codes in a row
lock it for 1 min, each further wrong code for longer (5 min, 15 min, 1 h...); while locked even
the right code is refused; the doctor is told in French how long to wait; the lock is in the
database (a new hub on the same database keeps it, SQLite and PostgreSQL), audited, and an admin
sees the locked accounts (API and `orient users locked`). The hub's clock is controlled: no sleeps."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from api_helpers import CHU_UNITS, Env, User, make_env

WRONG = "8642"  # not a substring of any RPPS or id the audit details hold


def ready_dossier(env: Env, doctor: User) -> dict[str, Any]:
    step = env.fill(doctor)
    assert step["status"] == "ready", step
    env.ok("PUT", f"/dossiers/{step['dossier_id']}/units", doctor, json={"unit_ids": list(CHU_UNITS[:1])})
    return step


def sign(env: Env, doctor: User, step: dict[str, Any], code: str) -> dict[str, Any]:
    return dict(env.ok("POST", f"/dossiers/{step['dossier_id']}/sign", doctor,
                       json={"code": code, "version": step["version"]}))


def test_five_wrong_codes_lock_even_the_right_one_for_growing_delays(env: Env) -> None:
    doctor = env.user("doctor")
    step = ready_dossier(env, doctor)
    for left in (4, 3, 2, 1):
        out = sign(env, doctor, step, WRONG)
        assert out["ok"] is False and out["status"] == "ready"
        assert out["message"].startswith("Code personnel incorrect : signature refusée")
        assert f"({left} essai" in out["message"], out["message"]
    fifth = sign(env, doctor, step, WRONG)
    assert fifth["message"] == ("Code personnel incorrect : signature refusée. "
                                "Code bloqué après 5 erreurs : réessayez dans 1 min."), fifth
    right = sign(env, doctor, step, doctor.code or "")
    assert right["ok"] is False and right["status"] == "ready"
    assert right["message"] == "Code bloqué après 5 erreurs : réessayez dans 1 min."
    env.clock.advance(seconds=61)
    sixth = sign(env, doctor, step, WRONG)  # the lock is over: one more wrong code locks for 5 min
    assert sixth["message"].endswith("Code bloqué après 6 erreurs : réessayez dans 5 min."), sixth
    env.clock.advance(minutes=1)
    assert sign(env, doctor, step, doctor.code or "")["message"] == (
        "Code bloqué après 6 erreurs : réessayez dans 4 min.")
    env.clock.advance(minutes=4, seconds=1)
    seventh = sign(env, doctor, step, WRONG)
    assert seventh["message"].endswith("réessayez dans 15 min."), seventh
    env.clock.advance(minutes=15, seconds=1)
    eighth = sign(env, doctor, step, WRONG)
    assert eighth["message"].endswith("réessayez dans 1 h."), eighth

    # a new hub on the same database (a restart, another hub process) keeps the lock
    restarted = make_env(env.url)
    try:
        restarted.clock.now = env.clock.now
        restarted.clock.advance(minutes=30)
        again = sign(restarted, doctor, step, doctor.code or "")
        assert again["message"] == "Code bloqué après 8 erreurs : réessayez dans 30 min.", again
        restarted.clock.advance(minutes=30, seconds=1)
        signed = sign(restarted, doctor, step, doctor.code or "")
        assert signed["ok"] is True and signed["status"] == "signed", signed
    finally:
        restarted.close()

    # a success reset the count: the next wrong code leaves 4 tries
    other = ready_dossier(env, doctor)
    env.clock.now = restarted.clock.now
    assert "(4 essais avant blocage)" in sign(env, doctor, other, WRONG)["message"]

    events = [json.loads(line) for line in env.ok("GET", "/audit/export", env.admin).splitlines()]
    mine = [e for e in events if e["actor"] == doctor.id]
    locks = [e["detail"] for e in mine if e["event"] == "signing_code_locked"]
    assert locks == ["5 erreurs : code bloqué 1 min", "6 erreurs : code bloqué 5 min",
                     "7 erreurs : code bloqué 15 min", "8 erreurs : code bloqué 1 h"], locks
    assert sum(1 for e in mine if e["event"] == "signature_refused" and e["detail"] == "code bloqué") == 3
    details = json.dumps([e["detail"] for e in mine])
    assert WRONG not in details and (doctor.code or "") not in details
    env.audit_ok()


def test_a_code_not_tried_does_not_count(sqlite_env: Env) -> None:
    """A dossier that cannot be signed yet refuses before the code is tried: no count, no oracle."""
    env = sqlite_env
    doctor = env.user("doctor")
    step = env.fill(doctor, stop_before="consent.patient_informed")
    for _ in range(6):
        out = sign(env, doctor, step, WRONG)
        assert out["ok"] is False and "bloqué" not in out["message"]
    ready = ready_dossier(env, doctor)
    assert "(4 essais avant blocage)" in sign(env, doctor, ready, WRONG)["message"]


def test_admin_sees_and_lifts_locks(sqlite_env: Env) -> None:
    env = sqlite_env
    doctor, other = env.user("doctor"), env.user("doctor")
    step = ready_dossier(env, doctor)
    assert env.ok("GET", "/users/locked", env.admin) == []
    for _ in range(5):
        sign(env, doctor, step, WRONG)
    locked = env.ok("GET", "/users/locked", env.admin)
    assert [(x["user_id"], x["name"], x["failures"], x["wait"]) for x in locked] == [
        (doctor.id, doctor.name, 5, "1 min")]
    for who in (doctor, other):
        assert env.call("GET", "/users/locked", who).status_code == 403
    # on the server's machine too (the command reads the real time; the hub's clock is near it)
    cli = subprocess.run([sys.executable, "-m", "orient.assistant.cli", "users", "locked", "--db", env.url],
                         capture_output=True, text=True, timeout=120, check=False)
    assert cli.returncode == 0, cli.stderr
    assert doctor.name in cli.stdout and doctor.id in cli.stdout and "5 erreurs" in cli.stdout
    # an admin lifts it (audited); the doctor signs
    env.ok("DELETE", f"/users/{doctor.id}/lock", env.admin)
    assert env.call("DELETE", f"/users/{doctor.id}/lock", env.admin).status_code == 404
    assert env.ok("GET", "/users/locked", env.admin) == []
    assert sign(env, doctor, step, doctor.code or "")["ok"] is True
    events = [json.loads(line) for line in env.ok("GET", "/audit/export", env.admin).splitlines()]
    assert any(e["event"] == "signing_code_unlocked" and e["detail"] == doctor.id
               and e["actor"] == env.admin.id for e in events)
