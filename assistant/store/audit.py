"""The audit log: one hash chain per database, its head kept in a separate record
(spec/lifecycle.md, "Guarantees"). Entries hold a keyed digest (HMAC, key outside the database,
keys.py) of the answer, never the answer nor a plain hash of it, the id of the key, and the id of
the token (session) the step was made with. The head is anchored outside the database by signed
checkpoints (anchor.py); a signature's entry holds the keyed digest of the signed answers, which
`verify` recomputes from the answers table (docs/security.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from orient.assistant.store import anchor, keys
from orient.assistant.store.tables import AnswerRow, AuditEntryRow, AuditHeadRow, DossierRow
from orient.models.dossier import canonical_json, sha256_hex

GENESIS = "0" * 64
LOCAL_SESSION = "local"  # a step made on the server's machine without a token (CLI, replay)


HASHED = ("seq", "at", "actor", "role", "delegation_id", "dossier_id", "field_id", "event", "value_hash",
          "detail", "prev_hash")  # what an entry's hash covers, in this order
HASHED_SINCE_0002 = ("key_id", "session_id")  # and these, when an entry has them


def _hashed(values: list[Any], extra: list[Any]) -> str:
    return sha256_hex(canonical_json(values + extra if any(v is not None for v in extra) else values))


def entry_hash(row: AuditEntryRow) -> str:
    return _hashed([getattr(row, name) for name in HASHED],
                   [getattr(row, name, None) for name in HASHED_SINCE_0002])


def _values_hash(values: dict[str, Any]) -> str:
    """`entry_hash` of the row these values will be."""
    return _hashed([values[name] for name in HASHED], [values[name] for name in HASHED_SINCE_0002])


def keyed_digest(key: keys.Key | None, value: Any) -> str:
    """What an entry keeps of a value: HMAC-SHA256 with the audit key (None: the plain SHA-256 of
    entries written before keys existed)."""
    text = canonical_json(value)
    return sha256_hex(text) if key is None else key.mac(text)


@dataclass(frozen=True)
class AuditRecord:
    """One step to record; `value` (an answer, a typed input) is digested with the audit key,
    never stored. `session_id`: the id of the caller's token (never the token itself)."""

    event: str
    actor: str
    role: str
    dossier_id: str | None = None
    field_id: str | None = None
    value: Any = None
    detail: str | None = None
    delegation_id: str | None = None
    session_id: str | None = None


ENTRY = AuditEntryRow.__table__  # type: ignore[attr-defined]
HEAD = AuditHeadRow.__table__  # type: ignore[attr-defined]
# Built once: constructing a statement costs more than running it on SQLite.
_READ_HEAD = select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1).with_for_update()
_INSERT_ENTRIES = insert(ENTRY)
_MOVE_HEAD = update(HEAD).where(HEAD.c.id == 1)
_HEAD_INFO = "orient_audit_head"


def append(session: Session, records: list[AuditRecord], at: datetime | None = None) -> None:
    """Append records to the chain inside the caller's transaction (the head row is locked, so
    concurrent writers, across processes too, extend the chain one after the other). Once the
    transaction commits, the new head is handed to the checkpoint writer (anchor.py)."""
    if not records:
        return
    conn = session.connection()
    ring = keys.of(conn.engine)
    key = ring.audit_key()
    assert key is not None
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
            "value_hash": None if rec.value is None else key.mac(canonical_json(rec.value)),
            "detail": rec.detail,
            "prev_hash": prev,
            "key_id": key.id,
            "session_id": rec.session_id or LOCAL_SESSION,
        }
        row["hash"] = prev = _values_hash(row)
        rows.append(row)
    conn.execute(_INSERT_ENTRIES, rows)
    conn.execute(_MOVE_HEAD, {"seq": seq, "hash": prev})
    session.info[_HEAD_INFO] = (ring, seq, prev)


@sa_event.listens_for(OrmSession, "after_commit")
def _anchor_after_commit(session: OrmSession) -> None:
    pending = session.info.pop(_HEAD_INFO, None)
    if pending is not None:
        ring, seq, head = pending
        found = anchor.anchor_of(ring)
        if found is not None:
            found.note(seq, head)


@sa_event.listens_for(OrmSession, "after_rollback")
def _forget_after_rollback(session: OrmSession) -> None:
    session.info.pop(_HEAD_INFO, None)


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    message: str
    bad_seq: int | None = None
    notes: tuple[str, ...] = field(default=())  # what was checked besides the chain (CLI output)


def _describe(row: AuditEntryRow) -> str:
    return f"entrée n° {row.seq} ({row.event}, {row.at})"


def _local(moment: str) -> str:
    """An ISO time as people read it: 03/12/2026 08:22, Paris time."""
    try:
        from zoneinfo import ZoneInfo

        return datetime.fromisoformat(moment).astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y %H:%M")
    except (ValueError, KeyError, OSError):
        return moment


_SIGNATURE_EVENTS = ("signed", "signature_removed")
_SIGNED_STATUSES = ("signed", "sent")


