"""The requester's dashboard: each dossier with its referrals, live."""

from __future__ import annotations

from typing import Any

from rich.padding import Padding
from rich.text import Text
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
from orient.assistant.tui.columns import Column, set_columns
from orient.assistant.tui.formatting import answer_text, phone_fr, waiting
from orient.assistant.tui.modals import ReasonModal, TextModal
from orient.assistant.tui.screens.base import LiveTable
from orient.models.lifecycle import (
    CANCELLATION_REASONS,
    DOSSIER_STATUS_FR,
    REFERRAL_STATUS_FR,
    DossierStatus,
    ReferralStatus,
)
from orient.models.localtime import fr_datetime

# a dossier's status in the dashboard's Statut column (12 wide); the detail line says it in full
DOSSIER_STATUS_SHORT = {
    DossierStatus.DRAFT: "brouillon", DossierStatus.AWAITING_DOCTOR: "au médecin",
    DossierStatus.READY: "à signer", DossierStatus.BLOCKED: "bloqué", DossierStatus.SIGNED: "signé",
    DossierStatus.SENT: "envoyé",
}
# Free text (names, answers) wraps in its column: nothing is cut, at 80 columns the answer shows
COLUMNS = [Column("Patient / établissement", weight=3), Column("Unité", weight=2),
           Column("Statut", 12), Column("Attente", 9), Column("Réponse", weight=3)]


