"""Rough edges of the TUI found while writing these tests, pinned by strict xfails until they
were fixed; they now guard the fixes (first proposal highlighted, current answer in French,
admission time in local time)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, SelectionList
from tui_helpers import (
    SIZE,
    bubble_texts,
    chat,
    make_app,
    make_embedded,
    prepared_dossier,
    run,
    settle,
    type_and_enter,
    wait_until,
)

from orient.assistant.embedded import Embedded
from orient.assistant.tui.formatting import answer_text
from orient.assistant.tui.screens.chat import ChatScreen
from orient.assistant.tui.screens.proposals import ProposalsScreen


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Embedded, Path, str]]:
    """A local hub with one dossier ready to sign (tests/scenarios/doctor_full.json)."""
    folder = tmp_path_factory.mktemp("known")
    embedded = make_embedded(folder)
    dossier_id, report = run(prepared_dossier(embedded))
    assert report["status"] == "ready"
    yield embedded, folder, dossier_id
    embedded.close()


async def resumed(pilot: Pilot[Any], dossier_id: str) -> ChatScreen:
    await settle(pilot)
    await pilot.press("1")
    await settle(pilot)
    await pilot.press("r")
    await settle(pilot)
    table = pilot.app.screen.query_one(DataTable)
    await wait_until(pilot, lambda: table.row_count == 1, what="the dossier")
    await pilot.press("enter")
    await settle(pilot)
    screen = chat(pilot)
    assert screen.dossier_id == dossier_id
    await wait_until(pilot, lambda: screen.status == "ready", what="the resumed dossier")
    return screen


def test_first_space_checks_the_first_proposal(ready: tuple[Embedded, Path, str]) -> None:
    embedded, folder, dossier_id = ready

    async def scenario() -> None:
        app = make_app(embedded, folder)
        async with app.run_test(size=SIZE) as pilot:
            await resumed(pilot, dossier_id)
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
            screen = await resumed(pilot, dossier_id)
            await type_and_enter(pilot, "/modifier Date de naissance")
            assert screen.question is not None and screen.question["field"] == "patient.birth_date"
            last = bubble_texts(screen, "assistant")[-1]
            assert "Réponse actuelle : 12/03/1938" in last, last

    run(scenario())


@pytest.fixture
def paris(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time zone set to Europe/Paris (the TUI shows local times)."""
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_dashboard_admission_time_is_paris_time(paris: None) -> None:
    # accepted for 27/11/2026 16:17, Paris time (UTC+1): the hub answers in UTC
    referral = {"status": "accepted", "admission_at": "2026-11-27T15:17:00Z", "contact": "Dr X"}
    assert answer_text(referral) == "admission le 27/11/2026 à 16:17 — contact : Dr X"
    summer = {"status": "accepted", "admission_at": "2026-07-01T06:05:00+00:00", "contact": "Poste 4"}
    assert "01/07/2026 à 08:05" in answer_text(summer)  # UTC+2 in summer
