"""By keys: the doctor's profile offered on a new dossier and confirmed with Enter (a correction
asks whether the profile changes), a line of vital signs shown as a numbered list and confirmed
once, and the review's discreet mark on answers that were not typed."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Markdown
from tui_helpers import (
    SIZE,
    bubble_texts,
    chat,
    error_text,
    make_app,
    make_embedded,
    open_chat,
    run,
    scenario_answers,
    settle,
    type_and_enter,
    wait_until,
)

from orient.assistant.tui.screens.chat import ChatScreen

LINE = "TA 128/74 FC 96 FR 24 SpO2 89% AA T 38,5 poids 62"


async def answer_until(pilot, screen: ChatScreen, answers: dict[str, list[str]], stop: str) -> None:  # type: ignore[no-untyped-def]
    """Type each asked field's input (Enter alone when none) until `stop` is asked."""
    queues = {k: list(v) for k, v in answers.items()}
    for _ in range(80):
        q = screen.question
        assert q is not None
        if q["field"] == stop:
            return
        queue = queues.get(q["field"]) or []
        await type_and_enter(pilot, queue.pop(0) if queue else "")
        assert not error_text(screen), (q["field"], error_text(screen))
    raise AssertionError(f"{stop} never asked")


def test_profile_offered_on_a_new_dossier_and_corrected(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            # first dossier: the phone and the mailbox are asked, then kept in the account
            screen = await open_chat(pilot, "1", "n")
            await type_and_enter(pilot, "aucun")
            assert screen.question is not None and screen.question["field"] == "requester.callback_phone"
            await type_and_enter(pilot, "05 61 00 00 00")
            await type_and_enter(pilot, "dr.martin@medecin.mssante.fr")
            assert screen.question is not None and screen.question["field"] == "patient.birth_name"
            assert (await app.client.profile())["callback_phone"] == "+33561000000"

            # a new dossier offers them: a numbered list in the chat, Enter accepts both
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("n")
            await settle(pilot)
            screen = chat(pilot)
            await wait_until(pilot, lambda: screen.question is not None, what="the first question")
            await type_and_enter(pilot, "aucun")
            assert screen.question is not None and screen.question["field"] == "dossier.confirm"
            shown = bubble_texts(screen, "assistant")[-1]
            assert "Valeurs à confirmer" in shown and "Demandeur" in shown
            assert "1. Téléphone pour être rappelé : 05 61 00 00 00 (profil)" in shown
            assert "2. Messagerie sécurisée (MSSanté) : dr.martin@medecin.mssante.fr (profil)" in shown
            assert "Entrée : tout accepter" in shown
            await pilot.press("enter")
            await settle(pilot)
            assert screen.question is not None and screen.question["field"] == "patient.birth_name"
            view = await app.client.dossier(screen.dossier_id)
            assert view["answers"]["requester.callback_phone"] == "+33561000000"

            # F6: the review marks them, discreetly
            await pilot.press("f6")
            await settle(pilot)
            review = app.screen.query_one("#review", Markdown)
            await wait_until(pilot, lambda: "Récapitulatif" in review.source, what="the review")
            assert "05 61 00 00 00 *(profil)*" in review.source
            await pilot.press("escape")
            await settle(pilot)

            # another dossier: 1 corrects the phone by hand; Orient asks about the profile
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("n")
            await settle(pilot)
            screen = chat(pilot)
            await wait_until(pilot, lambda: screen.question is not None, what="the first question")
            await type_and_enter(pilot, "aucun")
            await type_and_enter(pilot, "1")
            assert screen.question is not None and screen.question["field"] == "requester.callback_phone"
            await type_and_enter(pilot, "06 12 34 56 78")
            assert screen.question is not None and screen.question["field"] == "dossier.profile"
            assert "06 12 34 56 78" in bubble_texts(screen, "assistant")[-1]
            await type_and_enter(pilot, "oui")
            assert screen.question is not None and screen.question["field"] == "patient.birth_name"
            assert (await app.client.profile())["callback_phone"] == "+33612345678"

    try:
        run(scenario())
    finally:
        embedded.close()


def test_a_line_of_vital_signs_confirmed_once(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)
    answers = scenario_answers("doctor_full.json")

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_chat(pilot, "1", "n")
            answers["patient.birth_date"] = ["12/03/1938"]
            await answer_until(pilot, screen, answers, "medical.bp_systolic")
            # the blood pressure alone, in one answer
            await type_and_enter(pilot, "128/74")
            assert not error_text(screen)
            assert "74" in bubble_texts(screen, "user")[-1] and "128" in bubble_texts(screen, "user")[-1]
            assert screen.question is not None and screen.question["field"] == "medical.heart_rate"
            # a whole line at the next vital-sign question: a numbered list, Enter confirms all
            await type_and_enter(pilot, LINE)
            assert screen.question is not None and screen.question["field"] == "dossier.confirm"
            shown = bubble_texts(screen, "assistant")[-1]
            assert "Volet médical" in shown and "1. Fréquence cardiaque (/min) : 96" in shown
            assert "5. Oxygène au moment de la demande : air ambiant" in shown
            assert "Pression" not in shown  # the line repeats the recorded pressure: nothing to confirm
            await pilot.press("enter")
            await settle(pilot)
            # the low SpO2 is still confirmed
            assert screen.question is not None and screen.question["field"] == "medical.spo2_confirmed"
            view = await app.client.dossier(screen.dossier_id)
            got = {k: v for k, v in view["answers"].items() if k.startswith("medical.")}
            assert (got["medical.heart_rate"], got["medical.spo2"], got["medical.oxygen"], got["medical.weight"],
                    got["medical.resp_rate"], got["medical.temperature"]) == (96, 89, "air ambiant", 62.0, 24, 38.5)
            await type_and_enter(pilot, "oui")
            # a line with a value out of bounds: shown with its refusal, the rest to confirm
            await type_and_enter(pilot, "/modifier Poids")
            await type_and_enter(pilot, "poids 64 FC 300")
            assert any("Fréquence cardiaque" in t and "300" in t for t in bubble_texts(screen, "warning"))
            assert screen.question is not None and screen.question["field"] == "dossier.confirm"
            assert "1. Poids (kg) : 64 (remplace « 62 »)" in bubble_texts(screen, "assistant")[-1]

    try:
        run(scenario())
    finally:
        embedded.close()
