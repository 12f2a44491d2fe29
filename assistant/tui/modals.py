"""Small dialogs the screens open: a free text, a reason from a list, an admission."""

from __future__ import annotations

from datetime import datetime, timedelta

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import (
    Input,
    Label,
    OptionList,
    Static,
)
from textual.widgets.option_list import Option


class TextModal(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Annuler", id="text.cancel", tooltip="Annuler")]

    def __init__(self, title: str, placeholder: str) -> None:
        super().__init__()
        self.title_text, self.placeholder = title, placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Input(placeholder=self.placeholder, id="text")
            yield Static("", id="error")

    @on(Input.Submitted, "#text")
    def done(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.query_one("#error", Static).update("Le texte est vide.")
            return
        self.dismiss(event.value.strip())

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class ReasonModal(ModalScreen[tuple[str, str] | None]):
    """A reason from a list; "Autre" asks for a text."""

    BINDINGS = [Binding("escape", "dismiss_none", "Annuler", id="reason.cancel", tooltip="Annuler")]

    def __init__(self, title: str, reasons: dict[str, str]) -> None:
        super().__init__()
        self.title_text, self.reasons = title, reasons
        self.code: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield OptionList(*[Option(label, id=code) for code, label in self.reasons.items()], id="reasons")
            yield Input(placeholder="Précisez (obligatoire pour « Autre »)", id="text")
            yield Static("", id="error")

    def on_mount(self) -> None:
        self.query_one("#reasons", OptionList).focus()

    @on(OptionList.OptionSelected, "#reasons")
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.code = event.option.id
        self.query_one("#text", Input).focus()

    @on(Input.Submitted, "#text")
    def done(self, event: Input.Submitted) -> None:
        if self.code is None:
            self.query_one("#error", Static).update("Choisissez d'abord un motif (flèches, Entrée).")
            return
        if self.code == "other" and not event.value.strip():
            self.query_one("#error", Static).update("Le motif « Autre » demande une précision.")
            return
        self.dismiss((self.code, event.value.strip()))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class AcceptModal(ModalScreen[tuple[datetime, str] | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Annuler", id="accept.cancel", tooltip="Annuler")]

    def compose(self) -> ComposeResult:
        default = (datetime.now() + timedelta(hours=3)).strftime("%d/%m/%Y %H:%M")
        with Vertical():
            yield Label("Accepter l'admission (dans les 48 h)", classes="title")
            yield Input(value=default, placeholder="jj/mm/aaaa hh:mm", id="when")
            yield Input(placeholder="Contact (nom, téléphone) pour préparer l'arrivée", id="contact")
            yield Static("", id="error")

    def on_mount(self) -> None:
        self.query_one("#contact", Input).focus()

    @on(Input.Submitted)
    def done(self, _event: Input.Submitted) -> None:
        when_text = self.query_one("#when", Input).value.strip()
        contact = self.query_one("#contact", Input).value.strip()
        try:
            when = datetime.strptime(when_text, "%d/%m/%Y %H:%M").astimezone()
        except ValueError:
            self.query_one("#error", Static).update(
                f"« Date et heure d'admission » : « {when_text} » n'est pas accepté. Attendu : jj/mm/aaaa hh:mm.")
            return
        now = datetime.now().astimezone()
        if not now - timedelta(minutes=1) <= when <= now + timedelta(hours=48):
            # checked here too, so that the dialog stays open with what was typed
            self.query_one("#error", Static).update(
                f"« Date et heure d'admission » : le {when_text} n'est pas accepté. Attendu : entre "
                f"maintenant et le {now + timedelta(hours=48):%d/%m/%Y %H:%M} (48 h).")
            return
        if not contact:
            self.query_one("#error", Static).update("« Contact » : une réponse est requise.")
            return
        self.dismiss((when, contact))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
