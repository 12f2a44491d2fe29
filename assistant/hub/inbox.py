"""The receiving unit's inbox: each referral with what the unit needs to sort it at a glance
(site, patient's age and sex, motive, waiting time, a new answer from the requester).

The motive belongs to the medical section, which a unit may read for the referrals sent to it
(spec/hnp-dossier.md, "Who does what"); the first time a user's inbox shows a referral's summary
is audited for its dossier, like the opening of the whole dossier is."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import Session

from orient.assistant.hub import schemas as s
from orient.assistant.hub.views import referral_out, unit_and_establishment
from orient.assistant.store import audit
from orient.assistant.store import referrals as store
from orient.assistant.store.tables import AnswerRow, AuditEntryRow, ReferralRow
from orient.dialogs.hnp_rules import age_on
from orient.models.localtime import paris

if TYPE_CHECKING:
    from orient.assistant.hub.access import Hub
    from orient.assistant.hub.auth import Principal

ANSWER = AnswerRow.__table__  # type: ignore[attr-defined]
AUDIT = AuditEntryRow.__table__  # type: ignore[attr-defined]
SUMMARY_FIELDS = ("patient.birth_date", "patient.sex", "medical.reason")
SUMMARY_READ = "inbox_summary_read"


def summaries(session: Session, dossier_ids: list[str]) -> dict[str, dict[str, Any]]:
    """{dossier id: {field: value}} for the fields an inbox row shows, in one query."""
    if not dossier_ids:
        return {}
    rows = session.connection().execute(
        select(ANSWER.c.dossier_id, ANSWER.c.field_id, ANSWER.c.value_json)
        .where(ANSWER.c.dossier_id.in_(dossier_ids), ANSWER.c.field_id.in_(SUMMARY_FIELDS))
    )
    found: dict[str, dict[str, Any]] = {}
    for dossier_id, field_id, value_json in rows:
        if value_json is not None:
            found.setdefault(dossier_id, {})[field_id] = json.loads(value_json)
    return found


def _audit_first_reads(session: Session, who: Principal, refs: list[ReferralRow], hub: Hub) -> None:
    """One audit entry per referral whose summary this user had not been shown yet."""
    if not refs:
        return
    done = session.connection().execute(
        select(AUDIT.c.detail).where(AUDIT.c.event == SUMMARY_READ, AUDIT.c.actor == who.user_id,
                                     AUDIT.c.dossier_id.in_({r.dossier_id for r in refs}))
    )
    seen = {str(detail).split(":", 1)[0] for (detail,) in done}
    records = [audit.AuditRecord(event=SUMMARY_READ, actor=who.user_id, role=who.role.value,
                                 dossier_id=r.dossier_id, field_id="medical.reason",
                                 detail=f"{r.id}: âge, sexe et motif lus (boîte de réception)")
               for r in refs if r.id not in seen]
    if records:
        audit.append(session, records, at=hub.now())
        session.commit()


def _age(answers: dict[str, Any], today: date) -> int | None:
    born = answers.get("patient.birth_date")
    try:
        return age_on(date.fromisoformat(str(born)), today) if born else None
    except ValueError:
        return None


def inbox_items(hub: Hub, who: Principal) -> list[s.InboxItemOut]:
    now = hub.now()
    today = paris(now).date()
    with hub.session() as session:
        refs = store.inbox(session, list(who.unit_ids))
        answers = summaries(session, list({r.dossier_id for r in refs}))
        _audit_first_reads(session, who, refs, hub)
    items = []
    for r in refs:
        a = answers.get(r.dossier_id, {})
        _, est = unit_and_establishment(hub, r.unit_id)
        items.append(s.InboxItemOut(
            **referral_out(hub, r, now).model_dump(), patient_age=_age(a, today),
            patient_sex=a.get("patient.sex"), motive=a.get("medical.reason"),
            new_answer=store.new_answer(r), establishment_commune=est.commune if est else None,
        ))
    return items
