"""Rough edges of the TUI found while writing these tests, each pinned by a strict xfail: the
test states the expected behaviour, so it starts failing ("XPASS(strict)") the day the issue is
fixed — then remove its xfail mark."""

from __future__ import annotations

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
from orient.assistant.tui.chat import ChatScreen
from orient.assistant.tui.screens import ProposalsScreen, answer_text


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


@pytest.mark.xfail(strict=True, reason="ProposalsScreen (screens.py): no unit is highlighted when "
                   "the list shows, so the first Space checks nothing; an arrow key is needed first")
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
            assert units.selected == [units.get_option_at_index(0).value]

    run(scenario())


@pytest.mark.xfail(strict=True, reason="ChatScreen.question_text (chat.py): « Réponse actuelle » "
                   "shows the stored value (1938-03-12, False, within_24h, cardiology, []) instead "
                   "of what the person typed or its French label")
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


@pytest.mark.xfail(strict=True, reason="answer_text (screens.py) shows the admission time as the "
                   "hub sends it, in UTC and ISO order, on the doctor's dashboard")
def test_dashboard_admission_time_is_paris_time() -> None:
    # accepted for 27/11/2026 16:17, Paris time (UTC+1): the hub answers in UTC
    referral = {"status": "accepted", "admission_at": "2026-11-27T15:17:00Z", "contact": "Dr X"}
    assert "27/11/2026 à 16:17" in answer_text(referral)
