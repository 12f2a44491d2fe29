"""Sign in with Pro Santé Connect (like `gh auth login`): the hub gives a URL, shown here (and
opened in the browser when there is one); the screen waits for the hub to say the sign-in is done.
Escape gives up; Enter starts again after a failure."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Static

from orient.assistant.errors import HubError, HubUnavailable
from orient.assistant.tui import psc_url
from orient.assistant.tui.screens.base import OrientScreen


class PscSigninScreen(OrientScreen):
    BINDINGS = [
        Binding("escape", "give_up", "Abandonner", id="psc.cancel", tooltip="Abandonner la connexion"),
        Binding("enter", "again", "Recommencer", id="psc.again", tooltip="Relancer la connexion"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.url = ""
        self.state = "starting"  # starting, waiting, done, failed

    def compose(self) -> ComposeResult:
        with Vertical(id="psc-signin"):
            yield Static("Connexion avec Pro Santé Connect (e-CPS ou carte CPS)", id="psc-title")
            yield Static("Demande de connexion au hub…", id="psc-status")
            yield Static("", id="psc-url")
        yield Footer()

    def on_mount(self) -> None:
        self.start()

    def _show(self, status: str, url: str = "") -> None:
        self.query_one("#psc-status", Static).update(status)
        self.query_one("#psc-url", Static).update(psc_url.shown(self.app, "", url, f"\n{psc_url.COPIED}")
                                                  if url else "")

    @work(exclusive=True, group="psc")
    async def start(self) -> None:
        client = self.orient.client
        self.state = "starting"
        try:
            started = await client.psc_start()
        except (HubError, HubUnavailable) as exc:
            self.state = "failed"
            self._show(f"{self.problem(exc)}\nEntrée : réessayer ; Échap : quitter.")
            return
        self.url = started["url"]
        self.state = "waiting"
        self._show("Ouvrez cette adresse dans un navigateur et connectez-vous avec votre e-CPS ou "
                   "votre carte CPS ; cet écran continue tout seul une fois la connexion faite.\n"
                   "Échap : abandonner.", self.url)
        if self.orient.open_browser is not None:
            with contextlib.suppress(Exception):  # no browser after all: the URL is on screen
                self.orient.open_browser(self.url)
        while True:
            try:
                answer: dict[str, Any] = await client.psc_poll(started["signin_id"],
                                                               started["poll_secret"])
            except HubUnavailable:
                await asyncio.sleep(float(started.get("interval", 2.0)))
                continue
            except HubError as exc:
                self.state = "failed"
                self._show(f"{self.problem(exc)}\nEntrée : recommencer ; Échap : quitter.")
                return
            if answer["status"] == "done":
                self.state = "done"
                self.orient.psc_signed_in(answer["token"], answer["role"], answer["user_name"])
                return
            if answer["status"] != "pending":
                self.state = "failed"
                self._show(f"{answer['message']}\nEntrée : recommencer ; Échap : quitter.")
                return
            await asyncio.sleep(float(started.get("interval", 2.0)))

    def action_again(self) -> None:
        if self.state == "failed":
            self._show("Demande de connexion au hub…")
            self.start()

    def action_give_up(self) -> None:
        self.workers.cancel_group(self, "psc")
        self.app.exit(return_code=1, message="Orient : connexion Pro Santé Connect abandonnée.")
