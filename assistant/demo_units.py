"""The demo world's receiving side: every referral can be answered by a unit account.

In a real deployment a receiving user belongs to the units of their ward or hospital
(`orient users add --role receiver --unit UNIT_ID ...`), and sees only the referrals sent to
them. The demo keeps that model: besides the CHU de Toulouse admissions desk (three sites), the
person trying the demo picks, among the units that have received a referral, the one to answer
as; that unit's demo account (bound to that unit alone) is created on first use. Nothing here
widens what an account may see, and only the embedded demo set-up calls it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlmodel import Session

from orient.assistant.store import audit
from orient.assistant.store.referrals import WAITING_FOR_UNIT
from orient.assistant.store.tables import (
    EstablishmentRow,
    ReferralRow,
    UnitRow,
    UserRow,
    UserUnitRow,
)
from orient.models.users import Role

REFERRAL = ReferralRow.__table__  # type: ignore[attr-defined]
UNIT = UnitRow.__table__  # type: ignore[attr-defined]
EST = EstablishmentRow.__table__  # type: ignore[attr-defined]
USER_UNIT = UserUnitRow.__table__  # type: ignore[attr-defined]
PREFIX = "demo-unit-"  # the demo account of a unit: PREFIX + the unit's id


@dataclass(frozen=True)
class UnitWithReferrals:
    unit_id: str
    unit: str  # the unit's name
    establishment: str
    commune: str
    waiting: int  # referrals still waiting for its answer
    total: int

    @property
    def label(self) -> str:
        """"Cardiologie — CH X (TARBES)"."""
        where = f"{self.establishment} ({self.commune})" if self.commune else self.establishment
        return f"{self.unit} — {where}"

    @property
    def counts(self) -> str:
        waiting = f"{self.waiting} en attente de réponse" if self.waiting else "aucune en attente de réponse"
        return f"{self.total} demande(s) reçue(s), {waiting}"


def units_with_referrals(session: Session) -> list[UnitWithReferrals]:
    """The units that have received at least one referral, those with most waiting first."""
    waiting = func.sum(case((REFERRAL.c.status.in_(WAITING_FOR_UNIT), 1), else_=0))
    rows = session.connection().execute(
        select(REFERRAL.c.unit_id, UNIT.c.name, EST.c.name, EST.c.commune, waiting, func.count())
        .select_from(REFERRAL.join(UNIT, UNIT.c.id == REFERRAL.c.unit_id)
                     .join(EST, EST.c.finess == UNIT.c.finess))
        .group_by(REFERRAL.c.unit_id, UNIT.c.name, EST.c.name, EST.c.commune)
    )
    found = [UnitWithReferrals(u, name, est, commune or "", int(w or 0), int(n))
             for u, name, est, commune, w, n in rows]
    return sorted(found, key=lambda x: (-x.waiting, x.establishment, x.unit))


def account_name(unit: str, establishment: str) -> str:
    return f"Accueil {unit}, {establishment} (démo)"


def ensure_unit_account(session: Session, unit_id: str, now: datetime) -> tuple[str, str]:
    """The demo account of one unit, bound to that unit only (created once): (user id, name).
    Raises LookupError for a unit that is not in the directory."""
    row = session.connection().execute(
        select(UNIT.c.name, EST.c.name).select_from(UNIT.join(EST, EST.c.finess == UNIT.c.finess))
        .where(UNIT.c.id == unit_id)
    ).first()
    if row is None:
        raise LookupError(f"Unité inconnue : « {unit_id} ».")
    user_id, name = PREFIX + unit_id, account_name(row[0], row[1])
    if session.get(UserRow, user_id) is None:
        session.add(UserRow(id=user_id, role=Role.RECEIVER.value, name=name, created_at=now))
        session.flush()
        session.add(UserUnitRow(user_id=user_id, unit_id=unit_id))
        audit.append(session, [audit.AuditRecord(event="user_created", actor="demo", role="admin",
                                                 detail=f"{user_id}: receiver (démo, {unit_id})")], at=now)
        session.commit()
    return user_id, name
