"""Statistics of referrals the unit and the requester can act on (spec/lifecycle.md): how long
units take to read and to answer (median, 90th percentile), how often they accept, why they
refuse, how many referrals wait past their deadline; per unit and per month (Europe/Paris).

Computed in Python from the referral table, so that SQLite and PostgreSQL give the same figures.
Only timestamps, statuses and reason codes are read: never a reason's free text, a question or an
answer, which may hold medical content.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from orient.assistant.store.referrals import REFERRAL, aware, overdue
from orient.assistant.store.tables import ReferralRow
from orient.models.lifecycle import ReferralStatus

PARIS = ZoneInfo("Europe/Paris")
R = ReferralStatus
ACCEPTED = {R.ACCEPTED.value, R.ADMITTED.value, R.CLOSED.value}  # accepted, whatever came after
COLUMNS = (REFERRAL.c.unit_id, REFERRAL.c.owner_rpps, REFERRAL.c.status, REFERRAL.c.reason,
           REFERRAL.c.timing, REFERRAL.c.sent_at, REFERRAL.c.read_at, REFERRAL.c.answered_at,
           REFERRAL.c.deadline_at, REFERRAL.c.question)


class StatsError(ValueError):
    """A refused statistics request (a bad month, an empty period); the message is French."""


@dataclass(frozen=True)
class Delay:
    count: int
    median_minutes: float | None
    p90_minutes: float | None


def percentile(values: list[float], q: float) -> float:
    """The q-quantile with linear interpolation between the closest ranks (as numpy's default)."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def delay(minutes: list[float]) -> Delay:
    if not minutes:
        return Delay(0, None, None)
    return Delay(len(minutes), round(statistics.median(minutes), 2), round(percentile(minutes, 0.9), 2))


@dataclass
class Figures:
    """What a set of referrals says about the units that received them."""

    sent: int = 0
    read: int = 0  # opened by the unit
    answered: int = 0  # a first answer: accepted, refused or information requested
    accepted: int = 0  # accepted (then perhaps admitted, closed)
    refused: int = 0
    info_requested: int = 0  # the unit asked the requester a question (at least once)
    cancelled: int = 0  # by the requester, or because another unit accepted
    overdue: int = 0  # still waiting to be read or answered, past the deadline, now
    answered_late: int = 0  # first answer given after the deadline
    refused_by_reason: dict[str, int] = field(default_factory=dict)
    answer_minutes: list[float] = field(default_factory=list)
    read_minutes: list[float] = field(default_factory=list)

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted among the referrals the unit decided on (accepted or refused)."""
        decided = self.accepted + self.refused
        return round(self.accepted / decided, 4) if decided else None

    @property
    def answer_delay(self) -> Delay:
        return delay(self.answer_minutes)

    @property
    def read_delay(self) -> Delay:
        return delay(self.read_minutes)

    def add(self, r: ReferralRow, now: datetime) -> None:
        sent = aware(r.sent_at)
        assert sent is not None
        self.sent += 1
        read, answered, deadline = aware(r.read_at), aware(r.answered_at), aware(r.deadline_at)
        if read is not None:
            self.read += 1
            self.read_minutes.append((read - sent).total_seconds() / 60)
        if answered is not None:
            self.answered += 1
            self.answer_minutes.append((answered - sent).total_seconds() / 60)
            if deadline is not None and answered > deadline:
                self.answered_late += 1
        if r.status in ACCEPTED:
            self.accepted += 1
        elif r.status == R.REFUSED.value:
            self.refused += 1
            reason = r.reason or "other"
            self.refused_by_reason[reason] = self.refused_by_reason.get(reason, 0) + 1
        elif r.status == R.CANCELLED.value:
            self.cancelled += 1
        if r.question:
            self.info_requested += 1
        if overdue(r, now):
            self.overdue += 1


@dataclass
class Stats:
    total: Figures
    by_unit: dict[str, Figures]
    by_month: dict[str, Figures]  # "2026-11" -> figures, every month of the period, in order
    by_unit_month: dict[tuple[str, str], Figures]
    by_status: dict[str, int]


def month_of(moment: datetime) -> str:
    """The month of a moment in French local time: "2026-11"."""
    return moment.astimezone(PARIS).strftime("%Y-%m")


def parse_month(text: str | None, what: str) -> str | None:
    """A month written YYYY-MM (`what` names the filter in the error)."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    try:
        parsed = datetime.strptime(value, "%Y-%m")
    except ValueError:
        raise StatsError(f"Mois « {value} » illisible pour « {what} » : écrivez-le AAAA-MM, "
                         "par exemple 2026-11.") from None
    if not 2000 <= parsed.year <= 2100 or len(value) != 7:
        raise StatsError(f"Mois « {value} » hors de portée pour « {what} » : écrivez-le AAAA-MM, "
                         "par exemple 2026-11.")
    return value


def months_between(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def referrals(session: Session, *, unit_ids: Iterable[str] | None = None,
              owners: Iterable[str] | None = None) -> list[ReferralRow]:
    """The referrals to these units (None: any) of these requesting doctors (None: any)."""
    query = select(*COLUMNS)
    if unit_ids is not None:
        query = query.where(REFERRAL.c.unit_id.in_(list(unit_ids)))
    if owners is not None:
        query = query.where(REFERRAL.c.owner_rpps.in_(list(owners)))
    return [ReferralRow.model_construct(**dict(row._mapping)) for row in session.connection().execute(query)]


def compute(rows: Iterable[ReferralRow], now: datetime, *, first: str | None = None,
            last: str | None = None) -> Stats:
    """The figures of the referrals sent within the months `first`..`last` (inclusive; None: no
    bound), overall, per unit, per month and per unit and month."""
    total, by_status = Figures(), dict[str, int]()
    by_unit: dict[str, Figures] = {}
    by_month: dict[str, Figures] = {}
    by_unit_month: dict[tuple[str, str], Figures] = {}
    for r in rows:
        sent = aware(r.sent_at)
        if sent is None:
            continue
        month = month_of(sent)
        if (first and month < first) or (last and month > last):
            continue
        total.add(r, now)
        by_unit.setdefault(r.unit_id, Figures()).add(r, now)
        by_month.setdefault(month, Figures()).add(r, now)
        by_unit_month.setdefault((r.unit_id, month), Figures()).add(r, now)
        by_status[r.status] = by_status.get(r.status, 0) + 1
    if by_month:  # every month from the first to the last with referrals (those between too)
        span = months_between(min(by_month), max(by_month))
        by_month = {m: by_month.get(m) or Figures() for m in span}
    return Stats(total, by_unit, by_month, by_unit_month, by_status)
