"""A new dossier from a document: a FHIR file exported by the practice software (its path; in
the kiosk, the synthetic example shipped with Orient instead), or a pasted letter. The hub reads
it and creates the dossier with the values proposed; the chat then asks their confirmation. A
refused document is explained here and nothing is saved."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Footer, Header, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from orient.assistant.errors import HubError, HubUnavailable
from orient.assistant.importing import MAX_BUNDLE_BYTES, MAX_LETTER_CHARS, example_bundle
from orient.assistant.tui.screens.base import OrientScreen

EXAMPLE_LABEL = "exemple synthétique (Mme Jeanne LAFARGUE, pneumopathie)"


def read_document(text: str) -> tuple[bytes, str]:
    """The bytes of the file at the path typed, and its name; ValueError (French) otherwise."""
    raw = text.strip().strip("'\"")
    if not raw:
        raise ValueError("Tapez le chemin du fichier exporté par le logiciel de cabinet (.json).")
    path = Path(raw).expanduser()
    try:
        if not path.exists():
            raise ValueError(f"Fichier introuvable : « {raw} ».")
        if not path.is_file():
            raise ValueError(f"« {raw} » n'est pas un fichier.")
        size = path.stat().st_size
        if size > MAX_BUNDLE_BYTES:
            raise ValueError(f"Fichier trop volumineux ({size // 1024} kio) : un export FHIR d'un "
                             f"patient pèse au plus {MAX_BUNDLE_BYTES // (1024 * 1024)} Mio. Rien n'a été importé.")
        return path.read_bytes(), path.name
    except OSError as exc:
        raise ValueError(f"Fichier illisible « {raw} » : {exc.strerror}.") from None


class ImportScreen(OrientScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Retour", id="import.back", tooltip="Revenir à l'accueil"),
        Binding("f9", "submit", "Importer", id="import.submit", tooltip="Lire le document"),
    ]

    def __init__(self, path: str | None = None, letter: str | None = None) -> None:
        """`path` (a FHIR file) or `letter` (its text): imported at once (`orient new --from`)."""
        super().__init__()
        self.path, self.letter = path, letter
        self.kind: str | None = None  # "fhir" or "letter", once chosen
        self.busy = False

    @property
    def kiosk(self) -> bool:
        return self.orient.world_factory is not None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="import"), Vertical(classes="panel"):
            yield Label("Nouveau dossier depuis un document", classes="title")
            yield Static("Chaque valeur lue vous sera montrée et ne comptera qu'une fois confirmée.",
                         classes="hint")
            first = (f"1. L'{EXAMPLE_LABEL}, exporté en FHIR" if self.kiosk
                     else "1. Fichier FHIR exporté du logiciel de cabinet (chemin du fichier)")
            yield OptionList(Option(first, id="fhir"),
                             Option("2. Lettre ou note de consultation (coller le texte)", id="letter"),
                             id="sources")
            yield Input(placeholder="Chemin du fichier, par exemple ~/Documents/export.json", id="path")
            yield TextArea(id="letter-text", soft_wrap=True)
            yield Button("Importer la lettre (F9)", id="letter-go")
            yield Static("", id="error")
        yield Footer()

    def on_mount(self) -> None:
        for widget in ("#path", "#letter-text", "#letter-go"):
            self.query_one(widget).display = False
        sources = self.query_one("#sources", OptionList)
        sources.highlighted = 0
        sources.focus()
        if self.path is not None:
            self.choose("fhir")
            self.query_one("#path", Input).value = self.path
            self.action_submit()
        elif self.letter is not None:
            self.choose("letter")
            self.query_one("#letter-text", TextArea).text = self.letter
            self.action_submit()

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        if self.kind is None and key in ("1", "2"):
            getattr(event, "stop", lambda: None)()
            self.choose("fhir" if key == "1" else "letter")

    @on(OptionList.OptionSelected, "#sources")
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.choose(event.option.id or "fhir")

    def choose(self, kind: str) -> None:
        self.kind = kind
        self.show_error("")
        if kind == "fhir" and self.kiosk:
            self.send(example_bundle(), "fhir", EXAMPLE_LABEL)
            return
        self.query_one("#sources").display = False  # chosen: room for the text (80x24)
        self.query_one("#path").display = kind == "fhir"
        self.query_one("#letter-text").display = self.query_one("#letter-go").display = kind == "letter"
        self.query_one("#path" if kind == "fhir" else "#letter-text").focus()

    def show_error(self, message: str) -> None:
        self.query_one("#error", Static).update(message)

    @on(Input.Submitted, "#path")
    def path_typed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#letter-go")
    def letter_button(self) -> None:
        self.action_submit()

    def action_submit(self) -> None:
        if self.kind == "fhir" and not self.kiosk:
            try:
                content, name = read_document(self.query_one("#path", Input).value)
            except ValueError as exc:
                self.show_error(str(exc))
                return
            self.send(content, "fhir", f"fichier « {name} »")
        elif self.kind == "letter":
            text = self.query_one("#letter-text", TextArea).text
            if not text.strip():
                self.show_error("Collez le texte de la lettre, puis F9 (ou le bouton « Importer la lettre »).")
                return
            if len(text) > MAX_LETTER_CHARS:
                self.show_error(f"Texte trop long ({len(text)} caractères, au plus {MAX_LETTER_CHARS}). "
                                "Rien n'a été importé.")
                return
            self.send(text.encode("utf-8"), "letter", "lettre collée")
        else:
            self.show_error("Choisissez d'abord : 1 (fichier FHIR) ou 2 (lettre).")

    @work(exclusive=True, group="hub")
    async def send(self, content: bytes, kind: str, label: str) -> None:
        if self.busy:
            return
        self.busy = True
        self.show_error("Lecture du document…")
        try:
            out = await self.orient.client.import_dossier(content, kind)
        except (HubError, HubUnavailable) as exc:
            self.show_error(self.problem(exc))
            return
        finally:
            self.busy = False
        self.app.pop_screen()
        self.orient.open_screen("chat", imported={**out, "label": label})
