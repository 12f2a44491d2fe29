"""The other screens (the first ones are in start.py): review, proposals, signature and sending,
dashboard, the unit's inbox and a referral, the referral letter."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    Markdown,
    OptionList,
    SelectionList,
    Static,
)
from textual.widgets.option_list import Option

from orient.assistant.errors import HubError, HubUnavailable
from orient.assistant.tui.start import OrientScreen
from orient.models.lifecycle import (
    CANCELLATION_REASONS,
    DOSSIER_STATUS_FR,
    REFERRAL_STATUS_FR,
    REFUSAL_REASONS,
    DossierStatus,
    ReferralStatus,
)

if TYPE_CHECKING:
    from orient.assistant.tui.app import OrientApp

TIMING_FR = {"today": "aujourd'hui", "within_24h": "sous 24 h", "within_48h": "sous 48 h"}


class ResumeScreen(OrientScreen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Retour", id="resume.back", tooltip="Accueil")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("Dossiers (Entrée pour reprendre)", classes="status")
        yield DataTable(id="dossiers", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Patient", "Statut", "Modifié")
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        table = self.query_one(DataTable)
        try:
            rows = await self.orient.client.dossiers()
        except (HubError, HubUnavailable) as exc:
            self.notify(self.problem(exc), severity="error")
            return
        for row in rows:
            table.add_row(row["patient"], DOSSIER_STATUS_FR[DossierStatus(row["status"])],
                          row["updated_at"][:16].replace("T", " "), key=row["id"])

    @on(DataTable.RowSelected)
    def open_dossier(self, event: DataTable.RowSelected) -> None:
        from orient.assistant.tui.chat import ChatScreen

        self.app.switch_screen(ChatScreen(str(event.row_key.value)))


# -- review, proposals, signature ---------------------------------------------------------------
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
        self.app.push_screen(LetterScreen(self.dossier_id))


class LetterScreen(OrientScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Retour", id="letter.back", tooltip="Revenir"),
        Binding("f10", "save", "Enregistrer (HTML)", id="letter.save", tooltip="Fichier HTML imprimable"),
    ]

    def __init__(self, dossier_id: str) -> None:
        super().__init__()
        self.dossier_id = dossier_id
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

        today = date.today()
        await self.query_one("#letter", Markdown).update(
            render_letter_markdown(view["answers"], sections, view["signed_at"], today))
        self.html = render_letter_html(view["answers"], sections, view["signed_at"], today)

    def action_save(self) -> None:
        if not self.html:
            return
        path = self.orient.letter_folder / f"lettre-de-liaison-{self.dossier_id[:8]}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html, encoding="utf-8")
        path.chmod(0o600)
        if self.orient.is_web:
            self.app.deliver_text(path.open("r", encoding="utf-8"), save_filename=path.name)  # type: ignore[attr-defined]
        self.notify(f"Lettre enregistrée : {path}")


class ProposalsScreen(OrientScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Retour", id="proposals.back", tooltip="Revenir au dossier"),
        Binding("f9", "confirm", "Valider le choix", id="proposals.confirm", tooltip="Choisir 1 à 5 unités"),
        Binding("f4", "why", "Pourquoi absente ?", id="proposals.why", tooltip="Pourquoi une unité n'est pas proposée"),
        Binding("f7", "more", "Plus d'unités", id="proposals.more", tooltip="Les 20 suivantes"),
    ]

    def __init__(self, dossier_id: str) -> None:
        super().__init__()
        self.dossier_id = dossier_id
        self.limit = 20

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Unités proposées (Espace pour cocher, 1 à 5 ; F9 pour valider)", classes="status")
        yield SelectionList[str](id="units")
        yield Static("", id="reasons", classes="status")
        yield Input(placeholder="Établissement absent (nom, FINESS) ou identifiant d'unité, puis Entrée",
                    id="why")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#why").display = False
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        units = self.query_one("#units", SelectionList)
        try:
            found = await self.orient.client.proposals(self.dossier_id, limit=self.limit)
            chosen = set((await self.orient.client.dossier(self.dossier_id))["chosen_units"])
        except (HubError, HubUnavailable) as exc:
            self.query_one("#reasons", Static).update(self.problem(exc))
            return
        units.clear_options()
        if found["message"]:
            self.query_one("#reasons", Static).update(found["message"])
        for rank, p in enumerate(found["proposals"], 1):
            demo = " [démo]" if p["demo"] else ""
            # availability ranks before distance: say it where it is not plain "available"
            beds = {"limited": " · lits limités", "full": " · complet"}.get(p.get("availability", ""), "")
            label = f"{rank:>2}. {p['unit']} — {p['establishment']} — {p['distance_km']} km{beds}{demo}"
            units.add_option((label, p["unit_id"], p["unit_id"] in chosen))
        self.proposals = {p["unit_id"]: p for p in found["proposals"]}
        if found["proposals"]:
            units.highlighted = 0
        if found["full"]:
            full = ", ".join(f"{p['establishment']} ({p['unit']})" for p in found["full"][:5])
            self.query_one("#reasons", Static).update(f"Complètes, listées à part : {full}")
        units.focus()

    @on(SelectionList.SelectionHighlighted, "#units")
    def highlighted(self, event: SelectionList.SelectionHighlighted) -> None:
        unit_id = event.selection.value
        p = getattr(self, "proposals", {}).get(unit_id)
        if p:
            self.query_one("#reasons", Static).update(" · ".join(p["reasons"]))

    def action_more(self) -> None:
        self.limit += 20
        self.load()

    def action_why(self) -> None:
        field = self.query_one("#why", Input)
        field.display = True
        field.focus()

    @on(Input.Submitted, "#why")
    def ask_why(self, event: Input.Submitted) -> None:
        self.explain(event.value.strip())

    @work(exclusive=True, group="why")
    async def explain(self, unit_id: str) -> None:
        try:
            answer = await self.orient.client.why_not(self.dossier_id, unit_id)
            self.query_one("#reasons", Static).update(answer["message"])
        except (HubError, HubUnavailable) as exc:
            self.query_one("#reasons", Static).update(self.problem(exc))

    def action_confirm(self) -> None:
        self.confirm(list(self.query_one("#units", SelectionList).selected))

    @work(exclusive=True, group="choose")
    async def confirm(self, unit_ids: list[str]) -> None:
        if not 1 <= len(unit_ids) <= 5:
            self.query_one("#reasons", Static).update("Cochez de 1 à 5 unités (Espace), puis F9.")
            return
        try:
            await self.orient.client.choose(self.dossier_id, unit_ids)
        except (HubError, HubUnavailable) as exc:
            self.query_one("#reasons", Static).update(self.problem(exc))
            return
        self.app.pop_screen()
        self.app.notify(f"{len(unit_ids)} unité(s) choisie(s). F8 pour signer et envoyer.")



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


# -- following the referrals --------------------------------------------------------------------
def waiting(minutes: float) -> str:
    hours, mins = divmod(max(0, int(minutes)), 60)
    return f"{hours} h {mins:02d}" if hours else f"{mins} min"


def phone_fr(e164: str) -> str:
    """A phone number written the French way (05 61 00 00 00), as in the dossier."""
    from orient.dialogs.hnp import HNP

    return HNP.field("requester.callback_phone").display(e164)


def local_time(iso: str) -> str:
    """An ISO moment as the person's local date and time: 27/11/2026 à 16:17."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{moment.astimezone():%d/%m/%Y à %H:%M}"


