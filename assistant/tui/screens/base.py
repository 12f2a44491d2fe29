"""What every screen shares: the app's typed handle, hub problems in French, and a table kept
live from the hub's feed. Light on imports: the first screen loads it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import work
from textual.binding import Binding
from textual.screen import Screen

from orient.assistant.errors import HubError, HubUnavailable

if TYPE_CHECKING:
    from orient.assistant.tui.app import OrientApp


class OrientScreen(Screen[Any]):
    @property
    def orient(self) -> OrientApp:
        return self.app  # type: ignore[return-value]

    def problem(self, exc: Exception) -> str:
        return exc.detail if isinstance(exc, HubError) else str(exc)

    async def dossier_and_review(self, dossier_id: str, target: str) -> tuple[Any, Any] | None:
        """The dossier and its review from the hub, or None with the problem shown in `target`."""
        from textual.widgets import Markdown

        try:
            view = await self.orient.client.dossier(dossier_id)
            sections = await self.orient.client.review(dossier_id)
        except (HubError, HubUnavailable) as exc:
            await self.query_one(target, Markdown).update(self.problem(exc))
            return None
        return view, sections


class LiveTable(OrientScreen):
    """A table refreshed from the hub's live feed (long polling in a worker), and every
    TICK_SECONDS so that waiting times move on their own."""

    TICK_SECONDS = 60.0
    # the dashboard's and the inbox's way to the statistics: F9, or « / » then a typed command
    STATS_BINDINGS = [
        Binding("f9", "statistics", "Statistiques", id="live.stats", tooltip="Délais de réponse, taux "
                "d'acceptation, demandes en retard"),
        Binding("slash", "typed_command", "Commande", id="live.command",
                tooltip="Taper une commande : /stats, /accueil"),
    ]
    COMMANDS = ("/stats", "/accueil")

    def action_statistics(self) -> None:
        self.orient.open_screen("stats")

    def action_typed_command(self) -> None:
        from orient.assistant.tui.modals import TextModal

        self.app.push_screen(TextModal("Commande : " + ", ".join(self.COMMANDS), "/stats"),
                             self.run_typed_command)  # type: ignore[arg-type]

    def run_typed_command(self, text: str | None) -> None:
        if not text:
            return
        name = text.strip().lstrip("/").split(" ")[0].lower()
        if name in ("stats", "statistiques"):
            self.action_statistics()
        elif name == "accueil":
            self.app.pop_screen()
        else:
            self.notify(f"Commande inconnue « /{name} » : " + ", ".join(self.COMMANDS) + ".",
                        severity="error")

    def on_mount(self) -> None:
        self.refresh_rows()
        self.follow()
        self.set_interval(self.TICK_SECONDS, self.tick)

    def tick(self) -> None:
        self.refresh_rows()

    @work(exclusive=True, group="feed")
    async def follow(self) -> None:
        client = self.orient.client
        try:
            last = (await client.feed(-1))["last"]
        except (HubError, HubUnavailable):
            return
        while True:
            try:
                answer = await client.feed(last, wait=self.orient.feed_wait)
            except HubError as exc:
                if exc.status == 401:
                    self.notify(exc.detail, severity="error")
                    return
                if exc.status == 422:  # a cursor this hub no longer knows: start again from now
                    last = -1
                    self.refresh_rows()
                await asyncio.sleep(2.0)
                continue
            except HubUnavailable:
                await asyncio.sleep(2.0)  # the hub is down: try again, gently
                continue
            last = answer["last"]
            if answer["events"]:
                self.refresh_rows()

    def refresh_rows(self) -> Any:
        raise NotImplementedError

