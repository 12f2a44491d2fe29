"""The dossier as data: its answers, what was skipped, its status, hand-over, signature."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from orient.models.fields import Warning
from orient.models.lifecycle import DossierStatus
from orient.models.provenance import Pending, Proposal, Provenance, Source


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def value_hash(value: Any) -> str:
    """The plain hash of a value (what a signature records of the answers). The audit log keeps
    keyed digests instead (assistant/store/audit.py): a plain hash of a date or a code is reversed
    by hashing a dictionary."""
    return sha256_hex(canonical_json(value))


@dataclass(frozen=True)
class Signature:
    user_id: str
    rpps: str
    at: str  # ISO datetime
    answers_hash: str


@dataclass
class DossierState:
    id: str
    owner_rpps: str
    answers: dict[str, Any] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    status: DossierStatus = DossierStatus.DRAFT
    handed_over: bool = False
    focus: str | None = None  # a field being changed (by "back" or "modifier"): asked next
    signature: Signature | None = None
    version: int = 0
    # the warnings accepted during the conversation whose cause still holds (spec: "Warnings
    # travel with the dossier")
    warnings: list[Warning] = field(default_factory=list)
    # field id -> (code, label) candidates listed at its last refusal, picked by number
    picks: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    # where each answer that was not typed at its own question came from (absent: typed)
    sources: dict[str, Provenance] = field(default_factory=dict)
    # proposed values waiting for the person (models/provenance.py); none counts as an answer
    pending: list[Pending] = field(default_factory=list)


    def copy(self) -> DossierState:
        return replace(self, answers=dict(self.answers), skipped=set(self.skipped),
                       warnings=list(self.warnings), picks=dict(self.picks),
                       sources=dict(self.sources), pending=list(self.pending))

    def answers_hash(self) -> str:
        return value_hash(self.answers)

    def has(self, field_id: str) -> bool:
        """Answered or deliberately skipped (an optional question that was left empty)."""
        return field_id in self.answers or field_id in self.skipped


__all__ = ["DossierState", "Pending", "Proposal", "Provenance", "Signature", "Source", "canonical_json",
           "sha256_hex", "value_hash"]
