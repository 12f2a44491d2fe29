"""The statistics screen, driven by keys (issue 13): F9 from the doctor's dashboard shows the
figures of a world with known delays (stats_world.py); « / » then `/stats` from the unit's inbox
shows the unit's own; `/stats` in the chat; Enter on a unit shows its months; with no referral, or
none answered yet, a French sentence and no empty axes; `orient stats` prints the same figures.
Snapshots at 80x24 and 120x36.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stats_world import stats_world
from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from tui_helpers import (
    SIZE,
    make_app,
    make_embedded,
    prepared_dossier,
    run,
    settle,
    type_and_enter,
    wait_until,
)

from orient.assistant.embedded import Embedded
from orient.assistant.stats_text import NO_DATA
from orient.assistant.tui.screens.dashboard import DashboardScreen
from orient.assistant.tui.screens.inbox import InboxScreen
from orient.assistant.tui.screens.stats import NO_ANSWER, NO_DECISION, StatsScreen

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Embedded, Path]]:
    folder = tmp_path_factory.mktemp("stats")
    embedded, _ = stats_world(folder)
    yield embedded, folder
    embedded.close()


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render()).replace(NBSP, " ")


def table_rows(screen: StatsScreen) -> list[list[str]]:
    table = screen.query_one("#stats-units", DataTable)
    return [[str(cell).replace(NBSP, " ") for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def stats_shown(pilot: Pilot[Any]) -> StatsScreen:
    await settle(pilot)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, StatsScreen), what="the statistics screen")
    screen = pilot.app.screen
    assert isinstance(screen, StatsScreen)
    await wait_until(pilot, lambda: screen.body is not None, what="the figures")
    await settle(pilot)
    return screen


async def as_role(pilot: Pilot[Any], key: str) -> None:
    app: Any = pilot.app
    await settle(pilot)
    await wait_until(pilot, app._hub_ready.is_set, what="the local hub")
    await pilot.press(key)
    await settle(pilot)


def test_f9_on_the_dashboard_shows_the_doctors_figures(world: tuple[Embedded, Path]) -> None:
    embedded, folder = world

    async def scenario() -> None:
        app = make_app(embedded, folder)
        async with app.run_test(size=SIZE) as pilot:
            await as_role(pilot, "1")
            await pilot.press("d")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
            shown = app.screen.active_bindings["f9"].binding  # in the footer's list of keys
            assert shown.show and shown.description == "Statistiques"
            await pilot.press("f9")
            screen = await stats_shown(pilot)
            assert "mes demandes, depuis le début" in text_of(screen, "#stats-title")
            summary = text_of(screen, "#stats-summary")
            assert summary.startswith("6 envoyée(s) · 4 avec réponse · délai médian 1 h 02 "
                                      "(90 % en moins de 1 h 55)"), summary
            assert "acceptation 66,7 %" in summary and "1 en retard" in summary
            rows = table_rows(screen)
            # unit A: answers after 45, 130 and 25 min; unit B: after 80 min, one overdue
            assert [r[2:] for r in rows] == [["3", "45 min", "1 h 53", "50 %", "0"],
                                            ["3", "1 h 20", "1 h 20", "100 %", "1"]], rows
            assert screen.query_one("#stats-body").display
            assert "Pas de lit disponible : 1" in text_of(screen, "#stats-detail")
            # Enter on the first unit: its figures and months; F3 back to every unit
            await pilot.press("enter")
            await settle(pilot)
            await wait_until(pilot, lambda: screen.body and screen.body["unit"] is not None, what="one unit")
            await settle(pilot)
            assert [m["month"] for m in screen.body["months"]] == ["2026-10", "2026-11"]
            assert text_of(screen, "#stats-summary").startswith("3 envoyée(s) · 3 avec réponse · délai médian 45 min")
            assert "CLINIQUE RIVE GAUCHE" in text_of(screen, "#stats-title")
            await pilot.press("f3")
            await settle(pilot)
            await wait_until(pilot, lambda: screen.body and screen.body["unit"] is None, what="every unit")
            # F2: another period (the last 12 months from today: none of these 2026 referrals
            # may be in it, or all: only the title is checked)
            await pilot.press("f2")
            await settle(pilot)
            assert "12 derniers mois" in text_of(screen, "#stats-title")
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)

    run(scenario())


def test_slash_stats_in_the_inbox_shows_the_units_own_figures(world: tuple[Embedded, Path]) -> None:
    embedded, folder = world

    async def scenario() -> None:
        app = make_app(embedded, folder)
        async with app.run_test(size=SIZE) as pilot:
            await as_role(pilot, "3")
            await pilot.press("i")
            await settle(pilot)
            assert isinstance(app.screen, InboxScreen)
            await pilot.press("/")
            await settle(pilot)
            await type_and_enter(pilot, "/truc")
            await settle(pilot)
            assert isinstance(app.screen, InboxScreen)  # unknown: said in French, nothing opens
            await pilot.press("/")
            await settle(pilot)
            await type_and_enter(pilot, "/stats")
            screen = await stats_shown(pilot)
            assert "les demandes reçues par mes unités" in text_of(screen, "#stats-title")
            rows = table_rows(screen)
            assert len(rows) == 1 and "LA GRAVE" in rows[0][1] and rows[0][2:] == ["3", "1 h 20", "1 h 20",
                                                                                  "100 %", "1"]
            assert text_of(screen, "#stats-summary").startswith("3 envoyée(s) · 1 avec réponse")

    run(scenario())


def test_slash_stats_in_the_chat(world: tuple[Embedded, Path]) -> None:
    embedded, folder = world

    async def scenario() -> None:
        app = make_app(embedded, folder)
        async with app.run_test(size=SIZE) as pilot:
            await as_role(pilot, "1")
            await pilot.press("r")  # a dossier of the doctor, resumed: its chat
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            await type_and_enter(pilot, "/stats")
            screen = await stats_shown(pilot)
            assert text_of(screen, "#stats-summary").startswith("6 envoyée(s)")

    run(scenario())


def test_no_referral_yet_says_so_without_empty_plots(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await as_role(pilot, "1")
            await pilot.press("s")  # from the home screen
            screen = await stats_shown(pilot)
            assert text_of(screen, "#stats-summary") == NO_DATA
            assert not screen.query_one("#stats-body").display

    try:
        run(scenario())
    finally:
        embedded.close()


def test_sent_but_unanswered_says_so_instead_of_empty_plots(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)
    run(prepared_dossier(embedded, choose=[1, 2], sign=True, send=True))

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await as_role(pilot, "1")
            await pilot.press("d")
            await settle(pilot)
            await pilot.press("f9")
            screen = await stats_shown(pilot)
            assert text_of(screen, "#stats-summary") == ("2 envoyée(s) · 0 avec réponse · aucune acceptation "
                                                         "ni aucun refus · 0 en retard.")
            assert screen.query_one("#stats-body").display
            assert not screen.query_one("#plot-delays").display and not screen.query_one("#plot-rates").display
            assert text_of(screen, "#no-delays") == NO_ANSWER and text_of(screen, "#no-rates") == NO_DECISION
            assert [r[2:] for r in table_rows(screen)] == [["1", "—", "—", "—", "0"]] * 2

    try:
        run(scenario())
    finally:
        embedded.close()


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_snapshot(snap_compare: Any, world: tuple[Embedded, Path], size: tuple[int, int]) -> None:
    embedded, folder = world

    async def before(pilot: Pilot[Any]) -> None:
        await as_role(pilot, "1")
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("f9")
        await stats_shown(pilot)

    assert snap_compare(make_app(embedded, folder), terminal_size=size, run_before=before)


def test_orient_stats_prints_the_same_figures(world: tuple[Embedded, Path]) -> None:
    import subprocess
    import sys

    _, folder = world
    db = str(folder / "orient.db")

    def orient(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "orient.assistant.cli", "--db", db, "stats", *args],
                              check=False, capture_output=True, text=True, timeout=120)

    done = orient("--as", "doctor")
    assert done.returncode == 0, done.stderr
    out = done.stdout.replace(NBSP, " ")
    assert out.startswith("Statistiques : mes demandes, depuis le début.\n6 envoyée(s) · 4 avec réponse")
    lines = out.splitlines()
    rive, grave = (next(line for line in lines if line.startswith(f" {n}  ")) for n in (1, 2))
    assert "45 min" in rive and "1 h 53" in rive and "1 h 20" in grave
    assert "50 %" in rive and "100 %" in grave and "Pas de lit disponible : 1" in out
    assert "oct. 2026 : 2 envoyée(s)" in out and "nov. 2026 : 4 envoyée(s)" in out
    # the unit's own, one month; a bad month refused in French, exit 1
    unit = orient("--as", "receiver", "--until", "2026-10").stdout.replace(NBSP, " ")
    assert "jusqu'à oct. 2026" in unit and "1 envoyée(s)" in unit and "RIVE GAUCHE" not in unit
    bad = orient("--since", "2026-13")
    assert bad.returncode == 1 and "AAAA-MM" in bad.stderr and bad.stdout == ""
