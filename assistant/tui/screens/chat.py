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
from orient.assistant.tui import next_step
from orient.assistant.tui.formatting import imported_intro
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
- Les constantes peuvent se taper sur une ligne (`TA 128/74 FC 96 FR 24 SpO2 94 % AA T 38,5 poids 62`).
- **Réponses enchaînées** : séparez par `;` la réponse à la question et celles des suivantes
  (`Bertrand;Jeanne;;12/03/1938;F` ; une partie vide passe une question facultative). L'astuce
  sous la question dit lesquelles, dans l'ordre ; pas aux questions de texte libre (motif,
  antécédents, traitements...), où `;` reste du texte.
  Les **valeurs à confirmer** (profil, import, constantes d'une ligne, réponses enchaînées) sont
  listées et numérotées :
  **Entrée** les accepte toutes, un numéro (ou plusieurs : `1, 3`) les écarte pour les saisir
  vous-même, `non` les écarte toutes.
{keys}{commands}
- **F10** dans le récapitulatif, ou `/lettre` : la lettre de liaison. **F10** sur la lettre, ou
  `/imprimer`, l'enregistre en HTML imprimable {where} ; ouvrez ce fichier dans un navigateur et
  imprimez-le (**Ctrl+P**).
- `/stats` : statistiques de vos demandes (délais de réponse, acceptation, retards ; aussi **F9**
  depuis le tableau de bord).
- **Échap** ou `/accueil` : revenir à l'accueil (rien n'est perdu : chaque réponse est enregistrée)."""

# the typed commands, each the twin of a key (F1 help lists them)
COMMANDS = ("/aide", "/retour", "/modifier CHAMP", "/pourquoi", "/recap", "/unites", "/choisir N,N",
            "/signer", "/lettre", "/imprimer", "/stats", "/accueil")


# the typed twin of each key that next_step.help_keys may list for the person's role
KEY_COMMANDS = (("F6", "/recap"), ("F7", "/unites"), ("F7 puis **F9**", "/choisir 1,3"), ("F8", "/signer"))


def help_text(letter_folder: object, web: bool, keys: str) -> str:
    """F1: the keys of this person's role, their commands, and where the printable letter goes."""
    where = ("que le navigateur télécharge (dossier Téléchargements)" if web
             else f"dans le dossier {letter_folder} (le chemin s'affiche)")
    twins = [(key, command) for key, command in KEY_COMMANDS if f"**{key.split()[0]}**" in keys]
    commands = ("\n- Commandes tapées de ces touches : " + ", ".join(f"`{c}` ({k})" for k, c in twins) + "."
                if twins else "")
    return HELP.format(where=where, keys=keys, commands=commands)


SHORT = {"requester": "Demandeur", "patient": "Patient", "context": "Contexte", "request": "Demande",
         "medical": "Médical", "logistics": "Organisation", "consent": "Accord"}


CONFIRM, PROFILE = "dossier.confirm", "dossier.profile"  # questions that are not dossier fields
PSEUDO_FIELDS = (CONFIRM, PROFILE)
SOURCE_FR = {"profile": "profil", "import": "import", "letter": "courrier"}


def confirm_text(q: dict[str, Any]) -> str:
    """Proposed values as a numbered list, by section, with where each came from."""
    lines = ["Valeurs à confirmer :"]
    section = None
    for item in q["confirm"]:
        if item["section"] != section:
            section = item["section"]
            lines.append(item["section_title"])
        where = SOURCE_FR.get(item["source"])
        replaces = f", remplace « {item['current_display']} »" if item.get("current_display") else ""
        lines.append(f"  {item['number']}. {item['label']} : {item['display']}"
                     + (f" ({where}{replaces})" if where else f" ({replaces[2:]})" if replaces else ""))
    lines.append("Entrée : tout accepter · un numéro (ou plusieurs : 1, 3) : corriger ces valeurs "
                 "vous-même · « non » : tout écarter.")
    return "\n".join(lines)


