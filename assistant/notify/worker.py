"""The worker that sends the outbox (store/outbox.py) by SMTP, in a thread of the hub.

Each round: referrals past their deadline are noticed (once: `notify_overdue`) and their
messages written; then the due messages are claimed, sent, and marked.

Never twice, and the one window left. A message is claimed (status `sending`, a lease, one more
attempt) and committed before the mail server is contacted, and marked `sent` in its own commit as
soon as the server has answered 250 to its DATA. A claimed message whose worker died is taken
again when its lease ends. So a message the server accepted is sent again only if the hub dies
between the server's 250 and the commit of `sent` (a few milliseconds); it then goes out with the
same Message-ID (`<notify-ROW-ID@domain>`, from the outbox row), by which the receiving side can
drop the copy. A message the server did not accept (connection lost, 4xx) is retried with
exponential back-off; a permanent refusal (5xx) or too many attempts mark it `failed`, shown to the
admin (`GET /admin/notifications?status=failed`, `orient notify list --status failed`) and audited
without patient data.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formatdate
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from orient.assistant.notify.compose import Composer
from orient.assistant.notify.settings import SmtpSettings
from orient.assistant.store import audit, outbox
from orient.assistant.store import referrals as referrals_store

log = logging.getLogger("orient.notify")
BATCH = 50
ACTOR = "notifications"


class Permanent(Exception):
    """The server refused the message for good (5xx): retrying would not help."""


def real_now() -> datetime:
    return datetime.now(UTC)


class Mailer:
    """Sends the outbox of one database. `clock` is the hub's (deadlines); retries and leases
    follow the real time."""

    def __init__(self, engine: Engine, settings: SmtpSettings,
                 clock: Callable[[], datetime] = real_now) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.composer = Composer(settings)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0

    # -- life ------------------------------------------------------------------------------
    def install(self) -> None:
        """Events of this database now write their messages (in their own transaction)."""
        outbox.install(self.engine, self.composer, self.wake)

    def start(self) -> None:
        self.install()
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="orient-notify", daemon=True)
            self._thread.start()
            log.info("notifications: worker started (smtp %s:%s, %s)", self.settings.host,
                     self.settings.smtp_port, self.settings.security)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.timeout_seconds + 5)
            self._thread = None
        outbox.uninstall(self.engine)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the worker never dies: the next round tries again
                log.exception("notifications: round failed")
                busy = False
            self.rounds += 1
            if not busy:
                self._wake.wait(self.settings.poll_seconds)
                self._wake.clear()

    # -- one round -------------------------------------------------------------------------
    def run_once(self) -> bool:
        """Notice overdue referrals, then send what is due. True when a full batch was sent
        (more may be waiting)."""
        self.notice_overdue()
        return self.send_due() >= BATCH

    def notice_overdue(self) -> int:
        now = self.clock().astimezone(UTC)
        noticed = 0
        with Session(self.engine) as session:
            candidates = outbox.overdue_candidates(session, now)
        for referral_id in candidates:
            with Session(self.engine) as session:
                ref = referrals_store.get(session, referral_id)
                if ref is None or not referrals_store.overdue(ref, now):
                    continue
                if outbox.notice_overdue(session, referral_id, now):
                    outbox.write(session, outbox.ReferralEvent("overdue", ref, now),
                                 self.composer(session, outbox.ReferralEvent("overdue", ref, now)))
                    noticed += 1
                session.commit()
        return noticed

    def send_due(self) -> int:
        now = real_now()
        lease = timedelta(seconds=self.settings.lease_seconds)
        claimed: list[dict[str, Any]] = []
        with Session(self.engine) as session:
            for row_id in outbox.due(session, now, BATCH):
                row = outbox.claim(session, row_id, now, lease)
                if row is not None:
                    claimed.append(row)
            session.commit()  # claimed before the mail server hears of them
        if not claimed:
            return 0
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            error = describe(exc)
            log.warning("notifications: mail server unreachable (%s); %d message(s) wait", error, len(claimed))
            for row in claimed:
                self._failed_attempt(row, error, permanent=False)
            return 0
        sent = 0
        try:
            for i, row in enumerate(claimed):
                try:
                    self._send(smtp, row)
                except Permanent as exc:
                    self._failed_attempt(row, str(exc), permanent=True)
                    continue
                except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
                    # the connection is lost or the server refused for now: this one and the rest
                    # wait for the next round
                    error = describe(exc)
                    for rest in claimed[i:]:
                        self._failed_attempt(rest, error, permanent=False)
                    break
                self._mark_sent(row)
                sent += 1
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException, ssl.SSLError):
                smtp.close()
        return sent

    # -- SMTP ------------------------------------------------------------------------------
    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.settings.ca_file is not None:
            context.load_verify_locations(cafile=str(self.settings.ca_file))
        return context

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        timeout = s.timeout_seconds
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(s.host, s.smtp_port, timeout=timeout, context=self._context())
        else:
            smtp = smtplib.SMTP(s.host, s.smtp_port, timeout=timeout)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.secret())
        except BaseException:
            smtp.close()
            raise
        return smtp

    def message(self, row: dict[str, Any]) -> MIMEText:
        # email.header.Header keeps the spaces of a long French subject (the default policy's
        # refolding drops the one between two encoded words)
        msg = MIMEText(row["body"], "plain", "utf-8")
        domain = self.settings.sender.rpartition("@")[2] or "orient.invalid"
        msg["From"] = self.settings.sender
        msg["To"] = row["address"]
        msg["Subject"] = Header(row["subject"], "utf-8")  # type: ignore[assignment]
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        # the same for every attempt of this row: a receiving side drops a second copy by it
        msg["Message-ID"] = f"<notify-{row['id']}@{domain}>"
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Orient-Notification"] = row["kind"]
        return msg

    def _send(self, smtp: smtplib.SMTP, row: dict[str, Any]) -> None:
        try:
            refused = smtp.send_message(self.message(row), from_addr=self.settings.sender,
                                        to_addrs=[row["address"]])
        except smtplib.SMTPRecipientsRefused as exc:
            code, answer = next(iter(exc.recipients.values()))
            if 500 <= code < 600:
                raise Permanent(f"destinataire refusé : {code} {short(answer)}") from None
            raise smtplib.SMTPResponseException(code, answer) from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            if 500 <= exc.smtp_code < 600:
                raise Permanent(f"message refusé : {exc.smtp_code} {short(exc.smtp_error)}") from None
            raise
        if refused:  # one recipient only: refused means not sent
            code, answer = next(iter(refused.values()))
            raise Permanent(f"destinataire refusé : {code} {short(answer)}")

    # -- marks -----------------------------------------------------------------------------
    def _mark_sent(self, row: dict[str, Any]) -> None:
        now = real_now()
        with Session(self.engine) as session:
            outbox.mark_sent(session, row["id"], now)
            audit.append(session, [audit.AuditRecord(
                event="notification_sent", actor=ACTOR, role="system",
                detail=f"{row['id']}: {row['kind']} -> {row['recipient']} ({row['level']})")], at=now)
            session.commit()

    def _failed_attempt(self, row: dict[str, Any], error: str, permanent: bool) -> None:
        now = real_now()
        attempts = int(row["attempts"])
        with Session(self.engine) as session:
            if permanent or attempts >= self.settings.max_attempts:
                outbox.mark_failed(session, row["id"], error)
                audit.append(session, [audit.AuditRecord(
                    event="notification_failed", actor=ACTOR, role="system",
                    detail=f"{row['id']}: {row['kind']} -> {row['recipient']}, {attempts} essai(s) : "
                           f"{error}"[:500])], at=now)
                log.warning("notifications: %s failed after %d attempt(s): %s", row["id"], attempts, error)
            else:
                delay = min(self.settings.retry_seconds * 2 ** (attempts - 1), self.settings.retry_max_seconds)
                outbox.mark_retry(session, row["id"], now + timedelta(seconds=delay), error)
            session.commit()


def short(answer: bytes | str) -> str:
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
    return " ".join(text.split())[:200]


def describe(exc: BaseException) -> str:
    """A mail error in a few words, for the admin (no message content in it)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"authentification refusée par le serveur ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"réponse du serveur : {exc.smtp_code} {short(exc.smtp_error)}"
    if isinstance(exc, ConnectionRefusedError):
        return "connexion refusée par le serveur de messagerie"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "pas de réponse du serveur de messagerie (délai dépassé)"
    if isinstance(exc, ssl.SSLError):
        return f"échec TLS : {exc.reason or exc}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "connexion interrompue par le serveur de messagerie"
    return f"{type(exc).__name__} : {exc}"[:200]


def mailer_from_env(hub: Any) -> Mailer | None:
    """The hub's mailer from ORIENT_SMTP_* (or the file ORIENT_SMTP_CONFIG names), installed on
    its database (events write their messages from now on); None when no host is set. Raises
    NotifySettingsError (French) on a bad setting."""
    from orient.assistant.notify.settings import load_settings

    settings = load_settings()
    if not settings.enabled:
        return None
    mailer = Mailer(hub.db, settings, clock=hub.clock)
    mailer.install()
    return mailer
