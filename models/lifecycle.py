"""Dossier and referral statuses and their allowed transitions (spec/lifecycle.md)."""

from __future__ import annotations

from enum import StrEnum


class DossierStatus(StrEnum):
    DRAFT = "draft"
    AWAITING_DOCTOR = "awaiting_doctor"
    READY = "ready"
    BLOCKED = "blocked"
    SIGNED = "signed"
    SENT = "sent"


class ReferralStatus(StrEnum):
    SENT = "sent"
    READ = "read"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    INFO_REQUESTED = "info_requested"
    ADMITTED = "admitted"
    CLOSED = "closed"
    CANCELLED = "cancelled"


D = DossierStatus
R = ReferralStatus

DOSSIER_TRANSITIONS: dict[DossierStatus, frozenset[DossierStatus]] = {
    D.DRAFT: frozenset({D.AWAITING_DOCTOR, D.READY, D.BLOCKED}),
    D.AWAITING_DOCTOR: frozenset({D.READY, D.BLOCKED}),
    D.BLOCKED: frozenset({D.DRAFT}),
    D.READY: frozenset({D.DRAFT, D.AWAITING_DOCTOR, D.SIGNED}),
    D.SIGNED: frozenset({D.READY, D.SENT}),
    D.SENT: frozenset(),
}

REFERRAL_TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    R.SENT: frozenset({R.READ, R.CANCELLED}),
    R.READ: frozenset({R.ACCEPTED, R.REFUSED, R.INFO_REQUESTED, R.CANCELLED}),
    R.INFO_REQUESTED: frozenset({R.READ, R.CANCELLED}),
    R.ACCEPTED: frozenset({R.ADMITTED}),
    R.ADMITTED: frozenset({R.CLOSED}),
    R.REFUSED: frozenset(),
    R.CLOSED: frozenset(),
    R.CANCELLED: frozenset(),
}

DOSSIER_STATUS_FR: dict[DossierStatus, str] = {
    D.DRAFT: "brouillon",
    D.AWAITING_DOCTOR: "en attente du médecin",
    D.READY: "prêt à signer",
    D.BLOCKED: "bloqué (signe de gravité)",
    D.SIGNED: "signé",
    D.SENT: "envoyé",
}

REFERRAL_STATUS_FR: dict[ReferralStatus, str] = {
    R.SENT: "envoyée",
    R.READ: "lue",
    R.ACCEPTED: "acceptée",
    R.REFUSED: "refusée",
    R.INFO_REQUESTED: "informations demandées",
    R.ADMITTED: "patient admis",
    R.CLOSED: "clôturée",
    R.CANCELLED: "annulée",
}

REFUSAL_REASONS: dict[str, str] = {
    "no_bed": "Pas de lit disponible",
    "out_of_specialty": "Hors spécialité",
    "needs_emergency": "Relève des urgences ou du SAMU",
    "out_of_area": "Hors secteur",
    "incomplete": "Dossier incomplet",
    "unsuitable_facilities": "Plateau technique inadapté",
    "other": "Autre",
}

CANCELLATION_REASONS: dict[str, str] = {
    "sent_to_emergency": "Adressé aux urgences",
    "improved": "Amélioration",
    "admitted_elsewhere": "Admis ailleurs",
    "deceased": "Décès",
    "other": "Autre",
}

# Overdue deadlines by requested timing, in hours (a referral still sent/read after it).
OVERDUE_HOURS: dict[str, int] = {"today": 2, "within_24h": 4, "within_48h": 12}


class TransitionError(ValueError):
    """An illegal status change; the message is French and names the current status."""


def check_dossier_transition(current: DossierStatus, new: DossierStatus) -> None:
    if new != current and new not in DOSSIER_TRANSITIONS[current]:
        raise TransitionError(
            f"Transition impossible : le dossier est « {DOSSIER_STATUS_FR[current]} » "
            f"et ne peut pas passer à « {DOSSIER_STATUS_FR[new]} »."
        )


def dossier_path(
    current: DossierStatus, target: DossierStatus, *, handed_over: bool = False
) -> list[DossierStatus]:
    """The shortest chain of legal transitions from `current` to `target` (each step is recorded),
    e.g. a change after signing that leaves a field missing goes signed -> ready -> draft. The
    chain passes through `awaiting_doctor` only for a dossier a secretary handed over."""
    if current == target:
        return []
    paths: dict[DossierStatus, list[DossierStatus]] = {current: []}
    frontier = [current]
    while frontier:
        nxt = []
        for status in frontier:
            for step in sorted(DOSSIER_TRANSITIONS[status]):
                if step == D.AWAITING_DOCTOR and not handed_over and step != target:
                    continue
                if step not in paths:
                    paths[step] = paths[status] + [step]
                    if step == target:
                        return paths[step]
                    nxt.append(step)
        frontier = nxt
    check_dossier_transition(current, target)  # raises: no legal path
    return [target]


def check_referral_transition(current: ReferralStatus, new: ReferralStatus) -> None:
    if new not in REFERRAL_TRANSITIONS[current]:
        raise TransitionError(
            f"Transition impossible : la demande est « {REFERRAL_STATUS_FR[current]} » "
            f"et ne peut pas passer à « {REFERRAL_STATUS_FR[new]} »."
        )
