"""What the person may do next with a dossier, and the keys the chat shows for it: each role
sees its own (a secretary never signs; she sends only with the scope `send`, once the doctor has
signed), and a sent dossier may go to units added since (F7, then F8). Pure functions of what
the hub said about the dossier; the hub enforces the same rules."""

from __future__ import annotations

from dataclasses import dataclass

from orient.models.lifecycle import DOSSIER_STATUS_FR, DossierStatus

S = DossierStatus


@dataclass(frozen=True)
class Where:
    """A dossier as the chat knows it."""

    role: str  # "doctor" or "secretary"
    status: str
    may_send: bool  # the doctor; a secretary whose delegation includes `send`
    unsent: int = 0  # chosen units without a referral yet (on a sent dossier: those added)

    @property
    def doctor(self) -> bool:
        return self.role == "doctor"


def can_choose(w: Where) -> bool:
    """F7: choose units (add some to a sent dossier)."""
    return w.may_send and w.status in (S.READY, S.SIGNED, S.SENT)


def can_sign(w: Where) -> bool:
    """F8 « Signer »: the doctor signs (then sends); on a blocked dossier F8 says why not."""
    return w.doctor and w.status in (S.READY, S.BLOCKED)


def can_send(w: Where) -> bool:
    """F8 « Envoyer »: a signed dossier, or a sent one with units added since."""
    return w.may_send and (w.status == S.SIGNED or (w.status == S.SENT and w.unsent > 0))


def keys_hint(w: Where) -> str:
    """The keys that apply now, for a message: "F6 : récapitulatif · F7 : ... · F8 : ..."."""
    parts = ["F6 : récapitulatif"]
    if can_choose(w):
        parts.append("F7 : ajouter une unité" if w.status == S.SENT else "F7 : unités proposées")
    if can_sign(w) and w.status != S.BLOCKED:
        parts.append("F8 : signer et envoyer")
    elif can_send(w):
        parts.append("F8 : envoyer aux unités ajoutées" if w.status == S.SENT else "F8 : envoyer")
    return " · ".join(parts)


def end_message(w: Where) -> str:
    """What the chat says when no question is left (a blocked dossier and a hand-over aside)."""
    status = DossierStatus(w.status)
    if status == S.SENT:
        text = "Dossier envoyé : ses demandes se suivent sur le tableau de bord (Échap, puis d)."
        if w.unsent:
            return f"{text} {w.unsent} unité(s) ajoutée(s), pas encore envoyée(s). {keys_hint(w)}."
        if can_choose(w):
            return f"{text} {keys_hint(w)} si aucune ne répond."
        return f"{text} {keys_hint(w)}."
    state = f"Questions terminées (dossier « {DOSSIER_STATUS_FR[status]} »)."
    if w.doctor:
        return f"{state} {keys_hint(w)}."
    if status == S.READY:
        then = (" Vous pourrez ensuite l'envoyer (F8), une fois les unités choisies (F7)."
                if w.may_send else "")
        return f"{state} Le médecin doit le relire et le signer.{then} {keys_hint(w)}."
    if status == S.SIGNED and not w.may_send:
        return (f"{state} Le médecin l'enverra : votre délégation n'inclut pas l'envoi. "
                f"{keys_hint(w)}.")
    return f"{state} {keys_hint(w)}."


def nothing_to_answer(w: Where) -> str:
    """Enter with no question pending."""
    return f"Aucune question en attente : {keys_hint(w).replace(' : ', ' ')}."


def after_choice(w: Where, count: int) -> str:
    """Once units are chosen (F7, then F9)."""
    if w.status == S.SENT:
        if not w.unsent:
            return f"{count} unité(s) cochée(s), toutes déjà destinataires : rien de nouveau à envoyer."
        return (f"{w.unsent} unité(s) ajoutée(s) : F8 pour l'envoyer (même signature ; seules les "
                "unités ajoutées reçoivent la demande).")
    if can_sign(w):
        return f"{count} unité(s) choisie(s) : F8 pour signer et envoyer."
    if can_send(w):
        return f"{count} unité(s) choisie(s) : F8 pour envoyer."
    return f"{count} unité(s) choisie(s) : le dossier partira une fois signé par le médecin."


def help_keys(w: Where) -> str:
    """The F7/F8 line of the help (F1)."""
    if w.doctor:
        return ("- **F6** ou `/recap` : récapitulatif du dossier. **F7** : unités proposées (sur un "
                "dossier envoyé : en ajouter). **F8** : signer et envoyer (une fois les questions "
                "terminées).")
    if w.may_send:
        return ("- **F6** ou `/recap` : récapitulatif du dossier. **F7** : unités proposées. **F8** : "
                "envoyer, une fois le dossier signé par le médecin (seul le médecin signe).")
    return ("- **F6** ou `/recap` : récapitulatif du dossier. Le médecin choisit les unités, signe "
            "et envoie (votre délégation n'inclut pas l'envoi).")
