"""Answers chained with « ; » ("réponses enchaînées"): at a question, an answer holding parts
separated by « ; » answers this question and the following ones, in the order they would be
asked.

- The fields a run fills are found one part at a time, as the engine would ask them: the next
  field in the conversation's order that applies to the answers as they would be (so a field with
  a condition counts only once the part before made it apply), is unanswered, and is not left out
  of runs (the red flags, confirmation checks such as the low SpO2, the diastolic pressure). A run
  stops at a field the person may not fill (a secretary's run ends before the doctor's part). A
  run may cross a section boundary; the hint says where.
- Each part goes through its own field's rule, exactly as if typed at its question (a vital-sign
  part may itself fill several fields, `128/74` or a whole line). An empty part passes an optional
  question; an empty part at a required one is refused for that field.
- What was understood is proposed (source: typed) and confirmed once, like a line of vital signs:
  Enter keeps everything, a number drops one value (asked by hand next), « non » drops all. The
  parts refused are shown with their refusal; their questions are asked as usual afterwards.
- No run starts at a question of free text (reason, history, treatments...): « ; » stays
  literal there, since clinicians write lists with it. Nor while a question is being changed or
  values wait for confirmation.

Pure, like the engine: it reads the engine's dialog and rules, and returns an `Outcome`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from orient.models.fields import (
    FieldSpec,
    FieldType,
    ReadError,
    expected_text,
    read_answer,
    refusal_message,
)
from orient.models.provenance import Pending, Refused, Source
from orient.models.users import Actor, Role

if TYPE_CHECKING:
    from orient.assistant.engine import Engine, Outcome, Question
    from orient.models.dossier import DossierState

SEPARATOR = ";"
HINT_LENGTH = 6  # fields the hint names after the question's own
SKIPPED_FR = "(question passée)"


@dataclass(frozen=True)
class RunItem:
    """One field a run would fill after the question's own, as the hint names it."""

    field: str
    label: str  # short label
    section_title: str = ""  # set on the first field of another section
    conditional: bool = False  # asked only if its condition then holds ("s'il y a lieu")

    @property
    def text(self) -> str:
        label = self.label + (" (s'il y a lieu)" if self.conditional else "")
        return f"{self.section_title} : {label}" if self.section_title else label


def left_out(engine: Engine, spec: FieldSpec) -> bool:
    """Never filled by a run: the red flags, confirmation checks, the dialog's exclusions."""
    return spec.blocks or bool(spec.retract) or spec.id in engine.dialog.run_excluded


def may_start(engine: Engine, spec: FieldSpec) -> bool:
    return spec.id in engine.dialog.by_id and spec.id not in engine.dialog.free_text \
        and not left_out(engine, spec)


def _order(engine: Engine) -> tuple[FieldSpec, ...]:
    return engine.dialog.order(Role.DOCTOR)  # every field, in the order they are asked


def hint(engine: Engine, state: DossierState, actor: Actor, spec: FieldSpec) -> tuple[RunItem, ...]:
    """The fields a run typed at `spec`'s question would fill next (at most HINT_LENGTH), as the
    answers stand; empty when no run may start there."""
    if state.focus or not may_start(engine, spec):
        return ()
    if any(p.field in engine.dialog.by_id and engine.can_fill(actor, engine.dialog.field(p.field))
           for p in state.pending):
        return ()  # values of this person wait for a confirmation (or to be typed by hand)
    order = _order(engine)
    start = order.index(spec)
    items: list[RunItem] = []
    section = spec.section
    for other in order[start + 1:]:
        if len(items) >= HINT_LENGTH:
            break
        if state.has(other.id) or left_out(engine, other):
            continue
        if not engine.can_fill(actor, other):
            break
        title = engine.dialog.section_title(other.section) if other.section != section else ""
        section = other.section
        items.append(RunItem(other.id, engine.dialog.short_labels.get(other.id, other.label), title,
                             conditional=not other.applies(state.answers)))
    return tuple(items)


def is_run(question: Question, text: str) -> bool:
    return bool(question.run) and SEPARATOR in text


def picked(question: Question, text: str) -> str:
    """The value the field proposes (`FieldSpec.suggest` with its own title: the MSSanté address
    from the doctor's name) typed by its number; otherwise the text as typed. Choices keep their
    options' numbers; the rules that read numbers themselves (the communes of an ambiguous answer,
    the ICD-10 codes) are left to do it."""
    typed = text.strip().rstrip(".")
    spec = question.field
    if question.suggestions and spec.suggest_title and question.suggestions_title == spec.suggest_title \
            and spec.type not in (FieldType.CHOICE, FieldType.MULTI) \
            and typed.isdecimal() and 1 <= int(typed) <= len(question.suggestions):
        return question.suggestions[int(typed) - 1][0]
    return text


