"""Rough edges of the TUI found while writing these tests, pinned by strict xfails until they
were fixed; they now guard the fixes (first proposal highlighted, current answer in French,
admission time in local time)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import SelectionList
from tui_helpers import (
    SIZE,
    bubble_texts,
    make_app,
    reopen,
    run,
    settle,
    type_and_enter,
    wait_until,
)

from orient.assistant.embedded import Embedded
from orient.assistant.tui.formatting import answer_text
from orient.assistant.tui.screens.proposals import ProposalsScreen


def test_first_space_checks_the_first_proposal(ready: tuple[Embedded, Path, str]) -> None:
    embedded, folder, dossier_id = ready

    async def scenario() -> None:
        app = make_app(embedded, folder)
        async with app.run_test(size=SIZE) as pilot:
            await reopen(pilot, dossier_id)
            await pilot.press("f7")
            await settle(pilot)
            assert isinstance(app.screen, ProposalsScreen)
            units = app.screen.query_one("#units", SelectionList)
            await wait_until(pilot, lambda: units.option_count > 0, what="the proposals")
            await pilot.press("space")
            await settle(pilot)
            # the first option is the heading of the first group, the unit comes next
            assert units.get_option_at_index(0).disabled
            assert units.selected == [units.get_option_at_index(1).value]

    run(scenario())


def test_current_answer_is_shown_in_french(ready: tuple[Embedded, Path, str]) -> None:
    embedded, folder, dossier_id = ready

    async def scenario() -> None:
        app = make_app(embedded, folder)
        async with app.run_test(size=SIZE) as pilot:
            screen = await reopen(pilot, dossier_id)
            await type_and_enter(pilot, "/modifier Date de naissance")
            assert screen.question is not None and screen.question["field"] == "patient.birth_date"
            last = bubble_texts(screen, "assistant")[-1]
            assert "Réponse actuelle : 12/03/1938" in last, last

    run(scenario())


@pytest.fixture
def elsewhere(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's own time zone is not Paris's: the TUI shows Paris time all the same."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_dashboard_admission_time_is_paris_time(elsewhere: None) -> None:
    # accepted for 27/11/2026 16:17, Paris time (UTC+1): the hub answers in UTC
    referral = {"status": "accepted", "admission_at": "2026-11-27T15:17:00Z", "contact": "Dr X"}
    assert answer_text(referral) == "admission le 27/11/2026 à 16:17 — contact : Dr X"
    summer = {"status": "accepted", "admission_at": "2026-07-01T06:05:00+00:00", "contact": "Poste 4"}
    assert "01/07/2026 à 08:05" in answer_text(summer)  # UTC+2 in summer
