"""Screenshots of the TUI compared with accepted ones (pytest-textual-snapshot): the first
question, a refused answer, the review (F6), the proposals (F7) and the dashboard.

The accepted SVGs are in __snapshots__/test_snapshots/; after a deliberate change of the
screens, look at the report (snapshot_report.html) and accept with
`pytest tests/tui/test_snapshots.py --snapshot-update`.

What could change from run to run is kept out: no dossier id is shown; the dashboard's waiting
time is "0 min" (the dossier is sent seconds before, at the module's start); the first proposal
is highlighted and its reasons show when the demo beds were declared, set to a fixed time;
the input's cursor does not blink; nothing is typed before the local hub is ready (no
"Préparation…" notification).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

pytest.importorskip("pytest_textual_snapshot")

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Markdown, SelectionList
from tui_helpers import (
    SIZE,
    chat,
    error_text,
    make_app,
    make_embedded,
    prepared_dossier,
    run,
    settle,
    type_and_enter,
    wait_until,
)

from orient.assistant.embedded import Embedded
from orient.assistant.tui.screens.chat import ChatScreen
from orient.assistant.tui.screens.dashboard import DashboardScreen
from orient.assistant.tui.screens.proposals import ProposalsScreen
from orient.assistant.tui.screens.resume import ResumeScreen
from orient.assistant.tui.screens.review import ReviewScreen

Before = Callable[[Pilot[Any]], Any]
DECLARED_AT = "2026-01-15T08:30:00+00:00"  # the demo beds' declaration, shown as 15/01 à 09:30


class World:
    """One local hub for the module: a dossier ready to sign and one sent to two units."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.embedded = make_embedded(folder)
        self.sent, _ = run(prepared_dossier(self.embedded, choose=[1, 2], sign=True, send=True))
        self.ready, report = run(prepared_dossier(self.embedded))
        assert report["status"] == "ready"
        # The demo beds are declared when the database is created: a fixed time instead, since the
        # highlighted proposal's reasons show it.
        with self.embedded.engine.begin() as conn:
            conn.execute(text("UPDATE unit SET availability_at = :at"), {"at": DECLARED_AT})
        self.embedded.hub.service.refresh_directory()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    found = World(tmp_path_factory.mktemp("snapshots"))
    yield found
    found.embedded.close()


async def steady(pilot: Pilot[Any]) -> None:
    """Nothing left to do, and the inputs' cursors shown steadily (no blinking)."""
    await settle(pilot)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await settle(pilot)


async def as_doctor(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    app: Any = pilot.app
    await wait_until(pilot, app._hub_ready.is_set, what="the local hub")
    await pilot.press("1")
    await settle(pilot)


async def first_question(pilot: Pilot[Any]) -> ChatScreen:
    """The demo doctor (1), a new dossier (n), its first question shown."""
    await as_doctor(pilot)
    await pilot.press("n")
    await settle(pilot)
    screen = chat(pilot)
    await wait_until(pilot, lambda: screen.question is not None, what="the first question")
    return screen


async def resume(pilot: Pilot[Any], dossier_id: str) -> None:
    """r, then the arrows down to the dossier's row, Enter."""
    await pilot.press("r")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ResumeScreen)
    table = screen.query_one(DataTable)
    await wait_until(pilot, lambda: table.row_count >= 2, what="the dossiers")
    for _ in range(table.row_count):
        if table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == dossier_id:
            break
        await pilot.press("down")
    await pilot.press("enter")
    await settle(pilot)
    screen = chat(pilot)
    await wait_until(pilot, lambda: screen.status == "ready", what="the resumed dossier")


def compare(snap_compare: Any, world: World, before: Before) -> bool:
    app = make_app(world.embedded, world.folder)
    return bool(snap_compare(app, terminal_size=SIZE, run_before=before))


def test_first_question(snap_compare: Any, world: World) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        screen = await first_question(pilot)
        assert screen.question is not None and screen.question["field"] == "request.red_flags"
        await steady(pilot)

    assert compare(snap_compare, world, before)


def test_refused_answer(snap_compare: Any, world: World) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        screen = await first_question(pilot)
        await type_and_enter(pilot, "42")
        assert "« Signes de gravité » : « 42 » n'est pas accepté" in error_text(screen)
        await steady(pilot)

    assert compare(snap_compare, world, before)


def test_review(snap_compare: Any, world: World) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await as_doctor(pilot)
        await resume(pilot, world.ready)
        await pilot.press("f6")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReviewScreen)
        review = screen.query_one("#review", Markdown)
        await wait_until(pilot, lambda: "Récapitulatif" in review.source, what="the review")
        await steady(pilot)

    assert compare(snap_compare, world, before)


def test_proposals(snap_compare: Any, world: World) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await as_doctor(pilot)
        await resume(pilot, world.ready)
        await pilot.press("f7")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ProposalsScreen)
        units = screen.query_one("#units", SelectionList)
        await wait_until(pilot, lambda: units.option_count > 20, what="the proposals")
        # The first unit, under its group's heading, is highlighted at once (its reasons show),
        # nothing checked. Checking units is tested by keys in test_doctor.py.
        assert units.highlighted == 1 and not units.selected
        await steady(pilot)

    assert compare(snap_compare, world, before)


def test_dashboard(snap_compare: Any, tmp_path: Path) -> None:
    # a world of its own: the other snapshots open new dossiers, which the dashboard would list,
    # and the waiting times shown stay at "0 min"
    world = World(tmp_path)
    async def before(pilot: Pilot[Any]) -> None:
        await as_doctor(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, DashboardScreen)
        table = screen.query_one("#referrals", DataTable)
        await wait_until(pilot, lambda: table.row_count == 4, what="the two dossiers and the two referrals")
        await steady(pilot)

    try:
        assert compare(snap_compare, world, before)
    finally:
        world.embedded.close()


def test_world_is_as_expected(world: World) -> None:
    """The module's dossiers (a guard, so that a failing snapshot is not a data problem)."""
    embedded: Embedded = world.embedded

    async def check() -> None:
        client = embedded.client("doctor")
        try:
            assert (await client.dossier(world.ready))["status"] == "ready"
            assert len(await client.dossier_referrals(world.sent)) == 2
        finally:
            await client.close()

    run(check())
