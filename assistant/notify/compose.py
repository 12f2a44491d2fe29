"""Who is told of a referral event, and what the message says (French).

Levels of detail, decided per recipient:
- `full`: the address is in the MSSanté domain list and the recipient may read the medical
  section: the patient's name, age and sex, the motive, the unit's answer;
- `identity`: MSSanté, but a secretary without `read_medical`: the patient's name, age and sex,
  nothing of the medical section nor any free text of the unit or the doctor;
- `minimal`: any other address: no patient data at all, only what happened and the referral's
  short id.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from orient.assistant.notify.events import KIND_FR, REQUESTER_KINDS, UNIT_KINDS, WHAT_FR
from orient.assistant.notify.settings import SmtpSettings
from orient.assistant.store import accounts, dossiers, outbox, profiles
from orient.assistant.store.outbox import Message, ReferralEvent
from orient.assistant.store.tables import DelegationRow, EstablishmentRow, UnitRow
from orient.dialogs.hnp import HNP
from orient.dialogs.hnp_rules import age_on
from orient.models.lifecycle import CANCELLATION_REASONS, REFUSAL_REASONS
from orient.models.users import Scope

PARIS = ZoneInfo("Europe/Paris")
MOTIVE_CHARS = 300


def short_id(referral_id: str) -> str:
    return referral_id[:8].upper()


def local(moment: datetime | None) -> str:
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{aware.astimezone(PARIS):%d/%m/%Y %H:%M}"


def wanted(events: str | None, kind: str) -> bool:
    return events is None or kind in [e.strip() for e in events.split(",")]


class Composer:
    """Recipients and messages of an event (store/outbox.py calls it inside the event's
    transaction)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def __call__(self, session: Session, event: ReferralEvent) -> list[Message]:
        out = []
        read: dict[str, Any] = {}  # the dossier's answers, read once per event (not on self: threads)
        for subject, address, medical in self.recipients(session, event):
            if self.settings.is_mssante(address):
                level = "full" if medical else "identity"
            else:
                level = "minimal"
            title, body = self.render(session, event, level, unit_side=subject.startswith("unit:"), read=read)
            out.append(Message(recipient=subject, address=address, level=level, subject=title, body=body))
        return out

    # -- who -------------------------------------------------------------------------------
    def recipients(self, session: Session, event: ReferralEvent) -> list[tuple[str, str, bool]]:
        """(subject, address, may read the medical section) of each recipient, the first of
        an address kept."""
        ref, kind = event.referral, event.kind
        found: list[tuple[str, str, bool]] = []
        if kind in UNIT_KINDS:
            sub = outbox.subscription(session, f"unit:{ref.unit_id}")
            if sub is not None and sub.address and wanted(sub.events, kind):
                found.append((sub.subject, sub.address, True))
        elif kind in REQUESTER_KINDS:
            doctor = accounts.find_doctor(session, ref.owner_rpps)
            if doctor is None:
                return []
            sub = outbox.subscription(session, f"user:{doctor.id}")
            address = (sub.address if sub is not None and sub.address else
                       profiles.get(session, ref.owner_rpps).get("requester.mssante"))
            if address and wanted(sub.events if sub else None, kind):
                found.append((f"user:{doctor.id}", address, True))
            if sub is not None and sub.copy_secretary:
                found += self._secretaries(session, ref.owner_rpps, kind, event.at)
        unique: dict[str, tuple[str, str, bool]] = {}
        for item in found:
            unique.setdefault(item[1].strip().casefold(), item)
        return list(unique.values())

    @staticmethod
    def _secretaries(session: Session, rpps: str, kind: str, now: datetime) -> list[tuple[str, str, bool]]:
        rows = session.exec(select(DelegationRow).where(DelegationRow.doctor_rpps == rpps)).all()
        scopes: dict[str, set[Scope]] = {}
        for row in rows:
            delegation = accounts.delegation_of(row)
            if delegation.active(now):
                scopes.setdefault(row.secretary_id, set()).update(delegation.scopes)
        out = []
        for secretary_id, granted in sorted(scopes.items()):
            sub = outbox.subscription(session, f"user:{secretary_id}")
            if sub is not None and sub.address and wanted(sub.events, kind):
                out.append((sub.subject, sub.address, Scope.READ_MEDICAL in granted))
        return out

    # -- what ------------------------------------------------------------------------------
    def render(self, session: Session, event: ReferralEvent, level: str, unit_side: bool,
               read: dict[str, Any] | None = None) -> tuple[str, str]:
        ref, kind = event.referral, event.kind
        sid = short_id(ref.id)
        lines = ["Bonjour,", "", WHAT_FR[kind], "", f"Demande : {sid}"]
        subject = f"Orient : {KIND_FR[kind]} ({sid})"
        if level != "minimal":
            read = {} if read is None else read
            if "answers" not in read:
                read["answers"] = dossiers.load(session, ref.dossier_id).answers
            answers: dict[str, Any] = read["answers"]
            patient = self._patient(answers, event.at)
            subject = f"Orient : {KIND_FR[kind]} ({sid}) – {patient}"
            lines.append(f"Patient : {patient}")
            lines.append(f"Unité : {self._unit(session, ref.unit_id)}")
            timing = HNP.field("request.timing").display(ref.timing) if ref.timing else ""
            if timing:
                lines.append(f"Délai souhaité : {timing} (réponse attendue avant le {local(ref.deadline_at)})")
            if level == "full" and answers.get("medical.reason"):
                motive = " ".join(str(answers["medical.reason"]).split())
                if len(motive) > MOTIVE_CHARS:
                    motive = motive[:MOTIVE_CHARS - 1] + "…"
                lines.append(f"Motif : {motive}")
            lines += self._details(event, level)
        else:
            lines += ["", ("Les données du patient ne sont envoyées qu'à une adresse de messagerie "
                      "sécurisée de santé (MSSanté) : vous les trouverez dans Orient.")]
        where = "la boîte de réception de l'unité" if unit_side else "le tableau de bord de vos demandes"
        hint = self.settings.open_hint.strip() or "Ouvrez Orient"
        lines += ["", f"Pour la consulter : {hint} – {where}, demande {sid}.", "",
                  ("Message envoyé automatiquement par Orient ; n'y répondez pas. Pour ne plus recevoir "
                  "ces messages, changez vos préférences de notification dans Orient.")]
        return subject, "\n".join(lines) + "\n"

    @staticmethod
    def _patient(answers: dict[str, Any], at: datetime) -> str:
        last = answers.get("patient.used_name") or answers.get("patient.birth_name") or "?"
        first = str(answers.get("patient.first_names") or "").split(" ")[0]
        parts = [f"{str(last).upper()} {first}".strip()]
        birth = answers.get("patient.birth_date")
        if birth:
            try:
                age = age_on(date.fromisoformat(str(birth)), at.astimezone(PARIS).date())
                parts.append(f"{age} an{'s' if age > 1 else ''}")
            except ValueError:
                pass
        sex = answers.get("patient.sex")
        if sex:
            parts.append(HNP.field("patient.sex").display(sex).lower())
        return ", ".join(parts)

    @staticmethod
    def _unit(session: Session, unit_id: str) -> str:
        unit = session.get(UnitRow, unit_id)
        if unit is None:
            return unit_id
        est = session.get(EstablishmentRow, unit.finess)
        return f"{unit.name} – {est.name}" if est else unit.name

    @staticmethod
    def _details(event: ReferralEvent, level: str) -> list[str]:
        """The answer of the unit or the doctor: reasons and dates at `identity` level already;
        free texts (a question, an answer, an explanation) only at `full` level."""
        ref, kind = event.referral, event.kind
        full = level == "full"
        out: list[str] = []
        if kind == "accepted":
            out.append(f"Admission prévue : {local(ref.admission_at)}")
            if ref.contact:
                out.append(f"Contact pour l'arrivée : {ref.contact}")
        elif kind == "refused" and ref.reason:
            out.append(f"Motif du refus : {REFUSAL_REASONS.get(ref.reason, ref.reason)}")
            if full and ref.reason_text:
                out.append(f"Précision : {ref.reason_text}")
        elif kind == "cancelled" and ref.reason:
            out.append(f"Motif de l'annulation : {CANCELLATION_REASONS.get(ref.reason, ref.reason)}")
            if full and ref.reason_text and ref.reason == "other":
                out.append(f"Précision : {ref.reason_text}")
        elif kind == "info_requested":
            out.append(f"Question : {ref.question}" if full and ref.question else
                       "La question est à lire dans Orient.")
        elif kind == "info_answered":
            out.append(f"Réponse : {ref.info_answer}" if full and ref.info_answer else
                       "La réponse est à lire dans Orient.")
        elif kind == "overdue":
            out.append(f"Délai dépassé depuis le {local(ref.deadline_at)} ; envoyée le {local(ref.sent_at)}.")
        return out
