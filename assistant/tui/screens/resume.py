"""Resume a dossier: the list of the person's dossiers."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Label,
)

from orient.assistant.errors import HubError, HubUnavailable
from orient.assistant.tui.screens.base import OrientScreen
from orient.models.lifecycle import (
    DOSSIER_STATUS_FR,
    DossierStatus,
)
from orient.models.localtime import fr_datetime


class ResumeScreen(OrientScreen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Retour", id="resume.back", tooltip="Accueil")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("Dossiers (Entrée pour reprendre)", classes="status")
        yield DataTable(id="dossiers", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Patient", "Statut", "Modifié")
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        table = self.query_one(DataTable)
        try:
            rows = await self.orient.client.dossiers()
        except (HubError, HubUnavailable) as exc:
            self.notify(self.problem(exc), severity="error")
            return
        for row in rows:
            table.add_row(row["patient"], DOSSIER_STATUS_FR[DossierStatus(row["status"])],
                          fr_datetime(row["updated_at"]), key=row["id"])  # Paris time

    @on(DataTable.RowSelected)
    def open_dossier(self, event: DataTable.RowSelected) -> None:

        self.orient.replace_screen("chat", str(event.row_key.value))
