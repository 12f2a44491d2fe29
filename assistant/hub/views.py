"""Shaping stored rows for the API."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from orient.assistant.hub import schemas as s
from orient.assistant.store.referrals import aware, overdue
from orient.assistant.store.tables import ReferralRow

if TYPE_CHECKING:
    from orient.assistant.hub.access import Hub
    from orient.models.directory import Establishment, Unit


def unit_and_establishment(hub: Hub, unit_id: str) -> tuple[Unit | None, Establishment | None]:
    """A unit of the directory and its establishment (None where unknown)."""
    index = hub.service.directory()
    unit = index.units.get(unit_id)
    return unit, index.establishments.get(unit.finess) if unit else None


def unit_label(hub: Hub, unit_id: str) -> str:
    """"Cardiologie — HOPITAL PURPAN CHU TOULOUSE": where a referral goes, in words."""
    unit, est = unit_and_establishment(hub, unit_id)
    if unit is None:
        return unit_id
    return f"{unit.name} — {est.name}" if est else unit.name


def referral_out(hub: Hub, r: ReferralRow, now: datetime) -> s.ReferralOut:
    unit, est = unit_and_establishment(hub, r.unit_id)
    sent = aware(r.sent_at)
    assert sent is not None
    end = aware(r.answered_at) or now
    return s.ReferralOut(
        id=r.id, dossier_id=r.dossier_id, unit_id=r.unit_id, status=r.status, timing=r.timing,
        sent_at=sent, deadline_at=aware(r.deadline_at) or sent, overdue=overdue(r, now),
        waiting_minutes=round((end - sent).total_seconds() / 60, 1),
        read_at=aware(r.read_at), answered_at=aware(r.answered_at), admission_at=aware(r.admission_at),
        contact=r.contact, reason=r.reason, reason_text=r.reason_text, question=r.question,
        info_answer=r.info_answer, unit_phone=unit.phone if unit else None,
        unit_name=unit.name if unit else None, establishment=est.name if est else None,
    )


def review_sections(hub: Hub, sections: list[Any], medical: bool) -> list[dict[str, Any]]:
    """The review as plain data (also what a receiving unit reads)."""
    out = []
    for section in sections:
        hidden = section.section == "medical" and not medical
        out.append({
            "section": section.section, "title": section.title, "hidden": hidden,
            "items": [] if hidden else [
                {"field": i.field.id, "label": i.field.label, "state": i.state, "value": i.value,
                 "display": display(hub, i.field.id, i.value, i.display), "who": i.who}
                for i in section.items
            ],
        })
    return out


def display(hub: Hub, field_id: str, value: Any, shown: str) -> str:
    """The commune as its name, département and code rather than the bare INSEE code."""
    if field_id == "patient.commune" and value and hub.service.lookups.communes is not None:
        commune = hub.service.lookups.communes.get(value)
        return commune.label if commune is not None else shown
    return shown
