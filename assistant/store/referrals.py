"""Referrals: exactly-once sending, the receiving unit's answers, overdue flags and statistics
(spec/lifecycle.md). Every function works inside the caller's transaction."""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import Connection, bindparam, insert, select, text, update
from sqlmodel import Session

from orient.assistant.store import outbox
from orient.assistant.store.tables import FeedEventRow, ReferralRow, SendRow
from orient.models.lifecycle import (
    CANCELLATION_REASONS,
    OVERDUE_HOURS,
    REFERRAL_STATUS_FR,
    REFUSAL_REASONS,
    ReferralStatus,
    TransitionError,
    check_referral_transition,
)

REFERRAL = ReferralRow.__table__  # type: ignore[attr-defined]
SEND = SendRow.__table__  # type: ignore[attr-defined]
FEED = FeedEventRow.__table__  # type: ignore[attr-defined]
R = ReferralStatus
# Statements of the sending path, built once (building one costs more than running it on SQLite).
_PREVIOUS_SEND = select(SEND).where(SEND.c.key == bindparam("key"))
_OF_DOSSIER = (select(REFERRAL).where(REFERRAL.c.dossier_id == bindparam("dossier_id"))
               .order_by(REFERRAL.c.sent_at, REFERRAL.c.id))
_GET = select(REFERRAL).where(REFERRAL.c.id == bindparam("referral_id"))
_INSERT_REFERRALS = insert(REFERRAL)
_INSERT_FEED = insert(FEED)
_INSERT_SEND = insert(SEND)
TIMING_ORDER = {"today": 0, "within_24h": 1, "within_48h": 2}
OPEN_FOR_OVERDUE = {R.SENT.value, R.READ.value}


class ReferralError(ValueError):
    """A refused referral action; the message is French."""


def aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def feed(
    session: Session,
    kind: str,
    *,
    at: datetime,
    dossier_id: str | None = None,
    referral_id: str | None = None,
    unit_id: str | None = None,
    owner_rpps: str | None = None,
    status: str | None = None,
) -> None:
    conn = session.connection()
    conn.execute(
        insert(FEED).values(
            at=at,
            kind=kind,
            dossier_id=dossier_id,
            referral_id=referral_id,
            unit_id=unit_id,
            owner_rpps=owner_rpps,
            status=status,
        )
    )
    _notify(conn)


