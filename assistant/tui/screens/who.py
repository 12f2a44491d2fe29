"""The first screen in embedded mode: who is using Orient."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Label, OptionList
from textual.widgets.option_list import Option

from orient.assistant.tui.screens.base import OrientScreen


class WhoScreen(OrientScreen):
    """Embedded mode: pick a demo user, one key each, with the demo codes shown."""

    BINDINGS = [
        Binding("1", "pick('doctor')", "Médecin", id="who.doctor", tooltip="Le médecin de démonstration"),
        Binding("2", "pick('secretary')", "Secrétaire", id="who.secretary", tooltip="La secrétaire déléguée"),
        Binding("3", "pick('receiver')", "Unité", id="who.receiver", tooltip="L'unité receveuse"),
        Binding("4", "pick('unit')", "Autre unité", id="who.unit",
                tooltip="Une unité qui a reçu une demande, au choix"),
    ]

    def compose(self) -> ComposeResult:
        from orient.assistant.demo_accounts import (
            DEMO_DOCTOR,
            DEMO_OTHER_UNITS,
            DEMO_RECEIVER,
            DEMO_SECRETARY,
        )

        with Vertical(id="who"):
            with Vertical(classes="panel"):
                yield Label("Orient — demandes d'hospitalisation non programmée", classes="title")
                yield Label("Qui utilise Orient ? (démonstration : données fictives)")
                # each account with what it covers, under its name
                yield OptionList(
                    Option(self.line(f"1. {DEMO_DOCTOR.name}, médecin — code de signature {DEMO_DOCTOR.code}",
                                     DEMO_DOCTOR.covers), id="doctor"),
                    Option(self.line(f"2. {DEMO_SECRETARY.name}, secrétaire", DEMO_SECRETARY.covers),
                           id="secretary"),
                    Option(self.line(f"3. {DEMO_RECEIVER.name} (unité receveuse)", DEMO_RECEIVER.covers),
                           id="receiver"),
                    Option(self.line("4. Autre unité receveuse", DEMO_OTHER_UNITS), id="unit"),
                    id="people",
                )
                yield Label("Touche 1 à 4, ou flèches puis Entrée.", classes="hint")
        yield Footer()

    @staticmethod
    def line(who: str, covers: str) -> Text:
        return Text.assemble(who, "\n", (f"   {covers}", "dim"))

    def on_mount(self) -> None:
        self.query_one("#people", OptionList).focus()

    @on(OptionList.OptionSelected, "#people")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.action_pick(event.option.id or "doctor")

    def action_pick(self, role: str) -> None:
        if role == "unit":
            self.orient.open_screen("units")
        else:
            self.orient.sign_in(role)
