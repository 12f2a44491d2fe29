"""The signing code locks after wrong codes (docs/security.md, finding 5).

After MAX_FAILURES wrong codes in a row the code is locked for DELAYS[0]; every further wrong code
once the lock has ended locks it again for the next delay (1 min, 5 min, 15 min, 1 h, 4 h, then
24 h each time). While locked even the right code is refused. A right code resets the count. The
state is a row of `signing_lock`, read with a row lock inside the signing transaction, so that it
survives restarts and holds across hub processes on PostgreSQL; an admin lists the locked accounts
and may lift a lock (audited).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlmodel import Session

from orient.assistant.store.tables import SigningLockRow, UserRow

MAX_FAILURES = 5
DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1),
          timedelta(hours=4), timedelta(hours=24))
LOCK = SigningLockRow.__table__  # type: ignore[attr-defined]
USER = UserRow.__table__  # type: ignore[attr-defined]


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def wait_text(delta: timedelta) -> str:
    """« 4 min », « 1 h », « 3 h 20 min » (rounded up to the minute)."""
    minutes = max(1, math.ceil(delta.total_seconds() / 60))
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest:02d} min" if rest else "")


def locked_message(failures: int, until: datetime, now: datetime) -> str:
    return f"Code bloqué après {failures} erreurs : réessayez dans {wait_text(until - now)}."


@dataclass(frozen=True)
class LockState:
    failures: int
    locked_until: datetime | None
    stored: bool = False  # a row exists

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


def state(session: Session, user_id: str, *, for_update: bool = False) -> LockState:
    query = select(LOCK.c.failures, LOCK.c.locked_until).where(LOCK.c.user_id == user_id)
    row = session.connection().execute(query.with_for_update() if for_update else query).first()
    if row is None:
        return LockState(0, None)
    return LockState(row.failures, _aware(row.locked_until), True)


def _save(session: Session, user_id: str, failures: int, until: datetime | None, now: datetime,
          existed: bool) -> None:
    conn = session.connection()
    if existed:
        conn.execute(update(LOCK).where(LOCK.c.user_id == user_id)
                     .values(failures=failures, locked_until=until, updated_at=now))
    else:
        conn.execute(insert(LOCK).values(user_id=user_id, failures=failures, locked_until=until,
                                         updated_at=now))


@dataclass(frozen=True)
class Attempt:
    ok: bool  # the code was right and not locked
    message: str | None = None  # French, when refused
    locked_now: datetime | None = None  # this wrong code locked the code until then
    failures: int = 0
    was_locked: bool = False  # refused without trying the code: it is locked


def attempt(session: Session, user_id: str, code_ok: bool, now: datetime) -> Attempt:
    """Record a signing attempt (inside the caller's transaction, the row locked)."""
    current = state(session, user_id, for_update=True)
    existed = current.stored
    if current.locked(now):
        assert current.locked_until is not None
        return Attempt(False, locked_message(current.failures, current.locked_until, now),
                       failures=current.failures, was_locked=True)
    if code_ok:
        if current.failures or current.locked_until:
            _save(session, user_id, 0, None, now, existed)
        return Attempt(True)
    failures = current.failures + 1
    if failures < MAX_FAILURES:
        _save(session, user_id, failures, None, now, existed)
        left = MAX_FAILURES - failures
        return Attempt(False, f"Code personnel incorrect : signature refusée ({left} essai"
                              f"{'s' if left > 1 else ''} avant blocage).", failures=failures)
    until = now + DELAYS[min(failures - MAX_FAILURES, len(DELAYS) - 1)]
    _save(session, user_id, failures, until, now, existed)
    return Attempt(False, "Code personnel incorrect : signature refusée. "
                          + locked_message(failures, until, now), locked_now=until, failures=failures)


@dataclass(frozen=True)
class Locked:
    user_id: str
    name: str
    rpps: str | None
    failures: int
    locked_until: datetime


def locked_accounts(session: Session, now: datetime) -> list[Locked]:
    """Accounts whose signing code is locked now."""
    query = (select(LOCK.c.user_id, USER.c.name, USER.c.rpps, LOCK.c.failures, LOCK.c.locked_until)
             .join(USER, USER.c.id == LOCK.c.user_id).where(LOCK.c.locked_until > now)
             .order_by(LOCK.c.locked_until))
    out = []
    for row in session.connection().execute(query):
        until = _aware(row.locked_until)
        assert until is not None
        out.append(Locked(row.user_id, row.name, row.rpps, row.failures, until))
    return out


def unlock(session: Session, user_id: str, now: datetime) -> bool:
    """Lift a lock and reset the count; False when the account was not locked."""
    current = state(session, user_id, for_update=True)
    if not current.locked(now):
        return False
    session.connection().execute(update(LOCK).where(LOCK.c.user_id == user_id)
                                 .values(failures=0, locked_until=None, updated_at=now))
    return True
