"""The audit log: one hash chain per database, its head kept in a separate record
(spec/lifecycle.md, "Guarantees"). Entries hold a hash of the answer, never the answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, select

from orient.assistant.store.tables import AuditEntryRow, AuditHeadRow
from orient.models.dossier import canonical_json, sha256_hex, value_hash

GENESIS = "0" * 64


HASHED = ("seq", "at", "actor", "role", "delegation_id", "dossier_id", "field_id", "event", "value_hash",
          "detail", "prev_hash")  # what an entry's hash covers, in this order


def entry_hash(row: AuditEntryRow) -> str:
    return sha256_hex(canonical_json([getattr(row, name) for name in HASHED]))


def _values_hash(values: dict[str, Any]) -> str:
    """`entry_hash` of the row these values will be."""
    return sha256_hex(canonical_json([values[name] for name in HASHED]))


@dataclass(frozen=True)
class AuditRecord:
    """One step to record; `value` (an answer, a typed input) is hashed, never stored."""

    event: str
    actor: str
    role: str
    dossier_id: str | None = None
    field_id: str | None = None
    value: Any = None
    detail: str | None = None
    delegation_id: str | None = None


ENTRY = AuditEntryRow.__table__  # type: ignore[attr-defined]
HEAD = AuditHeadRow.__table__  # type: ignore[attr-defined]
# Built once: constructing a statement costs more than running it on SQLite.
_READ_HEAD = select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1).with_for_update()
_INSERT_ENTRIES = insert(ENTRY)
_MOVE_HEAD = update(HEAD).where(HEAD.c.id == 1)


def append(session: Session, records: list[AuditRecord], at: datetime | None = None) -> None:
    """Append records to the chain inside the caller's transaction (the head row is locked, so
    concurrent writers, across processes too, extend the chain one after the other)."""
    if not records:
        return
    conn = session.connection()
    head = conn.execute(_READ_HEAD).first()
    if head is None:
        conn.execute(insert(HEAD).values(id=1, seq=0, hash=GENESIS))
        seq, prev = 0, GENESIS
    else:
        seq, prev = head.seq, head.hash or GENESIS
    stamp = (at or datetime.now(UTC)).isoformat()
    rows = []
    for rec in records:  # plain rows: the same values an AuditEntryRow would hold, unvalidated
        seq += 1
        row: dict[str, Any] = {
            "seq": seq,
            "at": stamp,
            "actor": rec.actor,
            "role": rec.role,
            "delegation_id": rec.delegation_id,
            "dossier_id": rec.dossier_id,
            "field_id": rec.field_id,
            "event": rec.event,
            "value_hash": None if rec.value is None else value_hash(rec.value),
            "detail": rec.detail,
            "prev_hash": prev,
        }
        row["hash"] = prev = _values_hash(row)
        rows.append(row)
    conn.execute(_INSERT_ENTRIES, rows)
    conn.execute(_MOVE_HEAD, {"seq": seq, "hash": prev})


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    message: str
    bad_seq: int | None = None


def _describe(row: AuditEntryRow) -> str:
    return f"entrée n° {row.seq} ({row.event}, {row.at})"


def verify(session: Session) -> Verification:
    """Walk the chain in order; name the first entry that was changed, removed or reordered."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    last: AuditEntryRow | None = None
    for row in session.exec(select(AuditEntryRow).order_by(AuditEntryRow.seq)):  # type: ignore[arg-type]
        count += 1
        if row.seq != expected_seq:
            return Verification(False, count, f"entrée n° {expected_seq} absente : supprimée du journal.",
                                expected_seq)
        if row.prev_hash != prev:
            return Verification(False, count, f"{_describe(row)} : ne suit pas l'entrée précédente "
                                "(entrée supprimée, déplacée ou modifiée avant elle).", row.seq)
        if entry_hash(row) != row.hash:
            return Verification(False, count, f"{_describe(row)} : contenu modifié.", row.seq)
        prev = row.hash
        expected_seq += 1
        last = row
    head = session.get(AuditHeadRow, 1)
    if head is None:
        return Verification(False, count, "en-tête du journal absent : le journal a été supprimé ou "
                            "remplacé.", 1)
    head_seq, head_hash = head.seq, head.hash
    last_seq = last.seq if last else 0
    if head_seq != last_seq or (head_hash or GENESIS) != prev:
        if head_seq > last_seq:
            return Verification(False, count, f"entrée n° {last_seq + 1} absente : la ou les dernières "
                                f"entrées (jusqu'à la n° {head_seq}) ont été supprimées.", last_seq + 1)
        return Verification(False, count, f"entrée n° {last_seq} : ne correspond pas à l'en-tête du "
                            "journal (entrée ajoutée ou modifiée).", last_seq)
    return Verification(True, count, f"Journal d'audit intègre : {count} entrées vérifiées.")
