"""The conversation engine: drives a dialog over a dossier.

Pure and synchronous. It never touches a database, a clock or a file: what it must look up
(communes, ICD-10 codes, open dossiers for duplicate suspicion, the current time) comes in through
`Lookups`. Every operation takes a `DossierState` and returns an `Outcome` holding a new state and
the events to record; the caller persists both before showing the next question.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from orient.assistant import runs
from orient.dialogs.base import Dialog, Split
from orient.models.dossier import DossierState, Signature
from orient.models.fields import (
    FILL_FR,
    CommuneLookup,
    FieldSpec,
    FieldType,
    Fill,
    Icd10Lookup,
    ReadError,
    Req,
    RuleContext,
    Warning,
    expected_text,
    read_answer,
    read_value,
    refusal_message,
)
from orient.models.lifecycle import DossierStatus, dossier_path
from orient.models.provenance import (
    ASK,
    CONFIRM,
    PROFILE,
    TYPED,
    Pending,
    Proposal,
    Provenance,
    Refused,
    Source,
)
from orient.models.users import Actor, Role

DuplicateFinder = Callable[[str, dict[str, Any]], list[str]]

ICD10_TITLE = "Codes proposés d'après l'hypothèse :"
PICKS_TITLE = "Choix proposés (tapez le numéro) :"


@dataclass(frozen=True)
class Lookups:
    """What the engine may look up, passed in so that it stays pure."""

    now: Callable[[], datetime]
    communes: CommuneLookup | None = None
    icd10: Icd10Lookup | None = None
    # (dossier id, identity traits) -> ids of other open dossiers with the same traits
    duplicates: DuplicateFinder = lambda _id, _traits: []
    # the owning doctor's RPPS -> their profile as answers (field id -> stored value)
    profile: Callable[[str], Mapping[str, Any]] = lambda _rpps: {}


@dataclass(frozen=True)
class Event:
    """Something to record in the audit log. `value` is hashed there, never stored."""

    kind: str
    field: str | None = None
    value: Any = None
    detail: str | None = None


@dataclass(frozen=True)
class ConfirmItem:
    """One proposed value of a confirmation question, numbered as shown."""

    number: int
    field: FieldSpec
    value: Any
    display: str
    source: Provenance
    current_display: str | None = None  # the answer it would replace, if any


@dataclass(frozen=True)
class Question:
    field: FieldSpec
    current: Any = None  # the answer being changed, when the question comes back
    changing: bool = False
    required: bool = False  # an empty answer is refused
    suggestions: tuple[tuple[str, str], ...] = ()  # (code, label) proposed, chosen by number
    suggestions_title: str = ""  # what the suggestions are, in French
    # a confirmation question (field CONFIRM_SPEC): the pending values, by section, numbered
    confirm: tuple[ConfirmItem, ...] = ()
    prompt: str = ""  # the question's own wording, when it is not the field's
    about: FieldSpec | None = None  # the dossier field a question on the profile is about
    run: tuple[Any, ...] = ()  # runs.RunItem: what an answer chained with « ; » would fill next

    @property
    def text(self) -> str:
        return self.prompt or self.field.question

    @property
    def id(self) -> str:
        return self.field.id

    @property
    def section(self) -> str:
        if self.confirm:
            return self.confirm[0].field.section
        return self.about.section if self.about else self.field.section


@dataclass
class Outcome:
    ok: bool
    state: DossierState
    message: str | None = None
    warnings: list[Warning] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)  # answers written or removed
    duplicates: list[str] = field(default_factory=list)
    next: Question | None = None
    persist: bool = False  # a refusal that still changes the state (the candidates it offers)
    refused: list[Refused] = field(default_factory=list)  # proposed values their rule refused
    # the doctor's profile to update (field id -> value): the caller stores it
    profile_updates: dict[str, Any] = field(default_factory=dict)


# The confirmation question: not a field of the dossier; its id names it in the audit and replay.
CONFIRM_FIELD = "dossier.confirm"
CONFIRM_SPEC = FieldSpec(
    CONFIRM_FIELD, "Valeurs à confirmer", FieldType.TEXT, Req.O, Fill.SECRETARY,
    "Confirmez-vous ces valeurs ? Entrée (ou « oui ») les accepte toutes ; un numéro (ou "
    "plusieurs, séparés par des virgules) écarte ces valeurs pour les saisir vous-même, les "
    "autres étant acceptées ; « non » les écarte toutes.",
    "Aucune valeur qui ne vient pas de votre clavier (profil, import, courrier) ni aucune valeur "
    "lue dans une réponse qui en donne plusieurs n'est enregistrée sans votre confirmation.",
)
# Whether a typed answer that differs from the doctor's profile should replace it there.
PROFILE_FIELD = "dossier.profile"
PROFILE_SPEC = FieldSpec(
    PROFILE_FIELD, "Mise à jour du profil", FieldType.BOOL, Req.O, Fill.SECRETARY,
    "Enregistrer cette valeur dans le profil du médecin ? (oui/non ; Entrée : non)",
    "Le profil du médecin (téléphone de rappel, MSSanté) est proposé sur chaque nouveau dossier ; "
    "« non » garde le profil tel quel et ne change que ce dossier.",
)
_YES = {"", "oui", "o", "yes", "y", "ok"}
_NO = {"non", "n", "no"}


@dataclass(frozen=True)
class SectionProgress:
    section: str
    title: str
    answered: int
    total: int

    @property
    def done(self) -> bool:
        return self.answered >= self.total


@dataclass(frozen=True)
class ReviewItem:
    field: FieldSpec
    state: str  # answered, skipped, missing, optional (not yet asked)
    value: Any = None
    display: str = ""
    who: str = ""  # who must fill it, in French
    source: Provenance | None = None  # where a not-typed answer came from (None: typed)


@dataclass(frozen=True)
class ReviewSection:
    section: str
    title: str
    items: tuple[ReviewItem, ...]


class Engine:
    def __init__(self, dialog: Dialog, lookups: Lookups) -> None:
        self.dialog = dialog
        self.lookups = lookups

    # -- creating -------------------------------------------------------------------------
    def new_dossier(self, dossier_id: str, owner_rpps: str, owner_name: str) -> Outcome:
        """A new draft, with the requester fields prefilled from the owning doctor."""
        state = DossierState(id=dossier_id, owner_rpps=owner_rpps)
        events = [Event("dossier_created", detail=self.dialog.kind)]
        for field_id, value in (("requester.rpps", owner_rpps), ("requester.name", owner_name)):
            state.answers[field_id] = value
            events.append(Event("answer_prefilled", field_id, value))
        return Outcome(True, state, events=events, changed=set(state.answers))

    # -- where we are ---------------------------------------------------------------------
    def can_fill(self, actor: Actor, spec: FieldSpec) -> bool:
        if actor.role == Role.DOCTOR:
            return True
        return actor.role == Role.SECRETARY and spec.fill == Fill.SECRETARY

    def next_question(self, state: DossierState, actor: Actor) -> Question | None:
        if state.status == DossierStatus.SENT:
            return None
        blocked = state.status == DossierStatus.BLOCKED
        focus = self.dialog.by_id.get(state.focus) if state.focus else None
        if (
            focus
            and focus.applies(state.answers)
            and self.can_fill(actor, focus)
            and (focus.blocks or not blocked)
        ):
            return self._question(focus, state, changing=state.has(focus.id))
        if blocked:
            return None
        if state.pending:
            if actor.role == Role.DOCTOR:  # the red flags still come first (spec, Order)
                for field_id in self.dialog.first_for_doctor:
                    spec = self.dialog.field(field_id)
                    if spec.applies(state.answers) and not state.has(field_id):
                        return self._question(spec, state)
            pending = self._pending_question(state, actor)
            if pending is not None:
                return pending
        for spec in self.dialog.order(actor.role):
            if spec.applies(state.answers) and not state.has(spec.id):
                return replace(self._question(spec, state), run=runs.hint(self, state, actor, spec))
        return None

    def _pending_question(self, state: DossierState, actor: Actor) -> Question | None:
        """A field dropped from a confirmation (asked by hand next), else the confirmation of
        the values this actor may fill."""
        mine = [p for p in state.pending
                if p.field in self.dialog.by_id and self.can_fill(actor, self.dialog.field(p.field))]
        for p in mine:
            spec = self.dialog.field(p.field)
            if p.step == ASK and spec.applies(state.answers):
                return self._question(spec, state, changing=state.has(spec.id))
            if p.step == PROFILE:
                return Question(PROFILE_SPEC, about=spec, prompt=(
                    f"Vous avez saisi « {spec.display(p.value)} » pour « {spec.label} » : "
                    f"l'enregistrer dans le profil du médecin, à la place de "
                    f"« {spec.display(self.lookups.profile(state.owner_rpps).get(spec.id))} », pour "
                    "les prochains dossiers ? (oui/non ; Entrée : non)"))
        items = self._confirm_items(state, [p for p in mine if p.step == CONFIRM])
        return Question(CONFIRM_SPEC, confirm=items) if items else None

    def _confirm_items(self, state: DossierState, pending: list[Pending]) -> tuple[ConfirmItem, ...]:
        rank = {f.id: i for i, f in enumerate(self.dialog.fields)}
        ordered = sorted(pending, key=lambda p: rank[p.field])  # by section, in spec order
        items = []
        for number, p in enumerate(ordered, 1):
            spec = self.dialog.field(p.field)
            current = spec.display(state.answers[p.field]) if p.field in state.answers else None
            shown = spec.display(p.value) if p.text.strip() else runs.SKIPPED_FR  # an empty part of a run
            items.append(ConfirmItem(number, spec, p.value, shown, p.provenance, current))
        return tuple(items)

    def _question(self, spec: FieldSpec, state: DossierState, changing: bool = False) -> Question:
        suggestions: tuple[tuple[str, str], ...] = ()
        title = ""
        if state.picks.get(spec.id):  # the candidates of the last refusal (an ambiguous commune)
            suggestions, title = state.picks[spec.id], PICKS_TITLE
        elif spec.suggest is not None:  # proposed from the answers (ICD-10 codes, a drug class...)
            suggestions = tuple(spec.suggest(self._context(state)))
            title = spec.suggest_title or ICD10_TITLE
        elif spec.suggest_from and self.lookups.icd10 is not None:
            words = state.answers.get(spec.suggest_from) or ""
            suggestions = tuple(self.lookups.icd10.propose(words)) if words else ()
            title = ICD10_TITLE
        return Question(spec, state.answers.get(spec.id) if changing else None, changing,
                        spec.required(state.answers), suggestions, title)

    def missing(self, state: DossierState) -> list[str]:
        """Required fields that apply and are unanswered, in spec order."""
        return [
            f.id for f in self.dialog.fields if f.required(state.answers) and f.id not in state.answers
        ]

    def why(self, field_id: str) -> str:
        return self.dialog.field(field_id).why

    def blocked_reason(self, state: DossierState) -> str | None:
        return self.dialog.blocked_reason(state.answers)

    # -- answering ------------------------------------------------------------------------
    def answer(self, state: DossierState, actor: Actor, typed: str) -> Outcome:
        question = self.next_question(state, actor)
        if question is None:
            return self._refuse(state, "Aucune question n'attend de réponse pour ce dossier.")
        text = typed if isinstance(typed, str) else str(typed)
        if question.confirm:
            return self._confirm(state, actor, question, text)
        if question.id == PROFILE_FIELD:
            return self._profile_answer(state, actor, text)
        spec = question.field
        if not text.strip():
            if spec.required(state.answers):
                err = ReadError("", expected_text(spec, state.answers))
                return self._refuse_input(state, spec, text, err)
            return self._apply(state, actor, spec, None, [], skipped=True)
        if runs.is_run(question, text):  # answers chained with « ; »
            return runs.answer_run(self, state, actor, question, text)
        text = runs.picked(question, text)
        split = self.dialog.split_answer(spec.id, text)
        if split is not None:
            return self._answer_several(state, actor, spec, text, split)
        ctx = replace(self._context(state), picks=state.picks.get(spec.id, ()))
        try:
            value, warnings = read_answer(spec, text, ctx)
        except ReadError as err:
            return self._refuse_input(state, spec, text, err)
        return self._apply(state, actor, spec, value, warnings)

    def _answer_several(self, state: DossierState, actor: Actor, asked: FieldSpec, text: str,
                        split: Split) -> Outcome:
        """One typed answer that fills several fields. A blood pressure or a SpO2 with its
        oxygen is recorded at once, each value through its field's rule (one refused: nothing is
        recorded); a line of signs is shown and confirmed once (proposals of source typed), and
        what could not be read is said, then asked as usual."""
        if split.line:
            proposals = [Proposal(f, t, Source.TYPED) for f, t in split.parts]
            out = self.propose(state, actor, proposals)
            if out.state.focus == asked.id:  # answered by the line (or asked in its turn)
                out.state.focus = None
                out.next = self.next_question(out.state, actor)
            out.events.insert(0, Event("answer_split", asked.id, text,
                                       detail=",".join(dict.fromkeys(f for f, _ in split.parts))))
            unread = " ; ".join(f"« {u} »" for u in split.unread)
            if not any(e.kind == "answer_proposed" for e in out.events):
                refusals = " ".join(r.message for r in out.refused)
                return Outcome(False, state, message=refusals or refusal_message(
                    asked, text, ReadError("", expected_text(asked, state.answers))),
                    events=[Event("answer_refused", asked.id, text)], refused=out.refused)
            if unread:
                out.message = (f"Non compris : {unread}. Ces valeurs seront demandées une à une "
                               "après la confirmation.")
            return out
        fields = {f for f, _ in split.parts}
        view = {k: v for k, v in state.answers.items() if k not in fields}
        read: list[tuple[FieldSpec, Any, list[Warning]]] = []
        for field_id, part in split.parts:
            spec = self.dialog.field(field_id)
            if not self.can_fill(actor, spec):
                return self._refuse(state, f"« {spec.label} » est réservé au médecin.")
            try:
                value, warnings = read_answer(spec, part, self._context(view))
            except ReadError as err:
                return self._refuse_input(state, spec, text, err)
            view[field_id] = value
            read.append((spec, value, warnings))
        new = state.copy()
        out = Outcome(True, new)
        for spec, value, warnings in read:
            out.warnings.extend(warnings)
            self._write(new, out, spec, value, TYPED)
        return self._finish(state, new, actor, out, [spec for spec, _, _ in read])

    def _today(self) -> date:
        return self.lookups.now().date()

    def _refuse(self, state: DossierState, message: str) -> Outcome:
        return Outcome(False, state, message=message)

    def _refuse_input(self, state: DossierState, spec: FieldSpec, typed: str, err: ReadError) -> Outcome:
        message = refusal_message(spec, typed, err)
        out = Outcome(False, state, message=message, events=[Event("answer_refused", spec.id, typed)])
        picks = tuple(getattr(err, "picks", ()))
        if typed.strip() and picks != state.picks.get(spec.id, ()):
            # the candidates listed are kept with the dossier: typing a number picks one, after
            # a restart too
            out.state = state.copy()
            if picks:
                out.state.picks[spec.id] = picks
            else:
                out.state.picks.pop(spec.id, None)
            out.persist = True
        return out

    def _apply(
        self,
        state: DossierState,
        actor: Actor,
        spec: FieldSpec,
        value: Any,
        warnings: list[Warning],
        *,
        skipped: bool = False,
    ) -> Outcome:
        new = state.copy()
        out = Outcome(True, new, warnings=list(warnings))
        if skipped:
            new.answers.pop(spec.id, None)
            new.sources.pop(spec.id, None)
            new.skipped.add(spec.id)
            new.pending = [p for p in new.pending if p.field != spec.id]
            out.changed.add(spec.id)
            out.events.append(Event("answer_skipped", spec.id))
            if new.focus == spec.id:
                new.focus = None
        else:
            self._write(new, out, spec, value, TYPED)
        return self._finish(state, new, actor, out, [spec])

    def _write(self, new: DossierState, out: Outcome, spec: FieldSpec, value: Any,
               source: Provenance) -> None:
        """Record one accepted answer with where it came from (the audit event says it)."""
        had = new.has(spec.id)
        previous = new.answers.get(spec.id)
        new.answers[spec.id] = value
        new.skipped.discard(spec.id)
        if source == TYPED:
            new.sources.pop(spec.id, None)
        else:
            new.sources[spec.id] = source
        # a value given for this field supersedes what was proposed for it
        new.pending = [p for p in new.pending if p.field != spec.id]
        kind = "answer_changed" if had and previous != value else "answer_accepted"
        out.events.append(Event(kind, spec.id, value, detail=source.detail()))
        if spec.id in self.dialog.profile_fields and source == TYPED:
            known = self.lookups.profile(new.owner_rpps).get(spec.id)
            if not known:  # asked once per account: kept for the next dossiers
                out.profile_updates[spec.id] = value
            elif known != value:  # a correction: the person says whether the profile changes
                new.pending.append(Pending(spec.id, str(value), value, Source.TYPED, step=PROFILE))
        if kind == "answer_changed":  # a confirmation of the former value no longer holds
            for other in self.dialog.fields:
                if spec.id in other.retract:
                    self._remove(new, out, other.id, "la valeur confirmée a changé")
        out.changed.add(spec.id)
        if new.focus == spec.id:
            new.focus = None
        if spec.retract and value is False:
            for field_id in (*spec.retract, spec.id):
                self._remove(new, out, field_id, "valeur non confirmée")

    def _finish(self, state: DossierState, new: DossierState, actor: Actor, out: Outcome,
                written: list[FieldSpec]) -> Outcome:
        """After answers were written: conditions, warnings, duplicates, status, next question."""
        self._prune(new, out)
        self._checks(new, out, written)
        for w in out.warnings:
            out.events.append(Event("warning_shown", w.field, detail=w.code))
        self._settle(state, new, actor, out)
        out.next = self.next_question(new, actor)
        return out

    def _remove(self, state: DossierState, out: Outcome, field_id: str, why: str) -> None:
        if state.has(field_id):
            state.answers.pop(field_id, None)
            state.sources.pop(field_id, None)
            state.skipped.discard(field_id)
            out.changed.add(field_id)
            out.events.append(Event("answer_removed", field_id, detail=why))

    # -- proposed values ------------------------------------------------------------------
    def _context(self, source: DossierState | Mapping[str, Any]) -> RuleContext:
        """What a field rule may look at: a dossier's answers (or answers as they would be)."""
        answers = source.answers if isinstance(source, DossierState) else source
        return RuleContext(answers=answers, today=self._today(), communes=self.lookups.communes,
                           icd10=self.lookups.icd10)

    def propose(self, state: DossierState, actor: Actor, proposals: list[Proposal]) -> Outcome:
        """Values offered from outside the question asked (the doctor's profile, an import, a
        letter, one typed answer naming several fields). Each is read through its field's own
        rule, exactly as typed text would be: those accepted wait in the dossier until the person
        confirms them (`next_question` asks); those refused come back in `refused`, and their
        field is asked as usual. Nothing pending counts as an answer."""
        new = state.copy()
        out = Outcome(True, new)
        rank = {f.id: i for i, f in enumerate(self.dialog.fields)}
        view = dict(state.answers)  # the answers as they would be: later rules see earlier values
        blocked = state.status == DossierStatus.BLOCKED
        for p in sorted(proposals, key=lambda p: rank.get(p.field, -1)):
            source = Provenance(p.source, p.origin)
            text = p.text if isinstance(p.text, str) else str(p.text)
            spec = self.dialog.by_id.get(p.field)
            reason: str | None = None
            if spec is None:
                reason = f"« {p.field} » : aucune question de ce nom dans le dossier."
            elif state.status == DossierStatus.SENT:
                reason = f"« {spec.label} » : le dossier est envoyé, ses réponses ne peuvent plus changer."
            elif not self.can_fill(actor, spec):
                reason = f"« {spec.label} » est réservé au médecin."
            elif blocked and not spec.blocks:
                reason = (f"« {spec.label} » : le dossier est bloqué (signe de gravité) ; seule la "
                          "réponse aux signes de gravité peut être donnée.")
            elif not spec.applies(view):
                reason = f"« {spec.label} » : la question ne s'applique pas à ce dossier."
            elif not text.strip():
                reason = refusal_message(spec, text, ReadError("", expected_text(spec, view)))
            if spec is not None and reason is None:
                try:
                    value, _ = read_answer(spec, text, self._context(view))
                except ReadError as err:
                    reason = refusal_message(spec, text, err)
            if reason is not None:
                out.refused.append(Refused(p.field, text, reason))
                out.events.append(Event("proposal_refused", p.field if spec else None, text,
                                        detail=source.detail()))
                continue
            assert spec is not None
            view[spec.id] = value
            if spec.id in state.answers and state.answers[spec.id] == value:
                # already the answer: nothing to confirm (an older proposal for it is dropped)
                new.pending = [q for q in new.pending if q.field != spec.id]
                continue
            new.pending = [q for q in new.pending if q.field != spec.id]
            new.pending.append(Pending(spec.id, text, value, p.source, p.origin))
            out.events.append(Event("answer_proposed", spec.id, value, detail=source.detail()))
        out.next = self.next_question(new, actor)
        return out

    def _profile_answer(self, state: DossierState, actor: Actor, text: str) -> Outcome:
        """`oui`: the value just typed replaces the doctor's profile one; `non` or Enter: the
        profile stays as it is."""
        entry = next(p for p in state.pending if p.step == PROFILE
                     and self.can_fill(actor, self.dialog.field(p.field)))
        try:
            yes = bool(text.strip()) and read_value(PROFILE_SPEC, text)
        except ReadError as err:
            return self._refuse_input(state, PROFILE_SPEC, text, err)
        new = state.copy()
        new.pending = [p for p in new.pending if p is not entry and p != entry]
        out = Outcome(True, new)
        if yes:
            out.profile_updates[entry.field] = entry.value
        out.events.append(Event("profile_update_accepted" if yes else "profile_update_declined",
                                entry.field, entry.value))
        out.next = self.next_question(new, actor)
        return out

    def _confirm(self, state: DossierState, actor: Actor, question: Question, text: str) -> Outcome:
        """The answer to a confirmation question: Enter or `oui` accepts every listed value;
        numbers drop those (asked by hand next) and accept the others; `non` drops them all."""
        items = question.confirm
        said = text.strip().casefold()
        if said in _YES:
            dropped: set[int] = set()
        elif said in _NO:
            dropped = {i.number for i in items}
        else:
            parts = [x for x in said.replace(";", ",").replace(" ", ",").split(",") if x]
            numbers = [int(x) for x in parts if x.isdecimal()]
            bad = [x for x in parts if not x.isdecimal() or not 1 <= int(x) <= len(items)]
            if bad or not numbers:
                shown = " ".join(text.split())
                shown = shown if len(shown) <= 60 else shown[:57] + "…"
                return Outcome(False, state, message=(
                    f"« {shown} » n'est pas accepté : tapez Entrée (ou « oui ») pour accepter les "
                    f"{len(items)} valeurs, un numéro de 1 à {len(items)} (ou plusieurs, séparés par "
                    "des virgules) pour écarter ces valeurs et les saisir vous-même, ou « non » pour "
                    "tout écarter."),
                    events=[Event("answer_refused", CONFIRM_FIELD, text)])
            dropped = set(numbers)
        new = state.copy()
        out = Outcome(True, new)
        listed = {i.field.id for i in items}
        by_field = {p.field: p for p in state.pending if p.field in listed and p.step == CONFIRM}
        new.pending = [p for p in new.pending if not (p.field in listed and p.step == CONFIRM)]
        written: list[FieldSpec] = []
        asks: list[Pending] = []
        for item in items:
            p = by_field[item.field.id]
            spec = item.field
            if item.number in dropped:
                out.events.append(Event("proposal_dropped", spec.id, detail=p.provenance.detail()))
                if said not in _NO:  # corrected by hand: asked next, in the order listed
                    asks.append(replace(p, step=ASK))
                continue
            if not spec.applies(new.answers):
                out.refused.append(Refused(spec.id, p.text, f"« {spec.label} » : la question ne "
                                           "s'applique plus à ce dossier ; valeur écartée."))
                out.events.append(Event("proposal_dropped", spec.id, detail=p.provenance.detail()))
                continue
            if not p.text.strip() and not spec.required(new.answers):  # an empty part of a run
                runs.skip(new, out, spec)
                continue
            try:  # read again: the answers may have changed since it was proposed
                value, warnings = read_answer(spec, p.text, self._context(new.answers))
            except ReadError as err:
                out.refused.append(Refused(spec.id, p.text, refusal_message(spec, p.text, err)))
                out.events.append(Event("answer_refused", spec.id, p.text, detail=p.provenance.detail()))
                continue
            out.warnings.extend(warnings)
            self._write(new, out, spec, value, p.provenance)
            written.append(spec)
        new.pending = asks + new.pending
        return self._finish(state, new, actor, out, written)

    def _prune(self, state: DossierState, out: Outcome) -> None:
        """Remove answers of questions that no longer apply, and empty answers of questions
        that became required, so that they are asked (again)."""
        changed = True
        while changed:  # a removal may switch further conditions
            changed = False
            for spec in self.dialog.fields:
                if not state.has(spec.id):
                    continue
                if not spec.applies(state.answers):
                    self._remove(state, out, spec.id, "la question ne s'applique plus")
                    changed = True
                elif spec.required_when and spec.required(state.answers) and not state.answers.get(spec.id):
                    self._remove(state, out, spec.id, "la question est devenue obligatoire")
                    changed = True

    def _checks(self, new: DossierState, out: Outcome, written: list[FieldSpec]) -> None:
        """After answers were written (and conditions pruned): the answers that became
        impossible (RNIV), the warnings re-checked, duplicate suspicion, and the warnings the
        dossier keeps; the candidates offered for the written fields are spent."""
        for spec in written:
            new.picks.pop(spec.id, None)
        revoked = self._revoke(new, out)
        for spec in written:
            out.warnings.extend(self.dialog.cross_check(spec.id, new.answers))
        traits = [s for s in written if s.id in self.dialog.duplicate_traits]
        kept_duplicate = self._check_duplicates(
            new, out, traits[-1] if traits else (written[-1] if written else None))
        self._keep_warnings(new, out, {s.id for s in written},
                            [w for w in out.warnings if w not in revoked], kept_duplicate)

    def _revoke(self, state: DossierState, out: Outcome) -> list[Warning]:
        """Remove the answers that the change made impossible (the identity status under the
        RNIV rules): they are asked again, and the person is told why."""
        revoked = [w for w in self.dialog.revoked(state.answers) if state.has(w.field)]
        for w in revoked:
            self._remove(state, out, w.field, f"réponse devenue impossible ({w.code})")
        out.warnings.extend(revoked)
        return revoked

    def _check_duplicates(self, state: DossierState, out: Outcome,
                          spec: FieldSpec | None) -> Warning | None:
        """Duplicate suspicion once the traits are known, again whenever one changes. Returns
        the warning the dossier keeps (worded for every reader, the receiving unit's too)."""
        traits = self.dialog.duplicate_traits
        if not out.changed.intersection(traits) or not all(t in state.answers for t in traits):
            return None
        found = self.lookups.duplicates(state.id, {t: state.answers[t] for t in traits})
        if not found:
            return None
        out.duplicates = found
        field_id = spec.id if spec is not None and spec.id in traits else traits[0]
        out.warnings.append(Warning(
            field_id,
            "duplicate",
            "Un dossier ouvert existe déjà pour ce patient (même nom de naissance, premier "
            "prénom, date de naissance et sexe) : voulez-vous plutôt l'ouvrir ?",
            depends=traits,
        ))
        return Warning(field_id, "duplicate",
                       "Suspicion de doublon : un autre dossier ouvert existe pour ce patient (même nom "
                       "de naissance, premier prénom, date de naissance et sexe).", depends=traits)

    def _keep_warnings(self, state: DossierState, out: Outcome, written: set[str], shown: list[Warning],
                       duplicate: Warning | None) -> None:
        """The warnings that stay with the dossier while their cause holds: those of the answers
        that did not change (nor what they depend on), then the ones of this answer and those
        re-checked for every answer written or removed."""
        changed = out.changed
        before = state.warnings
        kept = [w for w in before if w.field not in changed and not changed.intersection(w.depends)]
        fresh = [w for w in shown if w.code != "duplicate"]
        for field_id in sorted(changed - written):
            fresh += self.dialog.cross_check(field_id, state.answers)
        if duplicate is not None:
            fresh.append(duplicate)
        by_key = {(w.field, w.code): w for w in kept}
        for w in fresh:
            if w.field in state.answers:
                by_key[(w.field, w.code)] = Warning(w.field, w.code, w.message, w.depends)
        state.warnings = list(by_key.values())
        for w in before:
            if (w.field, w.code) not in by_key:
                out.events.append(Event("warning_cleared", w.field, detail=w.code))

    def _settle(self, before: DossierState, new: DossierState, actor: Actor, out: Outcome) -> None:
        """Signature validity, hand-over and status after a change of answers."""
        if new.signature and new.signature.answers_hash != new.answers_hash():
            new.signature = None
            out.events.append(Event("signature_removed", detail="réponse modifiée après signature"))
        if (
            actor.role == Role.SECRETARY
            and not new.handed_over
            and self.next_question(new, actor) is None
            and self.missing(new)  # something is left for the doctor
            and not self.dialog.blocked_reason(new.answers)
        ):
            new.handed_over = True
            out.events.append(Event("handed_over", detail="volet administratif complété"))
        self._move(new, self._derive_status(new), out)

    def _derive_status(self, state: DossierState) -> DossierStatus:
        if state.status == DossierStatus.SENT:
            return DossierStatus.SENT
        if self.dialog.blocked_reason(state.answers):
            return DossierStatus.BLOCKED
        if state.signature:
            return DossierStatus.SIGNED
        if not self.missing(state):
            return DossierStatus.READY
        if state.handed_over:
            return DossierStatus.AWAITING_DOCTOR
        return DossierStatus.DRAFT

    def _move(self, state: DossierState, target: DossierStatus, out: Outcome) -> None:
        """Change status along legal transitions, recording each step."""
        if state.status == DossierStatus.BLOCKED and target != DossierStatus.BLOCKED:
            # the doctor corrected the red flags and has taken the dossier up
            state.handed_over = False
            target = self._derive_status(state)
        for status in dossier_path(state.status, target, handed_over=state.handed_over):
            out.events.append(Event("status_changed", detail=f"{state.status.value}->{status.value}"))
            state.status = status

    # -- moving around --------------------------------------------------------------------
    def back(self, state: DossierState, actor: Actor) -> Outcome:
        """Bring back the question before the current one (its answer is kept until replaced)."""
        order = [f for f in self.dialog.order(actor.role) if f.applies(state.answers)]
        if state.status == DossierStatus.BLOCKED:
            order = [f for f in order if f.blocks]
        current = self.next_question(state, actor)
        ids = [f.id for f in order]
        stop = ids.index(current.id) if current and current.id in ids else len(ids)
        for spec in reversed(order[:stop]):
            if state.has(spec.id) and not spec.prefilled:
                new = state.copy()
                new.focus = spec.id
                return Outcome(True, new, next=self.next_question(new, actor))
        return self._refuse(state, "Vous êtes déjà à la première question.")

    def edit(self, state: DossierState, actor: Actor, ref: str) -> Outcome:
        """Ask a field again so that its answer can be changed (by id or French label)."""
        matches = self.dialog.find(ref)
        shown = " ".join(ref.split())
        shown = shown if len(shown) <= 60 else shown[:57] + "…"
        if not matches:
            return self._refuse(state, f"« {shown} » : aucune question de ce nom dans le dossier.")
        if len(matches) > 1:
            names = ", ".join(f"{f.label} ({f.id})" for f in matches[:8])
            return self._refuse(state, f"« {shown} » désigne plusieurs questions : {names}.")
        spec = matches[0]
        if state.status == DossierStatus.SENT:
            return self._refuse(state, "Le dossier est envoyé : ses réponses ne peuvent plus changer. "
                                       "Pour corriger, annulez ses demandes (tableau de bord) et "
                                       "faites un nouveau dossier.")
        if not self.can_fill(actor, spec):
            return self._refuse(state, f"« {spec.label} » est réservé au médecin.")
        if not spec.applies(state.answers):
            return self._refuse(state, f"« {spec.label} » ne s'applique pas à ce dossier pour l'instant.")
        if state.status == DossierStatus.BLOCKED and not spec.blocks:
            blocking = next(f for f in self.dialog.fields if f.blocks)
            return self._refuse(
                state, f"Le dossier est bloqué : seule la réponse « {blocking.label} » peut être corrigée."
            )
        new = state.copy()
        new.focus = spec.id
        return Outcome(True, new, events=[Event("change_requested", spec.id)],
                       next=self.next_question(new, actor))

    def cancel_change(self, state: DossierState, actor: Actor) -> Outcome:
        new = state.copy()
        new.focus = None
        return Outcome(True, new, next=self.next_question(new, actor))

    # -- signing --------------------------------------------------------------------------
    def sign(self, state: DossierState, actor: Actor, code_ok: bool) -> Outcome:
        """The doctor signs with their personal code (checked by the caller: `code_ok`)."""
        if actor.role != Role.DOCTOR:
            return self._refuse(state, "Seul le médecin peut signer le dossier.")
        if actor.rpps != state.owner_rpps:
            return self._refuse(state, "Seul le médecin demandeur de ce dossier peut le signer.")
        if state.status == DossierStatus.BLOCKED:
            return self._refuse(state, f"Signature impossible : {self.blocked_reason(state)}")
        if state.status in (DossierStatus.SIGNED, DossierStatus.SENT):
            return self._refuse(state, "Le dossier est déjà signé.")
        missing = self.missing(state)
        if missing:
            labels = ", ".join(self.dialog.field(f).label for f in missing)
            return self._refuse(state, f"Signature impossible : il manque {labels}.")
        obstacle = self.dialog.sign_obstacle(state.answers)
        if obstacle:
            return self._refuse(state, f"Signature impossible : {obstacle}.")
        if not code_ok:
            return Outcome(False, state, message="Code personnel incorrect : signature refusée.",
                           events=[Event("signature_refused", detail="code incorrect")])
        new = state.copy()
        digest = new.answers_hash()
        assert actor.rpps is not None
        new.signature = Signature(actor.user_id, actor.rpps, self.lookups.now().isoformat(), digest)
        out = Outcome(True, new, events=[Event("signed", value=digest)])
        self._move(new, DossierStatus.SIGNED, out)
        return out

    # -- overview -------------------------------------------------------------------------
    def progress(self, state: DossierState, actor: Actor | None = None) -> list[SectionProgress]:
        """Per section: questions answered over questions that apply (to this actor, if given)."""
        result = []
        for section, title in self.dialog.sections:
            fields = [
                f for f in self.dialog.fields
                if f.section == section and f.applies(state.answers)
                and (actor is None or self.can_fill(actor, f))
            ]
            if fields:
                done = sum(1 for f in fields if state.has(f.id))
                result.append(SectionProgress(section, title, done, len(fields)))
        return result

    def review(self, state: DossierState) -> list[ReviewSection]:
        sections = []
        for section, title in self.dialog.sections:
            items = []
            for spec in self.dialog.fields:
                if spec.section != section or not spec.applies(state.answers):
                    continue
                who = FILL_FR[spec.fill]
                if spec.id in state.answers:
                    value = state.answers[spec.id]
                    items.append(ReviewItem(spec, "answered", value, spec.display(value), who,
                                            state.sources.get(spec.id)))
                elif spec.required(state.answers):
                    items.append(ReviewItem(spec, "missing", who=who))
                elif spec.id in state.skipped:
                    items.append(ReviewItem(spec, "skipped", who=who))
                else:
                    items.append(ReviewItem(spec, "optional", who=who))
            sections.append(ReviewSection(section, title, tuple(items)))
        return sections

    def missing_by_owner(self, state: DossierState) -> dict[Fill, list[str]]:
        result: dict[Fill, list[str]] = {Fill.DOCTOR: [], Fill.SECRETARY: []}
        for field_id in self.missing(state):
            result[self.dialog.field(field_id).fill].append(field_id)
        return result


__all__ = [
    "CONFIRM_FIELD",
    "CONFIRM_SPEC",
    "PROFILE_FIELD",
    "PROFILE_SPEC",
    "ConfirmItem",
    "Engine",
    "Event",
    "Lookups",
    "Outcome",
    "Question",
    "Req",
    "ReviewItem",
    "ReviewSection",
    "SectionProgress",
]
