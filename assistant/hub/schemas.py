"""Request and response bodies of the hub API. Requests refuse unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orient.models.text import control_message

# What the OpenAPI document says of every text of a request: no C0/C1 control (tab, line feed
# and carriage return aside), no DEL, no bidirectional override (orient.models.text.CONTROL_CHARS)
NO_CONTROL_PATTERN = "^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*$"


def _document_texts(schema: dict[str, Any]) -> None:
    """Add NO_CONTROL_PATTERN to the plain text properties of a request's JSON schema."""
    for prop in schema.get("properties", {}).values():
        for item in (prop, *prop.get("anyOf", ()), prop.get("items") or {}):
            if item.get("type") == "string" and not {"format", "enum", "const", "pattern"} & set(item):
                item["pattern"] = NO_CONTROL_PATTERN


def _no_control(value: Any) -> Any:
    """C0 and C1 controls, DEL and bidirectional overrides are refused in every text of a request
    (orient.models.text.CONTROL_CHARS)."""
    problem = control_message(value) if isinstance(value, str) else None
    if problem:
        raise ValueError(problem)
    if isinstance(value, list):
        for item in value:
            _no_control(item)
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=10_000, json_schema_extra=_document_texts)

    @field_validator("*", mode="before")
    @classmethod
    def _texts(cls, value: Any) -> Any:
        return _no_control(value)


# -- requests ----------------------------------------------------------------------------------
class NewDossier(Strict):
    doctor_rpps: str | None = Field(None, description="for a secretary: the delegating doctor")


class AnswerIn(Strict):
    text: str = Field(..., description="what the person typed")
    version: int = Field(..., ge=0, description="the dossier version the answer is based on")


class ProposalIn(Strict):
    field: str = Field(..., min_length=1, max_length=200, description="field id")
    text: str = Field(..., description="the value as text, read through the field's rule")
    source: Literal["typed", "profile", "import", "letter"]
    origin: str | None = Field(None, max_length=200, description='e.g. "sha256:<hex of the file>"')


class ProposalsIn(Strict):
    proposals: list[ProposalIn] = Field(..., max_length=200)
    base_version: int = Field(..., ge=0, description="the dossier version the proposals are based on")


class VersionIn(Strict):
    version: int = Field(..., ge=0)


class EditIn(Strict):
    field: str = Field(..., min_length=1, max_length=200, description="field id or French label")
    version: int = Field(..., ge=0)


class SignIn(Strict):
    code: str = Field(..., min_length=1, max_length=100)
    version: int = Field(..., ge=0)


class UnitsIn(Strict):
    unit_ids: list[str] = Field(..., min_length=1, max_length=5)


class SendIn(Strict):
    idempotency_key: str = Field(..., min_length=8, max_length=200)


class CancelIn(Strict):
    reason: str
    text: str | None = None


class InfoAnswerIn(Strict):
    text: str = Field(..., min_length=1)


class AcceptIn(Strict):
    admission_at: datetime
    contact: str = Field(..., min_length=1, max_length=500)


class RefuseIn(Strict):
    reason: str
    text: str | None = None


class InfoRequestIn(Strict):
    question: str = Field(..., min_length=1)


class AvailabilityIn(Strict):
    availability: Literal["available", "limited", "full"]


class UserIn(Strict):
    role: Literal["doctor", "secretary", "receiver", "admin"]
    name: str = Field(..., min_length=1, max_length=200)
    rpps: str | None = None
    code: str | None = Field(None, min_length=4, max_length=100)
    unit_ids: list[str] = Field(default_factory=list)


class DelegationIn(Strict):
    doctor_rpps: str
    secretary_id: str
    scopes: list[Literal["fill_admin", "read_medical", "send"]] = Field(default_factory=list)
    until: datetime


# -- responses -----------------------------------------------------------------------------------
class ConfirmItemOut(BaseModel):
    number: int
    field: str
    label: str
    section: str
    section_title: str
    display: str  # the proposed value as a French reader sees it
    source: str  # typed, profile, import, letter
    origin: str | None = None
    current_display: str | None = None  # the answer it would replace


class RunItemOut(BaseModel):
    """A field an answer chained with « ; » would fill after the question's own."""

    field: str
    label: str  # short label
    section_title: str = ""  # set on the first field of another section
    conditional: bool = False  # filled only if its condition then holds ("s'il y a lieu")
    text: str  # as the hint shows it


class RefusedOut(BaseModel):
    field: str
    text: str
    message: str


class QuestionOut(BaseModel):
    field: str
    label: str
    section: str
    section_title: str
    question: str
    why: str
    type: str
    required: bool
    options: list[tuple[str, str]]
    current: Any = None
    current_display: str | None = None  # the current answer as a French reader sees it
    changing: bool = False
    suggestions: list[tuple[str, str]] = []  # (code, label), picked by typing the number
    suggestions_title: str = ""  # what they are: "Codes proposés d'après l'hypothèse :"
    confirm: list[ConfirmItemOut] = []  # a confirmation question: the values, numbered
    run: list[RunItemOut] = []  # what an answer chained with « ; » would fill next (the hint)