def verify(session: Session) -> Verification:
    """Walk the chain in order and name the first entry that was changed, removed or reordered;
    then check the chain against the signed checkpoints kept outside the database (rewritten or
    cut since), and every signed dossier's answers against the digest its signature recorded."""
    ring = keys.of(session.connection().engine)
    keyring_ok = ring.exists()
    known: set[str] = set()
    if keyring_ok:
        try:
            known = {k.id for k in ring.audit_keys()}
        except keys.KeysError as exc:
            return Verification(False, 0, str(exc))
    checkpoints = anchor.read(ring) if keyring_ok else []
    wanted = {c.seq for c in checkpoints if c.valid}
    seen_hashes: dict[int, str] = {}
    live_signatures: dict[str, AuditEntryRow] = {}

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
        if row.key_id is not None and row.key_id not in known:
            where = ring.folder or "mémoire"
            return Verification(False, count, f"{_describe(row)} : clé d'audit « {row.key_id} » "
                                f"introuvable dans « {where} » (clés perdues ou remplacées).", row.seq)
        if row.seq in wanted:
            seen_hashes[row.seq] = row.hash
        if row.dossier_id and row.event in _SIGNATURE_EVENTS:
            live_signatures[row.dossier_id] = row
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
    notes: list[str] = []
    anchored = _check_checkpoints(checkpoints, seen_hashes, last_seq, count, ring, notes)
    if anchored is not None:
        return anchored
    bound = _check_signatures(session, ring, live_signatures, count, notes)
    if bound is not None:
        return bound
    return Verification(True, count, f"Journal d'audit intègre : {count} entrées vérifiées.",
                        notes=tuple(notes))


def _check_checkpoints(checkpoints: list[anchor.Checkpoint], seen: dict[int, str], last_seq: int,
                       count: int, ring: keys.Keyring, notes: list[str]) -> Verification | None:
    """The chain must still hold every checkpointed entry with its hash, and be no shorter."""
    path = (ring.folder / keys.LOG_FILE) if ring.folder else None
    forged = next((c for c in checkpoints if not c.valid), None)
    if forged is not None:
        return Verification(False, count, f"point de contrôle de la ligne {forged.line} de « {path} » : "
                            "signature invalide (fichier des points de contrôle altéré).")
    if not checkpoints:
        notes.append("Aucun point de contrôle signé : seule la cohérence interne du journal est vérifiée."
                     if ring.folder else "Base en mémoire : pas de point de contrôle.")
        return None
    ordered = sorted(checkpoints, key=lambda c: c.seq)
    highest = ordered[-1]
    if highest.seq > last_seq:
        return Verification(False, count, f"entrée n° {last_seq + 1} absente : le point de contrôle signé "
                            f"du {_local(highest.at)} atteste {highest.seq} entrées, le journal n'en a plus "
                            f"que {last_seq} (dernières entrées supprimées).", last_seq + 1)
    good: anchor.Checkpoint | None = None
    for c in ordered:
        if c.seq == 0 and c.hash == GENESIS:
            good = c
            continue
        if seen.get(c.seq) != c.hash:
            after = good.seq if good else 0
            return Verification(False, count, f"entrée n° {c.seq} : ne correspond plus au point de contrôle "
                                f"signé du {_local(c.at)} : journal réécrit entre les entrées n° {after + 1} "
                                f"et n° {c.seq}.", c.seq)
        good = c
    notes.append(f"Dernier point de contrôle signé : entrée n° {highest.seq} du {_local(highest.at)} "
                 f"({len(checkpoints)} points de contrôle vérifiés ; les entrées suivantes, n° "
                 f"{highest.seq + 1} et au-delà, ne sont pas encore ancrées)." if highest.seq < last_seq else
                 f"Dernier point de contrôle signé : entrée n° {highest.seq} du {_local(highest.at)} "
                 f"({len(checkpoints)} points de contrôle vérifiés).")
    return None


_ANSWER = AnswerRow.__table__  # type: ignore[attr-defined]
_DOSSIER = DossierRow.__table__  # type: ignore[attr-defined]


def signed_answers_digest(answers: dict[str, Any]) -> str:
    """The value a signature's entry digests: the hash of the signed answers (models/dossier.py)."""
    return sha256_hex(canonical_json(answers))


def _check_signatures(session: Session, ring: keys.Keyring, live: dict[str, AuditEntryRow], count: int,
                      notes: list[str]) -> Verification | None:
    """Every signed or sent dossier: its answers in the answers table must give the digest that
    its signature's entry holds (named by dossier id, never by value)."""
    conn = session.connection()
    signed = {r.id for r in conn.execute(select(_DOSSIER.c.id).where(_DOSSIER.c.status.in_(_SIGNED_STATUSES)))}
    entries = {d: row for d, row in live.items() if row.event == "signed"}
    problems: list[str] = []
    for dossier_id in sorted(signed - set(entries)):
        problems.append(f"dossier {dossier_id} : signé ou envoyé sans signature au journal")
    ids = sorted(entries)
    answers: dict[str, dict[str, Any]] = {i: {} for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        query = select(_ANSWER.c.dossier_id, _ANSWER.c.field_id, _ANSWER.c.value_json).where(
            _ANSWER.c.dossier_id.in_(chunk), _ANSWER.c.skipped.is_(False))
        for dossier_id, field_id, value_json in conn.execute(query):
            answers[dossier_id][field_id] = json.loads(value_json or "null")
    present = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        present |= {r.id for r in conn.execute(select(_DOSSIER.c.id).where(_DOSSIER.c.id.in_(chunk)))}
    for dossier_id in ids:
        row = entries[dossier_id]
        if dossier_id not in present:
            problems.append(f"dossier {dossier_id} : signé au journal (entrée n° {row.seq}) mais absent de la base")
            continue
        key = ring.audit_key(row.key_id) if row.key_id is not None else None
        digest = keyed_digest(key, signed_answers_digest(answers[dossier_id]))
        if digest != row.value_hash:
            problems.append(f"dossier {dossier_id} : réponses modifiées depuis la signature (entrée n° "
                            f"{row.seq}) : elles ne correspondent plus à ce qui a été signé")
    if problems:
        shown = " ; ".join(problems[:20]) + (f" ; et {len(problems) - 20} autre(s)" if len(problems) > 20 else "")
        return Verification(False, count, shown + ".")
    notes.append(f"Réponses des dossiers signés conformes à leur signature : {len(ids)} dossier(s).")
    return None
