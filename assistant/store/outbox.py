"""The notification outbox (spec: issue 13, "never lost, never twice").

A notification is a row of `notify_outbox`, written in the transaction of the event that causes
it (referrals.py calls `referral_event`), unique per (event, address): a repeated or concurrent
writer adds nothing. The worker (notify/worker.py) claims due rows, sends them and marks them
sent; a row it claimed but never marked (a crash) is taken again when its lease ends.

Writing happens only for a database whose hub has e-mail on (`install`): without SMTP settings,
no row is ever written and nothing changes.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from orient.assistant.store.tables import (
    NotifyOutboxRow,
    NotifyOverdueRow,
    NotifySubscriptionRow,
    ReferralRow,
)

OUTBOX = NotifyOutboxRow.__table__  # type: ignore[attr-defined]
OVERDUE = NotifyOverdueRow.__table__  # type: ignore[attr-defined]
SUBSCRIPTION = NotifySubscriptionRow.__table__  # type: ignore[attr-defined]
STATUSES = ("pending", "sending", "sent", "failed")


@dataclass(frozen=True)
class ReferralEvent:
    """Something that happened to a referral: `kind` is sent, cancelled, overdue, read,
    accepted, refused, info_requested or info_answered."""

    kind: str
    referral: ReferralRow
    at: datetime

    @property
    def key(self) -> str:
        if self.kind == "overdue":
            return f"{self.referral.id}:overdue"
        return f"{self.referral.id}:{self.kind}:{self.referral.version}"


@dataclass(frozen=True)
class Message:
    """A message to write: whom to, at which level of detail, and its text."""

    recipient: str
    address: str
    level: str
    subject: str
    body: str


Composer = Callable[[Session, ReferralEvent], list[Message]]
_COMPOSERS: weakref.WeakKeyDictionary[Engine, Composer] = weakref.WeakKeyDictionary()
_WAKERS: weakref.WeakKeyDictionary[Engine, Callable[[], None]] = weakref.WeakKeyDictionary()


def install(engine: Engine, composer: Composer, wake: Callable[[], None] | None = None) -> None:
    """Notifications on for this database engine: each referral event is composed and written;
    `wake` is called once a transaction that wrote messages has committed."""
    _COMPOSERS[engine] = composer
    if wake is not None:
        _WAKERS[engine] = wake


def uninstall(engine: Engine) -> None:
    _COMPOSERS.pop(engine, None)
    _WAKERS.pop(engine, None)


def kind_of(previous: str, new: str) -> str | None:
    """The notification kind of a status change (None: nobody is told)."""
    if new == "read":
        return "info_answered" if previous == "info_requested" else "read"
    if new in ("cancelled", "accepted", "refused", "info_requested"):
        return new
    return None


def referral_event(session: Session, kind: str | None, referral: ReferralRow, at: datetime) -> None:
    """Write the event's messages in the caller's transaction (when notifications are on)."""
    if kind is None or not _COMPOSERS:
        return
    composer = _COMPOSERS.get(session.get_bind())  # type: ignore[arg-type]
    if composer is None:
        return
    event = ReferralEvent(kind, referral, at)
    if write(session, event, composer(session, event)):
        wake = _WAKERS.get(session.get_bind())  # type: ignore[arg-type]
        if wake is not None:
            sa_event.listen(session, "after_commit", lambda _s: wake(), once=True)


def write(session: Session, event: ReferralEvent, messages: list[Message]) -> int:
    """Insert the messages not already there for this event (unique per event and address)."""
    conn = session.connection()
    keyed = event.key
    seen = {r.address for r in conn.execute(select(OUTBOX.c.address).where(OUTBOX.c.event_key == keyed))}
    rows = []
    for m in messages:
        address = m.address.strip().casefold()
        if address in seen:
            continue
        seen.add(address)
        rows.append({"id": str(uuid4()), "event_key": keyed, "kind": event.kind,
                     "referral_id": event.referral.id, "recipient": m.recipient, "address": address,
                     "level": m.level, "subject": m.subject, "body": m.body, "status": "pending",
                     "attempts": 0, "next_at": datetime.now(UTC), "created_at": event.at})
    if rows:
        conn.execute(insert(OUTBOX), rows)
    return len(rows)


# -- overdue --------------------------------------------------------------------------------
def notice_overdue(session: Session, referral_id: str, now: datetime) -> bool:
    """Record that the referral was noticed overdue; False when it already was (another worker
    or an earlier round). In the caller's transaction, which then writes the messages."""
    conn = session.connection()
    if conn.execute(select(OVERDUE.c.referral_id).where(OVERDUE.c.referral_id == referral_id)).first():
        return False
    try:
        with conn.begin_nested():
            conn.execute(insert(OVERDUE).values(referral_id=referral_id, noticed_at=now))
    except IntegrityError:
        return False
    return True


