"""Database tables (SQLModel). Answers are rows of their own so that each accepted answer is one
small committed write; the audit log is a hash chain with a separate head record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import configure_mappers
from sqlmodel import Field, SQLModel


class DossierRow(SQLModel, table=True):
    __tablename__ = "dossier"

    id: str = Field(primary_key=True)
    kind: str = "hnp"
    owner_rpps: str = Field(index=True)
    created_by: str
    status: str = Field(index=True)
    handed_over: bool = False
    focus: str | None = None
    signature_json: str | None = None
    version: int = 0
    created_at: datetime
    updated_at: datetime


class AnswerRow(SQLModel, table=True):
    __tablename__ = "answer"

    dossier_id: str = Field(primary_key=True, foreign_key="dossier.id")
    field_id: str = Field(primary_key=True)
    value_json: str | None = None  # None: an optional question deliberately skipped
    skipped: bool = False
    updated_at: datetime
    updated_by: str


class UserRow(SQLModel, table=True):
    __tablename__ = "user_account"

    id: str = Field(primary_key=True)
    role: str
    name: str
    rpps: str | None = Field(default=None, index=True)
    code_hash: str | None = None  # the doctor's personal signing code, salted hash
    created_at: datetime
    psc_id: str | None = Field(default=None, index=True)  # Pro Santé Connect SubjectNameID


class DelegationRow(SQLModel, table=True):
    __tablename__ = "delegation"

    id: str = Field(primary_key=True)
    doctor_rpps: str = Field(index=True)
    secretary_id: str = Field(index=True, foreign_key="user_account.id")
    scopes: str  # comma-separated
    valid_from: datetime
    valid_to: datetime
    created_by: str


class AuditEntryRow(SQLModel, table=True):
    __tablename__ = "audit_entry"

    seq: int = Field(primary_key=True)
    at: str
    actor: str
    role: str
    delegation_id: str | None = None
    dossier_id: str | None = Field(default=None, index=True)
    field_id: str | None = None
    event: str
    value_hash: str | None = None
    detail: str | None = None
    prev_hash: str
    hash: str


class AuditHeadRow(SQLModel, table=True):
    __tablename__ = "audit_head"

    # one row, inserted with id 1 (db._ensure_audit_head); no default, so that the column is
    # what migration 0001 created (a sequence on PostgreSQL), which a test compares
    id: int = Field(primary_key=True)
    seq: int = 0
    hash: str = ""


class EstablishmentRow(SQLModel, table=True):
    __tablename__ = "establishment"

    finess: str = Field(primary_key=True)
    name: str
    category: str
    category_label: str
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    postcode: str = ""
    commune: str = ""
    departement: str = ""
    phone: str | None = None


class UnitRow(SQLModel, table=True):
    __tablename__ = "unit"

    id: str = Field(primary_key=True)
    finess: str = Field(index=True, foreign_key="establishment.finess")
    name: str
    activities: str  # comma-separated ROR codes
    age_min: int
    age_max: int
    direct_admission: bool
    isolation_rooms: bool
    oxygen: bool
    bariatric_beds: bool
    availability: str
    availability_at: str
    phone: str | None = None
    demo: bool = True
    source: str = "demo"  # "demo" or the imported file's name


class ChosenUnitRow(SQLModel, table=True):
    __tablename__ = "chosen_unit"

    dossier_id: str = Field(primary_key=True, foreign_key="dossier.id")
    unit_id: str = Field(primary_key=True, foreign_key="unit.id")
    position: int


class TokenRow(SQLModel, table=True):
    """An access token: only its SHA-256 is stored; it expires and can be revoked."""

    __tablename__ = "access_token"

    id: str = Field(primary_key=True)
    user_id: str = Field(index=True, foreign_key="user_account.id")
    token_hash: str = Field(index=True, unique=True)
    label: str = ""
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


class PscSigninRow(SQLModel, table=True):
    """A Pro Santé Connect sign-in started by a terminal (hub/psc.py): what the callback checks
    (state, nonce, PKCE verifier), its outcome, and the account it maps to. Short-lived."""

    __tablename__ = "psc_signin"

    id: str = Field(primary_key=True)
    poll_hash: str  # SHA-256 of the secret only the starting terminal knows
    state_hash: str = Field(index=True, unique=True)
    nonce: str
    code_verifier: str
    purpose: str = "login"  # "login" or "sign" (a fresh authentication before signing)
    status: str  # pending, done, delivered, refused, cancelled, expired
    message: str | None = None  # the French outcome shown to the terminal
    user_id: str | None = None
    session_expires_at: datetime | None = None
    token_id: str | None = None  # the Orient token handed to the terminal
    created_at: datetime
    expires_at: datetime


class UserUnitRow(SQLModel, table=True):
    """A receiving-unit user is bound to one or more units."""

    __tablename__ = "user_unit"

    user_id: str = Field(primary_key=True, foreign_key="user_account.id")
    unit_id: str = Field(primary_key=True)


class ReferralRow(SQLModel, table=True):
    """One referral per chosen unit (spec/lifecycle.md)."""

    __tablename__ = "referral"

    id: str = Field(primary_key=True)
    dossier_id: str = Field(index=True, foreign_key="dossier.id")
    unit_id: str = Field(index=True)
    owner_rpps: str = Field(index=True)
    status: str = Field(index=True)
    timing: str
    sent_at: datetime
    deadline_at: datetime
    read_at: datetime | None = None
    answered_at: datetime | None = None  # first answer: accepted, refused or info_requested
    admission_at: datetime | None = None
    contact: str | None = None
    reason: str | None = None  # refusal or cancellation reason code
    reason_text: str | None = None
    question: str | None = None  # information requested by the unit
    info_answer: str | None = None
    version: int = 0
    updated_at: datetime


class SendRow(SQLModel, table=True):
    """An idempotency key and what its send created: a repeated send returns the same referrals."""

    __tablename__ = "send_request"

    key: str = Field(primary_key=True)
    dossier_id: str = Field(index=True, foreign_key="dossier.id")
    referral_ids: str  # JSON list
    created_at: datetime


class FeedEventRow(SQLModel, table=True):
    """The live feed: durable events that dashboards and inboxes follow by sequence number."""

    __tablename__ = "feed_event"

    seq: int | None = Field(default=None, primary_key=True)
    at: datetime
    kind: str
    dossier_id: str | None = Field(default=None, index=True)
    referral_id: str | None = None
    unit_id: str | None = Field(default=None, index=True)
    owner_rpps: str | None = Field(default=None, index=True)
    status: str | None = None


# Mappers are configured now rather than on the first ORM instance or query: rows built with
# `model_construct` (referrals on the send path) read their attributes through the mapper, and
# a process whose first requests build no ORM instance would find it unconfigured.
configure_mappers()
