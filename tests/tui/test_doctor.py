"""A doctor's whole referral in the TUI, by keys only: who (1), new (n), every question typed
then Enter, F7 units (↓ Space ↓ Space on the first two, F9), F8 signature (1234, Enter): sent, and the
two referrals are in the database."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import SelectionList
from tui_helpers import (
    DOCTOR_CODE,
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
    type_and_enter,
    wait_until,
)

from orient.assistant.tui.screens.proposals import ProposalsScreen
from orient.assistant.tui.screens.sign import SignScreen


def test_doctor_full_referral_by_keys(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)
    answers = scenario_answers("doctor_full.json")

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_chat(pilot, "1", "n")
            assert app.role == "doctor"
            assert screen.question is not None and screen.question["field"] == "request.red_flags"

            asked: list[str] = []
            refused: list[tuple[str, str, str]] = []
            await answer_all(pilot, answers, asked, refused)
            assert screen.question is None
            assert screen.status == "ready", screen.status
            assert asked[0] == "request.red_flags" and asked[-1] == "consent.patient_informed"
            # the scenario's one wrong input (31 February) was refused, then the right one taken
            assert [(f, t) for f, t, _ in refused] == [("patient.birth_date", "31/02/1938")]
            assert "Questions terminées" in bubble_texts(screen, "assistant")[-1]
            user = bubble_texts(screen, "user")
            assert "Jeanne Marie" in user and "12/03/1938" in user and "31/02/1938" not in user

            # F7: the units proposed; Space on the first two, F9 to confirm
            await pilot.press("f7")
            await settle(pilot)
            proposals = app.screen
            assert isinstance(proposals, ProposalsScreen)
            units = proposals.query_one("#units", SelectionList)
            await wait_until(pilot, lambda: units.option_count >= 2, what="the proposals")
            assert units.has_focus
            # units under the headings of their groups (disabled options, skipped by the keys)
            choosable = [i for i in range(units.option_count) if not units.get_option_at_index(i).disabled]
            first_two = [units.get_option_at_index(i).value for i in choosable[:2]]
            # the first unit is highlighted as soon as the list shows: Space checks it at once
            assert units.highlighted == choosable[0]
            await pilot.press("space", "down", "space")
            await settle(pilot)
            assert sorted(units.selected) == sorted(first_two)
            await pilot.press("f9")
            await settle(pilot)
            assert chat(pilot) is screen
            view = await app.client.dossier(screen.dossier_id)
            assert view["chosen_units"] == first_two

            # F8: the code, Enter: signed then sent
            await pilot.press("f8")
            await settle(pilot)
            assert isinstance(app.screen, SignScreen)
            # where it will go, by name, before the code is typed
            going = app.screen.query_one("#state")
            await wait_until(pilot, lambda: "Signer puis envoyer à" in str(going.render()),
                             what="the units named")
            assert str(going.render()).count("Cardiologie — ") == 2
            await type_and_enter(pilot, DOCTOR_CODE)
            assert chat(pilot) is screen
            last = bubble_texts(screen, "assistant")[-1]
            assert "signé et envoyé : 2 demande(s)" in last, last
            dossier_id = screen.dossier_id

        # the database, through a separate client
        client = embedded.client("doctor")
        try:
            view = await client.dossier(dossier_id)
            referrals = await client.dossier_referrals(dossier_id)
        finally:
            await client.close()
        assert view["status"] == "sent"
        assert view["signed"]
        assert len(referrals) == 2
        assert sorted(r["unit_id"] for r in referrals) == sorted(first_two)

    try:
        run(scenario())
    finally:
        embedded.close()
