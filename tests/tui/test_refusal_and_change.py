"""Refusals and changes in the chat, by keys: a refused answer shows the French message (with the
field's label) in #error and keeps what was typed; a correct one goes on. Going back (F2) and
changing an answer (/modifier LABEL, or F3 then the label) that switches a condition: the
dependent answer is removed and its question is no longer asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import SelectionList
from tui_helpers import (
    SIZE,
    answer_all,
    answer_value,
    bubble_texts,
    burst,
    error_text,
    field_of,
    make_app,
    make_embedded,
    open_chat,
    run,
    scenario_answers,
    settle,
    type_and_enter,
    type_text,
)

from orient.assistant.tui.screens.chat import ChatScreen
from orient.dialogs.hnp import HNP

# "Le médecin demandeur est-il le médecin traitant ?"
GP_QUESTION = HNP.field("context.gp_is_requester").label


async def answer_until(pilot: Pilot[Any], screen: ChatScreen, field: str,
                       answers: dict[str, list[str]]) -> None:
    """Answer with the scenario's last (valid) input until `field` is asked."""
    for _ in range(60):
        current = field_of(pilot)
        assert current is not None, f"no question left before {field}"
        if current == field:
            return
        await type_and_enter(pilot, answers.get(current, [""])[-1])
        assert not error_text(screen), (current, error_text(screen))
    raise AssertionError(f"{field} never asked")


def test_refusal_then_correct_answer_then_condition_switch(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)
    answers = scenario_answers("doctor_full.json")

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_chat(pilot, "1", "n")

            # F2 on the very first question: a message, nothing else
            await pilot.press("f2")
            await settle(pilot)
            assert field_of(pilot) == "request.red_flags"
            assert "première question" in error_text(screen)

            # -- a refused answer ---------------------------------------------------------------
            await answer_until(pilot, screen, "patient.birth_date", answers)
            user_bubbles = len(bubble_texts(screen, "user"))
            await type_and_enter(pilot, "31/02/1938")
            assert field_of(pilot) == "patient.birth_date"
            message = error_text(screen)
            assert "« Date de naissance »" in message, message
            assert "n'est pas accepté" in message and "février 1938 compte 28 jours" in message
            assert answer_value(screen) == "31/02/1938"  # what was typed is kept, to correct it
            assert len(bubble_texts(screen, "user")) == user_bubbles  # no bubble for a refusal
            # correct it in place: erase and type the right date
            await burst(pilot, ["end", *["backspace"] * len("31/02/1938")])
            assert answer_value(screen) == ""
            await type_and_enter(pilot, "12/03/1938")
            assert field_of(pilot) == "patient.sex"
            assert error_text(screen) == ""
            assert answer_value(screen) == ""
            assert bubble_texts(screen, "user")[-1] == "12/03/1938"

            # -- a condition: "non" asks the GP's name; F2 goes back to the condition ---------
            await answer_until(pilot, screen, "context.gp_is_requester", answers)
            await type_and_enter(pilot, "non")
            assert field_of(pilot) == "context.gp_name"
            await pilot.press("f2")
            await settle(pilot)
            assert field_of(pilot) == "context.gp_is_requester"
            assert screen.question is not None and screen.question.get("changing")
            await type_and_enter(pilot, "non")
            assert field_of(pilot) == "context.gp_name"
            await type_and_enter(pilot, "Dr Lefèvre")
            assert field_of(pilot) == "request.specialty"
            view = await app.client.dossier(screen.dossier_id)
            assert view["answers"]["context.gp_name"] == "Dr Lefèvre"
            assert view["answers"]["context.gp_is_requester"] is False

            # -- /modifier LABEL -> "oui": the GP's name is removed, not asked again -----------
            await type_and_enter(pilot, f"/modifier {GP_QUESTION}")
            assert field_of(pilot) == "context.gp_is_requester"
            assert screen.question is not None and screen.question.get("changing")
            assert answer_value(screen) == "" and error_text(screen) == ""
            await type_and_enter(pilot, "oui")
            assert field_of(pilot) == "request.specialty"  # back where we were, not gp_name
            view = await app.client.dossier(screen.dossier_id)
            assert view["answers"]["context.gp_is_requester"] is True
            assert "context.gp_name" not in view["answers"]

            # -- F3, the start of the label, → (completion), Enter -> "non": asked again -------
            await pilot.press("f3")
            await settle(pilot)
            assert answer_value(screen) == "/modifier "
            assert "libellé" in error_text(screen)
            await type_text(pilot, "Le médecin demandeur est-il")
            await pilot.press("right")  # accept the suggestion
            await settle(pilot)
            assert answer_value(screen) == f"/modifier {GP_QUESTION}"
            await pilot.press("enter")
            await settle(pilot)
            assert field_of(pilot) == "context.gp_is_requester"
            await type_and_enter(pilot, "non")
            assert field_of(pilot) == "context.gp_name"  # needed again
            await type_and_enter(pilot, "Dr Lefèvre")
            assert field_of(pilot) == "request.specialty"

            # -- commands that cannot work leave the text to correct it --------------------------
            await type_and_enter(pilot, "/modifier n'existe pas")
            assert "aucune question de ce nom" in error_text(screen)
            assert answer_value(screen) == "/modifier n'existe pas"
            assert field_of(pilot) == "request.specialty"

    try:
        run(scenario())
    finally:
        embedded.close()


def test_without_consent_the_end_does_not_offer_to_sign(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)
    answers = {**scenario_answers("doctor_full.json"), "consent.patient_informed": ["non"]}

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_chat(pilot, "1", "n")
            await answer_all(pilot, answers)
            said = bubble_texts(screen, "assistant")[-1]
            assert "ne peut pas être signé" in said and "/modifier accord" in said, said
            assert "F8" not in said
            # /modifier accord finds the question again
            await type_and_enter(pilot, "/modifier accord")
            assert screen.question is not None
            assert screen.question["field"] == "consent.patient_informed"

    try:
        run(scenario())
    finally:
        embedded.close()


def test_enter_on_the_red_flags_list_with_nothing_ticked_records_nothing(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_chat(pilot, "1", "n")
            assert screen.question is not None and screen.question["field"] == "request.red_flags"
            multi = screen.query_one("#multi", SelectionList)
            await pilot.press("shift+tab")  # from the answer field to the list of signs
            await settle(pilot)
            assert multi.has_focus
            await pilot.press("down", "enter")  # a sign highlighted, none ticked
            await settle(pilot)
            # never "aucun" by default: the question stays, with what to do
            assert screen.question["field"] == "request.red_flags"
            assert "Rien n'est coché" in error_text(screen) and "« aucun »" in error_text(screen)
            assert not bubble_texts(screen, "user")
            # Space ticks the highlighted sign; Enter then records it
            await pilot.press("shift+tab")  # back to the list (the message sent focus to the field)
            await settle(pilot)
            assert multi.has_focus
            await pilot.press("space", "enter")
            await settle(pilot)
            assert bubble_texts(screen, "user")[-1] == "Instabilité hémodynamique"

    try:
        run(scenario())
    finally:
        embedded.close()