def _notify(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":  # wakes every hub process's waiting feed requests
        conn.execute(text("SELECT pg_notify('orient_feed', '')"))


# -- sending -------------------------------------------------------------------------------
def row_of(mapping: object) -> ReferralRow:
    """A stored row as a ReferralRow, without re-validating what the database already checked."""
    return ReferralRow.model_construct(**dict(mapping._mapping))  # type: ignore[attr-defined]


def previous_send(session: Session, key: str) -> tuple[str, list[str]] | None:
    row = session.connection().execute(_PREVIOUS_SEND, {"key": key}).first()
    return (row.dossier_id, json.loads(row.referral_ids)) if row else None


def referrals_of(session: Session, dossier_id: str) -> list[ReferralRow]:
    rows = session.connection().execute(_OF_DOSSIER, {"dossier_id": dossier_id})
    return [row_of(r) for r in rows]


def get(session: Session, referral_id: str) -> ReferralRow | None:
    row = session.connection().execute(_GET, {"referral_id": referral_id}).first()
    return row_of(row) if row else None


def create_referrals(
    session: Session,
    *,
    key: str,
    dossier_id: str,
    owner_rpps: str,
    timing: str,
    unit_ids: list[str],
    now: datetime,
) -> list[ReferralRow]:
    """One referral per unit, recorded under the idempotency key (same transaction)."""
    deadline = now + timedelta(hours=OVERDUE_HOURS.get(timing, 12))
    rows: list[dict[str, Any]] = [
        {
            "id": str(uuid4()),
            "dossier_id": dossier_id,
            "unit_id": unit_id,
            "owner_rpps": owner_rpps,
            "status": R.SENT.value,
            "timing": timing,
            "sent_at": now,
            "deadline_at": deadline,
            "version": 0,
            "updated_at": now,
        }
        for unit_id in unit_ids
    ]
    conn = session.connection()
    conn.execute(_INSERT_REFERRALS, rows)
    conn.execute(
        _INSERT_FEED,
        [
            {
                "at": now,
                "kind": "referral_sent",
                "dossier_id": dossier_id,
                "referral_id": r["id"],
                "unit_id": r["unit_id"],
                "owner_rpps": owner_rpps,
                "status": R.SENT.value,
            }
            for r in rows
        ],
    )
    _notify(conn)
    record_send(session, key, dossier_id, [str(r["id"]) for r in rows], now)
    created = [ReferralRow.model_construct(**r) for r in rows]
    for ref in created:  # e-mail notifications, when on (store/outbox.py)
        outbox.referral_event(session, "sent", ref, now)
    return created


def record_send(session: Session, key: str, dossier_id: str, ids: list[str], now: datetime) -> None:
    session.connection().execute(
        _INSERT_SEND, {"key": key, "dossier_id": dossier_id, "referral_ids": json.dumps(ids), "created_at": now}
    )


# -- status changes ------------------------------------------------------------------------
def change(
    session: Session, ref: ReferralRow, new: ReferralStatus, now: datetime, **values: object
) -> ReferralRow:
    """Move a referral to `new` if the lifecycle allows it (a stale concurrent change is refused)."""
    current = ReferralStatus(ref.status)
    try:
        check_referral_transition(current, new)
    except TransitionError as exc:
        raise ReferralError(str(exc)) from exc
    if new in (R.ACCEPTED, R.REFUSED, R.INFO_REQUESTED) and ref.answered_at is None:
        values["answered_at"] = now
    if new == R.READ and ref.read_at is None:
        values["read_at"] = now
    done = session.connection().execute(
        update(REFERRAL)
        .where(REFERRAL.c.id == ref.id, REFERRAL.c.version == ref.version)
        .values(status=new.value, version=ref.version + 1, updated_at=now, **values)
    )
    if done.rowcount != 1:
        raise ReferralError("La demande a changé entre-temps : rechargez-la et recommencez.")
    feed(
        session,
        f"referral_{new.value}",
        at=now,
        dossier_id=ref.dossier_id,
        referral_id=ref.id,
        unit_id=ref.unit_id,
        owner_rpps=ref.owner_rpps,
        status=new.value,
    )
    updated = get(session, ref.id)
    assert updated is not None
    outbox.referral_event(session, outbox.kind_of(ref.status, new.value), updated, now)
    return updated


def check_reason(reason: str, text: str | None, reasons: dict[str, str], what: str) -> None:
    if reason not in reasons:
        listed = " ; ".join(f"{code} ({label})" for code, label in reasons.items())
        raise ReferralError(f"Motif de {what} inconnu « {reason} » : motifs possibles : {listed}.")
    if reason == "other" and not (text or "").strip():
        raise ReferralError("Le motif « Autre » demande une explication (champ « text »).")


def accept(
    session: Session, ref: ReferralRow, admission_at: datetime, contact: str, now: datetime
) -> tuple[ReferralRow, list[ReferralRow]]:
    """Accept (admission within 48 h); every sibling referral is cancelled ("admis ailleurs")."""
    admission = aware(admission_at)
    assert admission is not None
    if not now - timedelta(minutes=5) <= admission <= now + timedelta(hours=48):
        raise ReferralError("La date d'admission doit être comprise entre maintenant et dans 48 h.")
    if not contact.strip():
        raise ReferralError("Indiquez un contact (nom ou téléphone) pour préparer l'arrivée.")
    lock_dossier_referrals(session, ref.dossier_id)
    ref = get(session, ref.id) or ref
    accepted = change(
        session, ref, R.ACCEPTED, now, admission_at=admission, contact=contact.strip()
    )
    cancelled = []
    for sibling in referrals_of(session, ref.dossier_id):
        if sibling.id != ref.id and sibling.status in (
            R.SENT.value,
            R.READ.value,
            R.INFO_REQUESTED.value,
        ):
            cancelled.append(
                change(
                    session,
                    sibling,
                    R.CANCELLED,
                    now,
                    reason="admitted_elsewhere",
                    reason_text=CANCELLATION_REASONS["admitted_elsewhere"],
                )
            )
    return accepted, cancelled


def lock_dossier_referrals(session: Session, dossier_id: str) -> None:
    """Lock every referral of the dossier in one order (PostgreSQL), so that two units accepting
    siblings at once wait for each other instead of deadlocking."""
    query = select(REFERRAL.c.id).where(REFERRAL.c.dossier_id == dossier_id).order_by(REFERRAL.c.id)
    session.connection().execute(query.with_for_update()).all()


def admit(session: Session, ref: ReferralRow, now: datetime) -> ReferralRow:
    return change(session, ref, R.ADMITTED, now)


def close(session: Session, ref: ReferralRow, now: datetime) -> ReferralRow:
    return change(session, ref, R.CLOSED, now)


def refuse(
    session: Session, ref: ReferralRow, reason: str, text: str | None, now: datetime
) -> ReferralRow:
    check_reason(reason, text, REFUSAL_REASONS, "refus")
    return change(
        session, ref, R.REFUSED, now, reason=reason, reason_text=(text or "").strip() or None
    )


def request_info(session: Session, ref: ReferralRow, question: str, now: datetime) -> ReferralRow:
    if not question.strip():
        raise ReferralError("Écrivez la question posée au demandeur.")
    return change(session, ref, R.INFO_REQUESTED, now, question=question.strip())


def answer_info(session: Session, ref: ReferralRow, text: str, now: datetime) -> ReferralRow:
    if ref.status != R.INFO_REQUESTED.value:
        raise ReferralError(
            f"Aucune question en attente : la demande est « {REFERRAL_STATUS_FR[ReferralStatus(ref.status)]} »."
        )
    if not text.strip():
        raise ReferralError("Écrivez la réponse à la question de l'unité.")
    return change(session, ref, R.READ, now, info_answer=text.strip())


def cancel(
    session: Session, ref: ReferralRow, reason: str, text: str | None, now: datetime
) -> ReferralRow:
    check_reason(reason, text, CANCELLATION_REASONS, "annulation")
    return change(
        session, ref, R.CANCELLED, now, reason=reason, reason_text=(text or "").strip() or None
    )


# -- reading ----------------------------------------------------------------------------------
def overdue(ref: ReferralRow, now: datetime) -> bool:
    deadline = aware(ref.deadline_at)
    return ref.status in OPEN_FOR_OVERDUE and deadline is not None and now > deadline


WAITING_FOR_UNIT = {R.SENT.value, R.READ.value, R.INFO_REQUESTED.value}


def inbox_order(r: ReferralRow) -> tuple[int, int, float, str]:
    """Those still waiting for the unit's answer first, most urgent timing first, then oldest
    first (spec/lifecycle.md); then the others, the latest change first."""
    if r.status in WAITING_FOR_UNIT:
        sent = aware(r.sent_at)
        return (0, TIMING_ORDER.get(r.timing, 9), sent.timestamp() if sent else 0.0, r.id)
    changed = aware(r.updated_at)
    return (1, 0, -changed.timestamp() if changed else 0.0, r.id)


def inbox(session: Session, unit_ids: list[str]) -> list[ReferralRow]:
    if not unit_ids:
        return []
    rows = session.connection().execute(select(REFERRAL).where(REFERRAL.c.unit_id.in_(unit_ids)))
    return sorted((row_of(r) for r in rows), key=inbox_order)


def mark_seen(session: Session, ref: ReferralRow) -> None:
    """The unit opened the referral as it is now (its status and version are left alone)."""
    session.connection().execute(
        update(REFERRAL).where(REFERRAL.c.id == ref.id).values(seen_version=ref.version))


def new_answer(ref: ReferralRow) -> bool:
    """The requester answered the unit's question since the unit last opened the referral."""
    if ref.status != R.READ.value or not ref.info_answer:
        return False
    return ref.seen_version is None or ref.seen_version < ref.version


def of_owner(session: Session, owner_rpps: str) -> list[ReferralRow]:
    rows = session.connection().execute(
        select(REFERRAL)
        .where(REFERRAL.c.owner_rpps == owner_rpps)
        .order_by(REFERRAL.c.sent_at.desc())
    )
    return [row_of(r) for r in rows]


def response_minutes_by_unit(session: Session) -> dict[str, list[float]]:
    rows = session.connection().execute(
        select(REFERRAL.c.unit_id, REFERRAL.c.sent_at, REFERRAL.c.answered_at).where(
            REFERRAL.c.answered_at.is_not(None)
        )
    )
    by_unit: dict[str, list[float]] = {}
    for unit_id, sent_at, answered_at in rows:
        delta = aware(answered_at) - aware(sent_at)  # type: ignore[operator]
        by_unit.setdefault(unit_id, []).append(delta.total_seconds() / 60)
    return by_unit


def median_response_by_unit(session: Session) -> dict[str, float]:
    return {u: statistics.median(m) for u, m in response_minutes_by_unit(session).items()}
