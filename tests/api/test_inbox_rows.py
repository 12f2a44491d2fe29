"""The receiving unit's inbox through the API: each row says who and why in short (age, sex,
motive: what a unit may read of the referrals sent to it, the first reading audited), flags a
doctor's answer to the unit's question until the unit opens the referral, and lists those
waiting for its answer first, most urgent first. The demo's unit accounts see their unit only."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from api_helpers import RECEIVER_UNITS, Env, receiver_roles
from sqlmodel import select

from orient.assistant.embedded import Embedded
from orient.assistant.store.tables import EstablishmentRow, UnitRow
from orient.dialogs.hnp_rules import age_on
from orient.models.localtime import paris


def summary_reads(env: Env, actor: str) -> list[dict[str, str]]:
    lines = env.ok("GET", "/audit/export", env.admin).splitlines()
    return [e for e in map(json.loads, lines) if e["event"] == "inbox_summary_read" and e["actor"] == actor]


def test_inbox_rows_say_who_and_why_and_flag_the_doctors_answer(sqlite_env: Env) -> None:
    env = sqlite_env
    r = receiver_roles(env)
    dossier, refs = env.sent(r.owner, units=RECEIVER_UNITS[:1])
    row = next(x for x in env.ok("GET", "/inbox", r.recv_unit) if x["id"] == refs[0]["id"])
    assert row["patient_sex"] == "F"
    assert row["patient_age"] == age_on(date(1938, 3, 12), paris(env.clock()).date())
    assert row["motive"] == "Décompensation cardiaque progressive depuis 5 jours"
    assert row["establishment"] and row["establishment_commune"] == "TOULOUSE"
    assert row["new_answer"] is False
    # the first reading is audited for its dossier, once per user and referral
    env.ok("GET", "/inbox", r.recv_unit)
    reads = [e for e in summary_reads(env, r.recv_unit.id) if e["dossier_id"] == dossier]
    assert len(reads) == 1 and reads[0]["detail"].startswith(refs[0]["id"]), reads
    assert reads[0]["field_id"] == "medical.reason"

    # the unit asks, the doctor answers: flagged until the unit opens the referral again
    env.bring(refs[0]["id"], "info_requested", r.recv_unit)
    env.ok("POST", f"/referrals/{refs[0]['id']}/answer-info", r.owner, json={"text": "110 µmol/l."})
    row = next(x for x in env.ok("GET", "/inbox", r.recv_unit) if x["id"] == refs[0]["id"])
    assert row["status"] == "read" and row["new_answer"] is True and row["info_answer"] == "110 µmol/l."
    env.ok("POST", f"/inbox/{refs[0]['id']}/open", r.recv_unit)
    row = next(x for x in env.ok("GET", "/inbox", r.recv_unit) if x["id"] == refs[0]["id"])
    assert row["new_answer"] is False
    # another unit sees nothing of it, and reads nothing
    assert env.ok("GET", "/inbox", r.recv_other) == []
    assert summary_reads(env, r.recv_other.id) == []
    env.audit_ok()


def test_inbox_lists_those_waiting_first_most_urgent_first(sqlite_env: Env) -> None:
    env = sqlite_env
    r = receiver_roles(env)
    unit = env.user("receiver", "Accueil d'une unité", units=RECEIVER_UNITS[:1])
    _, done = env.sent(r.owner, units=RECEIVER_UNITS[:1], timing="today")
    env.bring(done[0]["id"], "refused", unit)
    env.clock.advance(minutes=5)
    _, later = env.sent(r.owner, units=RECEIVER_UNITS[:1], timing="within_48h")
    env.clock.advance(minutes=5)
    _, urgent = env.sent(r.owner, units=RECEIVER_UNITS[:1], timing="today")
    order = [x["id"] for x in env.ok("GET", "/inbox", unit)]
    # the refused one (most urgent timing, but answered) comes after those still waiting
    assert order == [urgent[0]["id"], later[0]["id"], done[0]["id"]]


def test_a_demo_units_account_sees_its_unit_only(sqlite_url: str, tmp_path: Path) -> None:
    embedded = Embedded(sqlite_url.removeprefix("sqlite:///"), outbox=tmp_path / "outbox.json")
    env = Env(sqlite_url)
    try:
        r = receiver_roles(env)
        with env.session() as session:  # a cardiology unit in Tarbes: no demo desk covers it
            tarbes = session.exec(
                select(UnitRow.id).join(EstablishmentRow, EstablishmentRow.finess == UnitRow.finess)
                .where(EstablishmentRow.commune == "TARBES", UnitRow.id.endswith("-cardiology"))  # type: ignore[attr-defined]
            ).first()
        assert tarbes is not None
        _, refs = env.sent(r.owner, units=[RECEIVER_UNITS[0], tarbes])
        listed = {u.unit_id: u for u in embedded.units_with_referrals()}
        assert set(listed) == {RECEIVER_UNITS[0], tarbes}
        assert listed[tarbes].waiting == 1 and "TARBES" in listed[tarbes].label.upper()
        assert listed[tarbes].counts == "1 demande(s) reçue(s), 1 en attente de réponse"

        async def as_unit() -> tuple[dict[str, object], list[dict[str, object]], int, int]:
            client, name = embedded.unit_client(tarbes)
            try:
                me = await client.me()
                inbox = await client.inbox()
                mine = next(x for x in refs if x["unit_id"] == tarbes)
                other = next(x for x in refs if x["unit_id"] != tarbes)
                opened = (await client.call("POST", f"/inbox/{mine['id']}/open"))["referral"]["status"]
                hidden = await client.http.post(f"/inbox/{other['id']}/open")
                assert opened == "read"
                return me, inbox, hidden.status_code, len(name)
            finally:
                await client.close()

        me, inbox, hidden, _ = env.run(as_unit())
        assert me["role"] == "receiver" and me["unit_ids"] == [tarbes]
        assert [x["unit_id"] for x in inbox] == [tarbes]
        assert hidden == 404
        # the same account the next time (no new one per sign-in)
        again, _ = embedded.unit_client(tarbes)
        env.run(again.close())
        users = env.ok("GET", "/audit/export", env.admin).splitlines()
        assert sum('"user_created"' in line and f"demo-unit-{tarbes}" in line for line in users) == 1
    finally:
        env.close()
        embedded.close()
