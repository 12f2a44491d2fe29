"""How the screens write times, waiting times, phones and a unit's answer in French."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orient.models.lifecycle import (
    CANCELLATION_REASONS,
    REFUSAL_REASONS,
    ReferralStatus,
)

TIMING_FR = {"today": "aujourd'hui", "within_24h": "sous 24 h", "within_48h": "sous 48 h"}


def waiting(minutes: float) -> str:
    hours, mins = divmod(max(0, int(minutes)), 60)
    return f"{hours} h {mins:02d}" if hours else f"{mins} min"


def phone_fr(e164: str) -> str:
    """A phone number written the French way (05 61 00 00 00), as in the dossier."""
    from orient.dialogs.hnp import HNP

    return HNP.field("requester.callback_phone").display(e164)


def local_time(iso: str) -> str:
    """An ISO moment as the person's local date and time: 27/11/2026 à 16:17."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{moment.astimezone():%d/%m/%Y à %H:%M}"


def answer_text(r: dict[str, Any]) -> str:
    if r["status"] == ReferralStatus.ACCEPTED.value and r.get("admission_at"):
        return f"admission le {local_time(r['admission_at'])} — contact : {r.get('contact') or ''}"
    if r["status"] == ReferralStatus.REFUSED.value:
        return REFUSAL_REASONS.get(r.get("reason") or "", "") + (f" — {r['reason_text']}" if r.get("reason_text") else "")
    if r["status"] == ReferralStatus.INFO_REQUESTED.value:
        return f"question : {r.get('question') or ''}"
    if r["status"] == ReferralStatus.CANCELLED.value:
        return CANCELLATION_REASONS.get(r.get("reason") or "", r.get("reason") or "")
    return ""


def km_fr(value: float) -> str:
    """A distance the French way: 20,8 km."""
    return f"{value:.1f}".replace(".", ",") + " km"
