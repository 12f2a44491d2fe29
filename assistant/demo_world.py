"""The demo world in the database: the demo accounts of `demo_accounts.py` (the doctor, the
secretary with her delegation, the receiving unit's user, an administrator), written once. Called by
the embedded set-up, the replay and the tests; the store itself knows nothing of the demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from orient.assistant.demo_accounts import (
    DEMO_ADMIN,
    DEMO_DELEGATION_ID,
    DEMO_DOCTOR,
    DEMO_RECEIVER,
    DEMO_SECRETARY,
    DEMO_UNIT_SITES,
)
from orient.assistant.store.accounts import hash_code
from orient.assistant.store.tables import DelegationRow, UserRow, UserUnitRow
from orient.models.users import Scope


def ensure_demo_accounts(session: Session, now: datetime | None = None) -> None:
    """Create the demo accounts once: the doctor, the secretary with her `fill_admin` delegation,
    the receiving unit's user and an administrator."""
    now = now or datetime.now(UTC)
    if session.get(UserRow, DEMO_DOCTOR.user_id) is None:
        session.add(UserRow(id=DEMO_DOCTOR.user_id, role=DEMO_DOCTOR.role.value, name=DEMO_DOCTOR.name,
                            rpps=DEMO_DOCTOR.rpps, code_hash=hash_code(DEMO_DOCTOR.code or ""),
                            created_at=now))
    if session.get(UserRow, DEMO_SECRETARY.user_id) is None:
        session.add(UserRow(id=DEMO_SECRETARY.user_id, role=DEMO_SECRETARY.role.value,
                            name=DEMO_SECRETARY.name, created_at=now))
    for account in (DEMO_RECEIVER, DEMO_ADMIN):
        if session.get(UserRow, account.user_id) is None:
            session.add(UserRow(id=account.user_id, role=account.role.value, name=account.name,
                                created_at=now))
    if not session.exec(select(UserUnitRow).where(UserUnitRow.user_id == DEMO_RECEIVER.user_id)).first():
        from orient.dialogs.hnp import SPECIALTIES

        session.flush()
        for finess in DEMO_UNIT_SITES:
            for code, _, _ in SPECIALTIES:
                session.add(UserUnitRow(user_id=DEMO_RECEIVER.user_id, unit_id=f"{finess}-{code}"))
    if session.get(DelegationRow, DEMO_DELEGATION_ID) is None:
        session.add(DelegationRow(
            id=DEMO_DELEGATION_ID, doctor_rpps=DEMO_DOCTOR.rpps or "", secretary_id=DEMO_SECRETARY.user_id,
            scopes=Scope.FILL_ADMIN.value, valid_from=now - timedelta(days=1),
            valid_to=now + timedelta(days=3650), created_by="demo",
        ))
    session.commit()
