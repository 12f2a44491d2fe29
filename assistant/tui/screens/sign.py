"""The signature and the sending (F8): the doctor's personal code, then the referrals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import (
    Input,
    Label,
    Static,
)

from orient.assistant.errors import HubError, HubUnavailable

if TYPE_CHECKING:
    from orient.assistant.tui.app import OrientApp


class SignScreen(ModalScreen[str | None]):
    """The doctor signs with their personal code, then the referrals are sent (outbox)."""

    BINDINGS = [Binding("escape", "dismiss_none", "Annuler", id="sign.cancel", tooltip="Ne pas signer")]

    def __init__(self, dossier_id: str) -> None:
        super().__init__()
        self.dossier_id = dossier_id

    @property
    def orient(self) -> OrientApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Signer et envoyer", classes="title")
            yield Static("", id="state")
            yield Input(placeholder="Code personnel de signature", password=True, id="code")
            yield Static("", id="error")

    def on_mount(self) -> None:
        self.prepare()

    @work(exclusive=True)
    async def prepare(self) -> None:
        view = await self.orient.client.dossier(self.dossier_id)
        self.version = view["version"]
        state = self.query_one("#state", Static)
        # where it will go, by name, before the code that sends it
        going = "\n".join(f"  · {label}" for label in view.get("chosen_labels") or view["chosen_units"])
        if view["signed"]:
            state.update(f"Dossier déjà signé : Entrée pour l'envoyer à\n{going}")
            self.query_one("#code", Input).placeholder = "Entrée pour envoyer"
        else:
            state.update(f"Signer puis envoyer à :\n{going}\nTapez votre code puis Entrée.")
        self.signed = view["signed"]
        self.units = len(view["chosen_units"])
        if not self.units:
            state.update("Choisissez d'abord de 1 à 5 unités (Échap, puis F7) : rien n'est signé ni envoyé.")
        self.query_one("#code", Input).focus()

    @on(Input.Submitted, "#code")
    def go(self, event: Input.Submitted) -> None:
        self.sign_and_send(event.value)

    @work(exclusive=True)
    async def sign_and_send(self, code: str) -> None:
        client = self.orient.client
        error = self.query_one("#error", Static)
        if not getattr(self, "units", 0):
            error.update("Aucune unité choisie : Échap, puis F7 pour choisir de 1 à 5 unités.")
            return
        try:
            if not getattr(self, "signed", False):
                step = await client.sign(self.dossier_id, code, self.version)
                if not step["ok"]:
                    self.query_one("#code", Input).value = ""
                    error.update(step["message"] or "Signature refusée.")
                    return
                self.signed = True
            result = await client.send(self.dossier_id)
        except HubUnavailable as exc:
            self.dismiss(f"{exc} L'envoi est en attente et sera réessayé (même clé, sans doublon).")
            return
        except HubError as exc:
            error.update(exc.detail)
            return
        sent = len(result["referrals"])
        self.dismiss(f"Dossier signé et envoyé : {sent} demande(s). Suivi : tableau de bord (Accueil, d).")

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
