"""Identity vigilance in the TUI, by keys: an ambiguous commune is a numbered pick list that
survives a restart; the duplicate suspicion offers the other dossier as a numbered pick that opens
its chat; the warnings kept with the dossier show in the review (F6) and in the unit's view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Markdown, OptionList
from tui_helpers import (
    CHU_TOULOUSE,
    SIZE,
    bubble_texts,
    chat,
    error_text,
    field_of,
    make_app,
    make_embedded,
    open_chat,
    open_only_referral,
    prepared_dossier,
    run,
    scenario_answers,
    settle,
    type_and_enter,
    wait_until,
)

from orient.assistant.embedded import Embedded
from orient.assistant.tui.modals import PickModal
from orient.assistant.tui.screens.chat import ChatScreen
from orient.assistant.tui.screens.review import ReviewScreen


async def answer_until(pilot: Pilot[Any], field: str, answers: dict[str, list[str]]) -> None:
    """Answer with each field's last (valid) input until `field` is asked."""
    screen = chat(pilot)
    for _ in range(60):
        current = field_of(pilot)
        assert current is not None, f"no question left before {field}"
        if current == field:
            return
        await type_and_enter(pilot, answers.get(current, [""])[-1])
        assert not error_text(screen) or field_of(pilot) != current, (current, error_text(screen))
    raise AssertionError(f"{field} never asked")


def options(screen: ChatScreen) -> list[str]:
    choices = screen.query_one("#choices", OptionList)
    if not choices.display:
        return []
    return [str(choices.get_option_at_index(i).prompt) for i in range(choices.option_count)]


def test_an_ambiguous_commune_is_a_numbered_pick_list_that_survives_a_restart(tmp_path: Path) -> None:
    first = make_embedded(tmp_path)
    answers = {**scenario_answers("doctor_full.json"), "requester.mssante": ["dr.martin@gmail.com"]}
    state: dict[str, Any] = {}

    async def until_the_refusal() -> None:
        app = make_app(first, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_chat(pilot, "1", "n")
            state["dossier"] = screen.dossier_id
            await answer_until(pilot, "patient.commune", answers)
            await type_and_enter(pilot, "Saint-Denis")
            assert field_of(pilot) == "patient.commune"
            message = error_text(screen)
            assert "3. Saint-Denis (93, 93066)" in message and "numéro" in message, message
            assert options(screen) == ["1. Saint-Denis (11, 11339)", "2. Saint-Denis (30, 30247)",
                                       "3. Saint-Denis (93, 93066)", "4. Saint-Denis (974, 97411)"]

    async def after_the_restart() -> None:
        app = make_app(second, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_chat(pilot, "1", "r")
            assert screen.dossier_id == state["dossier"]
            assert field_of(pilot) == "patient.commune"
            assert "3. Saint-Denis (93, 93066)" in bubble_texts(screen, "assistant")[-1]
            assert len(options(screen)) == 4
            await type_and_enter(pilot, "3")
            assert not error_text(screen), error_text(screen)
            assert bubble_texts(screen, "user")[-1] == "Saint-Denis (93, 93066)"
            assert field_of(pilot) == "patient.address" and options(screen) == []

            # F6: the warning accepted earlier (a personal mailbox) is in the review
            await pilot.press("f6")
            await settle(pilot)
            review_screen = pilot.app.screen
            assert isinstance(review_screen, ReviewScreen)
            review = review_screen.query_one("#review", Markdown)
            await wait_until(pilot, lambda: "Récapitulatif" in review.source, what="the review")
            assert "Avertissements" in review.source and "gmail.com" in review.source

    try:
        run(until_the_refusal())
    finally:
        first.close()
    second = make_embedded(tmp_path)  # started again on the same database
    try:
        run(after_the_restart())
    finally:
        second.close()


def test_the_duplicate_suspicion_opens_the_other_dossier_by_its_number(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)
    other, report = run(prepared_dossier(embedded))
    assert report["status"] == "ready"
    answers = scenario_answers("doctor_full.json")

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_chat(pilot, "1", "n")
            new_dossier = screen.dossier_id
            await answer_until(pilot, "patient.sex", answers)
            await type_and_enter(pilot, "F")
            modal = await wait_until(pilot, lambda: isinstance(app.screen, PickModal) and app.screen,
                                     what="the duplicate pick")
            picks = modal.query_one("#picks", OptionList)
            labels = [str(picks.get_option_at_index(i).prompt) for i in range(picks.option_count)]
            assert labels[0].startswith("1. Dossier modifié le ") and "(prêt à signer)" in labels[0]
            assert labels[-1] == "2. Continuer ce dossier-ci"
            assert "l'ouvrir" in str(modal.query_one("#pick-message").render())
            await pilot.press("1")
            await settle(pilot)
            opened = chat(pilot)
            assert opened is not screen and opened.dossier_id == other != new_dossier
            await wait_until(pilot, lambda: opened.status == "ready", what="the other dossier")

    try:
        run(scenario())
    finally:
        embedded.close()


def test_the_unit_reads_the_warnings_with_the_referral(tmp_path: Path) -> None:
    setup = make_embedded(tmp_path)
    _, report = run(prepared_dossier(setup, choose=[1], sign=True, send=True, answers={
        "medical.bp_systolic": ["85"], "medical.bp_diastolic": ["60"]}))
    assert report["status"] == "sent" and report["referrals"][0]["unit_id"].split("-")[0] in CHU_TOULOUSE
    unit_side = Embedded(tmp_path / "orient.db", outbox=tmp_path / "outbox-unit.json")

    async def scenario() -> None:
        app = make_app(unit_side, tmp_path)
        async with app.run_test(size=SIZE) as unit:
            referral = await open_only_referral(unit)
            letter = referral.query_one("#dossier", Markdown)
            assert "Points d'attention" in letter.source
            assert "Pression systolique à 85 mmHg" in letter.source and "/modifier" not in letter.source

    try:
        run(scenario())
    finally:
        setup.close()
        unit_side.close()
