"""Times as people read them: Europe/Paris and `03/12/2026 08:22`, whatever the machine's zone
(the dossier list once showed `2026-12-03 07:22`, UTC, while the letter said 08:22)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from orient.dialogs.documents import render_letter_markdown
from orient.models.localtime import fr_date, fr_datetime, paris, read_fr_datetime


@pytest.fixture(autouse=True)
def machine_in_tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(("moment", "shown"), [
    ("2026-12-03T07:22:00+00:00", "03/12/2026 08:22"),  # winter: UTC+1
    ("2026-12-03T07:22:00Z", "03/12/2026 08:22"),
    ("2026-07-01T06:05:00+00:00", "01/07/2026 08:05"),  # summer: UTC+2
    ("2026-12-03T07:22:00", "03/12/2026 08:22"),  # naive: UTC, as the database gives it back
    (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "01/01/2027 00:30"),
    ("2026-03-29T01:30:00+00:00", "29/03/2026 03:30"),  # the night the clocks go forward
])
def test_paris_time_whatever_the_machines_zone(moment: object, shown: str) -> None:
    assert fr_datetime(moment) == shown  # type: ignore[arg-type]
    assert fr_datetime(moment, " à ") == shown.replace(" ", " à ")  # type: ignore[arg-type]


def test_nothing_and_non_dates() -> None:
    assert fr_datetime(None) == "" and fr_datetime("") == ""
    assert fr_datetime("bientôt") == "bientôt"
    assert fr_date("2026-12-31T23:30:00+00:00") == "01/01/2027"


def test_a_typed_time_is_paris_time() -> None:
    typed = read_fr_datetime("03/12/2026  08:22")
    assert typed.astimezone(UTC) == datetime(2026, 12, 3, 7, 22, tzinfo=UTC)
    assert paris(typed.isoformat()) == typed
    with pytest.raises(ValueError):
        read_fr_datetime("2026-12-03 08:22")


def test_the_letter_signs_in_paris_time() -> None:
    letter = render_letter_markdown({}, [], "2026-12-03T07:22:00+00:00", datetime(2026, 12, 3).date())
    assert "03/12/2026 à 08:22" in letter, letter
