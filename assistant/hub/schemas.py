"""Request and response bodies of the hub API. Requests refuse unknown fields."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control(value: Any) -> Any:
    if isinstance(value, str) and _CONTROL.search(value):
        raise ValueError("caractère de contrôle interdit")
    if isinstance(value, list):
        for item in value:
            _no_control(item)
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=10_000)

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
    suggestions: list[tuple[str, str]] = []


class WarningOut(BaseModel):
    field: str
    code: str
    message: str


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


class ResponseTimeOut(BaseModel):
    count: int
    median_minutes: float | None
    p90_minutes: float | None


class StatsOut(BaseModel):
    overall: ResponseTimeOut
    by_unit: dict[str, ResponseTimeOut]
    by_status: dict[str, int]
    overdue: int


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
    token: str
    token_id: str


class TokenOut(BaseModel):
    token: str
    token_id: str
    expires_at: datetime