def overdue_candidates(session: Session, now: datetime, limit: int = 200) -> list[str]:
    """Referrals still waiting for the unit (sent, read) past their deadline, not yet noticed."""
    ref = ReferralRow.__table__  # type: ignore[attr-defined]
    query = (select(ref.c.id).outerjoin(OVERDUE, OVERDUE.c.referral_id == ref.c.id)
             .where(ref.c.status.in_(("sent", "read")), ref.c.deadline_at < now,
                    OVERDUE.c.referral_id.is_(None))
             .order_by(ref.c.deadline_at).limit(limit))
    return [r.id for r in session.connection().execute(query)]


# -- the worker's side -------------------------------------------------------------------------
def due(session: Session, now: datetime, limit: int) -> list[str]:
    """Ids of messages to send now: pending and due, or claimed by a worker whose lease ended."""
    query = (select(OUTBOX.c.id).where(or_(
        and_(OUTBOX.c.status == "pending", OUTBOX.c.next_at <= now),
        and_(OUTBOX.c.status == "sending", OUTBOX.c.lease_until < now)))
        .order_by(OUTBOX.c.next_at, OUTBOX.c.created_at).limit(limit))
    return [r.id for r in session.connection().execute(query)]


def claim(session: Session, row_id: str, now: datetime, lease: timedelta) -> dict[str, Any] | None:
    """Take one message for sending (one worker wins, across processes); None if another did.
    The caller commits before talking to the mail server."""
    done = session.connection().execute(
        update(OUTBOX).where(OUTBOX.c.id == row_id, or_(
            and_(OUTBOX.c.status == "pending", OUTBOX.c.next_at <= now),
            and_(OUTBOX.c.status == "sending", OUTBOX.c.lease_until < now)))
        .values(status="sending", lease_until=now + lease, attempts=OUTBOX.c.attempts + 1))
    if done.rowcount != 1:
        return None
    row = session.connection().execute(select(OUTBOX).where(OUTBOX.c.id == row_id)).first()
    return dict(row._mapping) if row else None


def mark_sent(session: Session, row_id: str, now: datetime) -> None:
    """Sent: the text (which may hold patient data) is not kept once the server has it."""
    session.connection().execute(update(OUTBOX).where(OUTBOX.c.id == row_id).values(
        status="sent", sent_at=now, lease_until=None, last_error=None, subject="", body=""))


def mark_retry(session: Session, row_id: str, next_at: datetime, error: str) -> None:
    session.connection().execute(update(OUTBOX).where(OUTBOX.c.id == row_id).values(
        status="pending", next_at=next_at, lease_until=None, last_error=error[:300]))


def mark_failed(session: Session, row_id: str, error: str) -> None:
    session.connection().execute(update(OUTBOX).where(OUTBOX.c.id == row_id).values(
        status="failed", lease_until=None, last_error=error[:300]))


def retry(session: Session, row_id: str, now: datetime) -> bool:
    """An admin sends a failed message again (its attempts start over)."""
    done = session.connection().execute(
        update(OUTBOX).where(OUTBOX.c.id == row_id, OUTBOX.c.status == "failed")
        .values(status="pending", next_at=now, attempts=0, lease_until=None))
    return done.rowcount == 1


def listing(session: Session, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Messages as the admin sees them: ids, kind, recipient, status, attempts, error; never the
    subject or the body (they may hold patient data)."""
    cols = [OUTBOX.c.id, OUTBOX.c.kind, OUTBOX.c.referral_id, OUTBOX.c.recipient, OUTBOX.c.address,
            OUTBOX.c.level, OUTBOX.c.status, OUTBOX.c.attempts, OUTBOX.c.next_at, OUTBOX.c.last_error,
            OUTBOX.c.created_at, OUTBOX.c.sent_at]
    query = select(*cols).order_by(OUTBOX.c.created_at.desc()).limit(limit)
    if status:
        query = query.where(OUTBOX.c.status == status)
    return [dict(r._mapping) for r in session.connection().execute(query)]


def counts(session: Session) -> dict[str, int]:
    from sqlalchemy import func

    rows = session.connection().execute(select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status))
    return {status: int(n) for status, n in rows}


# -- subscriptions -------------------------------------------------------------------------------
def subscription(session: Session, subject: str) -> NotifySubscriptionRow | None:
    return session.get(NotifySubscriptionRow, subject)


def save_subscription(session: Session, subject: str, *, by: str, now: datetime,
                      **values: Any) -> NotifySubscriptionRow:
    """Set some of address, events, copy_secretary (in the caller's transaction)."""
    row = session.get(NotifySubscriptionRow, subject)
    if row is None:
        row = NotifySubscriptionRow(subject=subject, updated_at=now, updated_by=by)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at, row.updated_by = now, by
    session.add(row)
    session.flush()
    return row
