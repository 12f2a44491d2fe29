"""By keys: answers chained with « ; » in the chat. The hint under a question names what a run
would fill; a run typed there is shown as a numbered list and confirmed once with Enter; a refused
part is said and asked afterwards. The anticoagulation proposed from the treatments is shown with
its option's number."""

from __future__ import annotations

from pathlib import Path

from tui_helpers import (
    SIZE,
    bubble_texts,
    error_text,
    make_app,
    make_embedded,
    open_chat,
    run,
    scenario_answers,
    settle,
    type_and_enter,
)


def test_a_run_typed_in_the_chat_is_confirmed_once(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_chat(pilot, "1", "n")
            await type_and_enter(pilot, "aucun")
            await type_and_enter(pilot, "05 61 00 00 00")
            await type_and_enter(pilot, "")  # no MSSanté
            assert screen.question is not None and screen.question["field"] == "patient.birth_name"
            hint = bubble_texts(screen, "hint")[-1]
            assert hint.startswith("Astuce : enchaînez avec « ; » : Prénom(s) ; Nom utilisé ; "
                                   "Date de naissance ; Sexe")
            await type_and_enter(pilot, "Bertrand;Jeanne Marie;;31/02/1938;F")
            assert not error_text(screen)
            assert screen.question is not None and screen.question["field"] == "dossier.confirm"
            assert bubble_texts(screen, "user")[-1] == "Bertrand;Jeanne Marie;;31/02/1938;F"
            warned = bubble_texts(screen, "warning")
            assert any("Date de naissance" in w and "31/02/1938" in w and "sera demandée" in w for w in warned)
            shown = bubble_texts(screen, "assistant")[-1]
            assert "Valeurs à confirmer" in shown and "Identité du patient" in shown
            assert "1. Nom de naissance : BERTRAND" in shown
            assert "3. Nom utilisé : (question passée)" in shown
            assert "4. Sexe : Féminin" in shown
            await pilot.press("enter")
            await settle(pilot)
            assert screen.question is not None and screen.question["field"] == "patient.birth_date"
            view = await app.client.dossier(screen.dossier_id)
            assert view["answers"]["patient.birth_name"] == "BERTRAND"
            assert view["answers"]["patient.sex"] == "F"

    run(scenario())


def test_the_anticoagulation_proposed_from_the_treatments(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)
    answers = scenario_answers("replay_runs.json")  # runs typed in the chat, confirmed with Enter
    answers["medical.treatments"] = ["Apixaban 2,5 mg x2, furosémide 40 mg"]

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_chat(pilot, "1", "n")
            queues = {k: list(v) for k, v in answers.items()}
            for _ in range(40):
                q = screen.question
                assert q is not None
                if q["field"] == "medical.anticoagulation":
                    break
                queue = queues.get(q["field"]) or []
                await type_and_enter(pilot, queue.pop(0) if queue else "")
                assert not error_text(screen), (q["field"], error_text(screen))
            else:
                raise AssertionError("the anticoagulation was never asked")
            shown = bubble_texts(screen, "assistant")[-1]
            assert "Proposé d'après les traitements en cours" in shown
            assert "  3. AOD (d'après les traitements : apixaban)" in shown  # the option's own number
            await type_and_enter(pilot, "3")
            assert bubble_texts(screen, "user")[-1] == "AOD"
            view = await app.client.dossier(screen.dossier_id)
            assert view["answers"]["medical.anticoagulation"] == "doac"

    run(scenario())
