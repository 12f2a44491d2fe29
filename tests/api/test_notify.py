"""E-mail notifications with a real SMTP server (aiosmtpd, STARTTLS on a self-signed certificate,
AUTH): who receives what, what an ordinary mailbox never receives, preferences, overdue referrals
noticed once, failures shown to the admin, and a burst delivered exactly once across a stop and
restart of the mail server.

The worker is driven round by round (`Mailer.run_once`) where the order matters, and runs as the
hub's thread in the burst test."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from api_helpers import CHU_UNITS, RECEIVER_UNITS, Env, make_roles, receiver_roles
from mail_server import PASSWORD, USER, MailServer
from sqlalchemy import select

from orient.assistant.notify.settings import SmtpSettings
from orient.assistant.notify.worker import Mailer
from orient.assistant.store.tables import NotifyOutboxRow
from orient.dialogs.hnp_rules import age_on

OUTBOX = NotifyOutboxRow.__table__  # type: ignore[attr-defined]
UNIT_A, UNIT_B = CHU_UNITS[0], CHU_UNITS[1]
# what the dossier of tests/scenarios/doctor_full.json holds about the patient
PATIENT_DATA = ("MARTIN", "Martin", "Jeanne", "1938", "12/03", "Décompensation", "cardiaque", "Féminin",
                "féminin", "ans,")
QUESTION = "Dernière kaliémie et créatininémie ?"
REFUSAL_TEXT = "Patiente connue du service de Purpan"


def make_settings(server: MailServer, folder: Path, **extra: object) -> SmtpSettings:
    secret = folder / "smtp-password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    os.chmod(secret, 0o600)
    values: dict[str, object] = {
        "host": "localhost", "port": server.port, "security": "starttls", "user": USER, "password_file": secret,
        "ca_file": server.cert, "sender": "orient@hub.mssante.fr", "open_hint": "https://orient.chu.test",
        "retry_seconds": 0.05, "retry_max_seconds": 0.4, "poll_seconds": 0.05, "timeout_seconds": 10}
    values.update(extra)
    settings = SmtpSettings(**values)  # type: ignore[arg-type]
    settings.check()
    return settings


@pytest.fixture
def mail(tmp_path: Path) -> Iterator[MailServer]:
    server = MailServer(tmp_path).start()
    yield server
    server.stop()


def mailer_for(env: Env, server: MailServer, folder: Path, **extra: object) -> Mailer:
    mailer = Mailer(env.engine, make_settings(server, folder, **extra), clock=env.clock)
    mailer.install()
    env.hub.mailer = mailer
    return mailer


def set_unit(env: Env, unit: str, address: str | None = None, events: list[str] | None = None) -> None:
    body: dict[str, object] = {}
    if address is not None:
        body["address"] = address
    if events is not None:
        body["events"] = events
    env.ok("PUT", f"/units/{unit}/notifications", env.admin, json=body)


def rows(env: Env) -> list[dict[str, object]]:
    with env.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(OUTBOX).order_by(OUTBOX.c.created_at))]


def short(referral_id: str) -> str:
    return referral_id[:8].upper()


# -- who receives what -----------------------------------------------------------------------------
def test_units_doctor_and_secretaries_receive_what_happened_with_what_they_may_read(
        env: Env, mail: MailServer, tmp_path: Path) -> None:
    r = make_roles(env)
    mailer = mailer_for(env, mail, tmp_path)
    set_unit(env, UNIT_A, "cardio-purpan@chu-toulouse.mssante.fr")
    set_unit(env, UNIT_B, "cardio-rangueil@chu-toulouse.mssante.fr")
    env.ok("PUT", "/me/profile", r.owner, json={"mssante": "paul.durand@medecin.mssante.fr"})
    prefs = env.ok("PUT", "/me/notifications", r.owner, json={"copy_secretary": True})
    assert prefs["effective_address"] == "paul.durand@medecin.mssante.fr" and prefs["mssante"] is True
    env.ok("PUT", "/me/notifications", r.sec_medical, json={"address": "marie@cabinet.mssante.fr"})
    env.ok("PUT", "/me/notifications", r.sec_deleg, json={"address": "lea@cabinet.mssante.fr"})

    dossier_id, refs = env.sent(r.owner, units=[UNIT_A, UNIT_B])
    ref_a = next(x for x in refs if x["unit_id"] == UNIT_A)
    ref_b = next(x for x in refs if x["unit_id"] == UNIT_B)
    mailer.run_once()
    arrived = mail.wait_for(2)
    (new_a,) = mail.to("cardio-purpan@chu-toulouse.mssante.fr")
    (new_b,) = mail.to("cardio-rangueil@chu-toulouse.mssante.fr")
    assert len(arrived) == 2
    assert new_a.message["Subject"].startswith(f"Orient : Nouvelle demande d'admission ({short(ref_a['id'])})")
    age = age_on(date(1938, 3, 12), env.clock().date())
    for text in (f"MARTIN Jeanne, {age} ans, féminin",
                 "Motif : Décompensation cardiaque progressive depuis 5 jours", "Sous 24 h",
                 "https://orient.chu.test", "boîte de réception", short(ref_a["id"])):
        assert text in new_a.text, (text, new_a.text)
    assert short(ref_b["id"]) in new_b.text
    assert new_a.message["From"] == "orient@hub.mssante.fr"
    assert new_a.message["To"] == "cardio-purpan@chu-toulouse.mssante.fr"
    outbox_ids = {row["id"] for row in rows(env)}
    assert {m.message["Message-ID"] for m in arrived} == {f"<notify-{i}@hub.mssante.fr>" for i in outbox_ids}

    # the unit opens: the doctor and both secretaries (the doctor wants copies) are told
    env.ok("POST", f"/inbox/{ref_a['id']}/open", r.recv_unit)
    mailer.run_once()
    mail.wait_for(5)
    (to_doctor,) = mail.to("paul.durand@medecin.mssante.fr")
    (to_marie,) = mail.to("marie@cabinet.mssante.fr")
    (to_lea,) = mail.to("lea@cabinet.mssante.fr")
    for m in (to_doctor, to_marie, to_lea):
        assert "Demande lue par l'unité" in m.message["Subject"] and "MARTIN Jeanne" in m.text
        assert "tableau de bord" in m.text
    assert "Décompensation" in to_doctor.text and "Décompensation" in to_marie.text
    # Léa's delegation has no read_medical: even on MSSanté, nothing of the medical section
    assert "Décompensation" not in to_lea.text and "Motif" not in to_lea.text

    env.ok("POST", f"/inbox/{ref_a['id']}/request-info", r.recv_unit, json={"question": QUESTION})
    mailer.run_once()
    mail.wait_for(8)
    asked = [m for m in mail.to("paul.durand@medecin.mssante.fr") if "Question de l'unité" in m.message["Subject"]]
    assert len(asked) == 1 and QUESTION in asked[0].text
    (lea_asked,) = [m for m in mail.to("lea@cabinet.mssante.fr") if "Question" in m.message["Subject"]]
    assert QUESTION not in lea_asked.text and "La question est à lire dans Orient." in lea_asked.text

    env.ok("POST", f"/referrals/{ref_a['id']}/answer-info", r.owner, json={"text": "K+ 4,1 ; créatinine 98"})
    mailer.run_once()
    mail.wait_for(9)
    answered = [m for m in mail.to("cardio-purpan@chu-toulouse.mssante.fr") if "Réponse du demandeur" in m.message["Subject"]]
    assert len(answered) == 1 and "K+ 4,1" in answered[0].text
    # the doctor answering is not "read by the unit": no message to the requester side for it
    assert len(mail.to("paul.durand@medecin.mssante.fr")) == 2

    # acceptance: the doctor is told, the sibling unit gets its cancellation ("admis ailleurs")
    env.bring(ref_a["id"], "accepted", r.recv_unit)
    mailer.run_once()
    mail.wait_for(13)
    accepted = [m for m in mail.to("paul.durand@medecin.mssante.fr") if "acceptée" in m.message["Subject"]]
    assert len(accepted) == 1 and "Admission prévue" in accepted[0].text and "Poste 4521" in accepted[0].text
    cancelled = [m for m in mail.to("cardio-rangueil@chu-toulouse.mssante.fr") if "annulée" in m.message["Subject"]]
    assert len(cancelled) == 1 and "Admis ailleurs" in cancelled[0].text
    assert len(mail.messages) == 13
    assert Counter(m.message["Message-ID"] for m in mail.messages).most_common(1)[0][1] == 1
    assert {row["status"] for row in rows(env)} == {"sent"}
    assert {(row["subject"], row["body"]) for row in rows(env)} == {("", "")}  # not kept once sent
    env.audit_ok()
    assert dossier_id


def test_nothing_with_patient_data_reaches_an_ordinary_mailbox(sqlite_env: Env, mail: MailServer,
                                                               tmp_path: Path) -> None:
    env = sqlite_env
    r = make_roles(env)
    mailer = mailer_for(env, mail, tmp_path)
    set_unit(env, UNIT_A, "accueil.cardio@chu-toulouse.fr")  # not an MSSanté domain
    set_unit(env, UNIT_B, "cardio-rangueil@chu-toulouse.mssante.fr")
    env.ok("PUT", "/me/notifications", r.owner, json={"address": "paul.durand@gmail.com", "copy_secretary": True})
    env.ok("PUT", "/me/notifications", r.sec_medical, json={"address": "marie.medicale@orange.fr"})
    _, refs = env.sent(r.owner, units=[UNIT_A, UNIT_B])
    ref_a = next(x for x in refs if x["unit_id"] == UNIT_A)
    ref_b = next(x for x in refs if x["unit_id"] == UNIT_B)
    env.ok("POST", f"/inbox/{ref_a['id']}/open", r.recv_unit)
    env.ok("POST", f"/inbox/{ref_a['id']}/request-info", r.recv_unit, json={"question": QUESTION})
    env.ok("POST", f"/referrals/{ref_a['id']}/answer-info", r.owner, json={"text": "Kaliémie 4,1"})
    env.ok("POST", f"/inbox/{ref_b['id']}/open", r.recv_unit)
    env.ok("POST", f"/inbox/{ref_b['id']}/refuse", r.recv_unit, json={"reason": "other", "text": REFUSAL_TEXT})
    env.ok("POST", f"/referrals/{ref_a['id']}/cancel", r.owner, json={"reason": "deceased"})
    mailer.run_once()
    expected = len(rows(env))
    arrived = mail.wait_for(expected)
    ordinary = [m for m in arrived if not m.rcpt[0].endswith(".mssante.fr")]
    secure = [m for m in arrived if m.rcpt[0].endswith(".mssante.fr")]
    # the unit A (sent, info answered, cancelled); the doctor and Marie (read twice, question, refusal)
    assert len(ordinary) == 3 + 2 * 4, [m.message["Subject"] for m in ordinary]
    assert secure and "MARTIN Jeanne" in secure[0].text  # MSSanté still gets the patient
    for m in ordinary:
        for secret in (*PATIENT_DATA, QUESTION, "Kaliémie", REFUSAL_TEXT, "Décès", "Purpan", "Cardiologie"):
            assert secret not in m.text, (secret, m.text)
            assert secret not in str(m.message), secret
        referral = ref_a if short(ref_a["id"]) in m.text else ref_b
        assert short(referral["id"]) in m.message["Subject"] and "MSSanté" in m.text
    levels = {(row["address"], row["level"]) for row in rows(env)}
    assert ("paul.durand@gmail.com", "minimal") in levels and ("accueil.cardio@chu-toulouse.fr", "minimal") in levels


# -- preferences -----------------------------------------------------------------------------------
def test_each_person_and_unit_receives_only_what_they_chose(sqlite_env: Env, mail: MailServer,
                                                            tmp_path: Path) -> None:
    env = sqlite_env
    r = make_roles(env)
    mailer = mailer_for(env, mail, tmp_path)
    set_unit(env, UNIT_A, "cardio-purpan@chu-toulouse.mssante.fr")
    set_unit(env, UNIT_B, "cardio-rangueil@chu-toulouse.mssante.fr")
    # the unit's own users choose its events (not its address)
    env.ok("PUT", f"/units/{UNIT_B}/notifications", r.recv_unit, json={"events": ["aucun"]})
    refused = env.call("PUT", f"/units/{UNIT_A}/notifications", r.recv_unit, json={"address": "x@y.mssante.fr"})
    assert refused.status_code == 403 and "administrateur" in refused.json()["detail"]
    other = env.call("PUT", f"/units/{UNIT_A}/notifications", r.recv_other, json={"events": ["sent"]})
    assert other.status_code == 403
    env.ok("PUT", "/me/notifications", r.owner, json={"address": "paul.durand@medecin.mssante.fr",
                                                      "events": ["accepted", "refused"]})
    env.ok("PUT", "/me/notifications", r.sec_medical, json={"address": "marie@cabinet.mssante.fr"})  # no copy asked
    # refused inputs: French, nothing changed
    before = env.ok("GET", "/me/notifications", r.owner)
    for body, words in (({"events": ["lu"]}, "Événement inconnu « lu »"),
                        ({"address": "pas-une-adresse"}, "Adresse de notification"),
                        ({"events": ["sent"]}, "Événement inconnu « sent »"),
                        ({"copy_secretary": True, "events": ["bogus"]}, "bogus")):
        answer = env.call("PUT", "/me/notifications", r.owner, json=body)
        assert answer.status_code == 422 and words in answer.json()["detail"], answer.text
    assert env.ok("GET", "/me/notifications", r.owner) == before
    copy = env.call("PUT", "/me/notifications", r.sec_medical, json={"copy_secretary": True})
    assert copy.status_code == 422 and "médecin" in copy.json()["detail"]

    _, refs = env.sent(r.owner, units=[UNIT_A, UNIT_B])
    ref_a = next(x for x in refs if x["unit_id"] == UNIT_A)
    env.bring(ref_a["id"], "accepted", r.recv_unit)  # read, accepted; B cancelled
    mailer.run_once()
    assert {row["kind"] + " " + row["address"] for row in rows(env)} == {
        "sent cardio-purpan@chu-toulouse.mssante.fr", "accepted paul.durand@medecin.mssante.fr"}
    mail.wait_for(2)
    assert len(mail.messages) == 2 and not mail.to("marie@cabinet.mssante.fr")
    assert not mail.to("cardio-rangueil@chu-toulouse.mssante.fr")
    shown = env.ok("GET", f"/units/{UNIT_B}/notifications", r.recv_unit)
    assert shown["events"] == [] and shown["address"] == "cardio-rangueil@chu-toulouse.mssante.fr"


# -- overdue, failures -----------------------------------------------------------------------------
def test_an_overdue_referral_is_noticed_once_even_by_two_workers(env: Env, mail: MailServer,
                                                                 tmp_path: Path) -> None:
    r = make_roles(env)
    first = mailer_for(env, mail, tmp_path)
    second = Mailer(env.engine, first.settings, clock=env.clock)  # another hub process's worker
    set_unit(env, UNIT_A, "cardio-purpan@chu-toulouse.mssante.fr")
    _, (ref,) = env.sent(r.owner, units=[UNIT_A], timing="today")
    first.run_once()
    mail.wait_for(1)
    env.clock.advance(hours=1, minutes=59)
    first.run_once()
    assert len(rows(env)) == 1  # not yet: 2 h for "today"
    env.clock.advance(minutes=2)
    for mailer in (first, second, first, second):
        mailer.run_once()
    overdue = [row for row in rows(env) if row["kind"] == "overdue"]
    assert len(overdue) == 1 and overdue[0]["status"] == "sent"
    (late,) = [m for m in mail.wait_for(2) if "délai dépassé" in m.message["Subject"]]
    assert short(ref["id"]) in late.text and "Délai dépassé depuis le" in late.text
    assert len(mail.messages) == 2


def test_a_refused_message_is_shown_to_the_admin_audited_without_patient_data_and_sent_again(
        sqlite_env: Env, mail: MailServer, tmp_path: Path) -> None:
    env = sqlite_env
    r = make_roles(env)
    mailer = mailer_for(env, mail, tmp_path)
    set_unit(env, UNIT_A, "inconnu@chu-toulouse.mssante.fr")
    mail.refuse.add("inconnu@chu-toulouse.mssante.fr")
    env.sent(r.owner, units=[UNIT_A])
    mailer.run_once()
    listing = env.ok("GET", "/admin/notifications", env.admin, params={"status": "failed"})
    (failed,) = listing["items"]
    assert listing["enabled"] is True and listing["counts"] == {"failed": 1}
    assert failed["recipient"] == f"unit:{UNIT_A}" and failed["attempts"] == 1
    assert "550" in failed["last_error"] and "subject" not in failed and "body" not in failed
    for who in (r.owner, r.recv_unit):
        assert env.call("GET", "/admin/notifications", who).status_code == 403
    export = env.ok("GET", "/audit/export", env.admin)
    assert "notification_failed" in export and failed["id"] in export
    # digests (keyed hashes, chain hashes: 32 hex characters or more) may hold any 4 digits by chance
    readable = re.sub(r"[0-9a-f]{32,}", "<digest>", export)
    for secret in PATIENT_DATA[:4]:
        assert secret not in readable
    # the admin's command line shows it too
    db = env.url.removeprefix("sqlite:///")
    shown = subprocess.run([sys.executable, "-m", "orient.assistant.cli", "notify", "list", "--status", "failed",
                            "--db", db], capture_output=True, text=True, timeout=60, check=False)
    assert shown.returncode == 0 and failed["id"] in shown.stdout and "failed 1" in shown.stdout, shown
    assert "MARTIN" not in shown.stdout
    # fixed at the mail server's end: sent again, once
    mail.refuse.clear()
    assert env.call("POST", f"/admin/notifications/{failed['id']}/retry", env.admin).status_code == 200
    again = env.call("POST", f"/admin/notifications/{failed['id']}/retry", env.admin)
    assert again.status_code == 409 and "échec" in again.json()["detail"]
    mailer.run_once()
    (received,) = mail.wait_for(1)
    assert received.message["Message-ID"] == f"<notify-{failed['id']}@hub.mssante.fr>"
    assert env.ok("GET", "/admin/notifications", env.admin)["counts"] == {"sent": 1}


def test_without_smtp_settings_nothing_is_written(sqlite_env: Env) -> None:
    env = sqlite_env
    r = make_roles(env)
    set_unit(env, UNIT_A, "cardio-purpan@chu-toulouse.mssante.fr")
    _, (ref,) = env.sent(r.owner, units=[UNIT_A])
    env.bring(ref["id"], "accepted", r.recv_unit)
    assert rows(env) == []
    assert env.ok("GET", "/admin/notifications", env.admin) == {"enabled": False, "counts": {}, "items": []}


# -- the mail server stops during a burst ------------------------------------------------------------
BURST_DOSSIERS = 5  # x 5 units = 25 referrals sent, then 25 opened: 50 events


def test_a_burst_across_a_mail_server_restart_is_delivered_exactly_once(
        sqlite_env: Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = sqlite_env
    units = RECEIVER_UNITS[:5]
    r = receiver_roles(env)
    for unit in units:
        set_unit(env, unit, f"{unit}@chu-toulouse.mssante.fr")
    env.ok("PUT", "/me/notifications", r.owner, json={"address": "paul.durand@medecin.mssante.fr"})
    mail = MailServer(tmp_path).start()
    mailer = mailer_for(env, mail, tmp_path)
    mailer.start()  # the hub's own thread from here on
    try:
        signed = [env.signed(r.owner, units=list(units))["dossier_id"] for _ in range(BURST_DOSSIERS)]
        referrals = [ref for dossier_id in signed[:2] for ref in env.send(r.owner, dossier_id)]
        mail.wait_for(10)
        mail.stop()  # down in the middle of the burst
        stopped_at = len(mail.messages)
        referrals += [ref for dossier_id in signed[2:] for ref in env.send(r.owner, dossier_id)]
        for ref in referrals:
            env.ok("POST", f"/inbox/{ref['id']}/open", r.recv_unit)
        total = len(rows(env))
        assert total == 50
        # the worker keeps trying while the server is down, and nothing is lost
        deadline = time.monotonic() + 30
        while not any(row["attempts"] and row["status"] == "pending" for row in rows(env)):
            assert time.monotonic() < deadline, "the worker never tried while the server was down"
            time.sleep(0.05)
        restarted = time.monotonic()
        mail.start()
        arrived = mail.wait_for(total, timeout=120)
        drained = time.monotonic() - restarted
        ids = Counter(m.message["Message-ID"] for m in arrived)
        assert len(arrived) == 50 and len(ids) == 50 and max(ids.values()) == 1
        mailer.stop()  # its round ends: the last message marked sent
        assert {row["status"] for row in rows(env)} == {"sent"}
        retried = sum(1 for row in rows(env) if int(row["attempts"]) > 1)
    finally:
        mailer.stop()
        mail.stop()
    assert len(mail.messages) == 50  # nothing more came while stopping
    with capsys.disabled():
        print(f"\nNOTIFY-FIGURES burst: messages={len(arrived)} distinct={len(ids)} duplicates=0 "
              f"delivered_before_stop={stopped_at} retried={retried} drain_after_restart={drained:.2f}s")


def test_the_residual_window_a_crash_after_the_servers_250_resends_with_the_same_message_id(
        sqlite_env: Env, mail: MailServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/notifications.md: a hub dying between the server's 250 and the commit of `sent` leaves
    the row claimed; once its lease ends it is sent again, as the same message (same
    Message-ID), which the receiving side can drop. The only duplicate the design allows."""
    env = sqlite_env
    r = make_roles(env)
    mailer = mailer_for(env, mail, tmp_path)
    set_unit(env, UNIT_A, "cardio-purpan@chu-toulouse.mssante.fr")
    env.sent(r.owner, units=[UNIT_A])

    class Died(BaseException):
        """The process ends here (nothing after it runs)."""

    def dies(self: Mailer, row: dict[str, object]) -> None:
        raise Died

    monkeypatch.setattr(Mailer, "_mark_sent", dies)
    with pytest.raises(Died):
        mailer.run_once()
    monkeypatch.undo()
    (first,) = mail.wait_for(1)
    (row,) = rows(env)
    assert row["status"] == "sending"
    mailer.run_once()  # its lease still runs: nobody takes it
    assert len(mail.messages) == 1
    with env.engine.begin() as conn:  # the lease runs out
        conn.execute(OUTBOX.update().values(lease_until=datetime(2000, 1, 1, tzinfo=UTC)))
    mailer.run_once()
    second = mail.wait_for(2)[1]
    assert second.message["Message-ID"] == first.message["Message-ID"] == f"<notify-{row['id']}@hub.mssante.fr>"
    assert second.text == first.text
    assert [x["status"] for x in rows(env)] == ["sent"]
