"""Journeys that used to dead-end, the receiving side and the dashboard, by keys (issue 9):

- a sent dossier goes to an added unit (F7, Space, F9, then F8, Enter), once;
- a secretary sees her own keys (no F8 « Signer »; F8 « Envoyer » with the scope `send`, once
  signed);
- every referral reaches a unit account: the demo's first screen says what each account covers,
  and key 4 picks any unit that has received a referral; its inbox row shows site, age and sex,
  motive, waiting time, and « nouvelle réponse du médecin » once the doctor answered;
- the doctor's reply window shows the unit's whole question;
- the dashboard's waiting times move on their own, its columns fit 100 and 80 columns;
- a resumed dossier shows its progress at once; times are Paris time whatever the machine's zone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Markdown, OptionList, SelectionList, Static
from tui_helpers import (
    CHU_TOULOUSE,
    SIZE,
    bubble_texts,
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

from orient.assistant import accounts_admin, demo_accounts
from orient.assistant.embedded import Embedded
from orient.assistant.tui.modals import TextModal
from orient.assistant.tui.screens.base import LiveTable
from orient.assistant.tui.screens.dashboard import DashboardScreen
from orient.assistant.tui.screens.home import HomeScreen
from orient.assistant.tui.screens.inbox import InboxScreen
from orient.assistant.tui.screens.proposals import ProposalsScreen
from orient.assistant.tui.screens.referral import ReferralScreen
from orient.assistant.tui.screens.resume import ResumeScreen
from orient.assistant.tui.screens.sign import SignScreen
from orient.assistant.tui.screens.units import UnitPickerScreen
from orient.dialogs.hnp_rules import age_on

PARIS = ZoneInfo("Europe/Paris")


# -- reading the screen ------------------------------------------------------------------------
def screen_lines(app: Any) -> list[str]:
    """The text of the current screen, line by line, as the terminal shows it."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def footer_keys(app: Any) -> dict[str, str]:
    """The keys the footer shows on the current screen, with their labels."""
    return {key: active.binding.description for key, active in app.screen.active_bindings.items()
            if active.binding.show}


def cell_text(app: Any, table: DataTable[Any], row_key: str, column: int) -> str:
    """A cell as drawn on the screen (all its wrapped lines, joined by spaces)."""
    keys = [str(r.key.value) for r in table.ordered_rows]
    index = keys.index(row_key)
    top = table.region.y + 1 + sum(r.height for r in table.ordered_rows[:index])  # 1: the header
    left = table.region.x + sum(c.get_render_width(table) for c in table.ordered_columns[:column]) + 1
    width = table.ordered_columns[column].width
    lines = screen_lines(app)[top: top + table.ordered_rows[index].height]
    return " ".join(" ".join(line[left: left + width] for line in lines).split())


def column(table: DataTable[Any], name: str) -> list[str]:
    index = [str(c.label) for c in table.ordered_columns].index(name)
    return [str(table.get_row_at(i)[index]) for i in range(table.row_count)]


def referrals_of(embedded: Embedded, dossier_id: str) -> list[dict[str, Any]]:
    """The dossier's referrals as the hub shows them (unit and establishment named)."""

    async def get() -> list[dict[str, Any]]:
        client = embedded.client("doctor")
        try:
            return list(await client.dossier_referrals(dossier_id))
        finally:
            await client.close()

    return run(get())


async def sign_in(pilot: Pilot[Any], key: str) -> None:
    await settle(pilot)
    await wait_until(pilot, pilot.app._hub_ready.is_set, what="the local hub")
    await pilot.press(key)
    await settle(pilot)


async def resume_first(pilot: Pilot[Any], status: str) -> Any:
    await pilot.press("r")
    await settle(pilot)
    table = pilot.app.screen.query_one(DataTable)
    await wait_until(pilot, lambda: table.row_count >= 1, what="the dossiers")
    await pilot.press("enter")
    await settle(pilot)
    screen = chat(pilot)
    await wait_until(pilot, lambda: screen.status == status, what=f"the resumed dossier ({status})")
    await settle(pilot)
    return screen


