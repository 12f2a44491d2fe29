"""Home: new dossier, resume, dashboard, or the unit's inbox."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Header, Label, OptionList, Static
from textual.widgets.option_list import Option

from orient.assistant.tui.screens.base import OrientScreen


class HomeScreen(OrientScreen):
    BINDINGS = [
        Binding("n", "new", "Nouveau dossier", id="home.new", tooltip="Commencer une demande"),
        # shown in the menu, not in the footer (which must hold Escape at 80 columns)
        Binding("f", "import_document", "Importer", id="home.import", show=False,
                tooltip="Nouveau dossier depuis un export du logiciel de cabinet ou une lettre"),
        Binding("r", "resume", "Reprendre", id="home.resume", tooltip="Reprendre un dossier"),
        Binding("d", "dashboard", "Tableau de bord", id="home.dashboard", tooltip="Suivre les demandes"),
        Binding("i", "inbox", "Boîte de réception", id="home.inbox", tooltip="Demandes reçues par l'unité"),
        Binding("s", "stats", "Statistiques", id="home.stats", show=False,
                tooltip="Délais de réponse, taux d'acceptation, demandes en retard"),
        Binding("p", "notify_settings", "Notifications", id="home.notify", show=False,
                tooltip="Adresse et messages reçus par courriel"),
        Binding("escape", "switch", "Changer d'utilisateur", id="home.switch", tooltip="Retour au choix"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer shows the keys of this person's role only (a unit has no dossiers, the
        others no inbox)."""
        if action == "inbox":
            return self.orient.role == "receiver"
        if action in ("new", "import_document", "resume", "dashboard", "notify_settings"):
            return self.orient.role != "receiver"
        if action == "switch":  # demo users, or a Pro Santé Connect session to sign out of
            return self.orient.demo_users or self.orient.psc_session
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
            menu.add_options([Option("i. Boîte de réception de l'unité", id="inbox"),
                              Option("s. Statistiques de l'unité", id="stats")])
        else:
            menu.add_options([
                Option("n. Nouveau dossier", id="new"),
                Option("f. Nouveau dossier depuis un document (logiciel de cabinet, lettre)",
                       id="import_document"),
                Option("r. Reprendre un dossier", id="resume"),
                Option("d. Tableau de bord des demandes", id="dashboard"),
                Option("s. Statistiques des demandes", id="stats"),
                Option("p. Notifications par courriel", id="notify_settings"),
            ])
        menu.focus()

    @on(OptionList.OptionSelected, "#menu")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        getattr(self, f"action_{event.option.id}")()

    def action_new(self) -> None:
        if self.orient.role != "receiver":
            self.orient.open_screen("chat")

    def action_import_document(self) -> None:
        if self.orient.role != "receiver":
            self.orient.open_screen("import")

    def action_resume(self) -> None:
        if self.orient.role != "receiver":
            self.orient.open_screen("resume")

    def action_dashboard(self) -> None:
        if self.orient.role != "receiver":
            self.orient.open_screen("dashboard")

    def action_inbox(self) -> None:
        if self.orient.role == "receiver":
            self.orient.open_screen("inbox")

    def action_notify_settings(self) -> None:
        if self.orient.role != "receiver":
            self.orient.open_screen("notify_settings")

    def action_stats(self) -> None:
        self.orient.open_screen("stats")

    def action_switch(self) -> None:
        if self.orient.demo_users:  # embedded: the demo users (asks nothing of the hub)
            self.orient.replace_screen("who")
        elif self.orient.psc_session:  # the hub revokes this session's token; someone signs in
            self.orient.psc_sign_out()
