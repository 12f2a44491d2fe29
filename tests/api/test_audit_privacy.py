"""What an admin can do with the audit and the accounts (docs/security.md, findings 1 and 2).

1. The audit export proves integrity without revealing content: a dictionary attack (every date
   1900-2026, the shipped ICD-10 codes, numbers 0-400, the dialog's option codes, the words of the
   scenario) on every digest of the export recovers nothing, where the same attack on plain
   SHA-256 digests recovers the dossier's fields.
2. An admin cannot act as a doctor, a secretary or a unit: no token for them through the API
   (refused and audited), none returned when creating their accounts; every audit entry names
   the token (session) it was made with, so that reads can be told apart.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from api_helpers import DOCTOR_FULL, Env

from orient.assistant.directory.icd10 import default_icd10
from orient.dialogs.hnp import HNP
from orient.models.dossier import canonical_json, sha256_hex


def dictionary() -> dict[str, Any]:
    """Digest -> value, for the values an attacker would try first."""
    values: list[Any] = []
    day, end = date(1900, 1, 1), date(2026, 12, 31)
    while day <= end:
        values.append(day.isoformat())
        day += timedelta(days=1)
    values += list(range(401)) + [str(n) for n in range(401)] + [n / 10 for n in range(1000)]
    values += [True, False, "oui", "non"]
    values += [row.code for row in default_icd10()._read_rows()]  # the shipped ICD-10 codes
    for spec in HNP.fields:
        values += list(spec.options)
        values += [[o] for o in spec.options]
    values += [w for typed in DOCTOR_FULL.values() for text in typed for w in (text, text.upper(), *text.split())]
    return {sha256_hex(canonical_json(v)): v for v in values}


def export(env: Env) -> list[dict[str, Any]]:
    return [json.loads(line) for line in env.ok("GET", "/audit/export", env.admin).splitlines()]


def test_dictionary_attack_on_the_export_recovers_nothing(sqlite_env: Env) -> None:
    env = sqlite_env
    doctor = env.user("doctor")
    env.sent(doctor)
    table = dictionary()
    rows = export(env)
    digests = [r["value_hash"] for r in rows if r["value_hash"]]
    assert len(digests) > 30
    recovered = {table[d] for d in digests if d in table}
    assert recovered == set(), f"values recovered from the export: {sorted(map(str, recovered))[:20]}"
    # the same attack on what plain digests would have been finds the dossier's answers
    view = env.dossier(doctor, env.ok("GET", "/dossiers", doctor)[0]["id"])
    plain = {sha256_hex(canonical_json(v)) for v in view["answers"].values()}
    assert len({table[d] for d in plain if d in table}) >= 8
    # each entry names its key, and the chain still verifies
    assert {r["key_id"] for r in rows} and None not in {r["key_id"] for r in rows}
    env.audit_ok()


def test_admin_gets_no_token_for_a_person_who_signs_or_reads(sqlite_env: Env) -> None:
    env = sqlite_env
    doctor, secretary = env.user("doctor"), env.user("secretary")
    receiver = env.user("receiver", units=("310783063-cardiology",))
    for person in (doctor, secretary, receiver):
        refused = env.call("POST", f"/users/{person.id}/tokens", env.admin)
        assert refused.status_code == 403, refused.text
        assert "orient users token" in refused.json()["detail"]
    refusals = [r for r in export(env) if r["event"] == "token_refused"]
    assert [r["detail"].split(":")[0] for r in refusals] == [doctor.id, secretary.id, receiver.id]
    assert all(r["actor"] == env.admin.id for r in refusals)
    # an admin account's token is still the admin's to issue
    other_admin = env.user("admin")
    issued = env.ok("POST", f"/users/{other_admin.id}/tokens", env.admin, status=201)
    assert env.ok("GET", "/me", issued["token"])["id"] == other_admin.id


def test_accounts_created_through_the_api_come_without_token_except_admins(sqlite_env: Env) -> None:
    env = sqlite_env
    made = env.ok("POST", "/users", env.admin, json={"role": "secretary", "name": "Jeanne Neuve"}, status=201)
    assert made["token"] is None and made["token_id"] is None
    assert "orient users token" in made["message"]
    admin = env.ok("POST", "/users", env.admin, json={"role": "admin", "name": "Admin Deux"}, status=201)
    assert env.ok("GET", "/me", admin["token"])["role"] == "admin"
    with env.session() as session:
        from sqlmodel import select

        from orient.assistant.store.tables import TokenRow

        rows = {r.user_id: r for r in session.exec(select(TokenRow))}
    assert made["user"]["id"] not in rows
    assert rows[admin["user"]["id"]].delivery == "admin"


def test_out_of_band_token_is_printed_once_and_marked(sqlite_env: Env) -> None:
    """`orient users token` on the server's machine: the person's token, marked out of band."""
    import subprocess
    import sys

    env = sqlite_env
    made = env.ok("POST", "/users", env.admin, json={"role": "secretary", "name": "Marc Horsligne"}, status=201)
    done = subprocess.run([sys.executable, "-m", "orient.assistant.cli", "users", "token", made["user"]["id"],
                           "--db", env.url], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    token = done.stdout.split(" : ")[-1].strip()
    assert token.startswith("orient_") and done.stdout.count(token) == 1
    assert env.ok("GET", "/me", token)["id"] == made["user"]["id"]
    with env.session() as session:
        from sqlmodel import select

        from orient.assistant.store.tables import TokenRow

        row = session.exec(select(TokenRow).where(TokenRow.user_id == made["user"]["id"])).one()
    assert (row.delivery, row.issued_by) == ("out_of_band", "cli")


def test_every_entry_names_the_token_it_was_made_with(sqlite_env: Env) -> None:
    env = sqlite_env
    doctor = env.user("doctor")
    second_id, second = env.new_token(doctor)
    with env.session() as session:
        from sqlmodel import select

        from orient.assistant.store.tables import TokenRow
        from orient.assistant.store.tokens import token_hash

        first_id = session.exec(select(TokenRow.id).where(TokenRow.token_hash == token_hash(doctor.token))).one()
    dossier_id, _ = env.sent(doctor)
    before = len(export(env))
    env.ok("GET", f"/dossiers/{dossier_id}", second)
    rows = export(env)
    assert all(r["session_id"] for r in rows)
    earlier = [r for r in rows[:before] if r["actor"] == doctor.id]
    assert len(earlier) > 30 and {r["session_id"] for r in earlier} == {first_id}
    later = [r for r in rows[before:] if r["actor"] == doctor.id]
    assert "dossier_read" in {r["event"] for r in later} and {r["session_id"] for r in later} == {second_id}
    assert doctor.token not in json.dumps(rows) and second not in json.dumps(rows)