def answer_text(r: dict[str, Any]) -> str:
    if r["status"] == ReferralStatus.ACCEPTED.value and r.get("admission_at"):
        return f"admission le {local_time(r['admission_at'])} — contact : {r.get('contact') or ''}"
    if r["status"] == ReferralStatus.REFUSED.value:
        return REFUSAL_REASONS.get(r.get("reason") or "", "") + (f" — {r['reason_text']}" if r.get("reason_text") else "")
    if r["status"] == ReferralStatus.INFO_REQUESTED.value:
        return f"question : {r.get('question') or ''}"
    if r["status"] == ReferralStatus.CANCELLED.value:
        return CANCELLATION_REASONS.get(r.get("reason") or "", r.get("reason") or "")
    return ""


class LiveTable(OrientScreen):
    """A table refreshed from the hub's live feed (long polling in a worker)."""

    def on_mount(self) -> None:
        self.refresh_rows()
        self.follow()

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


# a dossier's status in the dashboard's Statut column (12 wide); the detail line says it in full
DOSSIER_STATUS_SHORT = {
    DossierStatus.DRAFT: "brouillon", DossierStatus.AWAITING_DOCTOR: "au médecin",
    DossierStatus.READY: "à signer", DossierStatus.BLOCKED: "bloqué", DossierStatus.SIGNED: "signé",
    DossierStatus.SENT: "envoyé",
}


