"""E-mail notifications from a real `orient serve` process (settings from the environment and a
password file, STARTTLS and AUTH against a real aiosmtpd server):

- a hub killed (SIGKILL) after the event's commit, while the mail server is down, delivers the
  message after its restart, once;
- a hub killed while the mail server holds the message's DATA (claimed by the hub, not yet
  accepted by the server) delivers it after restart, once, when its claim expires;
- a bad setting stops `orient serve` at once with a French message naming it; `--help` lists the
  settings.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hub_processes import PATIENT, Server, add_user, free_port, new_rpps, orient, scenario
from mail_server import PASSWORD, USER, MailServer
from sqlalchemy import create_engine, select

from orient.assistant import replay
from orient.assistant.client import HubClient
from orient.assistant.store.tables import NotifyOutboxRow

OUTBOX = NotifyOutboxRow.__table__  # type: ignore[attr-defined]
DOCTOR_MAIL = "alice.zed@medecin.mssante.fr"


def outbox_rows(db: str) -> list[dict[str, Any]]:
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(OUTBOX))]
    finally:
        engine.dispose()


def wait_until(what: str, condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still waiting: {what}"
        time.sleep(0.05)


def smtp_environment(monkeypatch: pytest.MonkeyPatch, mail: MailServer, folder: Path) -> None:
    secret = folder / "smtp-password"
    secret.write_text(PASSWORD, encoding="utf-8")
    os.chmod(secret, 0o600)
    config = folder / "smtp.env"  # the settings file (as for PSC); the environment adds the rest
    config.write_text(f"ORIENT_SMTP_HOST=localhost\nORIENT_SMTP_PORT={mail.port}\n"
                      f"ORIENT_SMTP_SECURITY=starttls\nORIENT_SMTP_USER={USER}\n"
                      f"ORIENT_SMTP_SENDER=orient@hub.mssante.fr\n", encoding="utf-8")
    for name, value in {"CONFIG": str(config), "PASSWORD_FILE": str(secret), "CA_FILE": str(mail.cert),
                        "POLL_SECONDS": "0.2", "RETRY_SECONDS": "0.2", "RETRY_MAX_SECONDS": "1",
                        "LEASE_SECONDS": "3", "TIMEOUT_SECONDS": "10"}.items():
        monkeypatch.setenv(f"ORIENT_SMTP_{name}", value)


def test_a_hub_killed_between_commit_and_delivery_delivers_after_restart_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    mail = MailServer(tmp_path).start()
    smtp_environment(monkeypatch, mail, tmp_path)
    doctor_token = add_user(db, "doctor", "Dr Alice Zed", "--rpps", new_rpps(31), "--code", "1234")
    chosen = orient("notify", "user", "Dr Alice Zed", "--address", DOCTOR_MAIL, "--events",
                    "read,accepted", "--db", db)
    assert chosen.returncode == 0 and DOCTOR_MAIL in chosen.stdout, chosen.stderr
    servers: list[Server] = []

    def hub() -> Server:
        servers.append(Server(db, tmp_path / f"hub-{len(servers)}.log").start(timeout=60))
        return servers[-1]

    try:
        first = hub()

        async def send() -> dict[str, Any]:
            doctor = HubClient(base_url=first.url, token=doctor_token)
            try:
                _, report = await replay.replay_with_client(scenario(choose=[1], send=True), doctor)
                return report
            finally:
                await doctor.close()

        report = asyncio.run(send())
        (referral,) = report["referrals"]
        receiver_token = add_user(db, "receiver", "Accueil", "--unit", referral["unit_id"])

        async def as_unit(url: str, action: str) -> None:
            receiver = HubClient(base_url=url, token=receiver_token)
            try:
                if action == "open":
                    await receiver.open_referral(referral["id"])
                else:
                    admission = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
                    await receiver.call("POST", f"/inbox/{referral['id']}/accept",
                                        json={"admission_at": admission, "contact": "Poste 4521"})
            finally:
                await receiver.close()

        # (1) the mail server is down: the event commits, the hub tries, and is killed
        mail.stop()
        asyncio.run(as_unit(first.url, "open"))
        wait_until("a failed attempt", lambda: any(r["attempts"] >= 1 and r["status"] == "pending"
                                                   for r in outbox_rows(db)))
        first.kill()
        mail.start()
        restarted = time.monotonic()
        second = hub()
        ready = time.monotonic()
        (read,) = mail.wait_for(1)
        after_pending = (ready - restarted, time.monotonic() - ready)
        assert read.rcpt == [DOCTOR_MAIL] and "Demande lue par l'unité" in read.message["Subject"]
        assert PATIENT in read.text.upper()

        # (2) killed while the mail server holds the DATA it has not accepted yet
        mail.gate = threading.Event()
        asyncio.run(as_unit(second.url, "accept"))
        assert mail.held.wait(30), "the hub never reached the mail server"
        assert [r["status"] for r in outbox_rows(db) if r["kind"] == "accepted"] == ["sending"]
        second.kill()
        mail.release.set()  # the server answers a dead client 451: nothing was accepted
        restarted = time.monotonic()
        third = hub()
        ready = time.monotonic()
        arrived = mail.wait_for(2)
        after_claimed = (ready - restarted, time.monotonic() - ready)
        third.stop()
        accepted = arrived[1]
        assert "Demande acceptée" in accepted.message["Subject"] and accepted.rcpt == [DOCTOR_MAIL]
        ids = Counter(m.message["Message-ID"] for m in mail.messages)
        assert len(mail.messages) == 2 and max(ids.values()) == 1
        rows = outbox_rows(db)
        assert sorted(r["kind"] for r in rows) == ["accepted", "read"]
        assert {r["status"] for r in rows} == {"sent"}
        assert {r["attempts"] for r in rows if r["kind"] == "accepted"} == {2}
        for server in servers:  # no secret and no patient data in the hub's log
            logs = server.logs()
            assert PASSWORD not in logs and PATIENT.casefold() not in logs.casefold()
    finally:
        for server in servers:
            server.stop()
        mail.stop()
    with capsys.disabled():
        print(f"\nNOTIFY-FIGURES kill -9: messages={len(mail.messages)} duplicates=0; "
              f"committed, server down: hub ready in {after_pending[0]:.2f}s, delivered "
              f"{after_pending[1]:.2f}s later; claimed, DATA held: hub ready in {after_claimed[0]:.2f}s, "
              f"delivered {after_claimed[1]:.2f}s later (lease 3 s)")


@pytest.mark.parametrize(("settings", "expected"), [
    ({"HOST": "smtp.hopital.example", "SECURITY": "none", "SENDER": "orient@hopital.mssante.fr"},
     "ORIENT_SMTP_SECURITY=none (sans chiffrement) n'est permis que vers cette machine"),
    ({"HOST": "smtp.hopital.example", "SECURITY": "ssl", "SENDER": "orient@hopital.mssante.fr"},
     "ORIENT_SMTP_SECURITY « ssl » : starttls, tls ou none attendu"),
    ({"HOST": "smtp.hopital.example"}, "ORIENT_SMTP_SENDER : l'adresse d'expédition"),
    ({"HOST": "smtp.hopital.example", "SENDER": "orient@hopital.mssante.fr", "USER": "orient",
      "PASSWORD_FILE": "/nonexistent/smtp-password"}, "ORIENT_SMTP_PASSWORD_FILE « /nonexistent/smtp-password » illisible"),
    ({"HOST": "smtp.hopital.example", "SENDER": "orient@hopital.mssante.fr", "PORT": "vingt-cinq"},
     "ORIENT_SMTP_PORT « vingt-cinq » : un nombre entier attendu"),
])
def test_a_bad_mail_setting_stops_orient_serve_with_a_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: dict[str, str], expected: str) -> None:
    for name, value in settings.items():
        monkeypatch.setenv(f"ORIENT_SMTP_{name}", value)
    result = orient("serve", "--db", str(tmp_path / "hub.db"), "--port", str(free_port()), timeout=60)
    assert result.returncode == 2, result
    assert result.stderr.startswith("orient serve : Réglages de messagerie (SMTP) refusés : ")
    assert expected in result.stderr, result.stderr
    assert not (tmp_path / "hub.db").exists()  # refused before anything was made


def test_serve_help_lists_the_mail_settings() -> None:
    shown = orient("serve", "--help")
    assert shown.returncode == 0
    for name in ("ORIENT_SMTP_HOST", "ORIENT_SMTP_SECURITY", "ORIENT_SMTP_PASSWORD_FILE", "ORIENT_SMTP_SENDER",
                 "ORIENT_SMTP_MSSANTE_DOMAINS", "ORIENT_SMTP_CONFIG", "jamais en argument"):
        assert name in shown.stdout, name
