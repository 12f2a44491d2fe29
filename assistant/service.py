"""Dossier operations over the store: each one loads the dossier, runs the engine, and commits
the new state with its audit entries in one transaction before anything is shown.

The replay uses this directly; the hub wraps it in HTTP.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session, select

from orient.assistant import resend, secrecy
from orient.assistant.directory.communes import SharedTable
from orient.assistant.directory.icd10 import Icd10, default_icd10
from orient.assistant.directory.matching import (
    Criteria,
    DirectoryIndex,
    SearchResult,
    alternative_specialty,
)
from orient.assistant.engine import (
    Engine,
    Event,
    Lookups,
    Outcome,
    Question,
    ReviewSection,
    SectionProgress,
)
from orient.assistant.store import accounts, audit, code_lock, dossiers, profiles
from orient.assistant.store import directory as directory_store
from orient.assistant.store import referrals as referrals_store
from orient.assistant.store.tables import DelegationRow, ReferralRow
from orient.dialogs.base import Dialog
from orient.dialogs.hnp import HNP
from orient.dialogs.hnp_rules import age_on
from orient.models.dossier import DossierState
from orient.models.fields import Warning
from orient.models.lifecycle import DOSSIER_STATUS_FR, DossierStatus
from orient.models.provenance import Proposal, Refused, Source
from orient.models.users import Actor, Role, Scope

try:
    from zoneinfo import ZoneInfo

    _PARIS: Any = ZoneInfo("Europe/Paris")
except Exception:  # noqa: BLE001 - no time zone data: fall back to UTC
    _PARIS = UTC


def paris_now() -> datetime:
    return datetime.now(_PARIS)


@dataclass
class Step:
    """What the person sees after an operation."""

    ok: bool
    dossier_id: str
    status: DossierStatus
    version: int
    question: Question | None = None
    message: str | None = None
    warnings: list[Warning] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    blocked_reason: str | None = None
    missing: list[str] = field(default_factory=list)
    progress: list[SectionProgress] = field(default_factory=list)
    recorded: tuple[str, Any] | None = None  # (field, value) of the answer just accepted
    refused: list[Refused] = field(default_factory=list)  # proposed values refused by their rule
    also_recorded: list[tuple[str, Any]] = field(default_factory=list)  # one answer, several fields


class SendError(ValueError):
    """Sending is not possible; the message is French."""


@dataclass
class SendResult:
    referrals: list[ReferralRow]
    repeated: bool  # the same send was already done: nothing new was created
    # chosen units still without a referral: a key replayed from an earlier send (whose reply was
    # lost) returns that send's referrals, while units chosen since wait for a send of their own
    unsent: list[str] = field(default_factory=list)


class DossierService:
    def __init__(
        self,
        db: DbEngine,
        *,
        dialog: Dialog = HNP,
        lookups: Lookups | None = None,
        clock: Callable[[], datetime] = paris_now,
    ) -> None:
        self.db = db
        self.dialog = dialog
        self.clock = clock
        self.lookups = lookups or Lookups(now=clock, communes=SharedTable(), icd10=default_icd10())
        self._index: DirectoryIndex | None = None
        self._index_lock = threading.Lock()

    def warm(self) -> None:
        """Load now what the questions will need (the commune table, the ICD-10 index), e.g. in
        the background while a person reads the first screens."""
        communes, icd10 = self.lookups.communes, self.lookups.icd10
        if isinstance(communes, SharedTable):
            communes.load()
        if isinstance(icd10, Icd10):
            icd10.load_index()

    # -- plumbing -------------------------------------------------------------------------
    def _now(self) -> datetime:
        return self.clock().astimezone(UTC)

    @staticmethod
    def _local(moment: datetime) -> str:
        """A stored time as people read it: 03/12/2026 08:22, Paris time."""
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return f"{aware.astimezone(_PARIS):%d/%m/%Y %H:%M}"

    def _engine(self, session: Session, actor: Actor | None = None) -> Engine:
        """The engine on this session; duplicate suspicion looks only at the dossiers `actor`
        may see (none without an actor)."""
        owners = self._visible_owners(session, actor) if actor is not None else []
        lookups = replace(self.lookups, duplicates=lambda i, t: dossiers.find_duplicates(
            session, i, t, owners=owners), profile=lambda rpps: profiles.get(session, rpps))
        return Engine(self.dialog, lookups)

    def _visible_owners(self, session: Session, actor: Actor) -> list[str]:
        """The doctors whose dossiers `actor` may see: a doctor's own; for a secretary, those of
        every doctor who delegates to her now."""
        if actor.role == Role.DOCTOR:
            return [actor.rpps] if actor.rpps else []
        if actor.role != Role.SECRETARY:
            return []
        now = self._now()
        rows = session.exec(select(DelegationRow).where(DelegationRow.secretary_id == actor.user_id)).all()
        return sorted({r.doctor_rpps for r in rows if accounts.delegation_of(r).active(now)})

    def _keep_profile(self, session: Session, actor: Actor, state: DossierState, out: Outcome,
                      now: datetime) -> list[Event]:
        """Store what the engine says belongs in the doctor's profile (audited)."""
        if not out.profile_updates:
            return []
        profiles.update(session, state.owner_rpps, out.profile_updates, by=actor.user_id, now=now)
        return [Event("profile_updated", f, v, detail=f"profil du médecin {state.owner_rpps}")
                for f, v in out.profile_updates.items()]

    def _records(self, actor: Actor, dossier_id: str, events: list[Event]) -> list[audit.AuditRecord]:
        return [
            audit.AuditRecord(
                event=e.kind, actor=actor.user_id, role=actor.role.value, dossier_id=dossier_id,
                field_id=e.field, value=e.value, detail=e.detail, delegation_id=actor.delegation_id,
                session_id=actor.session_id,
            )
            for e in events
        ]

    def _load_for(self, session: Session, actor: Actor, dossier_id: str) -> DossierState:
        state = dossiers.load(session, dossier_id)
        if not actor.acts_for(state.owner_rpps):
            # the same answer as for a missing dossier: existence must not leak
            raise dossiers.NotFound(f"Dossier introuvable : « {dossier_id} ».")
        return state

    def _step(self, engine: Engine, state: DossierState, actor: Actor, out: Outcome | None,
              session: Session | None = None) -> Step:
        question = out.next if out and out.ok else engine.next_question(state, actor)
        warnings = list(out.warnings) if out else []
        if out and out.duplicates and session is not None:
            # the duplicate suspicion offers the other dossiers (the caller may see them) by number
            picks = tuple(dossiers.duplicate_labels(session, out.duplicates, self._local))
            warnings = [replace(w, picks=picks) if w.code == "duplicate" else w for w in warnings]
        return Step(
            ok=out.ok if out else True,
            dossier_id=state.id,
            status=state.status,
            version=state.version,
            question=question,
            message=out.message if out else None,
            warnings=warnings,
            duplicates=list(out.duplicates) if out else [],
            blocked_reason=engine.blocked_reason(state),
            missing=secrecy.visible_missing(engine.missing(state), actor),
            progress=engine.progress(state, actor),
            recorded=next(((e.field, state.answers[e.field]) for e in (out.events if out and out.ok else [])
                           if e.kind in ("answer_accepted", "answer_changed") and e.field in state.answers),
                          None),
            refused=list(out.refused) if out else [],
            also_recorded=[(e.field, state.answers[e.field]) for e in (out.events if out and out.ok else [])
                           if e.kind in ("answer_accepted", "answer_changed") and e.field in state.answers][1:],
        )

    def _asked(self, question: Question | None) -> list[Event]:
        return [Event("question_asked", question.id)] if question else []

    # -- operations -----------------------------------------------------------------------
    def create(self, actor: Actor, proposals: list[Proposal] | None = None) -> Step:
        """A new dossier owned by the doctor (for a secretary: her delegating doctor). With
        `proposals` (an import, a letter), they are proposed in the same transaction: the first
        question asks their confirmation."""
        owner = actor.rpps if actor.rpps else actor.on_behalf_of
        if not owner:
            raise accounts.AccessError("Seuls un médecin ou une secrétaire déléguée créent un dossier.")
        with Session(self.db) as session:
            engine = self._engine(session)
            out = engine.new_dossier(str(uuid4()), owner, accounts.doctor_name(session, owner))
            # the doctor's profile, offered for confirmation (never taken silently), then the
            # values of a document (an import, a letter): one confirmation for all
            offered = [Proposal(f, str(v), Source.PROFILE, "profil") for f, v in profiles.get(session, owner).items()
                       if f in self.dialog.profile_fields]
            offered += proposals or []
            proposed = engine.propose(out.state, actor, offered) if offered else None
            state = proposed.state if proposed else out.state
            question = engine.next_question(state, actor)
            now = self._now()
            dossiers.save(session, state, out.changed, actor_id=actor.user_id, base_version=None,
                          created_by=actor.user_id, now=now)
            events = [*out.events, *(proposed.events if proposed else ()), *self._asked(question)]
            audit.append(session, self._records(actor, state.id, events), at=now)
            session.commit()
            return self._step(engine, state, actor, proposed)

    def open(self, actor: Actor, dossier_id: str) -> Step:
        """Reopen a dossier where it stopped (after a crash too): the next unanswered question."""
        with Session(self.db) as session:
            engine = self._engine(session)
            state = self._load_for(session, actor, dossier_id)
            question = engine.next_question(state, actor)
            audit.append(session, self._records(actor, dossier_id,
                                                [Event("dossier_opened"), *self._asked(question)]),
                         at=self._now())
            session.commit()
            return self._step(engine, state, actor, None)

    def state(self, actor: Actor, dossier_id: str) -> DossierState:
        with Session(self.db) as session:
            return self._load_for(session, actor, dossier_id)

    def answer(self, actor: Actor, dossier_id: str, text: str, base_version: int | None = None) -> Step:
        return self._run(actor, dossier_id, lambda e, s: e.answer(s, actor, text), base_version)

    def propose(self, actor: Actor, dossier_id: str, proposals: list[Proposal],
                base_version: int | None = None) -> Step:
        """Values from outside the question asked (profile, import, letter): each read through
        its field's rule; those accepted wait in the dossier for the person's confirmation."""
        return self._run(actor, dossier_id, lambda e, s: e.propose(s, actor, proposals), base_version)

    def _run(self, actor: Actor, dossier_id: str, op: Callable[[Engine, DossierState], Outcome],
             base_version: int | None) -> Step:
        with Session(self.db) as session:
            engine = self._engine(session, actor)
            state = self._load_for(session, actor, dossier_id)
            if base_version is not None and base_version != state.version:
                raise dossiers.StaleWrite()
            out = op(engine, state)
            events = list(out.events)
            now = self._now()
            if out.ok or out.persist:
                dossiers.save(session, out.state, out.changed, actor_id=actor.user_id,
                              base_version=state.version, now=now)
            if out.ok:
                events += self._keep_profile(session, actor, out.state, out, now)
                events += self._asked(out.next)
            audit.append(session, self._records(actor, dossier_id, events), at=now)
            session.commit()
            return self._step(engine, out.state, actor, out, session)

    def back(self, actor: Actor, dossier_id: str, base_version: int | None = None) -> Step:
        return self._run(actor, dossier_id, lambda e, s: e.back(s, actor), base_version)

    def edit(self, actor: Actor, dossier_id: str, ref: str, base_version: int | None = None) -> Step:
        return self._run(actor, dossier_id, lambda e, s: e.edit(s, actor, ref), base_version)

    def cancel_change(self, actor: Actor, dossier_id: str, base_version: int | None = None) -> Step:
        return self._run(actor, dossier_id, lambda e, s: e.cancel_change(s, actor), base_version)

    def sign(self, actor: Actor, dossier_id: str, code: str, base_version: int | None = None, *,
             method: str = "code", answers_hash: str | None = None, dry_run: bool = False) -> Step:
        """The doctor signs what they saw: with `base_version`, a dossier changed since is refused.
        The code is tried only once nothing else stands in the way, and it locks after wrong codes
        in a row (store/code_lock.py): while locked even the right code is refused.
        `method` other than "code" (hub/psc_sign.py: a fresh Pro Santé Connect authentication,
        checked by the caller) skips the code and marks the audit entry with it; `answers_hash`
        refuses, as stale, answers other than those the authentication was bound to; `dry_run`
        only says whether the dossier could be signed now (nothing saved or recorded)."""
        with Session(self.db) as session:
            engine = self._engine(session)
            state = self._load_for(session, actor, dossier_id)
            if base_version is not None and base_version != state.version:
                raise dossiers.StaleWrite()
            if answers_hash is not None and answers_hash != state.answers_hash():
                raise dossiers.StaleWrite()
            now = self._now()
            out = engine.sign(state, actor, True)
            if dry_run:
                return self._step(engine, state, actor, out)
            if method != "code":
                out.events = [replace(e, detail=method) if e.kind == "signed" else e for e in out.events]
            elif out.ok and actor.rpps:  # the code decides: try it against the lock
                tried = code_lock.attempt(session, actor.user_id,
                                          accounts.doctor_code_ok(session, actor.rpps, code), now)
                if not tried.ok:
                    out = engine.sign(state, actor, False)
                    out.message = tried.message
                    if tried.locked_now is not None:
                        out.events.append(Event("signing_code_locked", detail=(
                            f"{tried.failures} erreurs : code bloqué "
                            f"{code_lock.wait_text(tried.locked_now - now)}")))
                    elif tried.was_locked:
                        out.events = [Event("signature_refused", detail="code bloqué")]
            events = list(out.events)
            if out.ok:
                dossiers.save(session, out.state, out.changed, actor_id=actor.user_id,
                              base_version=state.version, now=now)
                events += self._asked(out.next)
            audit.append(session, self._records(actor, dossier_id, events), at=now)
            session.commit()
            return self._step(engine, out.state, actor, out)

    def review(self, actor: Actor, dossier_id: str) -> list[ReviewSection]:
        with Session(self.db) as session:
            return self._engine(session).review(self._load_for(session, actor, dossier_id))

    def missing(self, actor: Actor, dossier_id: str) -> list[str]:
        with Session(self.db) as session:
            return self._engine(session).missing(self._load_for(session, actor, dossier_id))

    def blocked_reason(self, actor: Actor, dossier_id: str) -> str | None:
        return self.dialog.blocked_reason(self.state(actor, dossier_id).answers)

    # -- matching -------------------------------------------------------------------------
    def directory(self) -> DirectoryIndex:
        """The matching index, built once per service (the directory loads on first use); the
        requests that need it meanwhile wait for that one build instead of each building it."""
        index = self._index
        if index is not None:
            return index
        with self._index_lock:
            index = self._index
            if index is None:
                with Session(self.db) as session:
                    index = self._index = directory_store.load_index(session)
            return index

    def refresh_directory(self) -> None:
        """Rebuild the matching index on next use (availability or units changed)."""
        self._index = None

    def criteria(self, state: DossierState) -> Criteria | str:
        """Matching criteria from the dossier, or the French reason why there are none yet."""
        a = state.answers
        labels = [self.dialog.field(f).label for f in ("request.specialty", "patient.commune",
                                                        "patient.birth_date") if f not in a]
        if labels:
            return "Pas encore de proposition : il manque " + ", ".join(labels) + "."
        commune = self.lookups.communes.get(a["patient.commune"]) if self.lookups.communes else None
        if commune is None or commune.lat is None or commune.lon is None:
            return "Pas de proposition : la commune du patient n'a pas de coordonnées."
        from datetime import date

        return Criteria(
            specialty=a["request.specialty"],
            lat=commune.lat,
            lon=commune.lon,
            age=age_on(date.fromisoformat(a["patient.birth_date"]), self.clock().date()),
            needs=frozenset(a.get("logistics.needs") or ()),
            isolation=a.get("medical.isolation"),
            specialty_alt=alternative_specialty(a),
        )

    def proposals(self, actor: Actor, dossier_id: str, limit: int = 20,
                  offset: int = 0) -> SearchResult | str:
        """Ranked units for the dossier (audited), or why there are none."""
        state = self.state(actor, dossier_id)
        if state.status == DossierStatus.BLOCKED:
            return "Pas de proposition : le dossier est bloqué (signe de gravité, appelez le 15)."
        criteria = self.criteria(state)
        if isinstance(criteria, str):
            return criteria
        criteria = secrecy.criteria_for(criteria, actor)  # reasons without medical content if need be
        result = self.directory().search(criteria, limit=limit, offset=offset)
        with Session(self.db) as session:
            audit.append(session, self._records(actor, dossier_id, [Event(
                "matching_proposed", detail=f"{len(result.proposals)} unités proposées")]), at=self._now())
            session.commit()
        return result

    def why_not(self, actor: Actor, dossier_id: str, unit_id: str) -> str:
        criteria = self.criteria(self.state(actor, dossier_id))
        if isinstance(criteria, str):
            return criteria
        return self.directory().why_not(unit_id, secrecy.criteria_for(criteria, actor))

    def choose(self, actor: Actor, dossier_id: str, unit_ids: list[str]) -> str | None:
        """Record the units chosen (1 to 5); returns a French error, or None when done."""
        if not 1 <= len(unit_ids) <= 5:
            return "Choisissez de 1 à 5 unités."
        unknown = [u for u in unit_ids if u not in self.directory().units]
        if unknown:
            return f"Unité(s) inconnue(s) : {', '.join(unknown)}."
        with Session(self.db) as session:
            state = self._load_for(session, actor, dossier_id)
            if state.status not in (DossierStatus.READY, DossierStatus.SIGNED, DossierStatus.SENT):
                return (f"Choix des unités impossible : le dossier n'est pas complet "
                        f"(statut « {state.status.value} »).")
            unit_ids = list(dict.fromkeys(unit_ids))
            if state.status == DossierStatus.SENT:  # adding units: the ones sent to stay chosen
                referrals = referrals_store.referrals_of(session, dossier_id)
                before = directory_store.chosen_units(session, dossier_id)
                problem, unit_ids = resend.added_units(referrals, before, unit_ids)
                if problem:
                    return problem
            directory_store.set_chosen_units(session, dossier_id, unit_ids)
            audit.append(session, self._records(actor, dossier_id, [Event(
                "units_chosen", detail=",".join(unit_ids))]), at=self._now())
            session.commit()
        return None

    def send(self, actor: Actor, dossier_id: str, key: str) -> SendResult:
        """Create one referral per chosen unit, exactly once: the same key (a retry, a lost reply,
        a crash and resume) returns the same referrals, and a dossier already sent to those
        units is never sent twice, whoever asks."""
        key = key.strip()
        if not 8 <= len(key) <= 200:
            raise SendError("Clé d'idempotence invalide : de 8 à 200 caractères attendus.")
        now = self._now()
        with Session(self.db) as session:
            state = dossiers.load(session, dossier_id, lock=True)
            if not actor.acts_for(state.owner_rpps):
                raise dossiers.NotFound(f"Dossier introuvable : « {dossier_id} ».")
            earlier = referrals_store.previous_send(session, key)
            if earlier is not None:
                if earlier[0] != dossier_id:
                    raise SendError("Cette clé d'idempotence a déjà servi pour un autre dossier.")
                unsent = resend.new_units(directory_store.chosen_units(session, dossier_id),
                                          referrals_store.referrals_of(session, dossier_id))
                return SendResult(self._referrals(session, earlier[1]), repeated=True, unsent=unsent)
            self._check_send(actor, state)
            chosen = directory_store.chosen_units(session, dossier_id)
            existing = referrals_store.referrals_of(session, dossier_id)
            if any(r.status in ("accepted", "admitted", "closed") for r in existing):
                raise SendError("Une unité a déjà accepté ce patient : pas d'envoi à une autre unité.")
            new_units = [u for u in chosen if u not in {r.unit_id for r in existing}]
            if not chosen:
                raise SendError("Envoi impossible : aucune unité choisie.")
            if not new_units:  # already sent to every chosen unit: the same set, never a copy
                ids = [r.id for r in existing if r.unit_id in chosen]
                referrals_store.record_send(session, key, dossier_id, ids, now)
                session.commit()
                return SendResult(self._referrals(session, ids), repeated=True)
            created = referrals_store.create_referrals(
                session, key=key, dossier_id=dossier_id, owner_rpps=state.owner_rpps,
                timing=state.answers.get("request.timing", "within_48h"), unit_ids=new_units, now=now)
            added = " (unités ajoutées à un dossier déjà envoyé)" if existing else ""
            events = [Event("sent", detail=f"{len(created)} demande(s){added} : {','.join(new_units)}")]
            if state.status != DossierStatus.SENT:
                events.append(Event("status_changed", detail=f"{state.status.value}->sent"))
                state.status = DossierStatus.SENT
                dossiers.save(session, state, set(), actor_id=actor.user_id, base_version=state.version)
            audit.append(session, self._records(actor, dossier_id, events), at=now)
            session.commit()
            return SendResult(created, repeated=False)

    def _check_send(self, actor: Actor, state: DossierState) -> None:
        if actor.role == Role.SECRETARY and not actor.has_scope(Scope.SEND):
            raise SendError("Envoi impossible : la délégation de la secrétaire n'inclut pas l'envoi (« send »).")
        if state.status == DossierStatus.BLOCKED:
            raise SendError("Envoi impossible : le dossier est bloqué (signe de gravité, appelez le 15).")
        if state.status not in (DossierStatus.SIGNED, DossierStatus.SENT):
            raise SendError(f"Envoi impossible : le dossier n'est pas signé (statut "
                            f"« {DOSSIER_STATUS_FR[state.status]} »).")
        if state.signature is None or state.signature.answers_hash != state.answers_hash():
            raise SendError("Envoi impossible : la signature ne correspond plus aux réponses.")

    @staticmethod
    def _referrals(session: Session, ids: list[str]) -> list[ReferralRow]:
        found = [referrals_store.get(session, i) for i in ids]
        return [r for r in found if r is not None]

    def chosen(self, actor: Actor, dossier_id: str) -> list[str]:
        with Session(self.db) as session:
            self._load_for(session, actor, dossier_id)
            return directory_store.chosen_units(session, dossier_id)

    def record(self, actor: Actor, dossier_id: str | None, event: str, detail: str | None = None) -> None:
        """Audit a step that changes nothing (a read, an opening)."""
        with Session(self.db) as session:
            audit.append(session, self._records(actor, dossier_id or "", [Event(event, detail=detail)]),
                         at=self._now())
            session.commit()

    def verify_audit(self) -> audit.Verification:
        with Session(self.db) as session:
            return audit.verify(session)