# -- a sent dossier goes to an added unit ---------------------------------------------------------
def test_the_doctor_adds_a_unit_to_a_sent_dossier(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)
    dossier_id, report = run(prepared_dossier(embedded, choose=[1], sign=True, send=True))
    first = report["proposals"][0]["unit_id"]
    second = report["proposals"][1]["unit_id"]

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(pilot, "1")
            screen = await resume_first(pilot, "sent")
            # the progress line is there at once, not after a next answer
            progress = str(screen.query_one("#progress", Static).render())
            assert "Patient" in progress and "✓" in progress, progress
            # F7 adds a unit; nothing to send yet, so no F8
            keys = footer_keys(app)
            assert keys.get("f7") == "Ajouter une unité" and "f8" not in keys, keys
            assert "F7 : ajouter une unité" in bubble_texts(screen, "assistant")[-1]

            await pilot.press("f7")
            await settle(pilot)
            proposals = app.screen
            assert isinstance(proposals, ProposalsScreen)
            units = proposals.query_one("#units", SelectionList)
            await wait_until(pilot, lambda: units.option_count >= 2, what="the proposals")
            assert units.selected == [first]  # the unit it went to, ticked
            await pilot.press("down", "space", "f9")
            await settle(pilot)
            assert chat(pilot) is screen
            await wait_until(pilot, lambda: "ajoutée" in bubble_texts(screen, "assistant")[-1],
                             what="the next step said")
            assert "1 unité(s) ajoutée(s) : F8 pour l'envoyer" in bubble_texts(screen, "assistant")[-1]
            assert footer_keys(app).get("f8") == "Envoyer"

            await pilot.press("f8")
            await settle(pilot)
            sign = app.screen
            assert isinstance(sign, SignScreen)
            state = sign.query_one("#state", Static)
            await wait_until(pilot, lambda: "déjà envoyé" in str(state.render()), what="the units named")
            text = str(state.render())
            assert "même signature" in text and text.count("Cardiologie — ") == 2, text
            await pilot.press("enter")  # signed already: no code
            await settle(pilot)
            assert chat(pilot) is screen
            last = bubble_texts(screen, "assistant")[-1]
            assert "envoyé aux unités ajoutées : 1 demande(s) de plus" in last, last
            await wait_until(pilot, lambda: "f8" not in footer_keys(app), what="nothing left to send")

            # F8 again is no send: the dossier has its two referrals, once each
            await pilot.press("f8")
            await settle(pilot)
            assert chat(pilot) is screen
            referrals = await app.client.dossier_referrals(dossier_id)
            assert sorted(r["unit_id"] for r in referrals) == sorted([first, second])

            # the dashboard: the dossier and its two referrals
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("d")
            await settle(pilot)
            table = app.screen.query_one("#referrals", DataTable)
            await wait_until(pilot, lambda: table.row_count == 3, what="the dossier and its referrals")

    try:
        run(scenario())
    finally:
        embedded.close()


