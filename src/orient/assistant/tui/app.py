"""The Textual app. It reaches data only through the hub client: in-process on the embedded
hub by default, or a remote hub with `--hub URL --token T`; the same code runs both."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App

from orient.assistant.client import HubClient, HubError, HubUnavailable
from orient.assistant.tui.screens import HomeScreen, WhoScreen, default_letter_folder

if TYPE_CHECKING:
    from orient.assistant.embedded import Embedded


class OrientApp(App[None]):
    CSS_PATH = "orient.tcss"
    TITLE = "Orient"
    SUB_TITLE = "Hospitalisation non programmée"
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, *, embedded: Embedded | Callable[[], Embedded] | None = None,
                 client: HubClient | None = None, letter_folder: Path | None = None,
                 feed_wait: float = 20.0) -> None:
        """`embedded`: demo users on a local hub (the first screen asks who is using Orient), or
        a function that builds it, called in the background while the first screen shows;
        `client`: a remote hub's client, whose token says who is using it."""
        super().__init__()
        self._embedded = embedded
        self._hub_ready = threading.Event()
        self._client = client
        self.role = ""
        self.user_name = ""
        self.letter_folder = letter_folder or default_letter_folder()
        self.feed_wait = feed_wait

    @property
    def client(self) -> HubClient:
        assert self._client is not None, "no user signed in"
        return self._client

    @property
    def embedded(self) -> Embedded | None:
        if self._embedded is None:
            return None
        if callable(self._embedded) and not hasattr(self._embedded, "hub"):
            self._hub_ready.wait()
        return self._embedded  # type: ignore[return-value]

    def on_mount(self) -> None:
        if self._embedded is not None:
            self.push_screen(WhoScreen())
            self.prepare_embedded()
        else:
            self.identify()

    @work(thread=True, group="start")
    def prepare_embedded(self) -> None:
        """Open the local hub (first start: create the database) without delaying the first screen."""
        if callable(self._embedded) and not hasattr(self._embedded, "hub"):
            self._embedded = self._embedded()
        self._hub_ready.set()

    @work(exclusive=True)
    async def identify(self) -> None:
        try:
            me = await self.client.me()
        except (HubError, HubUnavailable) as exc:
            self.exit(message=f"Orient : {exc}")
            return
        self.role, self.user_name = me["role"], me["name"]
        await self.client.retry_pending()
        self.push_screen(HomeScreen())

    def sign_in(self, role: str) -> None:
        """Embedded mode: become a demo user."""
        from orient.assistant.embedded import DEMO_ACCOUNTS

        assert self.embedded is not None
        self._client = self.embedded.client(role)
        self.role, self.user_name = role, DEMO_ACCOUNTS[role].name
        self.switch_screen(HomeScreen())
        self.retry()

    @work(group="outbox")
    async def retry(self) -> None:
        sent = await self.client.retry_pending()
        if sent:
            self.notify(f"{len(sent)} envoi(s) en attente effectué(s).")
