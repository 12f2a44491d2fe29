"""Times as people read them: French local time (Europe/Paris, whatever the machine's own zone)
written `03/12/2026 08:22`. The hub stores and answers UTC; every screen, letter and message
converts through here. No I/O (the zone data ships with Python or the `tzdata` package)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def moment_of(value: datetime | str) -> datetime:
    """An aware moment from a datetime or an ISO 8601 text; a naive one is UTC (what the
    database gives back on SQLite). Raises ValueError for a text that is not ISO 8601."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def paris(value: datetime | str) -> datetime:
    """The moment in French local time."""
    return moment_of(value).astimezone(PARIS)


def paris_now() -> datetime:
    return datetime.now(PARIS)


def paris_today() -> date:
    return paris_now().date()


def fr_datetime(value: datetime | str | None, joiner: str = " ") -> str:
    """`03/12/2026 08:22` in French local time (`joiner=" à "` inside a sentence); "" for
    nothing, and a text that is not a date is returned as it is."""
    if value is None or value == "":
        return ""
    try:
        moment = paris(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{moment:%d/%m/%Y}{joiner}{moment:%H:%M}"


def fr_date(value: datetime | str | None) -> str:
    """`03/12/2026`, the French local date of a moment."""
    if value is None or value == "":
        return ""
    try:
        return f"{paris(value):%d/%m/%Y}"
    except (TypeError, ValueError):
        return str(value)


def read_fr_datetime(text: str) -> datetime:
    """A typed `jj/mm/aaaa hh:mm` as a moment in French local time; ValueError otherwise."""
    return datetime.strptime(" ".join(text.split()), "%d/%m/%Y %H:%M").replace(tzinfo=PARIS)
