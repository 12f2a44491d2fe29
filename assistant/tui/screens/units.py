"""Embedded demo: the receiving unit to answer as, among those that have received a referral
(each answers through an account bound to it alone, as in a real deployment)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from orient.assistant.tui.screens.base import OrientScreen


class UnitPickerScreen(OrientScreen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Retour", id="units.back", tooltip="Qui utilise Orient ?")]

    def compose(self) -> ComposeResult:
        with Vertical(id="who"), Vertical(classes="panel"):
            yield Label("Répondre en tant que quelle unité ? (démonstration)", classes="title")
            yield Static("Unités qui ont reçu une demande, celles qui en ont en attente d'abord. "
                         "Chacune répond avec un compte rattaché à elle seule.", classes="hint")
            yield OptionList(id="units")
            yield Static("Chargement…", id="units-hint", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#units", OptionList).focus()
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        embedded = self.orient.embedded  # waits for the local hub
        found = embedded.units_with_referrals() if embedded is not None else []
        self.app.call_from_thread(self.show, found)

    def show(self, found: list[Any]) -> None:
        units = self.query_one("#units", OptionList)
        units.clear_options()
        units.add_options([Option(Text.assemble(f"{n}. {u.label}\n", (f"   {u.counts}", "dim")), id=u.unit_id)
                           for n, u in enumerate(found, 1)])
        hint = self.query_one("#units-hint", Static)
        if not found:
            hint.update("Aucune unité n'a encore reçu de demande : envoyez d'abord un dossier "
                        "(Échap, puis 1 : le médecin).")
            return
        units.highlighted = 0
        hint.update("Flèches puis Entrée · Échap : retour.")

    @on(OptionList.OptionSelected, "#units")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.query_one("#units-hint", Static).update("Connexion…")
            self.orient.sign_in_unit(event.option.id)
