"""The receiving unit's inbox, live: those waiting for its answer first, most urgent first (the
hub's order), each with its site, the patient's age and sex, the motive, the waiting time, and
when the requesting doctor has answered the unit's question."""

from __future__ import annotations

from typing import Any

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
from orient.assistant.tui.formatting import TIMING_FR, waiting
from orient.assistant.tui.screens.base import LiveTable
from orient.models.lifecycle import (
    REFERRAL_STATUS_FR,
    ReferralStatus,
)
from orient.models.localtime import fr_datetime

NEW_ANSWER = "nouvelle réponse du médecin"
COLUMNS = [Column("Délai", 11), Column("Patient", 9), Column("Site, unité · motif", weight=1),
           Column("Statut", 14), Column("Attente", 9)]
MOTIVE_IN_ROW = 140  # characters of the motive in its row; the line under the table has it all


def patient(r: dict[str, Any]) -> str:
    """"F 88 ans": sex and age."""
    age = r.get("patient_age")
    return " ".join(x for x in (r.get("patient_sex") or "", f"{age} ans" if age is not None else "") if x)


def site(r: dict[str, Any]) -> str:
    """"CH DE BIGORRE (TARBES) — Cardiologie" (the town unless the name says it)."""
    name, town = r.get("establishment") or "", r.get("establishment_commune") or ""
    where = f"{name} ({town})" if town and town.upper() not in name.upper() else name
    return f"{where} — {r.get('unit_name') or r['unit_id']}"


def status(r: dict[str, Any]) -> str:
    return NEW_ANSWER if r.get("new_answer") else REFERRAL_STATUS_FR[ReferralStatus(r["status"])]


def short(text: str, size: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


class InboxScreen(LiveTable):
    BINDINGS = [Binding("escape", "app.pop_screen", "Accueil", id="inbox.back", tooltip="Revenir à l'accueil"),
                *LiveTable.STATS_BINDINGS]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Demandes reçues — en attente de réponse d'abord, les plus urgentes en tête "
                     "(Entrée pour ouvrir)", classes="status")
        yield DataTable(id="inbox", cursor_type="row")
        yield Static("", id="inbox-detail", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        self.width = 0
        self.referrals: list[dict[str, Any]] | None = None
        self.shown: dict[str, dict[str, Any]] = {}
        super().on_mount()

    def on_screen_resume(self) -> None:
        if self.referrals is not None:  # back from a referral: what was read is no longer new
            self.refresh_rows()

    def on_resize(self) -> None:
        if self.referrals is not None and self.app.size.width != self.width:
            self.show_rows(self.referrals)

    @work(exclusive=True, group="rows")
    async def refresh_rows(self) -> None:
        try:
            referrals = await self.orient.client.inbox()
        except (HubError, HubUnavailable) as exc:
            self.notify(self.problem(exc), severity="error")
            return
        before = {k for k, r in self.shown.items() if r.get("new_answer")}
        fresh = [r for r in referrals if r.get("new_answer") and r["id"] not in before]
        if self.referrals is not None and fresh:
            self.notify(f"Nouvelle réponse du médecin : {site(fresh[0])}.")
        self.referrals = referrals
        self.show_rows(referrals)

    def show_rows(self, referrals: list[dict[str, Any]]) -> None:
        table = self.query_one(DataTable)
        kept = table.cursor_row
        if self.app.size.width != self.width:  # the columns share the terminal's width
            self.width = self.app.size.width
            set_columns(table, COLUMNS, self.width)
        table.clear()
        self.shown = {r["id"]: r for r in referrals}
        for r in referrals:
            demand = Text(site(r), style="bold")
            if r.get("motive"):
                demand.append(f"\n{short(r['motive'], MOTIVE_IN_ROW)}", style="")
            table.add_row(TIMING_FR.get(r["timing"], r["timing"]), patient(r), demand,
                          Text(status(r), style="bold" if r.get("new_answer") else ""),
                          waiting(r["waiting_minutes"]) + ("\nEN RETARD" if r["overdue"] else ""),
                          key=r["id"], height=None)
        if table.row_count:
            table.move_cursor(row=min(max(kept, 0), table.row_count - 1))
        else:
            self.query_one("#inbox-detail", Static).update("Aucune demande reçue pour l'instant.")

    @on(DataTable.RowHighlighted)
    def show_row(self, event: DataTable.RowHighlighted) -> None:
        r = self.shown.get(str(event.row_key.value))
        if r:
            motive = f" · motif : {' '.join(r['motive'].split())}" if r.get("motive") else ""
            answer = f" · réponse du médecin : {r['info_answer']}" if r.get("info_answer") else ""
            self.query_one("#inbox-detail", Static).update(Text(
                f"{site(r)} · {patient(r)} · envoyée le {fr_datetime(r['sent_at'], ' à ')}{motive}{answer}"))

    @on(DataTable.RowSelected)
    def open_referral(self, event: DataTable.RowSelected) -> None:
        self.orient.open_screen("referral", str(event.row_key.value))