# -- each role its own keys ---------------------------------------------------------------------
def test_the_secretary_sees_her_own_keys(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)
    dossier_id, _ = run(prepared_dossier(embedded, choose=[1]))  # ready, a unit chosen

    async def secretary(status: str) -> Any:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(pilot, "2")
            screen = await resume_first(pilot, status)
            return await yield_to(pilot, app, screen)

    async def yield_to(pilot: Pilot[Any], app: Any, screen: Any) -> dict[str, Any]:
        seen: dict[str, Any] = {"keys": footer_keys(app), "said": bubble_texts(screen, "assistant")[-1]}
        await type_and_enter(pilot, "")
        seen["enter"] = error_text(screen)
        await pilot.press("f1")
        await settle(pilot)
        seen["help"] = list(screen.query(Markdown))[-1].source
        await pilot.press("f8")
        await settle(pilot)
        seen["f8"] = "nothing" if app.screen is screen else "a dialog"
        if isinstance(app.screen, SignScreen):
            sign = app.screen
            state = sign.query_one("#state", Static)
            await wait_until(pilot, lambda: "Entrée" in str(state.render()), what="the send dialog")
            seen["title"] = str(sign.query_one(".title").render())
            seen["state"] = str(state.render())
            await pilot.press("enter")
            await settle(pilot)
            seen["sent"] = bubble_texts(chat(pilot), "assistant")[-1]
        return seen

    try:
        # the demo secretary: administrative part only (no `send`)
        seen = run(secretary("ready"))
        assert "f7" not in seen["keys"] and "f8" not in seen["keys"], seen["keys"]
        assert "Le médecin doit le relire et le signer" in seen["said"], seen["said"]
        for text in (seen["said"], seen["enter"], seen["help"]):
            assert "F8" not in text and "F7" not in text and "signer et envoyer" not in text, text
        assert "votre délégation n'inclut pas l'envoi" in seen["help"]
        assert seen["f8"] == "nothing"  # no key that does nothing for her is shown, nor opens anything

        # with the scope `send`, once the doctor has signed: F8 sends
        with Session(embedded.engine) as session:
            accounts_admin.delegate(session, doctor_rpps=demo_accounts.DEMO_DOCTOR.rpps or "",
                                    secretary=demo_accounts.DEMO_SECRETARY.user_id, scopes=["send"],
                                    until=datetime.now(UTC) + timedelta(days=1), by="test")

        async def doctor_signs() -> None:
            client = embedded.client("doctor")
            try:
                view = await client.dossier(dossier_id)
                assert (await client.sign(dossier_id, "1234", view["version"]))["ok"]
            finally:
                await client.close()

        run(doctor_signs())
        seen = run(secretary("signed"))
        assert seen["keys"].get("f8") == "Envoyer" and seen["keys"].get("f7") == "Unités", seen["keys"]
        assert "F8 : envoyer" in seen["said"] and "signer" not in seen["said"].split("«")[0], seen["said"]
        assert "F8 envoyer" in seen["enter"] and "signer" not in seen["enter"], seen["enter"]
        assert seen["title"] == "Envoyer" and "Dossier signé : Entrée pour l'envoyer à" in seen["state"]
        assert "Dossier envoyé : 1 demande(s)" in seen["sent"], seen["sent"]
    finally:
        embedded.close()