class DashboardScreen(LiveTable):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Accueil", id="dashboard.back", tooltip="Revenir à l'accueil"),
        Binding("f6", "answer_info", "Répondre", id="dashboard.info", tooltip="Répondre à une question de l'unité"),
        Binding("f3", "cancel_referral", "Annuler", id="dashboard.cancel", tooltip="Annuler la demande"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Mes dossiers et leurs demandes, en direct · Entrée : ouvrir", classes="status")
        yield DataTable(id="referrals", cursor_type="row")
        yield Static("", id="detail-line", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in (("Patient / établissement", 28), ("Unité", 16), ("Statut", 12),
                             ("Attente", 8), ("Retard", 9), ("Réponse", 40)):
            table.add_column(label, width=width)  # fixed: the layout never depends on timing
        self.rows: dict[str, dict[str, Any]] = {}  # referral id -> referral
        self.dossiers: dict[str, dict[str, Any]] = {}  # row key of a dossier -> dossier
        super().on_mount()

    @work(exclusive=True, group="rows")
    async def refresh_rows(self) -> None:
        table = self.query_one(DataTable)
        try:
            dossiers = await self.orient.client.dossiers()
            referrals = await self.orient.client.referrals()
        except (HubError, HubUnavailable) as exc:
            self.query_one("#detail-line", Static).update(self.problem(exc))
            return
        kept = table.cursor_row
        table.clear()
        self.rows = {r["id"]: r for r in referrals}
        self.dossiers = {f"dossier:{d['id']}": d for d in dossiers}
        sent_for: dict[str, list[dict[str, Any]]] = {}
        for r in referrals:
            sent_for.setdefault(r["dossier_id"], []).append(r)
        # each dossier (the newest first, as listed), then its referrals under it
        for key, d in self.dossiers.items():
            # the names in bold, the birth date in the next column (the detail line says it all)
            table.add_row(Text(d.get("patient_name") or d["patient"], style="bold"),
                          d.get("patient_born", ""),
                          DOSSIER_STATUS_SHORT[DossierStatus(d["status"])], "", "", "", key=key)
            for r in sent_for.pop(d["id"], []):
                self._add_referral(table, r)
        for left in sent_for.values():  # a dossier no longer listed: its referrals all the same
            for r in left:
                self._add_referral(table, r)
        if table.row_count:
            table.move_cursor(row=min(kept, table.row_count - 1))
        if not dossiers:
            self.query_one("#detail-line", Static).update(
                "Aucun dossier pour l'instant : « Nouveau dossier » depuis l'accueil.")
        if any(r["overdue"] for r in referrals):
            phones = ", ".join(f"{r.get('establishment')}: {phone_fr(r['unit_phone'])}" for r in referrals
                               if r["overdue"] and r.get("unit_phone"))
            self.query_one("#detail-line", Static).update(
                "Demande(s) en retard : appelez l'unité" + (f" ({phones})" if phones else "")
                + " ou ajoutez une autre unité (F7 dans le dossier).")

    @staticmethod
    def _add_referral(table: DataTable[Any], r: dict[str, Any]) -> None:
        table.add_row(f"  ↳ {r.get('establishment') or ''}", r.get("unit_name") or r["unit_id"],
                      REFERRAL_STATUS_FR[ReferralStatus(r["status"])], waiting(r["waiting_minutes"]),
                      "EN RETARD" if r["overdue"] else "", answer_text(r), key=r["id"])

    @on(DataTable.RowHighlighted)
    def show_row(self, event: DataTable.RowHighlighted) -> None:
        key = str(event.row_key.value)
        d = self.dossiers.get(key)
        if d:
            sent = sum(r["dossier_id"] == d["id"] for r in self.rows.values())
            self.query_one("#detail-line", Static).update(
                f"{d['patient']} : dossier {DOSSIER_STATUS_FR[DossierStatus(d['status'])]}"
                + (f", {sent} demande(s)" if sent else "") + " · Entrée : l'ouvrir")
        r = self.rows.get(key)
        if r:
            text = answer_text(r) or REFERRAL_STATUS_FR[ReferralStatus(r["status"])]
            phone = f" · téléphone de l'unité : {phone_fr(r['unit_phone'])}" if r.get("unit_phone") else ""
            self.query_one("#detail-line", Static).update(f"{r.get('establishment') or ''} : {text}{phone}")

    def _selected(self) -> dict[str, Any] | None:
        """The referral of the highlighted row (None on a dossier's row, with a hint)."""
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        if key in self.dossiers:
            self.notify("Choisissez d'abord une demande (une ligne d'unité, sous son dossier).")
        return self.rows.get(key)

    @on(DataTable.RowSelected)
    def open_dossier(self, event: DataTable.RowSelected) -> None:
        from orient.assistant.tui.chat import ChatScreen

        key = str(event.row_key.value)
        dossier = self.dossiers.get(key) or {"id": (self.rows.get(key) or {}).get("dossier_id")}
        if dossier["id"]:
            self.app.push_screen(ChatScreen(str(dossier["id"])))

    def action_answer_info(self) -> None:
        r = self._selected()
        if r and r["status"] == ReferralStatus.INFO_REQUESTED.value:
            self.app.push_screen(TextModal(f"Question de l'unité : {r.get('question')}", "Votre réponse"),
                                 lambda text: self.reply(r["id"], text))  # type: ignore[arg-type]

    def action_cancel_referral(self) -> None:
        r = self._selected()
        if r and r["status"] not in (ReferralStatus.SENT.value, ReferralStatus.READ.value,
                                     ReferralStatus.INFO_REQUESTED.value):
            self.notify("Seule une demande pas encore acceptée ni refusée peut être annulée.")
        elif r:
            self.app.push_screen(ReasonModal("Annuler la demande : motif", CANCELLATION_REASONS),
                                 lambda choice: self.cancel_referral(r["id"], choice))  # type: ignore[arg-type]

    @work(group="act")
    async def reply(self, referral_id: str, text: str | None) -> None:
        if text:
            await self._act(self.orient.client.answer_info(referral_id, text))

    @work(group="act")
    async def cancel_referral(self, referral_id: str, choice: tuple[str, str] | None) -> None:
        if choice:
            await self._act(self.orient.client.cancel(referral_id, choice[0], choice[1] or None))

    async def _act(self, call: Any) -> None:
        try:
            await call
        except (HubError, HubUnavailable) as exc:
            self.notify(self.problem(exc), severity="error")
        self.refresh_rows()


class InboxScreen(LiveTable):
    BINDINGS = [Binding("escape", "app.pop_screen", "Accueil", id="inbox.back", tooltip="Revenir à l'accueil")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Demandes reçues — les plus urgentes d'abord (Entrée pour ouvrir)", classes="status")
        yield DataTable(id="inbox", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in (("Délai", 12), ("Unité", 20), ("Statut", 22), ("Attente", 8), ("Retard", 9)):
            table.add_column(label, width=width)
        super().on_mount()

    @work(exclusive=True, group="rows")
    async def refresh_rows(self) -> None:
        table = self.query_one(DataTable)
        try:
            referrals = await self.orient.client.inbox()
        except (HubError, HubUnavailable) as exc:
            self.notify(self.problem(exc), severity="error")
            return
        table.clear()
        for r in referrals:
            table.add_row(TIMING_FR.get(r["timing"], r["timing"]), r.get("unit_name") or r["unit_id"],
                          REFERRAL_STATUS_FR[ReferralStatus(r["status"])], waiting(r["waiting_minutes"]),
                          "EN RETARD" if r["overdue"] else "", key=r["id"])

    @on(DataTable.RowSelected)
    def open_referral(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(ReferralScreen(str(event.row_key.value)))


class ReferralScreen(OrientScreen):
    """A referral opened by the unit (marked read): the letter, and the unit's answers."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Retour", id="referral.back", tooltip="Boîte de réception"),
        Binding("f2", "accept", "Accepter", id="referral.accept", tooltip="Accepter l'admission"),
        Binding("f3", "refuse", "Refuser", id="referral.refuse", tooltip="Refuser avec un motif"),
        Binding("f4", "ask", "Demander une information", id="referral.ask", tooltip="Question au demandeur"),
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
        self.query_one("#referral-status", Static).update(
            f"{REFERRAL_STATUS_FR[ReferralStatus(r['status'])]} · délai {TIMING_FR.get(r['timing'], '')} · "
            f"attente {waiting(r['waiting_minutes'])}" + (" · EN RETARD" if r["overdue"] else "")
            + (f" · réponse du demandeur : {r['info_answer']}" if r.get("info_answer") else ""))
        await self.query_one("#dossier", Markdown).update(
            letter_from_answers(opened["dossier"], opened["sections"], opened["signed_at"]))

    def action_accept(self) -> None:
        self.app.push_screen(AcceptModal(), self.accept)  # type: ignore[arg-type]

    def action_refuse(self) -> None:
        self.app.push_screen(ReasonModal("Refuser : motif", REFUSAL_REASONS), self.refuse)  # type: ignore[arg-type]

    def action_ask(self) -> None:
        self.app.push_screen(TextModal("Question au médecin demandeur", "Votre question"), self.ask)  # type: ignore[arg-type]

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


# -- small dialogs --------------------------------------------------------------------------------
class TextModal(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Annuler", id="text.cancel", tooltip="Annuler")]

    def __init__(self, title: str, placeholder: str) -> None:
        super().__init__()
        self.title_text, self.placeholder = title, placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Input(placeholder=self.placeholder, id="text")
            yield Static("", id="error")

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
    BINDINGS = [Binding("escape", "dismiss_none", "Annuler", id="accept.cancel", tooltip="Annuler")]

    def compose(self) -> ComposeResult:
        default = (datetime.now() + timedelta(hours=3)).strftime("%d/%m/%Y %H:%M")
        with Vertical():
            yield Label("Accepter l'admission (dans les 48 h)", classes="title")
            yield Input(value=default, placeholder="jj/mm/aaaa hh:mm", id="when")
            yield Input(placeholder="Contact (nom, téléphone) pour préparer l'arrivée", id="contact")
            yield Static("", id="error")

    def on_mount(self) -> None:
        self.query_one("#contact", Input).focus()

    @on(Input.Submitted)
    def done(self, _event: Input.Submitted) -> None:
        when_text = self.query_one("#when", Input).value.strip()
        contact = self.query_one("#contact", Input).value.strip()
        try:
            when = datetime.strptime(when_text, "%d/%m/%Y %H:%M").astimezone()
        except ValueError:
            self.query_one("#error", Static).update(
                f"« Date et heure d'admission » : « {when_text} » n'est pas accepté. Attendu : jj/mm/aaaa hh:mm.")
            return
        now = datetime.now().astimezone()
        if not now - timedelta(minutes=1) <= when <= now + timedelta(hours=48):
            # checked here too, so that the dialog stays open with what was typed
            self.query_one("#error", Static).update(
                f"« Date et heure d'admission » : le {when_text} n'est pas accepté. Attendu : entre "
                f"maintenant et le {now + timedelta(hours=48):%d/%m/%Y %H:%M} (48 h).")
            return
        if not contact:
            self.query_one("#error", Static).update("« Contact » : une réponse est requise.")
            return
        self.dismiss((when, contact))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
