"""Field definitions: the type, requirement and owner codes of spec/hnp-dossier.md, and the
declarative `FieldSpec` a dialog is made of. Reading a typed answer for a field is `read_answer`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from orient.models import readers
from orient.models.readers import ReadError

Answers = Mapping[str, Any]


class FieldType(StrEnum):
    TEXT = "text"
    NAME = "name"
    DATE = "date"
    BOOL = "bool"
    CHOICE = "choice"
    MULTI = "multi"
    INT = "int"
    DEC = "dec"
    PHONE = "phone"
    EMAIL = "email"


class Req(StrEnum):
    """R required to sign and send; L legally required; C asked when its condition holds, then
    required; O optional."""

    R = "R"
    L = "L"
    C = "C"
    O = "O"


class Fill(StrEnum):
    """D doctor only; S doctor or secretary."""

    DOCTOR = "D"
    SECRETARY = "S"


FILL_FR = {Fill.DOCTOR: "le médecin", Fill.SECRETARY: "le médecin ou la secrétaire"}


@dataclass(frozen=True)
class Warning:
    """Something the person should know about an answer, shown but not refusing it. It stays
    with the dossier while its cause holds: until `field` changes, or one of the answers it
    `depends` on changes (the dialog's cross-check then says whether it still holds)."""

    field: str
    code: str
    message: str
    depends: tuple[str, ...] = ()
    # (id, label) the person may pick by number: the other dossiers a duplicate suspicion offers
    # to open (never stored: they depend on who is asking)
    picks: tuple[tuple[str, str], ...] = ()

    @property
    def section(self) -> str:
        return self.field.split(".", 1)[0]

    def as_json(self) -> dict[str, Any]:
        """What the dossier keeps (the picks are for the person who was asked, not kept)."""
        data: dict[str, Any] = {"field": self.field, "code": self.code, "message": self.message}
        if self.depends:
            data["depends"] = list(self.depends)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Warning:
        return cls(str(data["field"]), str(data["code"]), str(data["message"]),
                   tuple(data.get("depends") or ()))


class CommuneLookup(Protocol):
    def resolve(self, text: str) -> Any: ...

    def get(self, code: str) -> Any: ...


class Icd10Lookup(Protocol):
    def label(self, code: str) -> str | None: ...

    def propose(self, text: str, limit: int = 5, age: int | None = None,
                sex: str | None = None) -> list[tuple[str, str]]: ...

    def out_of_scope(self, code: str, age: int | None = None, sex: str | None = None) -> str | None: ...


@dataclass(frozen=True)
class RuleContext:
    """What a field rule may look at: the answers so far, today's date and the lookups."""

    answers: Answers
    today: date
    communes: CommuneLookup | None = None
    icd10: Icd10Lookup | None = None
    # (code, label) offered at the last refusal of this field (ambiguous commune): "2" picks the
    # second
    picks: tuple[tuple[str, str], ...] = ()


# A rule receives the read value and returns the value to store (possibly normalised further)
# with its warnings, or raises ReadError.
Rule = Callable[[Any, RuleContext], tuple[Any, list[Warning]]]
Condition = Callable[[Answers], bool]


@dataclass(frozen=True)
class FieldSpec:
    id: str
    label: str
    type: FieldType
    req: Req
    fill: Fill
    question: str
    why: str
    options: tuple[tuple[str, str], ...] = ()
    condition: Condition | None = None
    required_when: Condition | None = None  # optional field that becomes required
    rule: Rule | None = None
    units: tuple[str, ...] = ()
    bounds: tuple[float, float] | None = None
    min_length: int = 0
    identifier: bool = False
    ins_name: bool = False
    prefilled: bool = False
    suggest_from: str | None = None  # a text field whose words give suggested codes (ICD-10)
    # the suggested codes themselves, from the answers so far (e.g. filtered by the patient's age
    # and sex); when absent, the words of `suggest_from` are proposed as they are
    suggest: Callable[[RuleContext], list[tuple[str, str]]] | None = None
    suggest_title: str = ""  # what `suggest` proposes, in French (ICD-10 codes when empty)
    retract: tuple[str, ...] = ()  # a "non" removes these answers and this one: asked again
    blocks: bool = False  # a non-empty answer ends the questions (red flags)
    refusal_hint: str = ""
    example: str = ""
    # the label in written documents (the letter) where `label` reads as a question
    letter_label: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)

    @property
    def section(self) -> str:
        return self.id.split(".", 1)[0]

    def applies(self, answers: Answers) -> bool:
        return self.condition is None or self.condition(answers)

    def required(self, answers: Answers) -> bool:
        if not self.applies(answers):
            return False
        if self.req in (Req.R, Req.L, Req.C):
            return True
        return self.required_when is not None and self.required_when(answers)

    def option_label(self, code: str) -> str:
        return next((label for c, label in self.options if c == code), code)

    def display(self, value: Any) -> str:
        """A stored value as a French reader sees it."""
        if value is None:
            return ""
        if self.type == FieldType.BOOL:
            return "oui" if value else "non"
        if self.type == FieldType.CHOICE:
            return self.option_label(value)
        if self.type == FieldType.MULTI:
            # "néant" (not "aucun"): it agrees with every label ("Précautions : néant")
            return ", ".join(self.option_label(v) for v in value) or "néant"
        if self.type == FieldType.DATE:
            y, m, d = str(value).split("-")
            return f"{d}/{m}/{y}"
        if self.type == FieldType.DEC:
            return f"{value:g}".replace(".", ",")
        if self.type == FieldType.PHONE and str(value).startswith("+33") and len(str(value)) == 12:
            digits = "0" + str(value)[3:]
            return " ".join(digits[i:i + 2] for i in range(0, 10, 2))
        return str(value)


