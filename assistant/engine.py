"""The conversation engine: drives a dialog over a dossier.

Pure and synchronous. It never touches a database, a clock or a file: what it must look up
(communes, ICD-10 codes, open dossiers for duplicate suspicion, the current time) comes in through
`Lookups`. Every operation takes a `DossierState` and returns an `Outcome` holding a new state and
the events to record; the caller persists both before showing the next question.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from orient.dialogs.base import Dialog
from orient.models.dossier import DossierState, Signature
from orient.models.fields import (
    FILL_FR,
    CommuneLookup,
    FieldSpec,
    Fill,
    Icd10Lookup,
    ReadError,
    Req,
    RuleContext,
    Warning,
    expected_text,
    read_answer,
    refusal_message,
)
from orient.models.lifecycle import DossierStatus, dossier_path
from orient.models.users import Actor, Role

DuplicateFinder = Callable[[str, dict[str, Any]], list[str]]


@dataclass(frozen=True)
class Lookups:
    """What the engine may look up, passed in so that it stays pure."""

    now: Callable[[], datetime]
    communes: CommuneLookup | None = None
    icd10: Icd10Lookup | None = None
    # (dossier id, identity traits) -> ids of other open dossiers with the same traits
    duplicates: DuplicateFinder = lambda _id, _traits: []


@dataclass(frozen=True)
class Event:
    """Something to record in the audit log. `value` is hashed there, never stored."""

    kind: str
    field: str | None = None
    value: Any = None
    detail: str | None = None


@dataclass(frozen=True)
class Question:
    field: FieldSpec
    current: Any = None  # the answer being changed, when the question comes back
    changing: bool = False
    required: bool = False  # an empty answer is refused
    suggestions: tuple[tuple[str, str], ...] = ()  # (code, label) proposed, chosen by number

    @property
    def id(self) -> str:
        return self.field.id


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
        for spec in self.dialog.order(actor.role):
            if spec.applies(state.answers) and not state.has(spec.id):
                return self._question(spec, state)
        return None

    def _question(self, spec: FieldSpec, state: DossierState, changing: bool = False) -> Question:
        suggestions: tuple[tuple[str, str], ...] = ()
        if spec.suggest is not None and self.lookups.icd10 is not None:
            suggestions = tuple(spec.suggest(self._context(state)))
        elif spec.suggest_from and self.lookups.icd10 is not None:
            words = state.answers.get(spec.suggest_from) or ""
            suggestions = tuple(self.lookups.icd10.propose(words)) if words else ()
        return Question(spec, state.answers.get(spec.id) if changing else None, changing,
                        spec.required(state.answers), suggestions)

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
        spec = question.field
        text = typed if isinstance(typed, str) else str(typed)
        if not text.strip():
            if spec.required(state.answers):
                err = ReadError("", expected_text(spec, state.answers))
                return self._refuse_input(state, spec, text, err)
            return self._apply(state, actor, spec, None, [], skipped=True)
        ctx = self._context(state)
        try:
            value, warnings = read_answer(spec, text, ctx)
        except ReadError as err:
            return self._refuse_input(state, spec, text, err)
        return self._apply(state, actor, spec, value, warnings)

    def _today(self) -> date:
        return self.lookups.now().date()

    def _context(self, state: DossierState) -> RuleContext:
        return RuleContext(answers=state.answers, today=self._today(), communes=self.lookups.communes,
                           icd10=self.lookups.icd10)

    def _refuse(self, state: DossierState, message: str) -> Outcome:
        return Outcome(False, state, message=message)

    def _refuse_input(self, state: DossierState, spec: FieldSpec, typed: str, err: ReadError) -> Outcome:
        message = refusal_message(spec, typed, err)
        return Outcome(False, state, message=message, events=[Event("answer_refused", spec.id, typed)])

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
        had = state.has(spec.id)
        previous = state.answers.get(spec.id)
        if skipped:
            new.answers.pop(spec.id, None)
            new.skipped.add(spec.id)
            out.events.append(Event("answer_skipped", spec.id))
        else:
            new.answers[spec.id] = value
            new.skipped.discard(spec.id)
            kind = "answer_changed" if had and previous != value else "answer_accepted"
            out.events.append(Event(kind, spec.id, value))
        out.changed.add(spec.id)
        if new.focus == spec.id:
            new.focus = None
        if spec.retract and value is False:
            for field_id in (*spec.retract, spec.id):
                self._remove(new, out, field_id, "valeur non confirmée")
        self._prune(new, out)
        out.warnings.extend(self.dialog.cross_check(spec.id, new.answers))
        self._check_duplicates(new, out, spec)
        for w in out.warnings:
            out.events.append(Event("warning_shown", w.field, detail=w.code))
        self._settle(state, new, actor, out)
        out.next = self.next_question(new, actor)
        return out

    def _remove(self, state: DossierState, out: Outcome, field_id: str, why: str) -> None:
        if state.has(field_id):
            state.answers.pop(field_id, None)
            state.skipped.discard(field_id)
            out.changed.add(field_id)
            out.events.append(Event("answer_removed", field_id, detail=why))

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

    def _check_duplicates(self, state: DossierState, out: Outcome, spec: FieldSpec) -> None:
        traits = self.dialog.duplicate_traits
        if spec.id not in traits or not all(t in state.answers for t in traits):
            return
        found = self.lookups.duplicates(state.id, {t: state.answers[t] for t in traits})
        if found:
            out.duplicates = found
            out.warnings.append(Warning(
                spec.id,
                "duplicate",
                "Un dossier ouvert existe déjà pour ce patient (même nom de naissance, premier "
                "prénom, date de naissance et sexe) : voulez-vous plutôt l'ouvrir ?",
            ))

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
                    items.append(ReviewItem(spec, "answered", value, spec.display(value), who))
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
