"""Database tables (SQLModel). Answers are rows of their own so that each accepted answer is one
small committed write; the audit log is a hash chain with a separate head record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
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
    warnings_json: str | None = None  # the warnings kept while their cause holds (JSON list)
    picks_json: str | None = None  # field id -> candidates offered for a numbered pick (JSON)
    pending_json: str | None = None  # proposed values waiting for confirmation (JSON list)


class AnswerRow(SQLModel, table=True):
    __tablename__ = "answer"

    dossier_id: str = Field(primary_key=True, foreign_key="dossier.id")
    field_id: str = Field(primary_key=True)
    value_json: str | None = None  # None: an optional question deliberately skipped
    skipped: bool = False
    updated_at: datetime
    updated_by: str
    source: str | None = None  # None: typed; else profile, import, letter (or typed elsewhere)
    origin: str | None = None  # e.g. "sha256:<hex of the imported file>"


class UserRow(SQLModel, table=True):
    __tablename__ = "user_account"

    id: str = Field(primary_key=True)
    role: str
    name: str
    rpps: str | None = Field(default=None, index=True)
    code_hash: str | None = None  # the doctor's personal signing code, salted hash
    created_at: datetime
    psc_id: str | None = Field(default=None, index=True)  # Pro Santé Connect SubjectNameID


class DoctorProfileRow(SQLModel, table=True):
    """What a doctor's dossiers start from: offered on each new dossier, confirmed with Enter."""

    __tablename__ = "doctor_profile"

    rpps: str = Field(primary_key=True)
    callback_phone: str | None = None  # E.164, as requester.callback_phone stores it
    mssante: str | None = None
    updated_at: datetime
    updated_by: str


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
    key_id: str | None = None  # the audit key of value_hash (keys.py); None: written before 0002
    session_id: str | None = None  # the caller's token id ("local": no token, on the server)


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
    # how it reached its holder: "out_of_band" (printed once by `orient users add|token` on the
    # server's machine), "admin" (issued by an admin, for an admin account only), "embedded"
    # (the local assistant's demo accounts); "" before migration 0002
    delivery: str = ""
    issued_by: str | None = None  # the user id of whoever issued it, "cli" from the command line


class SigningLockRow(SQLModel, table=True):
    """Wrong signing codes of a doctor in a row, and until when the code is locked (code_lock.py)."""

    __tablename__ = "signing_lock"

    user_id: str = Field(primary_key=True, foreign_key="user_account.id")
    failures: int = 0  # wrong codes since the last right one
    locked_until: datetime | None = None
    updated_at: datetime


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
    seen_version: int | None = None  # its version when the unit last opened it (0002_receiving)


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


class HubKeyRow(SQLModel, table=True):
    """Random keys the hub processes of one database share (made once, on first use): e.g. the
    key that turns feed positions into per-caller cursors (hub/cursors.py)."""

    __tablename__ = "hub_key"

    name: str = Field(primary_key=True)
    value: str  # hex


class NotifySubscriptionRow(SQLModel, table=True):
    """Who wants which e-mail notifications (notify/recipients.py): a unit ("unit:<id>", its
    address set by an admin) or a person ("user:<id>")."""

    __tablename__ = "notify_subscription"

    subject: str = Field(primary_key=True)
    address: str | None = None  # a doctor without one: the profile's MSSanté address
    events: str | None = None  # comma-separated event kinds; None: every kind of the subject
    copy_secretary: bool = False  # a doctor: the delegated secretaries get a copy
    updated_at: datetime
    updated_by: str


class NotifyOutboxRow(SQLModel, table=True):
    """One e-mail to send, written in the transaction of the event that causes it; at most one
    per event and address (store/outbox.py, notify/worker.py)."""

    __tablename__ = "notify_outbox"
    __table_args__ = (UniqueConstraint("event_key", "address", name="uq_notify_outbox_event_address"),)

    id: str = Field(primary_key=True)
    event_key: str  # "<referral id>:<kind>:<version>"
    kind: str
    referral_id: str | None = Field(default=None, index=True)
    recipient: str  # "unit:<id>" or "user:<id>"
    address: str
    level: str  # full, identity (no medical content) or minimal (no patient data)
    subject: str
    body: str
    status: str = Field(index=True)  # pending, sending, sent, failed
    attempts: int = 0
    next_at: datetime = Field(index=True)
    lease_until: datetime | None = None
    last_error: str | None = None  # the SMTP answer or the connection error, never patient data
    created_at: datetime
    sent_at: datetime | None = None


class NotifyOverdueRow(SQLModel, table=True):
    """A referral noticed past its deadline (its overdue notifications are written once)."""

    __tablename__ = "notify_overdue"

    referral_id: str = Field(primary_key=True)
    noticed_at: datetime


# Mappers are configured now rather than on the first ORM instance or query: rows built with
# `model_construct` (referrals on the send path) read their attributes through the mapper, and
# a process whose first requests build no ORM instance would find it unconfigured.
configure_mappers()
