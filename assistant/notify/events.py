"""The notification kinds: who receives each, and how it reads in French."""

from __future__ import annotations

# the receiving unit is told of these
UNIT_KINDS = ("sent", "cancelled", "overdue", "info_answered")
# the requesting doctor (and the delegated secretaries, when the doctor wants) of these
REQUESTER_KINDS = ("read", "accepted", "refused", "info_requested")
KINDS = UNIT_KINDS + REQUESTER_KINDS

KIND_FR = {
    "sent": "Nouvelle demande d'admission",
    "cancelled": "Demande annulée",
    "overdue": "Demande en attente de réponse, délai dépassé",
    "info_answered": "Réponse du demandeur à votre question",
    "read": "Demande lue par l'unité",
    "accepted": "Demande acceptée",
    "refused": "Demande refusée",
    "info_requested": "Question de l'unité",
}

WHAT_FR = {
    "sent": "Une nouvelle demande d'hospitalisation non programmée est arrivée pour votre unité.",
    "cancelled": "Le demandeur a annulé une demande adressée à votre unité.",
    "overdue": "Une demande adressée à votre unité attend toujours sa réponse : son délai est dépassé.",
    "info_answered": "Le demandeur a répondu à la question de votre unité.",
    "read": "L'unité receveuse a ouvert votre demande.",
    "accepted": "L'unité receveuse accepte votre demande.",
    "refused": "L'unité receveuse refuse votre demande.",
    "info_requested": "L'unité receveuse vous pose une question sur votre demande.",
}


def kinds_for(subject: str) -> tuple[str, ...]:
    """The kinds a subject may choose from: a unit's, or a person's."""
    return UNIT_KINDS if subject.startswith("unit:") else REQUESTER_KINDS


def parse_kinds(text: str | list[str], subject: str) -> list[str]:
    """Kinds typed as codes (comma-separated or a list); `aucun` alone: none. Raises ValueError
    with a French message naming what is wrong."""
    items = text if isinstance(text, list) else text.split(",")
    wanted = [i.strip() for i in items if i.strip()]
    if [w.casefold() for w in wanted] in (["aucun"], ["aucune"], ["none"]):
        return []
    allowed = kinds_for(subject)
    unknown = [w for w in wanted if w not in allowed]
    if unknown:
        listed = " ; ".join(f"{k} ({KIND_FR[k]})" for k in allowed)
        raise ValueError(f"Événement inconnu « {', '.join(unknown)} » : possibles : {listed} ; "
                         "ou « aucun ».")
    return [k for k in allowed if k in wanted]