def _next_field(engine: Engine, state: DossierState, actor: Actor, view: dict[str, Any],
                after: int, done: set[str]) -> tuple[int, FieldSpec] | None:
    order = _order(engine)
    for index in range(after + 1, len(order)):
        spec = order[index]
        if spec.id in done or spec.id in view or spec.id in state.skipped or left_out(engine, spec):
            continue
        if not spec.applies(view):
            continue
        if not engine.can_fill(actor, spec):
            return None  # a run stops at a field this person may not fill
        return index, spec
    return None


def _shown(text: str) -> str:
    shown = " ".join(text.split())
    return shown if len(shown) <= 40 else shown[:37] + "…"


def answer_run(engine: Engine, state: DossierState, actor: Actor, question: Question,
               text: str) -> Outcome:
    """Read a run typed at `question`: the values understood wait for one confirmation."""
    from orient.assistant.engine import Event, Outcome

    parts = text.split(SEPARATOR)
    view = dict(state.answers)
    done: set[str] = set()
    proposed: list[tuple[FieldSpec, str, Any]] = []  # (field, text, value), "" text: passed
    refused: list[Refused] = []
    unread: list[str] = []
    filled: list[str] = []  # every field a part went to, in order (the audit's detail)
    position = _order(engine).index(question.field)
    leftover: list[str] = []
    for number, raw in enumerate(parts):
        if number == 0:
            spec = question.field
        else:
            found = _next_field(engine, state, actor, view, position, done)
            if found is None:
                leftover = [p.strip() for p in parts[number:] if p.strip()]
                break
            position, spec = found
        done.add(spec.id)
        filled.append(spec.id)
        part = raw.strip()
        if not part:
            if spec.required(view):
                err = ReadError("", expected_text(spec, view))
                refused.append(Refused(spec.id, "", refusal_message(spec, "", err)))
            else:
                proposed.append((spec, "", None))
            continue
        if number == 0:
            part = picked(question, part)
        split = engine.dialog.split_answer(spec.id, part)
        pieces = list(split.parts) if split is not None else [(spec.id, part)]
        unread += list(split.unread) if split is not None else []
        for field_id, piece in pieces:
            target = engine.dialog.field(field_id)
            if field_id != spec.id:
                if field_id in done and field_id not in view:
                    continue  # already refused in this run
                if not engine.can_fill(actor, target):
                    refused.append(Refused(field_id, piece, f"« {target.label} » est réservé au médecin."))
                    continue
            ctx = replace(engine._context(view), picks=state.picks.get(field_id, ()))
            try:
                value, _warnings = read_answer(target, piece, ctx)
            except ReadError as err:
                refused.append(Refused(field_id, piece, refusal_message(target, piece, err)))
                done.add(field_id)
                continue
            view[field_id] = value
            done.add(field_id)
            proposed = [p for p in proposed if p[0].id != field_id]
            proposed.append((target, piece, value))
    if not proposed:
        message = " ".join(r.message for r in refused) or refusal_message(
            question.field, text, ReadError("", expected_text(question.field, state.answers)))
        return Outcome(False, state, message=message,
                       events=[Event("answer_refused", question.id, text)], refused=refused)
    new = state.copy()
    out = Outcome(True, new, refused=refused)
    out.events.append(Event("answer_run", question.id, text, detail=",".join(dict.fromkeys(filled))))
    for spec, piece, value in proposed:
        new.pending.append(Pending(spec.id, piece, value, Source.TYPED))
        out.events.append(Event("answer_proposed", spec.id, value,
                                detail="source=typed" + ("" if piece else ";passed")))
    for r in refused:
        out.events.append(Event("answer_refused", r.field, r.text))
    notes = []
    if unread:
        notes.append("Non compris : " + " ; ".join(f"« {u} »" for u in unread) + ".")
    if leftover:
        notes.append("En trop, aucune question à remplir : " + " ; ".join(f"« {_shown(p)} »" for p in leftover)
                     + ".")
    if notes:
        out.message = " ".join(notes) + " Rien n'en est enregistré."
    out.next = engine.next_question(new, actor)
    return out


def skip(state: DossierState, out: Outcome, spec: FieldSpec) -> None:
    """A confirmed empty part: the optional question is passed, as an empty answer would."""
    from orient.assistant.engine import Event

    state.answers.pop(spec.id, None)
    state.sources.pop(spec.id, None)
    state.skipped.add(spec.id)
    out.changed.add(spec.id)
    out.events.append(Event("answer_skipped", spec.id, detail="source=typed"))


__all__ = ["HINT_LENGTH", "SEPARATOR", "SKIPPED_FR", "RunItem", "answer_run", "hint", "is_run",
           "may_start", "picked", "skip"]