def run_hint(q: dict[str, Any] | None) -> str:
    """Under a question, what answers chained with « ; » would fill after it."""
    items = (q or {}).get("run") or []
    if not items:
        return ""
    return "Astuce : enchaînez avec « ; » : " + " ; ".join(i["text"] for i in items)


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
        Binding("f7", "add_units", "Ajouter une unité", id="chat.add_units",
                tooltip="Envoyer aussi le dossier à une autre unité"),
        Binding("f8", "sign", "Signer", id="chat.sign", tooltip="Signer puis envoyer"),
        Binding("f8", "send", "Envoyer", id="chat.send", tooltip="Envoyer le dossier signé"),
        Binding("escape", "home", "Accueil", id="chat.home", tooltip="Revenir à l'accueil"),
    ]
    # F7 and F8 once the questions are over (so that the footer holds every key at 80 columns),
    # and only those of the person's role (tui/next_step.py)
    WHEN = {
        "proposals": lambda w: next_step.can_choose(w) and w.status != DossierStatus.SENT,
        "add_units": lambda w: next_step.can_choose(w) and w.status == DossierStatus.SENT,
        "sign": next_step.can_sign,
        "send": lambda w: next_step.can_send(w) and not next_step.can_sign(w),
    }

    def __init__(self, dossier_id: str | None = None, imported: dict[str, Any] | None = None) -> None:
        """`imported`: the hub's answer to an import (a new dossier from a document)."""
        super().__init__()
        self.imported = imported
        self.dossier_id = imported["step"]["dossier_id"] if imported else dossier_id
        self.version = 0
        self.status = DossierStatus.DRAFT.value
        self.question: dict[str, Any] | None = None
        self.shown_at = 0.0
        self.may_send: bool | None = None  # from the hub's view of the dossier (None: not yet)
        self.chosen_units: list[str] = []
        self.sent_units: list[str] = []
        self.choosing = False  # the proposals screen is open over the chat

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
            if self.imported is not None:
                for text, kind in imported_intro(self.imported):
                    self.say(text, kind)
                self.show_step(self.imported["step"])
            elif self.dossier_id is None:
                step = await client.create_dossier()
                self.dossier_id = step["dossier_id"]
                if self.orient.role == "secretary":  # may she send it once signed?
                    self.may_send = "send" in (await client.me()).get("scopes", [])
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
            question = step.get("question")
            if question and self.question and question["field"] == self.question["field"] \
                    and question.get("suggestions") != self.question.get("suggestions"):
                # the refusal offers candidates (an ambiguous commune): a numbered pick list
                self.question = question
                self.show_choices(question)
            return
        answer_input = self.query_one("#answer", Input)
        field = self.question["field"] if self.question else None
        if field in PSEUDO_FIELDS:  # a confirmation, not an answer of the dossier
            self.say(text.strip() or ("Tout accepter" if field == CONFIRM else "non"), "user")
        else:
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
        self.learn(view)
        self.show_step({
            "ok": True, "dossier_id": view["id"], "status": view["status"], "version": view["version"],
            "question": view["question"], "message": None, "warnings": [], "duplicates": [],
            "blocked_reason": view["blocked_reason"], "missing": view["missing"],
            "progress": view.get("progress") or [],  # shown at once, not after the next answer
        })

    def learn(self, view: dict[str, Any]) -> None:
        """What the hub's view says the person may do, and where the units stand."""
        self.may_send = bool(view.get("may_send"))
        self.chosen_units = list(view.get("chosen_units") or [])
        self.sent_units = list(view.get("sent_units") or [])

    @property
    def where(self) -> next_step.Where:
        role = self.orient.role
        may_send = self.may_send if self.may_send is not None else role == "doctor"
        unsent = len([u for u in self.chosen_units if u not in self.sent_units])
        return next_step.Where(role, self.status, may_send, unsent)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = self.WHEN.get(action)
        return allowed is None or bool(allowed(self.where))

    def show_step(self, step: dict[str, Any]) -> None:
        self.version = step["version"]
        if step["status"] != self.status:
            self.status = step["status"]
            self.refresh_bindings()  # F7/F8 depend on it (only then: it rebuilds the footer)
        for warning in step.get("warnings", []):
            self.say(f"⚠ {warning['message']}", "warning")
            if warning.get("picks"):
                self.offer(warning)
        for refused in step.get("refused", []):  # proposed values their rule refused: asked later
            self.say(f"✗ {refused['message']} Cette valeur sera demandée.", "warning")
        if step.get("ok") and step.get("message"):  # e.g. what a line of signs did not say
            self.say(step["message"], "warning")
        if step.get("progress"):
            parts = [f"{SHORT.get(p['section'], p['title'])} {p['answered']}/{p['total']}"
                     + (" ✓" if p["answered"] >= p["total"] else "") for p in step["progress"]]
            self.query_one("#progress", Static).update(" · ".join(parts))
        self.question = step["question"]
        self.shown_at = time.perf_counter()  # when the screen last changed (for the benchmark)
        self.show_choices(self.question)
        if self.question is not None:
            self.say(self.question_text(self.question))
            if hint := run_hint(self.question):
                self.say(hint, "hint")
            return
        if step.get("blocked_reason"):
            self.say(step["blocked_reason"], "danger")
            self.say("Si la réponse « Signes de gravité » était une erreur : F3 (ou "
                     "/modifier Signes de gravité) pour la corriger.")
        elif self.status == DossierStatus.AWAITING_DOCTOR.value:
            self.say("Votre partie est terminée : le dossier est transmis au médecin, qui remplira "
                     "le volet médical et signera.")
        elif self.status == DossierStatus.SENT.value:
            self.say(next_step.end_message(self.where))
        elif any(w["code"] == "no_consent" for w in step.get("warnings", [])):
            # complete, but it cannot be signed: never "ready to sign, F8" in the same breath
            self.say("Questions terminées, mais sans l'accord du patient le dossier ne peut pas être "
                     "signé. Une fois l'accord obtenu : /modifier accord.")
        elif self.status in (DossierStatus.READY.value, DossierStatus.SIGNED.value):
            self.say(next_step.end_message(self.where))
        else:
            # "medical": the section as a whole, for a secretary who may not read it
            missing = ", ".join(HNP.field(f).label if f in HNP.by_id else "le volet médical (médecin)"
                                for f in step.get("missing", []) if f in HNP.by_id or f == "medical")
            self.say(f"Plus de question pour vous. Reste à remplir : {missing or 'rien'}.")

    def offer(self, warning: dict[str, Any]) -> None:
        """A warning that offers a choice (the other dossier of a duplicate suspicion), as a
        numbered pick: the dossier picked opens in the chat."""
        from orient.assistant.tui.modals import PickModal

        picks = [(str(i), str(label)) for i, label in warning["picks"]]
        self.app.push_screen(PickModal("Dossier déjà ouvert pour ce patient", warning["message"], picks,
                                       "Continuer ce dossier-ci"), self.open_other)  # type: ignore[arg-type]

    def open_other(self, dossier_id: str | None) -> None:
        if dossier_id:
            self.orient.replace_screen("chat", dossier_id)

    @staticmethod
    def suggestion_text(code: str, label: str) -> str:
        return label if code in label else f"{code} — {label}"

    @classmethod
    def question_text(cls, q: dict[str, Any]) -> str:
        if q.get("confirm"):
            return confirm_text(q)
        # the options are in the list under the transcript (numbered the same), not repeated here
        lines = [("(modification) " if q.get("changing") else "") + q["question"]]
        if q.get("suggestions") and q["type"] == "choice":  # an option proposed: its own number
            numbers = {code: (i, label) for i, (code, label) in enumerate(q["options"], 1)}
            lines.append(q.get("suggestions_title") or "Proposé :")
            lines += [f"  {numbers[code][0]}. {numbers[code][1]} ({why})"
                      for code, why in q["suggestions"] if code in numbers]
        elif q.get("suggestions"):
            lines.append(q.get("suggestions_title") or "Codes proposés d'après l'hypothèse :")
            lines += [f"  {i}. {cls.suggestion_text(code, label)}"
                      for i, (code, label) in enumerate(q["suggestions"], 1)]
        if q.get("current") not in (None, ""):
            lines.append(f"Réponse actuelle : {q.get('current_display') or q['current']}")
        if not q["required"] and "facultatif" not in q["question"] and q["field"] not in PSEUDO_FIELDS:
            lines.append("(facultatif : Entrée sans rien pour passer)")
        return "\n".join(lines)

    def show_choices(self, q: dict[str, Any] | None) -> None:
        single = self.query_one("#choices", OptionList)
        multi = self.query_one("#multi", SelectionList)
        single.clear_options()
        multi.clear_options()
        single.display = multi.display = False
        if q is None or q.get("confirm"):
            return  # a confirmation is answered in the input: Enter accepts all
        if q["type"] == "bool":
            single.add_options([Option("oui", id="oui"), Option("non", id="non")])
            single.display = True
            single.highlighted = 0
        elif q["type"] == "choice":
            single.add_options([Option(f"{i}. {label}", id=str(i)) for i, (_, label) in enumerate(q["options"], 1)])
            single.display = True
            codes = [code for code, _ in q["options"]]
            proposed = [codes.index(c) for c, _ in q.get("suggestions") or [] if c in codes]
            single.highlighted = proposed[0] if proposed else 0  # shown, never chosen without a key
        elif q["type"] == "multi":
            multi.add_options([(f"{i}. {label}", str(i)) for i, (_, label) in enumerate(q["options"], 1)])
            multi.display = True
            multi.highlighted = 0
        elif q.get("suggestions"):  # ICD-10 codes, communes of an ambiguous answer: by number
            single.add_options([Option(f"{i}. {self.suggestion_text(code, label)}", id=str(i))
                                for i, (code, label) in enumerate(q["suggestions"], 1)])
            single.display = True
            single.highlighted = 0

    # -- input -----------------------------------------------------------------------------
    @on(Input.Submitted, "#answer")
    def answered(self, event: Input.Submitted) -> None:
        text = event.value
        if text.startswith("/"):
            self.command(text)
            return
        if self.question is None:
            self.show_error(next_step.nothing_to_answer(self.where))
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
                  "recap": self.action_recap, "récap": self.action_recap, "accueil": self.action_home,
                  "stats": self.open_stats, "statistiques": self.open_stats}
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

    def open_stats(self) -> None:
        self.orient.open_screen("stats")

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
        text = help_text(self.orient.letter_folder, self.app.is_web, next_step.help_keys(self.where))
        self.query_one("#transcript", VerticalScroll).mount(Markdown(text, classes="bubble assistant"))

    def action_letter(self, save: bool = False) -> None:
        if self.dossier_id:
            self.orient.open_screen("letter", self.dossier_id, save=save)

    def action_recap(self) -> None:
        if self.dossier_id:
            self.orient.open_screen("review", self.dossier_id, self.status)

    def action_proposals(self) -> None:
        if self.dossier_id:
            self.choosing = True  # back in the chat: what was chosen, and the next key
            self.orient.open_screen("proposals", self.dossier_id)

    def action_add_units(self) -> None:
        self.action_proposals()

    def on_screen_resume(self) -> None:
        if self.choosing:
            self.choosing = False
            self.reload_state(after_choice=True)

    def action_send(self) -> None:
        self.action_sign()

    def action_sign(self) -> None:
        if not self.dossier_id:
            return
        if self.orient.role != "doctor" and not next_step.can_send(self.where):
            if not self.where.may_send:
                self.show_error("Seul le médecin signe et envoie ce dossier : votre délégation "
                                "n'inclut pas l'envoi.")
            else:
                self.show_error("Seul le médecin signe : le dossier lui revient une fois votre partie "
                                "remplie. Une fois signé, vous pourrez l'envoyer (F8).")
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
    async def reload_state(self, after_choice: bool = False) -> None:
        """The dossier's version and status after a change made by another screen (signature and
        sending, units chosen): the next answer or change is then based on them, not refused as
        stale, and the keys follow (F8 once units were added to a sent dossier)."""
        if self.dossier_id:
            try:
                view = await self.orient.client.dossier(self.dossier_id)
            except (HubError, HubUnavailable):
                return
            before = list(self.chosen_units)
            self.version = view["version"]
            self.status = view["status"]
            self.learn(view)
            self.refresh_bindings()
            if after_choice and self.chosen_units != before and self.question is None:
                self.say(next_step.after_choice(self.where, len(self.chosen_units)))

    def action_home(self) -> None:
        self.app.pop_screen()
