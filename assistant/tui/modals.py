"""Small dialogs the screens open: a free text, a reason from a list, an admission, a numbered
pick offered by a warning."""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text as RichText
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import (
    Input,
    Label,
    OptionList,
    Static,
)
from textual.widgets.option_list import Option


class TextModal(ModalScreen[str | None]):
    """A free text; `detail` (the unit's question the text answers...) is shown whole above it,
    wrapped, and scrolls when it is very long."""

    BINDINGS = [Binding("escape", "dismiss_none", "Annuler", id="text.cancel", tooltip="Annuler")]

    def __init__(self, title: str, placeholder: str, detail: str | None = None) -> None:
        super().__init__()
        self.title_text, self.placeholder, self.detail = title, placeholder, detail

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(RichText(self.title_text), classes="title")  # wraps, never cut
            if self.detail:
                with VerticalScroll(id="detail-box"):
                    yield Static(RichText(self.detail), id="detail-text")
            yield Input(placeholder=self.placeholder, id="text")
            yield Static("", id="error")

    def on_mount(self) -> None:
        self.query_one("#text", Input).focus()  # not the question's box: type the answer at once

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
    """The admission: its date and time (French local time, prefilled three hours from now), then
    the contact who prepares the arrival. Each field has its label; Enter goes from the first to
    the second, then accepts."""

    BINDINGS = [Binding("escape", "dismiss_none", "Annuler", id="accept.cancel", tooltip="Annuler")]
    FORMAT = "jj/mm/aaaa hh:mm"

    def compose(self) -> ComposeResult:
        from orient.models.localtime import paris_now

        default = f"{paris_now() + timedelta(hours=3):%d/%m/%Y %H:%M}"
        with Vertical():
            yield Label("Accepter l'admission (dans les 48 h)", classes="title")
            yield Static(f"Date et heure d'admission ({self.FORMAT})", classes="field-label",
                         id="when-label")
            yield Input(value=default, placeholder=self.FORMAT, id="when")
            yield Static("Contact pour préparer l'arrivée (nom, téléphone)", classes="field-label",
                         id="contact-label")
            yield Input(placeholder="Ex. : Dr Durand, 05 61 77 00 00", id="contact")
            yield Static("", id="error")

    def on_mount(self) -> None:
        self.query_one("#when", Input).focus()

    def _when(self) -> datetime | None:
        """The typed admission time, or None with the reason shown."""
        from orient.models.localtime import paris_now, read_fr_datetime

        when_text = self.query_one("#when", Input).value.strip()
        try:
            when = read_fr_datetime(when_text)
        except ValueError:
            self.query_one("#error", Static).update(
                f"« Date et heure d'admission » : « {when_text} » n'est pas accepté. Attendu : {self.FORMAT}.")
            return None
        now = paris_now()
        if not now - timedelta(minutes=1) <= when <= now + timedelta(hours=48):
            # checked here too, so that the dialog stays open with what was typed
            self.query_one("#error", Static).update(
                f"« Date et heure d'admission » : le {when_text} n'est pas accepté. Attendu : entre "
                f"maintenant et le {now + timedelta(hours=48):%d/%m/%Y %H:%M} (48 h).")
            return None
        return when

    @on(Input.Submitted, "#when")
    def next_field(self, _event: Input.Submitted) -> None:
        if self._when() is not None:
            self.query_one("#error", Static).update("")
            self.query_one("#contact", Input).focus()

    @on(Input.Submitted, "#contact")
    def done(self, _event: Input.Submitted) -> None:
        when = self._when()
        if when is None:
            self.query_one("#when", Input).focus()
            return
        contact = self.query_one("#contact", Input).value.strip()
        if not contact:
            self.query_one("#error", Static).update("« Contact » : une réponse est requise.")
            return
        self.dismiss((when, contact))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class PickModal(ModalScreen[str | None]):
    """A warning that offers a choice, as a numbered pick: its number (or arrows and Enter)
    picks; the last line, or Escape, goes on without picking."""

    BINDINGS = [Binding("escape", "dismiss_none", "Continuer", id="pick.cancel", tooltip="Continuer sans choisir")]

    def __init__(self, title: str, message: str, picks: list[tuple[str, str]], go_on: str) -> None:
        super().__init__()
        self.title_text, self.message, self.go_on = title, message, go_on
        self.picks = picks[:8]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Static(self.message, id="pick-message", markup=False)
            options = [Option(f"{i}. {label}", id=pick_id) for i, (pick_id, label) in enumerate(self.picks, 1)]
            options.append(Option(f"{len(self.picks) + 1}. {self.go_on}", id=""))
            yield OptionList(*options, id="picks")
            yield Static("Tapez le numéro, ou flèches puis Entrée ; Échap pour continuer.", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#picks", OptionList).focus()

    @on(OptionList.OptionSelected, "#picks")
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id or None)

    def on_key(self, event: Key) -> None:
        if event.character and event.character.isdigit():
            event.stop()
            number = int(event.character)
            if 1 <= number <= len(self.picks):
                self.dismiss(self.picks[number - 1][0])
            elif number == len(self.picks) + 1:
                self.dismiss(None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
