"""Reading and writing dossier states. A write carries the version it was based on; a stale one
is refused so that no accepted answer is ever overwritten unseen."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, insert, or_, update
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from orient.assistant.store.tables import AnswerRow, DossierRow, ReferralRow
from orient.models.dossier import DossierState, Signature
from orient.models.fields import Warning
from orient.models.lifecycle import DOSSIER_STATUS_FR, DossierStatus, ReferralStatus
from orient.models.provenance import Pending, Provenance, Source
from orient.models.text import strip_accents


class NotFound(LookupError):
    """No such dossier; the message is French."""


class StaleWrite(RuntimeError):
    """The dossier changed since it was read; the message is French."""

    def __init__(self) -> None:
        super().__init__(
            "Le dossier a été modifié entre-temps par quelqu'un d'autre : votre saisie n'a pas "
            "été enregistrée ; voici l'état à jour."
        )


DOSSIER = DossierRow.__table__  # type: ignore[attr-defined]
ANSWER = AnswerRow.__table__  # type: ignore[attr-defined]
# Statements built once (building one costs more than running it on SQLite); values are bound.
_READ = core_select(  # what a state holds (not the timestamps, which cost a conversion each)
    DOSSIER.c.id, DOSSIER.c.owner_rpps, DOSSIER.c.status, DOSSIER.c.handed_over, DOSSIER.c.focus,
    DOSSIER.c.signature_json, DOSSIER.c.version, DOSSIER.c.warnings_json, DOSSIER.c.picks_json,
    DOSSIER.c.pending_json,
).where(DOSSIER.c.id == bindparam("dossier_id"))
_READ_LOCKED = _READ.with_for_update()
_READ_ANSWERS = select(ANSWER.c.field_id, ANSWER.c.value_json, ANSWER.c.skipped, ANSWER.c.source,
                       ANSWER.c.origin).where(
    ANSWER.c.dossier_id == bindparam("dossier_id")
)
_EXISTS = select(DOSSIER.c.id).where(DOSSIER.c.id == bindparam("dossier_id"))
_INSERT = insert(DOSSIER)
# SET comes from the parameters' column names; the WHERE values are bound as b_id and b_version.
_UPDATE = update(DOSSIER).where(DOSSIER.c.id == bindparam("b_id"), DOSSIER.c.version == bindparam("b_version"))
_DELETE_ANSWERS = delete(ANSWER).where(
    ANSWER.c.dossier_id == bindparam("dossier_id"), ANSWER.c.field_id.in_(bindparam("fields", expanding=True))
)
_INSERT_ANSWERS = insert(ANSWER)


def load(session: Session, dossier_id: str, *, lock: bool = False) -> DossierState:
    """The dossier's state; with `lock`, its row stays locked until the transaction ends
    (PostgreSQL; SQLite transactions already hold the database's write lock)."""
    conn = session.connection()
    row = conn.execute(_READ_LOCKED if lock else _READ, {"dossier_id": dossier_id}).first()
    if row is None:
        raise NotFound(f"Dossier introuvable : « {dossier_id} ».")
    state = DossierState(
        id=row.id,
        owner_rpps=row.owner_rpps,
        status=DossierStatus(row.status),
        handed_over=row.handed_over,
        focus=row.focus,
        signature=Signature(**json.loads(row.signature_json)) if row.signature_json else None,
        version=row.version,
        warnings=[Warning.from_json(w) for w in json.loads(row.warnings_json or "[]")],
        picks={f: tuple((str(c), str(label)) for c, label in options)
               for f, options in json.loads(row.picks_json or "{}").items()},
        pending=[Pending.from_json(p) for p in json.loads(row.pending_json)] if row.pending_json else [],
    )
    for field_id, value_json, skipped, source, origin in conn.execute(_READ_ANSWERS,
                                                                       {"dossier_id": dossier_id}):
        if skipped:
            state.skipped.add(field_id)
        else:
            state.answers[field_id] = json.loads(value_json or "null")
            if source:
                state.sources[field_id] = Provenance(Source(source), origin)
    return state


def _pending_json(pending: list[Pending]) -> str | None:
    if not pending:
        return None
    return json.dumps([p.as_json() for p in pending], ensure_ascii=False)


def _signature_json(sig: Signature | None) -> str | None:
    if sig is None:
        return None
    return json.dumps({"user_id": sig.user_id, "rpps": sig.rpps, "at": sig.at, "answers_hash": sig.answers_hash})


def save(
    session: Session,
    state: DossierState,
    changed: set[str],
    *,
    actor_id: str,
    base_version: int | None,
    now: datetime | None = None,
    created_by: str | None = None,
) -> DossierState:
    """Write a state inside the caller's transaction. `base_version` None creates the dossier;
    otherwise the write only happens if the stored version is still `base_version`."""
    now = now or datetime.now(UTC)
    conn = session.connection()
    values = {
        "status": state.status.value,
        "handed_over": state.handed_over,
        "focus": state.focus,
        "signature_json": _signature_json(state.signature),
        "warnings_json": json.dumps([w.as_json() for w in state.warnings], ensure_ascii=False)
        if state.warnings else None,
        "picks_json": json.dumps({f: [list(o) for o in options] for f, options in state.picks.items()},
                                 ensure_ascii=False) if state.picks else None,
        "pending_json": _pending_json(state.pending),
        "version": (base_version or 0) + 1,
        "updated_at": now,
    }
    if base_version is None:
        conn.execute(_INSERT, {
            "id": state.id, "kind": "hnp", "owner_rpps": state.owner_rpps,
            "created_by": created_by or actor_id, "created_at": now, **values,
        })
    else:
        done = conn.execute(_UPDATE, {"b_id": state.id, "b_version": base_version, **values})
        if done.rowcount != 1:
            if conn.execute(_EXISTS, {"dossier_id": state.id}).first() is None:
                raise NotFound(f"Dossier introuvable : « {state.id} ».")
            raise StaleWrite()
    if changed:
        conn.execute(_DELETE_ANSWERS, {"dossier_id": state.id, "fields": sorted(changed)})
        rows = [
            {
                "dossier_id": state.id,
                "field_id": field_id,
                "value_json": json.dumps(state.answers[field_id], ensure_ascii=False)
                if field_id in state.answers else None,
                "skipped": field_id not in state.answers,
                "updated_at": now,
                "updated_by": actor_id,
                "source": state.sources[field_id].source.value if field_id in state.sources else None,
                "origin": state.sources[field_id].origin if field_id in state.sources else None,
            }
            for field_id in sorted(changed)
            if state.has(field_id)
        ]
        if rows:
            conn.execute(_INSERT_ANSWERS, rows)
    state.version = values["version"]  # type: ignore[assignment]
    return state


OPEN_STATUSES = tuple(s.value for s in DossierStatus if s != DossierStatus.SENT)
# a sent dossier is still open while one of its referrals may yet bring the patient in
PENDING_REFERRALS = tuple(r.value for r in (ReferralStatus.SENT, ReferralStatus.READ,
                                            ReferralStatus.INFO_REQUESTED, ReferralStatus.ACCEPTED))


def _fold(value: Any) -> str:
    return strip_accents(str(value)).upper().strip()


def find_duplicates(session: Session, dossier_id: str, traits: dict[str, Any], *,
                    owners: Collection[str]) -> list[str]:
    """Other open dossiers with the same birth name, first first-name, birth date and sex: not
    sent yet, or sent with a referral still pending (a second request for a patient already on
    the way to a ward is the duplicate that matters most). Only among the dossiers of `owners`
    (the doctors whose dossiers the caller may see): nothing is told of the others."""
    if not owners:
        return []
    name = traits.get("patient.birth_name")
    pending = exists().where(ReferralRow.dossier_id == DossierRow.id,  # type: ignore[arg-type]
                             ReferralRow.status.in_(PENDING_REFERRALS))  # type: ignore[attr-defined]
    candidates = (
        select(AnswerRow.dossier_id)
        .join(DossierRow, DossierRow.id == AnswerRow.dossier_id)  # type: ignore[arg-type]
        .where(AnswerRow.field_id == "patient.birth_name")
        .where(AnswerRow.value_json == json.dumps(name, ensure_ascii=False))
        .where(AnswerRow.dossier_id != dossier_id)
        .where(DossierRow.owner_rpps.in_(sorted(owners)))  # type: ignore[attr-defined]
        .where(or_(DossierRow.status.in_(OPEN_STATUSES),  # type: ignore[attr-defined]
                   and_(DossierRow.status == DossierStatus.SENT.value, pending)))  # type: ignore[arg-type]
    )
    # the other traits of every candidate in one query (loading each whole dossier made an
    # answer slower with every namesake in the database)
    others: dict[str, dict[str, Any]] = {}
    for other_id, field_id, value_json in session.exec(
        select(AnswerRow.dossier_id, AnswerRow.field_id, AnswerRow.value_json)
        .where(AnswerRow.dossier_id.in_(candidates))  # type: ignore[attr-defined]
        .where(AnswerRow.field_id.in_(_OTHER_TRAITS))  # type: ignore[attr-defined]
        .where(AnswerRow.skipped == False)  # skipped ones: no answer, as load() reads them
    ).all():
        others.setdefault(other_id, {})[field_id] = json.loads(value_json or "null")
    return sorted(
        other_id for other_id, other in others.items()
        if other.get("patient.birth_date") == traits.get("patient.birth_date")
        and other.get("patient.sex") == traits.get("patient.sex")
        and _first(other.get("patient.first_names")) == _first(traits.get("patient.first_names"))
    )


_OTHER_TRAITS = ("patient.birth_date", "patient.sex", "patient.first_names")


def _first(first_names: Any) -> str:
    parts = _fold(first_names or "").split()
    return parts[0] if parts else ""


def duplicate_labels(session: Session, ids: list[str], when: Any) -> list[tuple[str, str]]:
    """(id, French label) of dossiers a duplicate suspicion offers to open: "Dossier modifié le
    03/12/2026 08:22 (brouillon)"; `when` turns a stored UTC time into the local one."""
    if not ids:
        return []
    rows = {row.id: row for row in session.exec(
        select(DossierRow).where(DossierRow.id.in_(ids)))}  # type: ignore[attr-defined]
    out = []
    for dossier_id in ids:
        row = rows.get(dossier_id)
        if row is None:
            continue
        status = DOSSIER_STATUS_FR[DossierStatus(row.status)]
        out.append((dossier_id, f"Dossier modifié le {when(row.updated_at)} ({status})"))
    return out
