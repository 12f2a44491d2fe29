"""The review of a dossier (F6): every section, what is missing and who must fill it."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import (
    Footer,
    Header,
    Markdown,
)

from orient.assistant.tui.screens.base import OrientScreen


class ReviewScreen(OrientScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Retour", id="review.back", tooltip="Revenir au dossier"),
        Binding("f10", "letter", "Lettre", id="review.letter", tooltip="Lettre de liaison"),
    ]

    def __init__(self, dossier_id: str, status: str) -> None:
        super().__init__()
        self.dossier_id = dossier_id
        self.status = status

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="document"):
            yield Markdown("Chargement…", id="review")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        loaded = await self.dossier_and_review(self.dossier_id, "#review")
        if loaded is None:
            return
        view, sections = loaded
        from orient.dialogs.documents import render_review

        text = render_review(sections, view["status"], view["blocked_reason"])
        await self.query_one("#review", Markdown).update(
            text + "\n\n*Pour changer une réponse : Échap puis F3 (ou /modifier CHAMP).*")

    def action_letter(self) -> None:
        self.orient.open_screen("letter", self.dossier_id)
