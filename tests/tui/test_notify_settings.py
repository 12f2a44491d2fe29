"""The notification settings screen, driven by keys: from home, « p » opens it; the doctor types
an address, unticks an event, asks for copies to the secretaries, saves with F2; a wrong address
is refused in French and changes nothing; the secretary's screen has no copy option."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Static
from tui_helpers import SIZE, make_app, make_embedded, run, settle, type_text, wait_until

from orient.assistant.tui.screens.home import HomeScreen
from orient.assistant.tui.screens.notify_settings import NotifySettingsScreen
from orient.assistant.tui.widgets import MarkedSelectionList


async def settings_screen(pilot: Pilot[Any], who: str) -> NotifySettingsScreen:
    await settle(pilot)
    await pilot.press(who)
    await settle(pilot)
    await pilot.press("p")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, NotifySettingsScreen)
    await wait_until(pilot, lambda: screen.prefs is not None, what="the settings")
    return screen


def hint(screen: NotifySettingsScreen) -> str:
    return str(screen.query_one("#notify-hint", Static).render())


def test_a_doctor_chooses_address_events_and_copies_by_keys(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await settings_screen(pilot, "1")
            events = screen.query_one("#notify-events", MarkedSelectionList)
            assert [events.get_option_at_index(i).value for i in range(events.option_count)] == [
                "read", "accepted", "refused", "info_requested", "copy_secretary"]
            assert set(events.selected) == {"read", "accepted", "refused", "info_requested"}
            assert "Aucune adresse" in hint(screen)

            # a wrong address: refused in French, nothing saved
            await type_text(pilot, "claire.martin-chez-nous")
            await pilot.press("f2")
            await settle(pilot)
            assert "Adresse de notification" in str(screen.query_one("#error", Static).render())
            assert "Rien n'a été enregistré" in str(screen.query_one("#error", Static).render())
            assert (await app.client.call("GET", "/me/notifications"))["address"] is None

            # the right one; « lue » unticked, copies asked (Tab to the list, arrows, Space)
            screen.query_one("#notify-address", Input).value = ""
            await type_text(pilot, "claire.martin@medecin.mssante.fr")
            await pilot.press("tab")
            await pilot.press("space")  # the first line: « Demande lue par l'unité »
            for _ in range(4):
                await pilot.press("down")
            await pilot.press("space")  # copies to the secretaries
            await pilot.press("f2")
            await settle(pilot)
            await wait_until(pilot, lambda: "messagerie MSSanté" in hint(screen), what="the saved address")
            saved = await app.client.call("GET", "/me/notifications")
            assert saved["address"] == "claire.martin@medecin.mssante.fr" and saved["mssante"] is True
            assert saved["events"] == ["accepted", "refused", "info_requested"]
            assert saved["copy_secretary"] is True
            assert not str(screen.query_one("#error", Static).render())

            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, HomeScreen)

    run(scenario())


def test_a_secretary_sets_her_address_and_has_no_copy_option(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await settings_screen(pilot, "2")
            events = screen.query_one("#notify-events", MarkedSelectionList)
            assert "copy_secretary" not in [events.get_option_at_index(i).value for i in range(events.option_count)]
            await type_text(pilot, "secretariat@gmail.com")
            await pilot.press("enter")
            await settle(pilot)
            await wait_until(pilot, lambda: "hors MSSanté" in hint(screen), what="the saved address")
            assert "aucune donnée du patient" in hint(screen)
            assert (await app.client.call("GET", "/me/notifications"))["address"] == "secretariat@gmail.com"

    run(scenario())
