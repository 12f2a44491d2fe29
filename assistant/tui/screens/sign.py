"""The signature and the sending (F8): the doctor's personal code (or, on a hub configured so, a
fresh Pro Santé Connect authentication bound to the dossier's content), then the referrals."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

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
from orient.assistant.tui import psc_url

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
        # where it will go, by name, before the code that sends it: on a sent dossier, only the
        # units added since (the others already have their referral)
        sent = set(view.get("sent_units") or [])
        labels = view.get("chosen_labels") or view["chosen_units"]
        pairs = list(zip(view["chosen_units"], labels, strict=False))
        going = "\n".join(f"  · {label}" for unit, label in pairs if unit not in sent)
        already = "\n".join(f"  · {label}" for unit, label in pairs if unit in sent)
        self.adding = bool(sent)
        if view["signed"]:
            self.query_one(".title", Label).update("Envoyer")
            if self.adding:
                state.update(f"Dossier déjà envoyé à :\n{already}\nEntrée pour l'envoyer aussi, sous la "
                             f"même signature, à :\n{going}")
            else:
                state.update(f"Dossier signé : Entrée pour l'envoyer à\n{going}")
            self.query_one("#code", Input).placeholder = "Entrée pour envoyer"
        else:
            state.update(f"Signer puis envoyer à :\n{going}\nTapez votre code puis Entrée.")
        self.psc = not view["signed"] and await self._signs_with_psc()
        if self.psc:
            self.going = going
            state.update(f"Signer puis envoyer à :\n{going}\nEntrée : signer en vous authentifiant "
                         "à nouveau avec Pro Santé Connect (e-CPS ou carte CPS).")
            code = self.query_one("#code", Input)
            code.placeholder, code.password = "Entrée pour signer avec Pro Santé Connect", False
        self.signed = self.was_signed = view["signed"]
        self.units = len([u for u in view["chosen_units"] if u not in sent])
        if not self.units:
            state.update("Aucune unité ajoutée à envoyer : Échap, puis F7 pour en choisir." if sent else
                         "Choisissez d'abord de 1 à 5 unités (Échap, puis F7) : rien n'est signé ni envoyé.")
        self.query_one("#code", Input).focus()

    @on(Input.Submitted, "#code")
    def go(self, event: Input.Submitted) -> None:
        if getattr(self, "psc_url", ""):
            return  # waiting for the Pro Santé Connect authentication already asked
        self.sign_and_send(event.value)

    @work(exclusive=True)
    async def sign_and_send(self, code: str) -> None:
        client = self.orient.client
        error = self.query_one("#error", Static)
        if not getattr(self, "units", 0):
            error.update("Aucune unité choisie : Échap, puis F7 pour choisir de 1 à 5 unités.")
            return
        try:
            if not getattr(self, "signed", False) and getattr(self, "psc", False):
                if not await self.sign_with_psc():
                    return
                self.signed = True
            elif not getattr(self, "signed", False):
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
        if getattr(self, "adding", False):
            self.dismiss(f"Dossier envoyé aux unités ajoutées : {sent} demande(s) de plus. "
                         "Suivi : tableau de bord (Accueil, d).")
        else:
            done = "envoyé" if getattr(self, "was_signed", False) else "signé et envoyé"
            self.dismiss(f"Dossier {done} : {sent} demande(s). Suivi : tableau de bord (Accueil, d).")

    async def _signs_with_psc(self) -> bool:
        try:
            info = await self.orient.client.psc_info()
        except (HubError, HubUnavailable):
            return False
        return bool(info.get("sign_with_psc"))

    async def sign_with_psc(self) -> bool:
        """The hub starts a Pro Santé Connect authentication bound to this version of the dossier;
        the URL is shown (and opened when there is a browser) and the screen waits for the hub to
        say the dossier is signed. A refusal is shown; Enter starts again."""
        client = self.orient.client
        state, error = self.query_one("#state", Static), self.query_one("#error", Static)
        error.update("")
        started: dict[str, Any] = await client.psc_sign_start(self.dossier_id, self.version)
        state.update(psc_url.shown(
            self.app, "Pour signer, authentifiez-vous à nouveau : ouvrez cette adresse dans un "
            "navigateur (e-CPS ou carte CPS) ; cet écran continue tout seul.\n", started["url"],
            f"\n{psc_url.COPIED}\nÉchap : ne pas signer."))
        self.psc_url = started["url"]
        code = self.query_one("#code", Input)
        code.placeholder = "En attente de l'authentification Pro Santé Connect…"
        if self.orient.open_browser is not None:
            with contextlib.suppress(Exception):  # no browser after all: the URL is on screen
                self.orient.open_browser(started["url"])
        while True:
            try:
                answer = await client.psc_poll(started["signin_id"], started["poll_secret"])
            except HubUnavailable:
                answer = {"status": "pending"}
            if answer["status"] == "done":
                self.psc_url = ""
                state.update(f"{answer['message']} Envoi en cours…")
                return True
            if answer["status"] != "pending":
                self.psc_url = ""
                code.placeholder = "Entrée pour recommencer avec Pro Santé Connect"
                view = await client.dossier(self.dossier_id)  # what is signed next is what is now
                self.version = view["version"]
                state.update(f"Signer puis envoyer à :\n{self.going}\nEntrée : recommencer "
                             "l'authentification Pro Santé Connect ; Échap : ne pas signer.")
                error.update(answer["message"])
                return False
            await asyncio.sleep(float(started.get("interval", 2.0)))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
