"""Changing who receives what (the API and the `orient notify` command share these rules)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from orient.assistant.notify.events import parse_kinds
from orient.assistant.store import audit, outbox
from orient.assistant.store.tables import NotifySubscriptionRow
from orient.dialogs.hnp import HNP
from orient.models.fields import ReadError, RuleContext, read_answer, refusal_message

ADDRESS_FIELD = "requester.mssante"  # the e-mail rule of the dossier's MSSanté field


class PreferenceError(ValueError):
    """A refused preference; the message is French and nothing was saved."""


def read_address(typed: str, now: datetime) -> str:
    spec = HNP.field(ADDRESS_FIELD)
    try:
        value, _ = read_answer(spec, typed, RuleContext(answers={}, today=now.date()))
    except ReadError as err:
        raise PreferenceError(refusal_message(spec, typed, err).replace(
            spec.label, "Adresse de notification")) from None
    return str(value)


def update(session: Session, subject: str, *, by: str, role: str, now: datetime,
           address: str | None = None, events: str | list[str] | None = None,
           copy_secretary: bool | None = None, session_id: str | None = None) -> NotifySubscriptionRow:
    """Set what is given (None: unchanged; an empty address removes it), audited without the
    address, in the caller's transaction (the caller commits)."""
    values: dict[str, object] = {}
    if address is not None:
        values["address"] = read_address(address, now) if address.strip() else None
    if events is not None:
        try:
            values["events"] = ",".join(parse_kinds(events, subject))
        except ValueError as exc:
            raise PreferenceError(str(exc)) from None
    if copy_secretary is not None:
        if role not in ("doctor", "admin"):
            raise PreferenceError("« copy_secretary » : seul un médecin choisit d'envoyer une copie à "
                                  "ses secrétaires.")
        values["copy_secretary"] = copy_secretary
    row = outbox.save_subscription(session, subject, by=by, now=now, **values)
    changed = ", ".join(sorted(values)) or "rien"
    audit.append(session, [audit.AuditRecord(event="notify_preferences_changed", actor=by, role=role,
                                             detail=f"{subject}: {changed}", session_id=session_id)], at=now)
    return row
