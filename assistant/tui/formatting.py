"""How the screens write times, waiting times, phones and a unit's answer in French."""

from __future__ import annotations

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
    """An ISO moment in French local time (Europe/Paris, not the machine's zone), inside a
    sentence: 27/11/2026 à 16:17."""
    from orient.models.localtime import fr_datetime

    return fr_datetime(iso, " à ")


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


def imported_intro(imported: dict[str, Any]) -> list[tuple[str, str]]:
    """What the chat says first about a dossier made from a document: where from, its
    fingerprint, and the reader's notes."""
    origin = str(imported.get("origin") or "")
    count = imported.get("proposed")
    said = [(f"Nouveau dossier depuis le {imported.get('label') or 'document'}"
             + (f" : {count} valeur(s) lue(s)" if count is not None else "")
             + ". Rien ne compte avant votre confirmation ; chaque valeur garde sa source dans le "
             f"journal (empreinte {origin.removeprefix('sha256:')[:12]}…). F1 pour l'aide.", "assistant")]
    said += [(f"ℹ {note}", "assistant") for note in imported.get("notes") or []]
    return said


def km_fr(value: float) -> str:
    """A distance the French way: 20,8 km."""
    return f"{value:.1f}".replace(".", ",") + " km"
