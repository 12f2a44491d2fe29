"""The referral letter: shown, saved as HTML (and delivered to the browser in the kiosk)."""

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


class LetterScreen(OrientScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Retour", id="letter.back", tooltip="Revenir"),
        Binding("f10", "save", "Enregistrer (HTML)", id="letter.save", tooltip="Fichier HTML imprimable"),
        Binding("f1", "help", "Imprimer ?", id="letter.help", tooltip="Comment imprimer la lettre"),
    ]

    def __init__(self, dossier_id: str, save: bool = False) -> None:
        """`save`: write the HTML file as soon as the letter is loaded (the /imprimer command)."""
        super().__init__()
        self.dossier_id = dossier_id
        self.save_when_loaded = save
        self.html = ""

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="document"):
            yield Markdown("Chargement…", id="letter")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        loaded = await self.dossier_and_review(self.dossier_id, "#letter")
        if loaded is None:
            return
        view, sections = loaded
        from orient.dialogs.documents import render_letter_html, render_letter_markdown
        from orient.models.localtime import paris_today

        today = paris_today()  # the French date, whatever the machine's zone
        units = view.get("chosen_labels") or []
        await self.query_one("#letter", Markdown).update(
            render_letter_markdown(view["answers"], sections, view["signed_at"], today, view.get("warnings"),
                                   addressees=units))
        self.html = render_letter_html(view["answers"], sections, view["signed_at"], today,
                                       view.get("warnings"), addressees=units)
        if self.save_when_loaded:
            self.action_save()

    def how_to_print(self) -> str:
        if self.orient.is_web:
            return ("F10 enregistre la lettre en HTML et le navigateur la télécharge : ouvrez le "
                    "fichier téléchargé, puis imprimez-le (Ctrl+P).")
        return (f"F10 enregistre la lettre en HTML dans {self.orient.letter_folder} : ouvrez ce "
                "fichier dans un navigateur, puis imprimez-le (Ctrl+P).")

    def action_help(self) -> None:
        self.notify(self.how_to_print(), title="Imprimer la lettre", timeout=12)

    def action_save(self) -> None:
        if not self.html:
            return
        path = self.orient.letter_folder / f"lettre-de-liaison-{self.dossier_id[:8]}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html, encoding="utf-8")
        path.chmod(0o600)
        if self.orient.is_web:
            self.app.deliver_text(path.open("r", encoding="utf-8"), save_filename=path.name)  # type: ignore[attr-defined]
            self.notify(f"Lettre envoyée au navigateur ({path.name}) : ouvrez le fichier téléchargé "
                        "pour l'imprimer (Ctrl+P).", timeout=10)
            return
        self.notify(f"Lettre enregistrée : {path}. Ouvrez-la dans un navigateur pour l'imprimer "
                    "(Ctrl+P).", timeout=10)