class WarningOut(BaseModel):
    field: str
    code: str
    message: str
    # a duplicate suspicion: the other dossiers the caller may open, as (id, label) to pick by
    # number, and their ids alone
    picks: list[tuple[str, str]] = []
    dossiers: list[str] = []


class ProgressOut(BaseModel):
    section: str
    title: str
    answered: int
    total: int


class StepOut(BaseModel):
    ok: bool
    dossier_id: str
    status: str
    version: int
    question: QuestionOut | None
    message: str | None
    warnings: list[WarningOut]
    duplicates: list[str]
    blocked_reason: str | None
    missing: list[str]
    progress: list[ProgressOut]
    recorded: str | None = None  # the answer just accepted, as recorded ("1" -> its option)
    refused: list[RefusedOut] = []  # proposed values their field's rule refused (asked as usual)


class DossierOut(BaseModel):
    id: str
    status: str
    version: int
    owner_rpps: str
    answers: dict[str, Any]
    medical_hidden: bool
    missing: list[str]
    blocked_reason: str | None
    signed: bool
    signed_at: str | None = None
    chosen_units: list[str]
    chosen_labels: list[str] = []  # the chosen units in words: "Cardiologie — HOPITAL PURPAN ..."
    question: QuestionOut | None
    warnings: list[WarningOut] = []  # kept with the dossier while their cause holds
    sent_units: list[str] = []  # the units that already have a referral of this dossier
    may_sign: bool = False  # what the caller may do with it: sign (its doctor)...
    may_send: bool = False  # ...and send (its doctor, a secretary with the scope `send`)
    progress: list[ProgressOut] = []  # answered / total per section, as after an answer


class DossierSummary(BaseModel):
    id: str
    status: str
    version: int
    patient: str  # names and birth date: "MARTIN Jeanne Marie, née le 12/03/1938"
    patient_name: str = ""  # the names alone
    patient_born: str = ""  # the birth date alone, dd/mm/yyyy
    updated_at: datetime


class ReferralOut(BaseModel):
    id: str
    dossier_id: str
    unit_id: str
    status: str
    timing: str
    sent_at: datetime
    deadline_at: datetime
    overdue: bool
    waiting_minutes: float
    read_at: datetime | None = None
    answered_at: datetime | None = None
    admission_at: datetime | None = None
    contact: str | None = None
    reason: str | None = None
    reason_text: str | None = None
    question: str | None = None
    info_answer: str | None = None
    unit_phone: str | None = None
    unit_name: str | None = None
    establishment: str | None = None


class InboxItemOut(ReferralOut):
    """A referral as its receiving unit's inbox lists it: who the patient is and why, in short
    (what the unit may read of the dossiers sent to it; the first reading is audited)."""

    patient_age: int | None = None
    patient_sex: str | None = None  # F, M or I
    motive: str | None = None  # the dossier's « Motif de la demande d'hospitalisation »
    new_answer: bool = False  # the requester answered the unit's question since it last opened it
    establishment_commune: str | None = None


class SendOut(BaseModel):
    referrals: list[ReferralOut]
    repeated: bool
    # chosen units still without a referral after this send (a replayed key returns only what it
    # sent then): the client sends them with a new key
    unsent_units: list[str] = []


class OpenedReferralOut(BaseModel):
    referral: ReferralOut
    dossier: dict[str, Any]
    sections: list[dict[str, Any]] = []  # the dossier by section, values as shown to people
    signed_at: str | None = None
    warnings: list[WarningOut] = []  # kept with the dossier while their cause holds


class FeedEventOut(BaseModel):
    seq: int
    at: datetime
    kind: str
    dossier_id: str | None
    referral_id: str | None
    unit_id: str | None
    status: str | None


class FeedOut(BaseModel):
    events: list[FeedEventOut]
    last: int


class UserOut(BaseModel):
    id: str
    role: str
    name: str
    rpps: str | None
    unit_ids: list[str]
    # what the user may do with the dossiers they create: a doctor everything; a secretary the
    # scopes of her delegation (of the doctor her new dossiers are for)
    scopes: list[str] = []


class NewUserOut(BaseModel):
    user: UserOut
    token: str | None = None  # an admin account's only: others get theirs out of band
    token_id: str | None = None
    message: str | None = None  # how the token reaches its holder, when it is not here


class TokenOut(BaseModel):
    token: str
    token_id: str
    expires_at: datetime


class AuditVerifyOut(BaseModel):
    ok: bool = Field(..., description="the audit chain verifies")
    entries: int = Field(..., description="admin: entries of the whole log; anybody else: their own entries")
    message: str
    bad_seq: int | None = Field(None, description="admin only: the first bad entry")


# -- errors (every refusal has a French `detail`) --------------------------------------------------
class ErrorOut(BaseModel):
    detail: str = Field(..., description="what is wrong, in French")


class FieldErrorOut(BaseModel):
    field: str
    message: str


class ValidationErrorOut(BaseModel):
    detail: str = Field(..., description="what is wrong, in French")
    errors: list[FieldErrorOut] = Field(default_factory=list,
                                        description="each refused field (a request the schema refuses)")


class ConflictOut(BaseModel):
    detail: str = Field(..., description="why, in French")
    current: Any = Field(None, description="the dossier as it is now, for a stale write")
