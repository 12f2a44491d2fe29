"""The proposals screen (F7) read at a glance: the units under the headings of their groups (distance
band, specialty when two are asked, availability), the ranking rule above the list, distances as
`9,4 km`, and the units declared full in their own titled group, which can be read but not ticked.
Driven by keys on the pneumonia journey of issue 9 (84-year-old woman, Saint-Laurent-de-Neste,
« médecine polyvalente, à défaut pneumologie »)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import SelectionList, Static
from tui_helpers import (
    SCENARIOS,
    SIZE,
    make_app,
    make_embedded,
    reopen,
    run,
    settle,
    wait_until,
)

from orient.assistant import replay
from orient.assistant.embedded import Embedded
from orient.assistant.tui.screens.proposals import ProposalsScreen

KM = re.compile(r"^ *(\d+\. +)?\d+,\d km · ")


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Embedded, Path]]:
    folder = tmp_path_factory.mktemp("groups")
    embedded = make_embedded(folder)

    async def prepare() -> dict[str, Any]:
        data = json.loads((SCENARIOS / "replay_pneumonia_two_specialties.json").read_text(encoding="utf-8"))
        data["choose"] = None
        client = embedded.client("doctor")
        try:
            _, report = await replay.replay_with_client(replay.parse_scenario(data), client)
        finally:
            await client.close()
        return report

    assert run(prepare())["status"] == "ready"
    yield embedded, folder
    embedded.close()


async def open_proposals(pilot: Pilot[Any]) -> tuple[ProposalsScreen, SelectionList[str]]:
    await reopen(pilot)  # the demo doctor resumes the dossier
    await pilot.press("f7")
    await settle(pilot)
    proposals = pilot.app.screen
    assert isinstance(proposals, ProposalsScreen)
    units = proposals.query_one("#units", SelectionList)
    await wait_until(pilot, lambda: units.option_count > 20, what="the proposals")
    return proposals, units


def prompts(units: SelectionList[str]) -> list[tuple[str, bool]]:
    return [(str(units.get_option_at_index(i).prompt), units.get_option_at_index(i).disabled)
            for i in range(units.option_count)]


def test_the_list_shows_its_groups_and_the_full_units_apart(ready: tuple[Embedded, Path]) -> None:
    embedded, folder = ready

    async def scenario() -> None:
        app = make_app(embedded, folder)
        async with app.run_test(size=SIZE) as pilot:
            screen, units = await open_proposals(pilot)
            rows = prompts(units)
            headings = [text for text, disabled in rows if disabled]
            numbered = [text for text, disabled in rows if not disabled and re.match(r"^ ?\d+\. ", text)]
            # a heading opens the list, the first unit under it is highlighted
            assert rows[0] == ("── moins de 10 km · Médecine polyvalente · lits disponibles ──", True)
            assert units.highlighted == 1 and "CENTRE MEDICO CHIRURGICAL DES HOPITAUX DE LANNEMEZAN" in rows[1][0]
            assert "moins de 10 km · Pneumologie · lits disponibles" in headings[1]
            assert len(numbered) == 20 and all(KM.search(text) for text in numbered)
            assert not any(re.search(r"\d\.\d km", text) for text, _ in rows)  # 9,4 km, never 9.4 km
            ranking = str(screen.query_one("#ranking", Static).render())
            assert "spécialité souhaitée d'abord" in ranking
            # the units declared full: last, under their own heading, not numbered
            [full_at] = [i for i, (text, _) in enumerate(rows) if text.startswith("── Complètes")]
            assert rows[full_at][1] and "ne peuvent pas être choisies" in rows[full_at][0]
            full_rows = rows[full_at + 1:]
            assert full_rows and all(not disabled and "km · complet · " in text and KM.search(text)
                                     for text, disabled in full_rows)

            # Space, Down, Space: the first two units (Down skips the heading between them)
            await pilot.press("space", "down", "space")
            await settle(pilot)
            first_two = [units.get_option_at_index(i).value for i in (1, 3)]
            assert units.selected == first_two

            # End: the last line, a full unit; its details show, Space does not tick it
            await pilot.press("end")
            await settle(pilot)
            assert units.highlighted == units.option_count - 1
            reasons = screen.query_one("#reasons", Static)
            assert "déclarée complète" in str(reasons.render())
            await pilot.press("space")
            await settle(pilot)
            assert units.selected == first_two
            assert "ne peut pas être choisie" in str(reasons.render())

            await pilot.press("f9")
            await settle(pilot)
            view = await app.client.dossier(screen.dossier_id)
            assert view["chosen_units"] == first_two

    run(scenario())
