"""Sending a sent dossier to more units (spec/lifecycle.md: a sent dossier stays read-only except
for cancelling referrals or sending to another unit, under the same signature)."""

from __future__ import annotations

from collections.abc import Sequence

from orient.assistant.store.tables import ReferralRow
from orient.models.lifecycle import ReferralStatus

# once a unit has taken the patient, the dossier goes nowhere else
TAKEN = (ReferralStatus.ACCEPTED.value, ReferralStatus.ADMITTED.value, ReferralStatus.CLOSED.value)


def added_units(referrals: Sequence[ReferralRow], chosen: Sequence[str],
                ticked: list[str]) -> tuple[str | None, list[str]]:
    """The units to record as chosen for a sent dossier: those it was sent to, in the order they
    were chosen (a referral is cancelled from the dashboard, never by unticking its unit), then
    the new ones ticked. Returns (a French reason to refuse, or None; the units)."""
    if any(r.status in TAKEN for r in referrals):
        return "Une unité a déjà accepté ce patient : pas d'envoi à une autre unité.", []
    referred = {r.unit_id for r in referrals}
    kept = [u for u in chosen if u in referred]
    kept += [u for u in dict.fromkeys(r.unit_id for r in referrals) if u not in kept]
    return None, kept + [u for u in ticked if u not in referred]


def new_units(chosen: Sequence[str], referrals: Sequence[ReferralRow] | Sequence[str]) -> list[str]:
    """The chosen units that have no referral yet (what a send would create)."""
    referred = {r if isinstance(r, str) else r.unit_id for r in referrals}
    return [u for u in chosen if u not in referred]
