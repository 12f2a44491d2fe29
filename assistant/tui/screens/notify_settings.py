"""Notification settings of a doctor or a secretary: the address, the events received by e-mail,
and (a doctor) copies to the delegated secretaries (GET/PUT /me/notifications)."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Header, Input, Label, Static

from orient.assistant.errors import HubError, HubUnavailable
from orient.assistant.tui.screens.base import OrientScreen
from orient.assistant.tui.widgets import MarkedSelectionList

COPY = "copy_secretary"


def address_hint(prefs: dict[str, Any]) -> str:
    where = prefs.get("effective_address")
    if not where:
        return "Aucune adresse : rien n'est envoyé."
    own = "" if prefs.get("address") else " (adresse MSSanté de votre profil)"
    if prefs.get("mssante"):
        return f"Envoi à {where}{own} : messagerie MSSanté, les messages contiennent les données du patient."
    return (f"Envoi à {where}{own} : adresse hors MSSanté, les messages ne contiennent aucune donnée du "
            "patient (seulement le numéro court de la demande).")


class NotifySettingsScreen(OrientScreen):
    BINDINGS = [
        Binding("f2", "save", "Enregistrer", id="notify.save", tooltip="Enregistrer ces choix"),
        Binding("escape", "back", "Retour", id="notify.back", tooltip="Revenir sans enregistrer"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.prefs: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="notify-settings", classes="panel"):
            yield Label("Notifications par courriel", classes="title")
            yield Label("Adresse (vide : celle du profil pour un médecin ; aucune : rien n'est envoyé)")
            yield Input(id="notify-address", placeholder="prenom.nom@medecin.mssante.fr")
            yield Static("", id="notify-hint", classes="hint")
            yield Label("Messages reçus (Espace pour cocher ou décocher)")
            yield MarkedSelectionList(id="notify-events")
            yield Static("", id="error")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="notify-settings")
    async def load(self) -> None:
        try:
            prefs = await self.orient.client.call("GET", "/me/notifications")
        except (HubError, HubUnavailable) as exc:
            self.query_one("#error", Static).update(self.problem(exc))
            return
        self.show(prefs)
        self.query_one("#notify-address", Input).focus()

    def show(self, prefs: dict[str, Any]) -> None:
        self.prefs = prefs
        self.query_one("#notify-address", Input).value = prefs.get("address") or ""
        self.query_one("#notify-hint", Static).update(address_hint(prefs))
        events = self.query_one("#notify-events", MarkedSelectionList)
        events.clear_options()
        for kind, label in prefs["available"].items():
            events.add_option((label, kind, kind in prefs["events"]))
        if self.orient.role == "doctor":
            events.add_option(("Copie à mes secrétaires déléguées", COPY, bool(prefs.get("copy_secretary"))))
        events.highlighted = 0  # Space ticks the first line at once

    @on(Input.Submitted, "#notify-address")
    def submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        if self.prefs is None:
            return
        chosen = list(self.query_one("#notify-events", MarkedSelectionList).selected)
        body: dict[str, Any] = {"address": self.query_one("#notify-address", Input).value.strip(),
                                "events": [k for k in chosen if k != COPY]}
        if self.orient.role == "doctor":
            body[COPY] = COPY in chosen
        self.save(body)

    @work(exclusive=True, group="notify-settings")
    async def save(self, body: dict[str, Any]) -> None:
        error = self.query_one("#error", Static)
        try:
            prefs = await self.orient.client.call("PUT", "/me/notifications", json=body)
        except (HubError, HubUnavailable) as exc:
            error.update(self.problem(exc) + " Rien n'a été enregistré.")
            return
        error.update("")
        self.show(prefs)
        self.notify("Choix de notification enregistrés.")

    def action_back(self) -> None:
        self.app.pop_screen()