# -- every referral reaches a unit account; the inbox ---------------------------------------------
def test_any_unit_with_a_referral_answers_it_from_its_inbox(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)
    dossier_id, _ = run(prepared_dossier(embedded, choose=[1, 2], sign=True, send=True))
    sent = referrals_of(embedded, dossier_id)
    outside = [r for r in sent if r["unit_id"].split("-")[0] not in CHU_TOULOUSE]
    assert len(outside) == 1, sent  # not for the CHU de Toulouse desk
    referral = outside[0]
    age = age_on(datetime(1938, 3, 12).date(), datetime.now(PARIS).date())

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            # the first screen says what each demo account covers
            people = app.screen.query_one("#people", OptionList)
            shown = [str(people.get_option_at_index(i).prompt) for i in range(people.option_count)]
            assert "dossiers du Dr Martin (sans envoi)" in shown[1]
            assert "Purpan, Rangueil et La Grave" in shown[2]
            assert shown[3].startswith("4. Autre unité receveuse") and "qui a reçu une demande" in shown[3]

            await sign_in(pilot, "4")
            picker = app.screen
            assert isinstance(picker, UnitPickerScreen)
            units = picker.query_one("#units", OptionList)
            await wait_until(pilot, lambda: units.option_count == 2, what="the units with a referral")
            ids = [units.get_option_at_index(i).id for i in range(2)]
            assert sorted(ids) == sorted(r["unit_id"] for r in sent)
            label = str(units.get_option_at_index(ids.index(referral["unit_id"])).prompt)
            assert referral["establishment"] in label and "1 demande(s) reçue(s), 1 en attente" in label, label
            for _ in range(ids.index(referral["unit_id"])):
                await pilot.press("down")
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="the unit's home")
            assert app.role == "receiver" and app.user_name.startswith("Accueil ")
            me = await app.client.me()
            assert me["unit_ids"] == [referral["unit_id"]]  # this unit's account, this unit only

            await pilot.press("i")
            await settle(pilot)
            inbox = app.screen
            assert isinstance(inbox, InboxScreen)
            rows = inbox.query_one("#inbox", DataTable)
            await wait_until(pilot, lambda: rows.row_count == 1, what="the referral in the inbox")
            assert column(rows, "Délai") == ["sous 24 h"]
            assert column(rows, "Patient") == [f"F {age} ans"]
            demand = column(rows, "Site, unité · motif")[0]
            assert referral["establishment"] in demand and "Décompensation cardiaque" in demand, demand
            assert column(rows, "Statut") == ["envoyée"] and column(rows, "Attente") == ["0 min"]
            # drawn whole, wrapped in its column
            drawn = cell_text(app, rows, referral["id"], 2)
            assert "Décompensation cardiaque progressive depuis 5 jours" in drawn, drawn

            # the unit asks the doctor a question
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ReferralScreen)
            status = app.screen.query_one("#referral-status", Static)
            await wait_until(pilot, lambda: str(status.render()).startswith("lue"), what="opened")
            assert "envoyée le " in str(status.render())
            await pilot.press("f4")
            await settle(pilot)
            await type_and_enter(pilot, "Dernière créatininémie ?")
            await wait_until(pilot, lambda: app.screen is inbox, what="back to the inbox")
            await wait_until(pilot, lambda: column(rows, "Statut") == ["informations demandées"],
                             what="the question asked")

            # the doctor answers (from his own client): the inbox says so, live
            doctor = embedded.client("doctor")
            try:
                await doctor.answer_info(referral["id"], "110 µmol/l hier.")
            finally:
                await doctor.close()
            await wait_until(pilot, lambda: column(rows, "Statut") == ["nouvelle réponse du médecin"],
                             what="the doctor's answer flagged")
            await pilot.press("enter")
            await settle(pilot)
            status = app.screen.query_one("#referral-status", Static)
            await wait_until(pilot, lambda: "Réponse du médecin : 110 µmol/l hier." in str(status.render()),
                             what="the answer in the referral")
            assert "Votre question : Dernière créatininémie ?" in str(status.render())
            await pilot.press("escape")
            await settle(pilot)
            await wait_until(pilot, lambda: column(rows, "Statut") == ["lue"], what="no longer new")

    try:
        run(scenario())
    finally:
        embedded.close()


# -- the doctor's reply window -------------------------------------------------------------------
QUESTION = ("Pouvez-vous préciser la dernière créatininémie avec sa date, le poids habituel et le poids "
            "actuel, la diurèse des dernières 24 heures, et si le patient a déjà été hospitalisé chez "
            "nous pour une décompensation cardiaque ? Merci aussi de joindre le dernier ECG.")


def test_the_reply_window_shows_the_whole_question(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)
    _, report = run(prepared_dossier(embedded, choose=[1], sign=True, send=True))
    referral_id = report["referrals"][0]["id"]

    async def ask() -> None:
        unit = embedded.client("receiver")
        try:
            await unit.open_referral(referral_id)
            await unit.request_info(referral_id, QUESTION)
        finally:
            await unit.close()

    run(ask())

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await sign_in(pilot, "1")
            await pilot.press("d")
            await settle(pilot)
            table = app.screen.query_one("#referrals", DataTable)
            await wait_until(pilot, lambda: table.row_count == 2, what="the referral")
            await pilot.press("down", "f6")
            await settle(pilot)
            modal = app.screen
            assert isinstance(modal, TextModal)
            # the question whole, wrapped inside the window (its borders aside), never cut
            drawn = " ".join("".join(c for c in " ".join(screen_lines(app)) if c not in BORDERS).split())
            assert " ".join(QUESTION.split()) in drawn, drawn
            assert "Question de l'unité (Cardiologie, HOPITAL LA GRAVE CHU TOULOUSE)" in drawn, drawn
            assert modal.query_one("#text", Input).has_focus

    try:
        run(scenario())
    finally:
        embedded.close()


