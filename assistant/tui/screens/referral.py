"""A referral as the receiving unit sees it, and its answers (accept, refuse, ask)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import (
    Footer,
    Header,
    Markdown,
    Static,
)

from orient.assistant.errors import HubError, HubUnavailable
from orient.assistant.tui.formatting import TIMING_FR, answer_text, waiting
from orient.assistant.tui.modals import AcceptModal, ReasonModal, TextModal
from orient.assistant.tui.screens.base import OrientScreen
from orient.models.lifecycle import (
    REFERRAL_STATUS_FR,
    REFUSAL_REASONS,
    ReferralStatus,
)
from orient.models.localtime import fr_datetime


class ReferralScreen(OrientScreen):
    """A referral opened by the unit (marked read): the letter, and the unit's answers."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Retour", id="referral.back", tooltip="Boîte de réception"),
        Binding("f2", "accept", "Accepter", id="referral.accept", tooltip="Accepter l'admission"),
        Binding("f3", "refuse", "Refuser", id="referral.refuse", tooltip="Refuser avec un motif"),
        Binding("f4", "ask", "Demander une information", id="referral.ask", tooltip="Question au demandeur"),
        Binding("f9", "export", "Exporter (FHIR)", id="referral.export",
                tooltip="Fichier FHIR R4 pour le logiciel de l'hôpital"),
    ]

    def __init__(self, referral_id: str) -> None:
        super().__init__()
        self.referral_id = referral_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="referral-status", classes="status")
        with VerticalScroll(id="detail"):
            yield Markdown("Chargement…", id="dossier")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        from orient.assistant.tui.letter import letter_from_answers

        try:
            opened = await self.orient.client.open_referral(self.referral_id)
        except (HubError, HubUnavailable) as exc:
            await self.query_one("#dossier", Markdown).update(self.problem(exc))
            return
        r = opened["referral"]
        lines = [f"{REFERRAL_STATUS_FR[ReferralStatus(r['status'])]} · délai {TIMING_FR.get(r['timing'], '')} · "
                 f"envoyée le {fr_datetime(r['sent_at'], ' à ')} · attente {waiting(r['waiting_minutes'])}"
                 + (" · EN RETARD" if r["overdue"] else "")]
        if r.get("question"):
            lines.append(f"Votre question : {r['question']}")
        if r.get("info_answer"):
            lines.append(f"Réponse du médecin : {r['info_answer']}")
        if r["status"] not in (ReferralStatus.INFO_REQUESTED.value, ReferralStatus.READ.value) and answer_text(r):
            lines.append(f"Réponse de l'unité : {answer_text(r)}")
        self.query_one("#referral-status", Static).update(Text("\n".join(lines)))
        await self.query_one("#dossier", Markdown).update(
            letter_from_answers(opened["dossier"], opened["sections"], opened["signed_at"],
                                opened.get("warnings"),
                                addressees=[" — ".join(x for x in (r.get("unit_name"), r.get("establishment")) if x)]))

    def action_accept(self) -> None:
        self.app.push_screen(AcceptModal(), self.accept)  # type: ignore[arg-type]

    def action_refuse(self) -> None:
        self.app.push_screen(ReasonModal("Refuser : motif", REFUSAL_REASONS), self.refuse)  # type: ignore[arg-type]

    def action_ask(self) -> None:
        self.app.push_screen(TextModal("Question au médecin demandeur", "Votre question"), self.ask)  # type: ignore[arg-type]

    @work(group="export", exclusive=True)
    async def action_export(self) -> None:
        """F9: the referral as a FHIR R4 Bundle in the letters' folder (the browser downloads it
        in the kiosk), for the hospital's software."""
        from orient.assistant.exporting.files import export_file_name, write_private

        try:
            data = await self.orient.client.export_fhir(self.referral_id)
        except (HubError, HubUnavailable) as exc:
            self.notify(self.problem(exc), severity="error")
            return
        path = self.orient.letter_folder / export_file_name(self.referral_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_private(path, data)
        except OSError as exc:
            self.notify(f"Export impossible : « {path} » ne peut pas être écrit ({exc.strerror}).",
                        severity="error")
            return
        if self.orient.is_web:
            self.app.deliver_binary(path.open("rb"), save_filename=path.name)  # type: ignore[attr-defined]
            self.notify(f"Demande exportée et envoyée au navigateur ({path.name}) : importez ce fichier "
                        "FHIR dans le logiciel de l'hôpital.", timeout=10)
            return
        self.notify(f"Demande exportée : {path} (Bundle FHIR R4, à importer dans le logiciel de "
                    "l'hôpital).", timeout=10)

    @work(group="act")
    async def accept(self, value: tuple[datetime, str] | None) -> None:
        if value:
            await self._act(self.orient.client.accept(self.referral_id, value[0], value[1]))

    @work(group="act")
    async def refuse(self, choice: tuple[str, str] | None) -> None:
        if choice:
            await self._act(self.orient.client.refuse(self.referral_id, choice[0], choice[1] or None))

    @work(group="act")
    async def ask(self, text: str | None) -> None:
        if text:
            await self._act(self.orient.client.request_info(self.referral_id, text))

    async def _act(self, call: Any) -> None:
        try:
            r = await call
        except (HubError, HubUnavailable) as exc:
            self.notify(self.problem(exc), severity="error")
            return
        self.notify(f"Demande : {REFERRAL_STATUS_FR[ReferralStatus(r['status'])]}.")
        self.app.pop_screen()
