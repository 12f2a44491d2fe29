"""The chat: one question at a time, the person's answers as bubbles, refusals under the input."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Footer, Header, Input, Markdown, OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from orient.assistant.errors import HubError, HubUnavailable
from orient.assistant.tui.widgets import MarkedSelectionList
from orient.dialogs.hnp import HNP, patient_label
from orient.models.lifecycle import DOSSIER_STATUS_FR, DossierStatus

if TYPE_CHECKING:
    from orient.assistant.tui.app import OrientApp

HELP = """**Aide**

- Répondez dans la zone de saisie puis **Entrée**. Pour une liste, tapez le numéro, le code ou le
  début du libellé, ou choisissez avec les flèches puis **Entrée** (plusieurs choix : **Espace**
  coche ou décoche, une case cochée montre un X).
- Chaque touche a sa commande à taper, pour un clavier sans touches de fonction :
- **F1** ou `/aide` : cette aide.
- **F2** ou `/retour` : revenir à la question précédente.
- **F3** ou `/modifier CHAMP` : changer une réponse (libellé ou identifiant du champ) ; vous pouvez
  aussi sélectionner une de vos réponses puis **Entrée**.
- **F4** ou `/pourquoi` : pourquoi cette question est posée.
- **F6** ou `/recap` : récapitulatif du dossier.
- **F7** ou `/unites` : unités proposées, une fois les questions terminées ; cochez 1 à 5 unités
  (**Espace**) puis **F9** pour valider, ou tapez ici `/choisir 1,3` (les numéros de la liste).
- **F8** ou `/signer` : signer (le médecin, avec son code) puis envoyer.
- **F10** dans le récapitulatif, ou `/lettre` : la lettre de liaison. **F10** sur la lettre, ou
  `/imprimer`, l'enregistre en HTML imprimable {where} ; ouvrez ce fichier dans un navigateur et
  imprimez-le (**Ctrl+P**).
- **Échap** ou `/accueil` : revenir à l'accueil (rien n'est perdu : chaque réponse est enregistrée)."""

# the typed commands, each the twin of a key (F1 help lists them)
COMMANDS = ("/aide", "/retour", "/modifier CHAMP", "/pourquoi", "/recap", "/unites", "/choisir N,N",
            "/signer", "/lettre", "/imprimer", "/accueil")


def help_text(letter_folder: object, web: bool) -> str:
    """F1: the keys, their commands, and where the printable letter goes."""
    where = ("que le navigateur télécharge (dossier Téléchargements)" if web
             else f"dans le dossier {letter_folder} (le chemin s'affiche)")
    return HELP.format(where=where)


SHORT = {"requester": "Demandeur", "patient": "Patient", "context": "Contexte", "request": "Demande",
         "medical": "Médical", "logistics": "Organisation", "consent": "Accord"}


class Bubble(Static):
    """A message of the transcript; the person's own answers can be selected to change them."""

    def __init__(self, text: str, kind: str, field: str | None = None) -> None:
        super().__init__(text, classes=f"bubble {kind}", markup=False)
        self.field = field
        # Selected with the mouse only: in the Tab order, a Tab from the answer field landed on
        # an old answer and the next Enter reopened it (the keyboard way is F3 / /modifier).
        self.can_focus = False

    def on_click(self) -> None:
        if self.field and isinstance(self.screen, ChatScreen):
            self.screen.run_command("change", self.field)