def expected_text(spec: FieldSpec, answers: Answers | None = None) -> str:
    """What the field expects, in French, for a refusal of an empty answer."""
    t = spec.type
    if spec.example:
        return spec.example
    if t == FieldType.CHOICE:
        return f"une des options : {readers.options_list(spec.options)}"
    if t == FieldType.MULTI and spec.required_when and spec.required_when(answers or {}):
        return f"une ou plusieurs options séparées par des virgules : {readers.options_list(spec.options)}"
    if t == FieldType.MULTI:
        return f"une ou plusieurs options séparées par des virgules, ou « aucun » : {readers.options_list(spec.options)}"
    if t in (FieldType.INT, FieldType.DEC) and spec.bounds:
        lo, hi = spec.bounds
        return f"un nombre entre {lo:g} et {hi:g}".replace(".", ",")
    return {
        FieldType.TEXT: "un texte",
        FieldType.NAME: "un nom (lettres, espaces, traits d'union, apostrophes)",
        FieldType.DATE: "une date jj/mm/aaaa (par exemple 12/03/1938)",
        FieldType.BOOL: "oui ou non",
        FieldType.INT: "un nombre entier",
        FieldType.DEC: "un nombre",
        FieldType.PHONE: "un numéro de téléphone à 10 chiffres (par exemple 05 61 00 00 00)",
        FieldType.EMAIL: "une adresse de messagerie (par exemple nom@domaine.mssante.fr)",
    }[t]


def read_value(spec: FieldSpec, raw: str) -> Any:
    """Read a non-empty typed answer by the field's type; raises ReadError."""
    t = spec.type
    lo, hi = spec.bounds if spec.bounds else (None, None)
    if t == FieldType.TEXT:
        if spec.identifier:
            return readers.read_identifier(raw)
        return readers.read_text(raw, min_length=spec.min_length)
    if t == FieldType.NAME:
        return readers.read_name(raw, upper_ins=spec.ins_name)
    if t == FieldType.DATE:
        return readers.read_date(raw).isoformat()
    if t == FieldType.BOOL:
        return readers.read_bool(raw)
    if t == FieldType.CHOICE:
        return readers.read_choice(raw, spec.options)
    if t == FieldType.MULTI:
        return readers.read_multi(raw, spec.options)
    if t == FieldType.INT:
        return readers.read_int(
            raw, units=spec.units,
            min=None if lo is None else int(lo), max=None if hi is None else int(hi),
        )
    if t == FieldType.DEC:
        return readers.read_dec(raw, units=spec.units, min=lo, max=hi)
    if t == FieldType.PHONE:
        return readers.read_phone(raw)
    if t == FieldType.EMAIL:
        return readers.read_email(raw)
    raise AssertionError(f"unknown field type {t}")


def read_answer(spec: FieldSpec, raw: str, ctx: RuleContext) -> tuple[Any, list[Warning]]:
    """Read a non-empty typed answer and apply the field's rule; raises ReadError."""
    value = read_value(spec, raw)
    if spec.rule is None:
        return value, []
    return spec.rule(value, ctx)


def refusal_message(spec: FieldSpec, typed: str, err: ReadError) -> str:
    """The French refusal: which field (its label), what was typed, what is expected."""
    shown = " ".join(typed.split())
    if len(shown) > 60:
        shown = shown[:57] + "…"
    head = f"« {spec.label} » : " + (f"« {shown} » n'est pas accepté" if shown else "une réponse est requise")
    if "(" in err.reason:  # a reason with its own brackets reads as a sentence: never "...))"
        reason = f". {err.reason[0].upper()}{err.reason[1:]}"
    else:
        reason = f" ({err.reason})" if err.reason else ""
    msg = f"{head}{reason}. Attendu : {err.expected}."
    if spec.refusal_hint:
        msg += f" {spec.refusal_hint}"
    return msg


__all__ = [
    "FILL_FR",
    "Answers",
    "CommuneLookup",
    "Condition",
    "FieldSpec",
    "FieldType",
    "Fill",
    "Icd10Lookup",
    "ReadError",
    "Req",
    "Rule",
    "RuleContext",
    "Warning",
    "expected_text",
    "read_answer",
    "read_value",
    "refusal_message",
]
