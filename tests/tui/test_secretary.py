"""The secretary fills her part in the TUI (key 2), is never asked a medical question and gets
the hand-over message; then, in a new app on the same database, the doctor (key 1) resumes the
dossier (r, Enter): the first question is the red flags, and the doctor finishes it."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable
from tui_helpers import (
    SIZE,
    answer_all,
    bubble_texts,
    chat,
    make_app,
    make_embedded,
    open_chat,
    run,
    scenario_answers,
    settle,
    wait_until,
)

from orient.assistant.tui.screens.resume import ResumeScreen
from orient.dialogs.hnp import HNP
from orient.models.fields import Fill

DOCTOR_FIELDS = {f.id for f in HNP.fields if f.fill == Fill.DOCTOR}
SECRETARY_FIELDS = {f.id for f in HNP.fields if f.fill == Fill.SECRETARY}


def test_secretary_part_then_doctor_resumes(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)

    async def secretary() -> str:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_chat(pilot, "2", "n")
            assert app.role == "secretary"
            assert screen.question is not None
            assert screen.question["field"] == "requester.callback_phone"
            asked: list[str] = []
            await answer_all(pilot, scenario_answers("replay_secretary_part.json"), asked)
            assert asked and not set(asked) & DOCTOR_FIELDS, set(asked) & DOCTOR_FIELDS
            assert set(asked) <= SECRETARY_FIELDS
            assert {"context.caregiver_phone", "context.gp_name"} <= set(asked)
            assert screen.question is None and screen.status == "awaiting_doctor"
            # no medical question was ever shown in the transcript either
            shown = "\n".join(bubble_texts(screen, "assistant"))
            for field in DOCTOR_FIELDS:
                assert HNP.field(field).question not in shown, field
            assert "Votre partie est terminée" in bubble_texts(screen, "assistant")[-1]
            assert screen.dossier_id is not None
            return screen.dossier_id

    async def doctor(dossier_id: str) -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("1")
            await settle(pilot)
            await pilot.press("r")
            await settle(pilot)
            assert isinstance(app.screen, ResumeScreen)
            table = app.screen.query_one(DataTable)
            await wait_until(pilot, lambda: table.row_count == 1, what="the dossier in the list")
            assert table.has_focus
            assert "DUPONT-LEGER" in str(table.get_row_at(0)[0]).upper()
            await pilot.press("enter")
            await settle(pilot)
            screen = chat(pilot)
            assert screen.dossier_id == dossier_id
            await wait_until(pilot, lambda: screen.question is not None, what="the first question")
            assert screen.question["field"] == "request.red_flags"
            assert bubble_texts(screen, "assistant")[0].startswith(
                "Dossier de DUPONT-LEGER Anne, née le 14/07/1950, repris")
            asked: list[str] = []
            await answer_all(pilot, scenario_answers("replay_doctor_after_secretary.json"), asked)
            assert asked[0] == "request.red_flags"
            assert set(asked) <= DOCTOR_FIELDS, set(asked) - DOCTOR_FIELDS
            assert screen.question is None and screen.status == "ready", screen.status
            assert "Questions terminées" in bubble_texts(screen, "assistant")[-1]
            view = await app.client.dossier(dossier_id)
            assert view["missing"] == []
            # the secretary's answers are still there, next to the doctor's
            assert view["answers"]["patient.birth_name"] == "DUPONT-LEGER"
            assert view["answers"]["request.timing"] == "today"

    try:
        dossier_id = run(secretary())
        run(doctor(dossier_id))
    finally:
        embedded.close()
