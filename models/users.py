"""Who acts on a dossier: roles, actors and delegations (spec/hnp-dossier.md, "Who does what")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    DOCTOR = "doctor"
    SECRETARY = "secretary"
    RECEIVER = "receiver"
    ADMIN = "admin"


ROLE_FR: dict[Role, str] = {
    Role.DOCTOR: "médecin",
    Role.SECRETARY: "secrétaire",
    Role.RECEIVER: "unité receveuse",
    Role.ADMIN: "administrateur",
}


class Scope(StrEnum):
    FILL_ADMIN = "fill_admin"
    READ_MEDICAL = "read_medical"
    SEND = "send"


@dataclass(frozen=True)
class Delegation:
    """A doctor lets a secretary fill the administrative parts (always `fill_admin`)."""

    id: str
    doctor_rpps: str
    secretary_id: str
    scopes: frozenset[Scope]
    valid_from: datetime
    valid_to: datetime
    created_by: str

    def active(self, now: datetime) -> bool:
        return self.valid_from <= now <= self.valid_to


@dataclass(frozen=True)
class Actor:
    """The person acting: a doctor (with RPPS) or a secretary acting under a delegation."""

    user_id: str
    role: Role
    name: str
    rpps: str | None = None
    delegation_id: str | None = None
    on_behalf_of: str | None = None  # a secretary: the RPPS of the delegating doctor
    scopes: frozenset[Scope] = field(default_factory=frozenset)
    session_id: str | None = None  # the id of the token the person acts with (for the audit)

    def acts_for(self, doctor_rpps: str) -> bool:
        """A doctor acts for their own dossiers, a secretary for her delegating doctor's."""
        if self.role == Role.DOCTOR:
            return self.rpps == doctor_rpps
        return self.role == Role.SECRETARY and self.on_behalf_of == doctor_rpps

    def has_scope(self, scope: Scope) -> bool:
        return self.role == Role.DOCTOR or scope in self.scopes