class ChatScreen(Screen[None]):
    BINDINGS = [
        Binding("f1", "help", "Aide", id="chat.help", tooltip="Les commandes et les touches"),
        Binding("f2", "back", "Retour", id="chat.back", tooltip="Revenir à la question précédente"),
        Binding("f3", "change", "Modifier", id="chat.change", tooltip="Changer une réponse"),
        Binding("f4", "why", "Pourquoi", id="chat.why", tooltip="Pourquoi cette question est posée"),
        Binding("f6", "recap", "Récap", id="chat.recap", tooltip="Récapitulatif du dossier"),
        Binding("f7", "proposals", "Unités", id="chat.proposals", tooltip="Unités proposées"),
        Binding("f8", "sign", "Signer", id="chat.sign", tooltip="Signer puis envoyer"),
        Binding("escape", "home", "Accueil", id="chat.home", tooltip="Revenir à l'accueil"),
    ]
    # F7 and F8 once the questions are over (so that the footer holds every key at 80 columns)
    WHEN = {
        "proposals": (DossierStatus.READY, DossierStatus.SIGNED, DossierStatus.SENT),
        "sign": (DossierStatus.READY, DossierStatus.SIGNED, DossierStatus.BLOCKED),
    }

    def __init__(self, dossier_id: str | None = None) -> None:
        super().__init__()
        self.dossier_id = dossier_id
        self.version = 0
        self.status = DossierStatus.DRAFT.value
        self.question: dict[str, Any] | None = None
        self.shown_at = 0.0

    @property
    def orient(self) -> OrientApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static("", id="progress")
        yield VerticalScroll(id="transcript")
        yield OptionList(id="choices")
        yield MarkedSelectionList(id="multi")
        yield Static("", id="error")
        labels = [f"/modifier {f.label}" for f in HNP.fields] + [
            c for c in COMMANDS if " " not in c]
        yield Input(placeholder="Votre réponse…", id="answer",
                    suggester=SuggestFromList(labels, case_sensitive=False))
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#transcript", VerticalScroll).anchor()
        self.query_one("#choices").display = False
        self.query_one("#multi").display = False
        self.query_one("#answer", Input).focus()
        self.start()

    # -- talking to the hub (workers; results come back on the UI thread) ------------------
    @work(exclusive=True, group="hub")
    async def start(self) -> None:
        client = self.orient.client
        try:
            if self.dossier_id is None:
                step = await client.create_dossier()
                self.dossier_id = step["dossier_id"]
                self.say(f"Nouveau dossier ({HNP.title}). Je vous pose les questions une à une ; "
                         "F1 pour l'aide.")
                self.show_step(step)
            else:
                view = await client.dossier(self.dossier_id)
                self.say(self.resumed_text(view))
                self.show_view(view)
        except (HubError, HubUnavailable) as exc:
            self.say(str(exc), "danger")

    @staticmethod
    def resumed_text(view: dict[str, Any]) -> str:
        """What is true of a reopened dossier: where its questions resume, or its status once they
        are over (a sent dossier is not 'resumed where it stopped')."""
        patient = patient_label(view["answers"])
        of = f" de {patient}," if patient else ""
        if view["question"] is not None:
            return f"Dossier{of} repris là où il s'était arrêté."
        status = DOSSIER_STATUS_FR.get(DossierStatus(view["status"]), view["status"])
        return f"Dossier{of} rouvert : il est « {status} »."

    @work(exclusive=True, group="hub")
    async def submit(self, text: str) -> None:
        assert self.dossier_id is not None
        try:
            step = await self.orient.client.answer(self.dossier_id, text, self.version)
        except HubError as exc:
            if exc.status == 409 and isinstance(exc.body, dict) and exc.body.get("current"):
                self.say(exc.detail, "warning")
                self.show_step(exc.body["current"])
                return
            self.show_error(exc.detail)
            return
        except HubUnavailable as exc:
            self.show_error(f"{exc} Votre saisie est conservée : réessayez (Entrée).")
            return
        if not step["ok"]:
            self.version = step["version"]
            self.show_error(step["message"] or "Réponse refusée.")
            return
        answer_input = self.query_one("#answer", Input)
        field = self.question["field"] if self.question else None
        # the answer as recorded ("1" shows as its option, a commune's code as its name)
        self.say(step.get("recorded") or (text if text.strip() else "(passée)"), "user", field)
        answer_input.value = ""
        self.show_error("")
        self.show_step(step)

    @work(exclusive=True, group="hub")
    async def run_command(self, name: str, argument: str) -> None:
        client = self.orient.client
        assert self.dossier_id is not None
        try:
            if name == "back":
                step = await client.back(self.dossier_id, self.version)
            elif name == "change":
                step = await client.edit(self.dossier_id, argument, self.version)
            else:
                return
        except HubError as exc:
            self.show_error(exc.detail)
            return
        except HubUnavailable as exc:
            self.show_error(str(exc))
            return
        if not step["ok"]:
            self.show_error(step["message"] or "Impossible.")
            return
        self.query_one("#answer", Input).value = ""
        self.show_error("")
        self.show_step(step)

    # -- showing ---------------------------------------------------------------------------
    def say(self, text: str, kind: str = "assistant", field: str | None = None) -> None:
        bubble = Bubble(text, kind, field)
        self.query_one("#transcript", VerticalScroll).mount(bubble)

    def show_error(self, message: str) -> None:
        self.query_one("#error", Static).update(message)
        self.shown_at = time.perf_counter()

    def show_view(self, view: dict[str, Any]) -> None:
        self.show_step({
            "ok": True, "dossier_id": view["id"], "status": view["status"], "version": view["version"],
            "question": view["question"], "message": None, "warnings": [], "duplicates": [],
            "blocked_reason": view["blocked_reason"], "missing": view["missing"], "progress": [],
        })

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = self.WHEN.get(action)
        return allowed is None or self.status in allowed

    def show_step(self, step: dict[str, Any]) -> None:
        self.version = step["version"]
        if step["status"] != self.status:
            self.status = step["status"]
            self.refresh_bindings()  # F7/F8 depend on it (only then: it rebuilds the footer)
        for warning in step.get("warnings", []):
            self.say(f"⚠ {warning['message']}", "warning")
        if step.get("progress"):
            parts = [f"{SHORT.get(p['section'], p['title'])} {p['answered']}/{p['total']}"
                     + (" ✓" if p["answered"] >= p["total"] else "") for p in step["progress"]]
            self.query_one("#progress", Static).update(" · ".join(parts))
        self.question = step["question"]
        self.shown_at = time.perf_counter()  # when the screen last changed (for the benchmark)
        self.show_choices(self.question)
        if self.question is not None:
            self.say(self.question_text(self.question))
            return
        if step.get("blocked_reason"):
            self.say(step["blocked_reason"], "danger")
            self.say("Si la réponse « Signes de gravité » était une erreur : F3 (ou "
                     "/modifier Signes de gravité) pour la corriger.")
        elif self.status == DossierStatus.AWAITING_DOCTOR.value:
            self.say("Votre partie est terminée : le dossier est transmis au médecin, qui remplira "
                     "le volet médical et signera.")
        elif self.status == DossierStatus.SENT.value:
            self.say("Dossier envoyé : ses demandes se suivent sur le tableau de bord (Échap, puis "
                     "d). F6 : récapitulatif · F7 : ajouter une unité si aucune ne répond.")
        elif any(w["code"] == "no_consent" for w in step.get("warnings", [])):
            # complete, but it cannot be signed: never "ready to sign, F8" in the same breath
            self.say("Questions terminées, mais sans l'accord du patient le dossier ne peut pas être "
                     "signé. Une fois l'accord obtenu : /modifier accord.")
        elif self.status in (DossierStatus.READY.value, DossierStatus.SIGNED.value):
            self.say(f"Questions terminées (dossier « {DOSSIER_STATUS_FR[DossierStatus(self.status)]} »). "
                     "F6 : récapitulatif · F7 : unités proposées · F8 : signer et envoyer.")
        else:
            missing = ", ".join(HNP.field(f).label for f in step.get("missing", []) if f in HNP.by_id)
            self.say(f"Plus de question pour vous. Reste à remplir : {missing or 'rien'}.")

    @staticmethod
    def question_text(q: dict[str, Any]) -> str:
        # the options are in the list under the transcript (numbered the same), not repeated here
        lines = [("(modification) " if q.get("changing") else "") + q["question"]]
        if q.get("suggestions"):
            lines.append("Codes proposés d'après l'hypothèse :")
            lines += [f"  {i}. {code} — {label}" for i, (code, label) in enumerate(q["suggestions"], 1)]
        if q.get("current") not in (None, ""):
            lines.append(f"Réponse actuelle : {q.get('current_display') or q['current']}")
        if not q["required"] and "facultatif" not in q["question"]:
            lines.append("(facultatif : Entrée sans rien pour passer)")
        return "\n".join(lines)

    def show_choices(self, q: dict[str, Any] | None) -> None:
        single = self.query_one("#choices", OptionList)
        multi = self.query_one("#multi", SelectionList)
        single.clear_options()
        multi.clear_options()
        single.display = multi.display = False
        if q is None:
            return
        if q["type"] == "bool":
            single.add_options([Option("oui", id="oui"), Option("non", id="non")])
            single.display = True
            single.highlighted = 0
        elif q["type"] == "choice":
            single.add_options([Option(f"{i}. {label}", id=str(i)) for i, (_, label) in enumerate(q["options"], 1)])
            single.display = True
            single.highlighted = 0
        elif q["type"] == "multi":
            multi.add_options([(f"{i}. {label}", str(i)) for i, (_, label) in enumerate(q["options"], 1)])
            multi.display = True
            multi.highlighted = 0

    # -- input -----------------------------------------------------------------------------
    @on(Input.Submitted, "#answer")
    def answered(self, event: Input.Submitted) -> None:
        text = event.value
        if text.startswith("/"):
            self.command(text)
            return
        if self.question is None:
            self.show_error("Aucune question en attente : F6 (/recap) récapitulatif, F7 (/unites) "
                            "unités, F8 (/signer) signer.")
            return
        self.submit(text)

    @on(OptionList.OptionSelected, "#choices")
    def picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.query_one("#answer", Input).value = event.option.id
            self.submit(event.option.id)

    def on_key(self, event: Any) -> None:
        multi = self.query_one("#multi", SelectionList)
        if event.key == "enter" and multi.has_focus:
            event.stop()
            if not multi.selected:
                # never "none" by default: on the red flags, an Enter too soon would say no sign
                self.show_error("Rien n'est coché : Espace coche la ligne en surbrillance. Pour "
                                "n'en signaler aucun, tapez « aucun » puis Entrée.")
                self.query_one("#answer", Input).focus()
                return
            chosen = ",".join(sorted(multi.selected, key=int))
            self.query_one("#answer", Input).value = chosen
            self.submit(chosen)

    def command(self, text: str) -> None:
        name, _, argument = text[1:].partition(" ")
        name = name.strip().lower()
        simple = {"aide": self.action_help, "retour": self.action_back, "pourquoi": self.action_why,
                  "recap": self.action_recap, "récap": self.action_recap, "accueil": self.action_home}
        gated = {"unites": "proposals", "unités": "proposals", "signer": "sign"}
        if name in simple:
            simple[name]()
        elif name == "modifier":
            if not argument.strip():
                self.show_error("Précisez la réponse à changer : /modifier CHAMP (par exemple "
                                "/modifier Date de naissance).")
            else:
                self.run_command("change", argument.strip())
        elif name in gated:
            action = gated[name]
            if self.check_action(action, ()):
                getattr(self, f"action_{action}")()
            else:
                self.show_error("Pas encore : les unités se proposent et le dossier se signe une fois "
                                "les questions terminées.")
        elif name == "choisir":
            if not self.check_action("proposals", ()):
                self.show_error("Pas encore : les unités se choisissent une fois les questions terminées.")
            else:
                self.choose_units(argument)
        elif name == "lettre":
            self.action_letter()
        elif name == "imprimer":
            self.action_letter(save=True)
        else:
            self.show_error(f"Commande inconnue « /{name} » : " + ", ".join(COMMANDS) + ".")
            return  # the typo stays in the field, to be corrected
        if name != "modifier":  # /modifier clears the field once the change is under way
            self.query_one("#answer", Input).value = ""

    @work(exclusive=True, group="hub")
    async def choose_units(self, argument: str) -> None:
        """`/choisir 1,3`: the units of those numbers in the proposed list (F7), as F9 would."""
        import re

        numbers = [int(n) for n in re.findall(r"\d+", argument)]
        if not 1 <= len(set(numbers)) <= 5 or re.sub(r"[\d\s,;]", "", argument):
            self.show_error("Donnez de 1 à 5 numéros de la liste des unités proposées (F7 ou "
                            "/unites), par exemple /choisir 1,3.")
            return
        assert self.dossier_id is not None
        client = self.orient.client
        try:
            found = await client.proposals(self.dossier_id, limit=min(max(numbers), 200))
            listed = found["proposals"]
            if max(numbers) > len(listed) or min(numbers) < 1:
                self.show_error(f"La liste compte {len(listed)} unité(s) proposée(s) : choisissez "
                                f"entre 1 et {len(listed)}.")
                return
            picked = [listed[n - 1] for n in dict.fromkeys(numbers)]
            await client.choose(self.dossier_id, [p["unit_id"] for p in picked])
        except (HubError, HubUnavailable) as exc:
            self.show_error(exc.detail if isinstance(exc, HubError) else str(exc))
            return
        self.show_error("")
        names = " ; ".join(f"{p['unit']} — {p['establishment']}" for p in picked)
        self.say(f"{len(picked)} unité(s) choisie(s) : {names}. F8 (ou /signer) pour signer et envoyer.")
        self.reload_state()

    # -- actions ---------------------------------------------------------------------------
    def action_back(self) -> None:
        self.run_command("back", "")

    def action_change(self) -> None:
        answer = self.query_one("#answer", Input)
        answer.value = "/modifier "
        answer.cursor_position = len(answer.value)
        answer.focus()
        self.show_error("Tapez le libellé de la réponse à changer (complétion avec →), puis Entrée.")

    def action_why(self) -> None:
        if self.question is None:
            self.say("Il n'y a pas de question en cours.")
        else:
            self.say(f"Pourquoi ? {self.question['why']}")

    def action_help(self) -> None:
        text = help_text(self.orient.letter_folder, self.app.is_web)
        self.query_one("#transcript", VerticalScroll).mount(Markdown(text, classes="bubble assistant"))

    def action_letter(self, save: bool = False) -> None:
        if self.dossier_id:
            self.orient.open_screen("letter", self.dossier_id, save=save)

    def action_recap(self) -> None:
        if self.dossier_id:
            self.orient.open_screen("review", self.dossier_id, self.status)

    def action_proposals(self) -> None:
        if self.dossier_id:
            self.orient.open_screen("proposals", self.dossier_id)

    def action_sign(self) -> None:
        if not self.dossier_id:
            return
        if self.orient.role != "doctor" and self.status != DossierStatus.SIGNED.value:
            self.show_error("Seul le médecin signe : le dossier lui revient une fois votre partie "
                            "remplie. Une fois signé, vous pourrez l'envoyer si votre délégation "
                            "le permet.")
        elif self.status == DossierStatus.BLOCKED.value:
            self.show_error("Dossier bloqué par un signe de gravité : il ne peut être ni signé ni "
                            "envoyé. Appelez le 15 (SAMU) ; si le signe était une erreur, corrigez-le "
                            "(/modifier Signes de gravité).")
        else:
            self.orient.open_screen("sign", self.dossier_id, callback=self.after_sign)

    def after_sign(self, message: str | None) -> None:
        if message:
            self.say(message)
            self.reload_state()

    @work(exclusive=True, group="hub")
    async def reload_state(self) -> None:
        """The dossier's version and status after a change made by another screen (signature and
        sending): the next answer or change is then based on them, not refused as stale."""
        if self.dossier_id:
            try:
                view = await self.orient.client.dossier(self.dossier_id)
            except (HubError, HubUnavailable):
                return
            self.version = view["version"]
            if view["status"] != self.status:
                self.status = view["status"]
                self.refresh_bindings()

    def action_home(self) -> None:
        self.app.pop_screen()
