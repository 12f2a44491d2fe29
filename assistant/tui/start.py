"""The first screens: who is using Orient (embedded mode) and home, with the screens' base class.

Kept apart from screens.py so that the first screen draws without loading the others (and their
widgets: Markdown, tables, selection lists), which load when a person opens them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, OptionList, Static
from textual.widgets.option_list import Option

from orient.assistant.errors import HubError, HubUnavailable

if TYPE_CHECKING:
    from orient.assistant.tui.app import OrientApp


class OrientScreen(Screen[Any]):
    @property
    def orient(self) -> OrientApp:
        return self.app  # type: ignore[return-value]

    def problem(self, exc: Exception) -> str:
        return exc.detail if isinstance(exc, HubError) else str(exc)

    async def dossier_and_review(self, dossier_id: str, target: str) -> tuple[Any, Any] | None:
        """The dossier and its review from the hub, or None with the problem shown in `target`."""
        from textual.widgets import Markdown

        try:
            view = await self.orient.client.dossier(dossier_id)
            sections = await self.orient.client.review(dossier_id)
        except (HubError, HubUnavailable) as exc:
            await self.query_one(target, Markdown).update(self.problem(exc))
            return None
        return view, sections


# -- who and home -------------------------------------------------------------------------------
class WhoScreen(OrientScreen):
    """Embedded mode: pick a demo user, one key each, with the demo codes shown."""

    BINDINGS = [
        Binding("1", "pick('doctor')", "Médecin", id="who.doctor", tooltip="Le médecin de démonstration"),
        Binding("2", "pick('secretary')", "Secrétaire", id="who.secretary", tooltip="La secrétaire déléguée"),
        Binding("3", "pick('receiver')", "Unité", id="who.receiver", tooltip="L'unité receveuse"),
    ]

    def compose(self) -> ComposeResult:
        from orient.assistant.demo_accounts import DEMO_DOCTOR, DEMO_RECEIVER, DEMO_SECRETARY

        with Vertical(id="who"):
            with Vertical(classes="panel"):
                yield Label("Orient — demandes d'hospitalisation non programmée", classes="title")
                yield Label("Qui utilise Orient ? (démonstration : données fictives)")
                yield OptionList(
                    Option(f"1. {DEMO_DOCTOR.name}, médecin — code de signature {DEMO_DOCTOR.code}", id="doctor"),
                    Option(f"2. {DEMO_SECRETARY.name}, secrétaire (délégation du Dr Martin)", id="secretary"),
                    Option(f"3. {DEMO_RECEIVER.name} (unité receveuse)", id="receiver"),
                    id="people",
                )
                yield Label("Touche 1, 2 ou 3, ou flèches puis Entrée.", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#people", OptionList).focus()

    @on(OptionList.OptionSelected, "#people")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.action_pick(event.option.id or "doctor")

    def action_pick(self, role: str) -> None:
        self.orient.sign_in(role)


class HomeScreen(OrientScreen):
    BINDINGS = [
        Binding("n", "new", "Nouveau dossier", id="home.new", tooltip="Commencer une demande"),
        Binding("r", "resume", "Reprendre", id="home.resume", tooltip="Reprendre un dossier"),
        Binding("d", "dashboard", "Tableau de bord", id="home.dashboard", tooltip="Suivre les demandes"),
        Binding("i", "inbox", "Boîte de réception", id="home.inbox", tooltip="Demandes reçues par l'unité"),
        Binding("escape", "switch", "Changer d'utilisateur", id="home.switch", tooltip="Retour au choix"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer shows the keys of this person's role only (a unit has no dossiers, the
        others no inbox)."""
        if action == "inbox":
            return self.orient.role == "receiver"
        if action in ("new", "resume", "dashboard"):
            return self.orient.role != "receiver"
        return True

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="home"), Vertical(classes="panel"):
            yield Label(f"Bonjour, {self.orient.user_name}", classes="title")
            yield OptionList(id="menu")
            yield Static("", id="resume-hint", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        menu = self.query_one("#menu", OptionList)
        if self.orient.role == "receiver":
            menu.add_options([Option("i. Boîte de réception de l'unité", id="inbox")])
        else:
            menu.add_options([
                Option("n. Nouveau dossier", id="new"),
                Option("r. Reprendre un dossier", id="resume"),
                Option("d. Tableau de bord des demandes", id="dashboard"),
            ])
        menu.focus()

    @on(OptionList.OptionSelected, "#menu")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        getattr(self, f"action_{event.option.id}")()

    def action_new(self) -> None:
        from orient.assistant.tui.chat import ChatScreen

        if self.orient.role != "receiver":
            self.app.push_screen(ChatScreen())

    def action_resume(self) -> None:
        from orient.assistant.tui.screens import ResumeScreen

        if self.orient.role != "receiver":
            self.app.push_screen(ResumeScreen())

    def action_dashboard(self) -> None:
        from orient.assistant.tui.screens import DashboardScreen

        if self.orient.role != "receiver":
            self.app.push_screen(DashboardScreen())

    def action_inbox(self) -> None:
        from orient.assistant.tui.screens import InboxScreen

        if self.orient.role == "receiver":
            self.app.push_screen(InboxScreen())

    def action_switch(self) -> None:
        if self.orient.embedded is not None:
            self.app.switch_screen(WhoScreen())


def default_letter_folder() -> Path:
    return Path.home() / "Documents" / "orient"
