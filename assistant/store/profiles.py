"""The doctor's profile: the callback phone and the MSSanté address, asked once per account and
offered on each new dossier of that doctor (spec/hnp-dossier.md, last section)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from orient.assistant.store.tables import DoctorProfileRow

# dossier field -> profile column
COLUMNS = {"requester.callback_phone": "callback_phone", "requester.mssante": "mssante"}


def get(session: Session, rpps: str) -> dict[str, Any]:
    """The doctor's profile as answers of the dossier (field id -> stored value); {} when none."""
    row = session.get(DoctorProfileRow, rpps)
    if row is None:
        return {}
    return {field: getattr(row, column) for field, column in COLUMNS.items() if getattr(row, column)}


def update(session: Session, rpps: str, values: Mapping[str, Any], *, by: str,
           now: datetime | None = None) -> None:
    """Set (a value) or clear (None) fields of the doctor's profile, in the caller's transaction."""
    now = now or datetime.now(UTC)
    row = session.get(DoctorProfileRow, rpps)
    if row is None:
        row = DoctorProfileRow(rpps=rpps, updated_at=now, updated_by=by)
    for field, value in values.items():
        setattr(row, COLUMNS[field], value or None)
    row.updated_at, row.updated_by = now, by
    session.add(row)
    session.flush()
