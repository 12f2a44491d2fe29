"""The receiving unit's inbox, live."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Static,
)

from orient.assistant.errors import HubError, HubUnavailable
from orient.assistant.tui.formatting import TIMING_FR, waiting
from orient.assistant.tui.screens.base import LiveTable
from orient.models.lifecycle import (
    REFERRAL_STATUS_FR,
    ReferralStatus,
)


class InboxScreen(LiveTable):
    BINDINGS = [Binding("escape", "app.pop_screen", "Accueil", id="inbox.back", tooltip="Revenir à l'accueil")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Demandes reçues — les plus urgentes d'abord (Entrée pour ouvrir)", classes="status")
        yield DataTable(id="inbox", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in (("Délai", 12), ("Unité", 20), ("Statut", 22), ("Attente", 8), ("Retard", 9)):
            table.add_column(label, width=width)
        super().on_mount()

    @work(exclusive=True, group="rows")
    async def refresh_rows(self) -> None:
        table = self.query_one(DataTable)
        try:
            referrals = await self.orient.client.inbox()
        except (HubError, HubUnavailable) as exc:
            self.notify(self.problem(exc), severity="error")
            return
        table.clear()
        for r in referrals:
            table.add_row(TIMING_FR.get(r["timing"], r["timing"]), r.get("unit_name") or r["unit_id"],
                          REFERRAL_STATUS_FR[ReferralStatus(r["status"])], waiting(r["waiting_minutes"]),
                          "EN RETARD" if r["overdue"] else "", key=r["id"])

    @on(DataTable.RowSelected)
    def open_referral(self, event: DataTable.RowSelected) -> None:
        self.orient.open_screen("referral", str(event.row_key.value))