class DashboardScreen(LiveTable):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Accueil", id="dashboard.back", tooltip="Revenir à l'accueil"),
        Binding("f6", "answer_info", "Répondre", id="dashboard.info", tooltip="Répondre à une question de l'unité"),
        Binding("f3", "cancel_referral", "Annuler", id="dashboard.cancel", tooltip="Annuler la demande"),
        *LiveTable.STATS_BINDINGS,
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Mes dossiers et leurs demandes, en direct · Entrée : ouvrir", classes="status")
        yield DataTable(id="referrals", cursor_type="row")
        yield Static("", id="detail-line", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        self.width = 0
        self.rows: dict[str, dict[str, Any]] = {}  # referral id -> referral
        self.dossiers: dict[str, dict[str, Any]] = {}  # row key of a dossier -> dossier
        self.fetched: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None
        super().on_mount()

    def on_resize(self) -> None:
        if self.fetched is not None and self.app.size.width != self.width:
            self.show_rows(*self.fetched)

    @work(exclusive=True, group="rows")
    async def refresh_rows(self) -> None:
        try:
            dossiers = await self.orient.client.dossiers()
            referrals = await self.orient.client.referrals()
        except (HubError, HubUnavailable) as exc:
            self.query_one("#detail-line", Static).update(self.problem(exc))
            return
        self.fetched = (dossiers, referrals)
        self.show_rows(dossiers, referrals)

    def show_rows(self, dossiers: list[dict[str, Any]], referrals: list[dict[str, Any]]) -> None:
        table = self.query_one(DataTable)
        kept = table.cursor_row
        if self.app.size.width != self.width:  # the columns share the terminal's width
            self.width = self.app.size.width
            set_columns(table, COLUMNS, self.width)
        table.clear()
        self.rows = {r["id"]: r for r in referrals}
        self.dossiers = {f"dossier:{d['id']}": d for d in dossiers}
        sent_for: dict[str, list[dict[str, Any]]] = {}
        for r in referrals:
            sent_for.setdefault(r["dossier_id"], []).append(r)
        # each dossier (the newest first, as listed), then its referrals under it
        for key, d in self.dossiers.items():
            # the names in bold, the birth date in the next column (the detail line says it all)
            table.add_row(Text(d.get("patient_name") or d["patient"], style="bold"),
                          d.get("patient_born", ""),
                          DOSSIER_STATUS_SHORT[DossierStatus(d["status"])], "", "", key=key, height=None)
            for r in sent_for.pop(d["id"], []):
                self._add_referral(table, r)
        for left in sent_for.values():  # a dossier no longer listed: its referrals all the same
            for r in left:
                self._add_referral(table, r)
        if table.row_count:
            table.move_cursor(row=min(kept, table.row_count - 1))
        if not dossiers:
            self.query_one("#detail-line", Static).update(
                "Aucun dossier pour l'instant : « Nouveau dossier » depuis l'accueil.")
        if any(r["overdue"] for r in referrals):
            phones = ", ".join(f"{r.get('establishment')}: {phone_fr(r['unit_phone'])}" for r in referrals
                               if r["overdue"] and r.get("unit_phone"))
            self.query_one("#detail-line", Static).update(
                "Demande(s) en retard : appelez l'unité" + (f" ({phones})" if phones else "")
                + " ou ajoutez une autre unité (F7 dans le dossier).")

    @staticmethod
    def _add_referral(table: DataTable[Any], r: dict[str, Any]) -> None:
        # user texts as Text (never read as markup); rows as tall as their wrapped cells
        # under its dossier: indented, its wrapped lines too
        site = Padding(Text(f"↳ {r.get('establishment') or ''}"), (0, 0, 0, 2))
        table.add_row(site, Text(r.get("unit_name") or r["unit_id"]),
                      REFERRAL_STATUS_FR[ReferralStatus(r["status"])],
                      waiting(r["waiting_minutes"]) + ("\nEN RETARD" if r["overdue"] else ""),
                      Text(answer_text(r)), key=r["id"], height=None)

    @on(DataTable.RowHighlighted)
    def show_row(self, event: DataTable.RowHighlighted) -> None:
        key = str(event.row_key.value)
        d = self.dossiers.get(key)
        if d:
            sent = sum(r["dossier_id"] == d["id"] for r in self.rows.values())
            self.query_one("#detail-line", Static).update(Text(
                f"{d['patient']} : dossier {DOSSIER_STATUS_FR[DossierStatus(d['status'])]}"
                + (f", {sent} demande(s)" if sent else "") + " · Entrée : l'ouvrir"))
        r = self.rows.get(key)
        if r:
            text = answer_text(r) or REFERRAL_STATUS_FR[ReferralStatus(r["status"])]
            phone = f" · téléphone de l'unité : {phone_fr(r['unit_phone'])}" if r.get("unit_phone") else ""
            sent = f" · envoyée le {fr_datetime(r['sent_at'], ' à ')}"
            self.query_one("#detail-line", Static).update(
                Text(f"{r.get('establishment') or ''} : {text}{phone}{sent}"))

    def _selected(self) -> dict[str, Any] | None:
        """The referral of the highlighted row (None on a dossier's row, with a hint)."""
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        if key in self.dossiers:
            self.notify("Choisissez d'abord une demande (une ligne d'unité, sous son dossier).")
        return self.rows.get(key)

    @on(DataTable.RowSelected)
    def open_dossier(self, event: DataTable.RowSelected) -> None:
        key = str(event.row_key.value)
        dossier = self.dossiers.get(key) or {"id": (self.rows.get(key) or {}).get("dossier_id")}
        if dossier["id"]:
            self.orient.open_screen("chat", str(dossier["id"]))

    def action_answer_info(self) -> None:
        r = self._selected()
        if r and r["status"] == ReferralStatus.INFO_REQUESTED.value:
            # the question whole, wrapped (and scrolled if very long), above the answer field
            modal = TextModal(f"Question de l'unité ({r.get('unit_name') or ''}, "
                              f"{r.get('establishment') or ''})", "Votre réponse", detail=r.get("question"))
            self.app.push_screen(modal, lambda text: self.reply(r["id"], text))  # type: ignore[arg-type]

    def action_cancel_referral(self) -> None:
        r = self._selected()
        if r and r["status"] not in (ReferralStatus.SENT.value, ReferralStatus.READ.value,
                                     ReferralStatus.INFO_REQUESTED.value):
            self.notify("Seule une demande pas encore acceptée ni refusée peut être annulée.")
        elif r:
            self.app.push_screen(ReasonModal("Annuler la demande : motif", CANCELLATION_REASONS),
                                 lambda choice: self.cancel_referral(r["id"], choice))  # type: ignore[arg-type]

    @work(group="act")
    async def reply(self, referral_id: str, text: str | None) -> None:
        if text:
            await self._act(self.orient.client.answer_info(referral_id, text))

    @work(group="act")
    async def cancel_referral(self, referral_id: str, choice: tuple[str, str] | None) -> None:
        if choice:
            await self._act(self.orient.client.cancel(referral_id, choice[0], choice[1] or None))

    async def _act(self, call: Any) -> None:
        try:
            await call
        except (HubError, HubUnavailable) as exc:
            self.notify(self.problem(exc), severity="error")
        self.refresh_rows()