BORDERS = set("█▊▎▀▄▔▁▌▐│")


# -- the dashboard ------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(PARIS)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fast_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The minute's refresh of waiting times, every 0.05 s (what it does is the same)."""
    monkeypatch.setattr(LiveTable, "TICK_SECONDS", 0.05)


def test_dashboard_moves_on_by_itself_and_fits_100_and_80_columns(tmp_path: Path, fast_ticks: None) -> None:
    clock = Clock()
    embedded = make_embedded(tmp_path, clock=clock)
    dossier_id, _ = run(prepared_dossier(embedded, choose=[1, 2], sign=True, send=True))
    sent = referrals_of(embedded, dossier_id)
    accepted = next(r for r in sent if r["unit_id"].split("-")[0] in CHU_TOULOUSE)

    async def accept() -> None:
        unit = embedded.client("receiver")
        try:
            await unit.open_referral(accepted["id"])
            await unit.accept(accepted["id"], clock() + timedelta(hours=2),
                              "Dr Durand, interne de garde, 05 61 77 00 00")
        finally:
            await unit.close()

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=(100, 40)) as pilot:
            await sign_in(pilot, "1")
            await pilot.press("d")
            await settle(pilot)
            dashboard = app.screen
            assert isinstance(dashboard, DashboardScreen)
            table = dashboard.query_one("#referrals", DataTable)
            await wait_until(pilot, lambda: table.row_count == 3, what="the dossier and its referrals")
            assert column(table, "Attente")[1:] == ["0 min", "0 min"]
            # seven minutes later, with nothing happening, the waiting times have moved on
            clock.now += timedelta(minutes=7)
            await wait_until(pilot, lambda: column(table, "Attente")[1:] == ["7 min", "7 min"],
                             what="the waiting times refreshed by themselves")

            await accept()
            await wait_until(pilot, lambda: "acceptée" in column(table, "Statut"), what="the answer")
            for size in ((100, 40), (80, 24)):
                await pilot.resize_terminal(*size)
                await settle(pilot)
                await wait_until(pilot, lambda size=size: dashboard.width == size[0], what="refitted")
                # every column within the screen: nothing off its right edge
                assert table.virtual_size.width <= table.size.width, (size, table.virtual_size)
                for r in sent:
                    name = f"↳ {r['establishment']}"
                    assert cell_text(app, table, r["id"], 0) == name, size
                    assert cell_text(app, table, r["id"], 1) == r["unit_name"], size
                answer = cell_text(app, table, accepted["id"], 4)
                assert answer.startswith("admission le ") and answer.endswith(
                    "contact : Dr Durand, interne de garde, 05 61 77 00 00"), (size, answer)

    try:
        run(scenario())
    finally:
        embedded.close()


# -- times in Paris time ---------------------------------------------------------------------------
@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's own zone is not Paris: what people read stays Paris time."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_dossier_list_shows_paris_time(tmp_path: Path, new_york: None) -> None:
    embedded: Embedded = make_embedded(tmp_path)
    run(prepared_dossier(embedded))

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(pilot, "1")
            await pilot.press("r")
            await settle(pilot)
            assert isinstance(app.screen, ResumeScreen)
            table = app.screen.query_one(DataTable)
            await wait_until(pilot, lambda: table.row_count == 1, what="the dossier")
            listed = (await app.client.dossiers())[0]["updated_at"]
            expected = datetime.fromisoformat(listed).astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
            assert column(table, "Modifié") == [expected]

    try:
        run(scenario())
    finally:
        embedded.close()
