"""What a dialog is: an ordered set of fields in sections, plus its dossier-level rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from orient.models.fields import Answers, FieldSpec, Fill, Warning
from orient.models.text import normalise_key
from orient.models.users import Role


@dataclass(frozen=True)
class Split:
    """One typed answer that names several fields: the text for each field's own rule, in order,
    and the pieces not understood. A `line` (several signs named) is shown and confirmed once;
    otherwise (a blood pressure `128/74`, a SpO2 with its oxygen) it is recorded at once."""

    parts: tuple[tuple[str, str], ...]
    unread: tuple[str, ...] = ()
    line: bool = False


@dataclass(frozen=True)
class Dialog:
    kind: str
    title: str
    sections: tuple[tuple[str, str], ...]  # (section id, French title), in order
    fields: tuple[FieldSpec, ...]  # in spec order
    first_for_doctor: tuple[str, ...] = ()
    duplicate_traits: tuple[str, ...] = ()
    # warnings that depend on several answers, re-checked when one of them changes
    cross_check: Callable[[str, Answers], list[Warning]] = lambda _f, _a: []
    # French text when the dossier is blocked (red flags), else None
    blocked_reason: Callable[[Answers], str | None] = lambda _a: None
    # French reason why a complete dossier still cannot be signed, else None
    sign_obstacle: Callable[[Answers], str | None] = lambda _a: None
    # answers that other answers made impossible (removed and asked again), each as the warning
    # the person is told, on the field to remove (the identity status under the RNIV rules)
    revoked: Callable[[Answers], list[Warning]] = lambda _a: []
    # (field asked, typed text) -> the fields that one answer fills, or None (an ordinary answer)
    split_answer: Callable[[str, str], Split | None] = lambda _f, _t: None
    # fields kept in the doctor's profile, offered on each new dossier
    profile_fields: tuple[str, ...] = ()
    # answers chained with « ; » (assistant/runs.py): the questions where « ; » is literal text
    # (no run starts there), the fields never filled by a run (asked on their own), and the short
    # labels of the hint that lists what a run would fill next
    free_text: tuple[str, ...] = ()
    run_excluded: tuple[str, ...] = ()
    short_labels: Mapping[str, str] = field(default_factory=dict)
    by_id: dict[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {f.id: f for f in self.fields})

    def field(self, field_id: str) -> FieldSpec:
        return self.by_id[field_id]

    def section_title(self, section: str) -> str:
        return dict(self.sections)[section]

    @cached_property
    def _doctor_order(self) -> tuple[FieldSpec, ...]:
        first = [self.by_id[i] for i in self.first_for_doctor]
        return tuple(first + [f for f in self.fields if f.id not in self.first_for_doctor])

    def order(self, role: Role) -> tuple[FieldSpec, ...]:
        """The fields in the order they are asked to this role."""
        if role == Role.DOCTOR:
            return self._doctor_order
        if role == Role.SECRETARY:
            return tuple(f for f in self.fields if f.fill == Fill.SECRETARY)
        return ()

    def find(self, ref: str) -> list[FieldSpec]:
        """Fields matching a typed reference: an id, a label, a label prefix, else (four letters
        at least) the labels holding it ("accord" finds the patient's agreement)."""
        ref = ref.strip()
        if ref in self.by_id:
            return [self.by_id[ref]]
        key = normalise_key(ref)
        if not key:
            return []
        exact = [f for f in self.fields if normalise_key(f.label) == key or normalise_key(f.id) == key]
        if exact:
            return exact
        prefixed = [f for f in self.fields if normalise_key(f.label).startswith(key)]
        if prefixed or len(key) < 4:
            return prefixed
        return [f for f in self.fields if key in normalise_key(f.label)]
