"""The pure conversation engine (spec/hnp-dossier.md, spec/lifecycle.md), without a database.

The clock is fixed at 27/11/2026 10:00 (Paris, UTC+1) so that ages are stable.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from orient.assistant.directory.communes import default_table
from orient.assistant.engine import Engine, Lookups, Outcome
from orient.dialogs.hnp import HNP
from orient.models.dossier import DossierState
from orient.models.fields import Fill
from orient.models.lifecycle import DOSSIER_TRANSITIONS, DossierStatus
from orient.models.users import Actor, Role, Scope

PARIS_WINTER = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=PARIS_WINTER)
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

DOCTOR = Actor("doc-1", Role.DOCTOR, "Dr Claire Martin", rpps="10003456786")
SECRETARY = Actor(
    "sec-1", Role.SECRETARY, "Sophie Bernard", delegation_id="del-1",
    on_behalf_of="10003456786", scopes=frozenset({Scope.FILL_ADMIN}),
)
OTHER_DOCTOR = Actor("doc-2", Role.DOCTOR, "Dr Paul Autre", rpps="10000000009")

# The last (valid) input of each field of the doctor's full scenario.
DOCTOR_ANSWERS: dict[str, str] = {
    k: v[-1] for k, v in json.loads((SCENARIOS / "doctor_full.json").read_text("utf-8"))["answers"].items()
}

SECRETARY_ANSWERS: dict[str, str] = {
    "requester.callback_phone": "05 61 00 00 00",
    "patient.birth_name": "Dupont",
    "patient.first_names": "Anne",
    "patient.birth_date": "14/07/1950",
    "patient.sex": "F",
    "patient.identity_status": "validée",
    "patient.commune": "Toulouse",
    "context.living": "1",
    "context.legal_protection": "aucune",
    "context.gp_is_requester": "oui",
    "logistics.transport": "taxi",
}

SECRETARY_FIELDS = [f.id for f in HNP.fields if f.fill == Fill.SECRETARY and not f.prefilled]


def label(field_id: str) -> str:
    return HNP.field(field_id).label


# --------------------------------------------------------------------------- helpers


def make_engine(duplicates: Any = None) -> Engine:
    lookups = Lookups(
        now=lambda: NOW,
        communes=default_table(),
        duplicates=duplicates or (lambda _id, _traits: []),
    )
    return Engine(HNP, lookups)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return make_engine()


def new(engine: Engine, dossier_id: str = "d-1") -> DossierState:
    return engine.new_dossier(dossier_id, DOCTOR.rpps or "", DOCTOR.name).state


def drive(
    engine: Engine,
    state: DossierState,
    actor: Actor,
    answers: dict[str, str],
    *,
    stop: str | None = None,
    asked: list[str] | None = None,
) -> DossierState:
    """Answer questions from `answers` (empty for the others) until `stop` is the next question,
    or no question is left. Every answer must be accepted."""
    for _ in range(200):
        question = engine.next_question(state, actor)
        if question is None or question.id == stop:
            return state
        if asked is not None:
            asked.append(question.id)
        out = engine.answer(state, actor, answers.get(question.id, ""))
        assert out.ok, out.message
        state = out.state
    raise AssertionError("the conversation does not end")


def complete(engine: Engine, answers: dict[str, str] | None = None, dossier_id: str = "d-1") -> DossierState:
    state = drive(engine, new(engine, dossier_id), DOCTOR, {**DOCTOR_ANSWERS, **(answers or {})})
    assert state.status == DossierStatus.READY, engine.missing(state)
    return state


def at(engine: Engine, field_id: str, answers: dict[str, str] | None = None) -> DossierState:
    """A doctor's dossier whose next question is `field_id`."""
    state = drive(engine, new(engine), DOCTOR, {**DOCTOR_ANSWERS, **(answers or {})}, stop=field_id)
    question = engine.next_question(state, DOCTOR)
    assert question is not None and question.id == field_id
    return state


def change(engine: Engine, state: DossierState, actor: Actor, ref: str, typed: str) -> Outcome:
    out = engine.edit(state, actor, ref)
    assert out.ok, out.message
    return engine.answer(out.state, actor, typed)


def kinds(out: Outcome) -> list[tuple[str, str | None]]:
    return [(e.kind, e.field) for e in out.events]


def status_steps(out: Outcome) -> list[str]:
    return [e.detail or "" for e in out.events if e.kind == "status_changed"]


def assert_refused(out: Outcome, field_id: str, typed: str) -> str:
    """A refusal names the field's French label, what was typed and what is expected."""
    assert not out.ok
    message = out.message or ""
    assert label(field_id) in message, message
    if typed.strip():
        assert typed.strip() in message, message
    assert "Attendu" in message, message
    assert ("answer_refused", field_id) in kinds(out)
    return message


# --------------------------------------------------------------------------- order


def test_red_flags_is_the_doctors_first_question(engine: Engine) -> None:
    state = new(engine)
    question = engine.next_question(state, DOCTOR)
    assert question is not None and question.id == "request.red_flags"
    assert question.required


def test_red_flags_never_asked_to_a_secretary(engine: Engine) -> None:
    state = new(engine)
    first = engine.next_question(state, SECRETARY)
    assert first is not None and first.id == "requester.callback_phone"
    asked: list[str] = []
    drive(engine, state, SECRETARY, SECRETARY_ANSWERS, asked=asked)
    assert "request.red_flags" not in asked
    assert all(HNP.field(f).fill == Fill.SECRETARY for f in asked)


def test_prefilled_requester_fields_are_stored_and_never_asked(engine: Engine) -> None:
    created = engine.new_dossier("d-1", DOCTOR.rpps or "", DOCTOR.name)
    assert created.state.answers["requester.rpps"] == "10003456786"
    assert created.state.answers["requester.name"] == "Dr Claire Martin"
    assert ("answer_prefilled", "requester.rpps") in kinds(created)
    for actor, answers in ((DOCTOR, DOCTOR_ANSWERS), (SECRETARY, SECRETARY_ANSWERS)):
        asked: list[str] = []
        drive(engine, new(engine), actor, answers, asked=asked)
        assert "requester.rpps" not in asked and "requester.name" not in asked
        assert "requester.callback_phone" in asked


def test_prefilled_fields_can_be_changed_like_any_answer(engine: Engine) -> None:
    state = complete(engine)
    edit = engine.edit(state, DOCTOR, "requester.rpps")
    assert edit.ok and edit.next is not None and edit.next.current == "10003456786"
    assert_refused(engine.answer(edit.state, DOCTOR, "10003456787"), "requester.rpps", "10003456787")
    kept = engine.answer(edit.state, DOCTOR, "100 0345 6786")
    assert kept.ok and kept.state.answers["requester.rpps"] == "10003456786"
    # the name is an S field: the secretary may change it, not the RPPS (D)
    renamed = change(engine, state, SECRETARY, "requester.name", "Dr Claire Martin-Dupuis")
    assert renamed.ok and renamed.state.answers["requester.name"] == "Dr Claire Martin-Dupuis"
    assert not engine.edit(state, SECRETARY, "requester.rpps").ok


def test_doctor_order_follows_the_spec_after_red_flags(engine: Engine) -> None:
    asked: list[str] = []
    drive(engine, new(engine), DOCTOR, DOCTOR_ANSWERS, asked=asked)
    spec_order = [f.id for f in HNP.fields]
    rest = asked[1:]
    assert asked[0] == "request.red_flags"
    assert rest == sorted(rest, key=spec_order.index)
    assert rest[:2] == ["requester.callback_phone", "requester.mssante"]
    assert rest[-1] == "consent.patient_informed"


# --------------------------------------------------------------------------- red flags


def test_red_flag_blocks_the_dossier(engine: Engine) -> None:
    out = engine.answer(new(engine), DOCTOR, "1, 4")
    assert out.ok
    state = out.state
    assert state.answers["request.red_flags"] == ["respiratory_distress", "chest_pain"]
    assert state.status == DossierStatus.BLOCKED
    assert "draft->blocked" in status_steps(out)
    reason = engine.blocked_reason(state)
    assert reason is not None
    assert "15" in reason and "SAMU" in reason
    assert "Détresse respiratoire" in reason and "Douleur thoracique évocatrice de SCA" in reason
    assert out.next is None
    assert engine.next_question(state, DOCTOR) is None


def test_blocked_dossier_refuses_other_edits_and_signature(engine: Engine) -> None:
    state = engine.answer(new(engine), DOCTOR, "hémorragie").state
    assert state.status == DossierStatus.BLOCKED
    refused = engine.edit(state, DOCTOR, "patient.birth_name")
    assert not refused.ok
    assert "bloqué" in (refused.message or "") and label("request.red_flags") in (refused.message or "")
    assert refused.state is state and refused.state.focus is None
    nothing = engine.answer(state, DOCTOR, "Martin")
    assert not nothing.ok and nothing.state.answers == state.answers
    signing = engine.sign(state, DOCTOR, True)
    assert not signing.ok and "15" in (signing.message or "")


def test_correcting_red_flags_reopens_where_the_questions_stopped(engine: Engine) -> None:
    state = at(engine, "patient.sex")
    out = change(engine, state, DOCTOR, "request.red_flags", "6")
    assert out.ok and out.state.status == DossierStatus.BLOCKED and out.next is None
    assert "Hémorragie active" in (engine.blocked_reason(out.state) or "")
    blocked = out.state

    edit = engine.edit(blocked, DOCTOR, "request.red_flags")
    assert edit.ok and edit.next is not None and edit.next.id == "request.red_flags"
    assert edit.next.changing and edit.next.current == ["active_bleeding"]
    assert ("change_requested", "request.red_flags") in kinds(edit)  # audited

    out = engine.answer(edit.state, DOCTOR, "aucun")
    assert out.ok
    assert out.state.status == DossierStatus.DRAFT
    assert status_steps(out) == ["blocked->draft"]
    assert engine.blocked_reason(out.state) is None
    assert out.next is not None and out.next.id == "patient.sex"
    # the answers given before the block are all kept
    assert out.state.answers["patient.birth_date"] == "1938-03-12"


def test_red_flag_by_label_prefix_and_refusals(engine: Engine) -> None:
    state = new(engine)
    assert engine.answer(state, DOCTOR, "detresse").state.answers["request.red_flags"] == [
        "respiratory_distress"
    ]
    assert engine.answer(state, DOCTOR, "aucun").state.answers["request.red_flags"] == []
    for typed in ("9", "aucun, 1", "peut-être"):
        msg = assert_refused(engine.answer(state, DOCTOR, typed), "request.red_flags", typed)
        assert "Détresse respiratoire" in msg  # the options are listed
    empty = engine.answer(state, DOCTOR, "   ")
    assert not empty.ok and label("request.red_flags") in (empty.message or "")
    assert "Attendu" in (empty.message or "")


# --------------------------------------------------------------------------- conditions


def test_gp_name_switches_on_and_off(engine: Engine) -> None:
    state = complete(engine)
    assert "context.gp_name" not in state.answers

    out = change(engine, state, DOCTOR, "context.gp_is_requester", "non")
    assert out.ok
    assert out.next is not None and out.next.id == "context.gp_name" and out.next.required
    assert out.state.status == DossierStatus.DRAFT
    assert "context.gp_name" in engine.missing(out.state)

    out = engine.answer(out.state, DOCTOR, "Lefèvre")
    assert out.ok and out.state.answers["context.gp_name"] == "Lefèvre"
    assert out.state.status == DossierStatus.READY

    out = change(engine, out.state, DOCTOR, "context.gp_is_requester", "oui")
    assert out.ok
    assert "context.gp_name" not in out.state.answers
    assert ("answer_removed", "context.gp_name") in kinds(out)
    assert out.state.status == DossierStatus.READY
    assert out.next is None


def test_gp_name_asked_in_flow_when_not_the_requester(engine: Engine) -> None:
    state = at(engine, "context.gp_is_requester")
    out = engine.answer(state, DOCTOR, "n")
    assert out.state.answers["context.gp_is_requester"] is False
    assert out.next is not None and out.next.id == "context.gp_name"
    assert_refused(engine.answer(out.state, DOCTOR, ""), "context.gp_name", "")


def test_caregiver_phone_follows_caregiver_name(engine: Engine) -> None:
    state = at(engine, "context.caregiver_name")
    out = engine.answer(state, DOCTOR, "")
    assert out.next is not None and out.next.id == "context.legal_protection"  # phone not asked

    out = engine.answer(state, DOCTOR, "Paul Dupont")
    assert out.next is not None and out.next.id == "context.caregiver_phone" and out.next.required
    assert_refused(engine.answer(out.state, DOCTOR, ""), "context.caregiver_phone", "")
    out = engine.answer(out.state, DOCTOR, "06 12 34 56 78")
    assert out.ok and out.state.answers["context.caregiver_phone"] == "+33612345678"

    done = drive(engine, out.state, DOCTOR, DOCTOR_ANSWERS)
    assert done.status == DossierStatus.READY
    removed = change(engine, done, DOCTOR, "context.caregiver_name", "")
    assert removed.ok
    assert "context.caregiver_name" not in removed.state.answers
    assert "context.caregiver_phone" not in removed.state.answers
    assert ("answer_removed", "context.caregiver_phone") in kinds(removed)
    assert removed.state.status == DossierStatus.READY


def test_prior_contact_name_follows_prior_contact(engine: Engine) -> None:
    state = at(engine, "request.prior_contact")
    out = engine.answer(state, DOCTOR, "non")
    assert out.next is not None and out.next.id == "medical.reason"
    out = engine.answer(state, DOCTOR, "oui")
    assert out.next is not None and out.next.id == "request.prior_contact_name" and out.next.required
    out = engine.answer(out.state, DOCTOR, "Dr Durand, cardiologie")
    assert out.ok and out.next is not None and out.next.id == "medical.reason"

    done = drive(engine, out.state, DOCTOR, DOCTOR_ANSWERS)
    assert done.answers["request.prior_contact_name"] == "Dr Durand, cardiologie"
    out = change(engine, done, DOCTOR, "request.prior_contact", "non")
    assert "request.prior_contact_name" not in out.state.answers
    assert ("answer_removed", "request.prior_contact_name") in kinds(out)


def test_mdro_makes_precautions_required(engine: Engine) -> None:
    state = at(engine, "medical.isolation")
    out = engine.answer(state, DOCTOR, "BMR")
    assert out.ok and out.state.answers["medical.isolation"] == "mdro"
    assert out.next is not None and out.next.id == "medical.precautions" and out.next.required
    at_precautions = out.state
    assert_refused(engine.answer(at_precautions, DOCTOR, ""), "medical.precautions", "")
    assert_refused(engine.answer(at_precautions, DOCTOR, "aucune"), "medical.precautions", "aucune")
    assert_refused(engine.answer(at_precautions, DOCTOR, "aucun"), "medical.precautions", "aucun")
    out = engine.answer(at_precautions, DOCTOR, "contact, air")
    assert out.ok and out.state.answers["medical.precautions"] == ["contact", "airborne"]

    # "Aucun connu": precautions stay optional, "aucune" is accepted and stored as []
    out = engine.answer(state, DOCTOR, "aucun connu")
    out = engine.answer(out.state, DOCTOR, "aucune")
    assert out.ok and out.state.answers["medical.precautions"] == []


def test_isolation_changed_to_xdro_after_no_precautions_asks_them_again(engine: Engine) -> None:
    state = complete(engine)
    assert state.answers["medical.precautions"] == []
    out = change(engine, state, DOCTOR, "medical.isolation", "BHRe")
    assert out.ok
    assert "medical.precautions" not in out.state.answers
    assert ("answer_removed", "medical.precautions") in kinds(out)
    assert out.state.status == DossierStatus.DRAFT
    assert out.next is not None and out.next.id == "medical.precautions" and out.next.required


# --------------------------------------------------------------------------- SpO2


def test_low_spo2_asks_for_confirmation(engine: Engine) -> None:
    state = at(engine, "medical.spo2")
    out = engine.answer(state, DOCTOR, "85 %")
    assert out.ok and out.state.answers["medical.spo2"] == 85
    assert out.next is not None and out.next.id == "medical.spo2_confirmed" and out.next.required
    assert_refused(engine.answer(out.state, DOCTOR, ""), "medical.spo2_confirmed", "")
    # 90 and above: no confirmation
    normal = engine.answer(state, DOCTOR, "90")
    assert normal.next is not None and normal.next.id == "medical.temperature"


def test_spo2_not_confirmed_is_removed_and_asked_again(engine: Engine) -> None:
    low = engine.answer(at(engine, "medical.spo2"), DOCTOR, "85").state
    out = engine.answer(low, DOCTOR, "non")
    assert out.ok
    assert "medical.spo2" not in out.state.answers
    assert "medical.spo2_confirmed" not in out.state.answers
    assert ("answer_removed", "medical.spo2") in kinds(out)
    assert out.next is not None and out.next.id == "medical.spo2"
    again = engine.answer(out.state, DOCTOR, "95")
    assert again.state.answers["medical.spo2"] == 95
    assert again.next is not None and again.next.id == "medical.temperature"


def test_spo2_confirmed_is_kept(engine: Engine) -> None:
    low = engine.answer(at(engine, "medical.spo2"), DOCTOR, "85").state
    out = engine.answer(low, DOCTOR, "oui")
    assert out.ok
    assert out.state.answers["medical.spo2"] == 85
    assert out.state.answers["medical.spo2_confirmed"] is True
    assert out.next is not None and out.next.id == "medical.temperature"
    done = drive(engine, out.state, DOCTOR, DOCTOR_ANSWERS)
    assert done.status == DossierStatus.READY
    # raising the SpO2 later removes the confirmation, which no longer applies
    raised = change(engine, done, DOCTOR, "medical.spo2", "96")
    assert "medical.spo2_confirmed" not in raised.state.answers
    assert ("answer_removed", "medical.spo2_confirmed") in kinds(raised)


# --------------------------------------------------------------------------- field rules


@pytest.mark.parametrize("typed", ["dans 3 jours", "72 h", "la semaine prochaine"])
def test_timing_beyond_48h_is_refused_with_the_reminder(engine: Engine, typed: str) -> None:
    msg = assert_refused(engine.answer(at(engine, "request.timing"), DOCTOR, typed), "request.timing", typed)
    assert "48 h" in msg and "HNP" in msg
    assert "Aujourd'hui" in msg and "Sous 24 h" in msg and "Sous 48 h" in msg


def test_timing_accepts_the_options(engine: Engine) -> None:
    state = at(engine, "request.timing")
    for typed, code in (("1", "today"), ("sous 48 h", "within_48h"), ("within_24h", "within_24h")):
        assert engine.answer(state, DOCTOR, typed).state.answers["request.timing"] == code


def test_diastolic_must_be_below_systolic(engine: Engine) -> None:
    state = at(engine, "medical.bp_diastolic")  # systolic 145 already given
    for typed in ("150", "145"):
        msg = assert_refused(engine.answer(state, DOCTOR, typed), "medical.bp_diastolic", typed)
        assert "145" in msg
    assert engine.answer(state, DOCTOR, "90 mmHg").state.answers["medical.bp_diastolic"] == 90


def test_systolic_changed_below_diastolic_is_refused(engine: Engine) -> None:
    state = complete(engine)
    out = change(engine, state, DOCTOR, "medical.bp_systolic", "80")
    assert_refused(out, "medical.bp_systolic", "80")


def test_under_18_is_a_warning_not_a_refusal(engine: Engine) -> None:
    state = at(engine, "patient.birth_date")
    minor = engine.answer(state, DOCTOR, "28/11/2008")  # 17 until tomorrow
    assert minor.ok and minor.state.answers["patient.birth_date"] == "2008-11-28"
    assert [w.code for w in minor.warnings] == ["minor"]
    assert "17 ans" in minor.warnings[0].message
    assert ("warning_shown", "patient.birth_date") in kinds(minor)
    adult = engine.answer(state, DOCTOR, "27/11/2008")  # 18 today
    assert adult.ok and adult.warnings == []


def test_birth_date_refusals(engine: Engine) -> None:
    state = at(engine, "patient.birth_date")
    for typed in ("31/02/1938", "28/11/2026", "01/01/1900"):
        assert_refused(engine.answer(state, DOCTOR, typed), "patient.birth_date", typed)


def _nir(first13: str) -> tuple[str, str]:
    key = 97 - int(first13) % 97
    return first13 + f"{key:02d}", first13 + f"{key % 97 + 1:02d}"


def test_ins_wrong_key_refused_right_key_other_sex_warned(engine: Engine) -> None:
    male_nir, wrong_key = _nir("1380331555123")  # a man born 03/1938 in Toulouse
    state = at(engine, "patient.ins")  # the patient is a woman born 12/03/1938
    msg = assert_refused(engine.answer(state, DOCTOR, wrong_key), "patient.ins", wrong_key)
    assert "clé" in msg

    out = engine.answer(state, DOCTOR, male_nir)
    assert out.ok and out.state.answers["patient.ins"] == male_nir
    assert [w.code for w in out.warnings] == ["ins_mismatch"]
    assert "sexe" in out.warnings[0].message
    assert ("warning_shown", "patient.ins") in kinds(out)

    female_nir, _ = _nir("2380331555123")
    matching = engine.answer(state, DOCTOR, female_nir[:1] + " " + female_nir[1:3] + "." + female_nir[3:])
    assert matching.ok and matching.warnings == []
    assert matching.state.answers["patient.ins"] == female_nir


def test_duplicate_suspicion_warns_but_accepts(engine: Engine) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def duplicates(dossier_id: str, traits: dict[str, Any]) -> list[str]:
        seen.append((dossier_id, traits))
        return ["other-dossier"]

    dup_engine = make_engine(duplicates)
    state = at(dup_engine, "patient.sex")
    out = dup_engine.answer(state, DOCTOR, "F")
    assert out.ok
    assert out.duplicates == ["other-dossier"]
    assert "duplicate" in [w.code for w in out.warnings]
    assert ("warning_shown", "patient.sex") in kinds(out)
    assert seen[-1] == ("d-1", {
        "patient.birth_name": "MARTIN", "patient.first_names": "Jeanne Marie",
        "patient.birth_date": "1938-03-12", "patient.sex": "F",
    })
    # no duplicate found: no warning
    plain = engine.answer(at(engine, "patient.sex"), DOCTOR, "F")
    assert plain.ok and plain.duplicates == [] and plain.warnings == []


# --------------------------------------------------------------------------- moving around


def test_back_goes_to_the_previous_question_and_keeps_answers(engine: Engine) -> None:
    state = at(engine, "patient.sex")
    out = engine.back(state, DOCTOR)
    assert out.ok and out.next is not None and out.next.id == "patient.birth_date"
    assert out.next.current == "1938-03-12" and out.next.changing
    assert out.state.answers == state.answers

    further = engine.back(out.state, DOCTOR)
    assert further.next is not None and further.next.id == "patient.used_name"  # skipped, still a step
    assert further.state.answers == state.answers

    changed = engine.answer(out.state, DOCTOR, "13/03/1938")
    assert changed.state.answers["patient.birth_date"] == "1938-03-13"
    assert ("answer_changed", "patient.birth_date") in kinds(changed)
    assert changed.next is not None and changed.next.id == "patient.sex"

    cancelled = engine.cancel_change(out.state, DOCTOR)
    assert cancelled.next is not None and cancelled.next.id == "patient.sex"
    assert cancelled.state.answers == state.answers


def test_back_at_the_first_question_is_refused(engine: Engine) -> None:
    out = engine.back(new(engine), DOCTOR)
    assert not out.ok and "première question" in (out.message or "")
    after_red_flags = engine.answer(new(engine), DOCTOR, "aucun").state
    out = engine.back(after_red_flags, DOCTOR)
    assert out.ok and out.next is not None and out.next.id == "request.red_flags"


@pytest.mark.parametrize("ref", ["date de naissance", "Date de Naissance", "patient.birth_date"])
def test_edit_by_label_or_id(engine: Engine, ref: str) -> None:
    state = complete(engine)
    out = engine.edit(state, DOCTOR, ref)
    assert out.ok
    assert out.next is not None and out.next.id == "patient.birth_date" and out.next.changing
    assert ("change_requested", "patient.birth_date") in kinds(out)
    out = engine.answer(out.state, DOCTOR, "1938-03-13")
    assert out.state.answers["patient.birth_date"] == "1938-03-13"
    assert out.next is None and out.state.status == DossierStatus.READY


def test_edit_unknown_reference_is_refused(engine: Engine) -> None:
    out = engine.edit(complete(engine), DOCTOR, "pointure")
    assert not out.ok and "pointure" in (out.message or "")


def test_secretary_cannot_edit_a_doctor_field(engine: Engine) -> None:
    state = complete(engine)
    for ref in ("medical.reason", "Signes de gravité", "consent.patient_informed"):
        out = engine.edit(state, SECRETARY, ref)
        assert not out.ok and "réservé au médecin" in (out.message or "")
        assert out.state.focus is None
    assert engine.edit(state, SECRETARY, "patient.address").ok


# --------------------------------------------------------------------------- hand-over


def test_secretary_hands_over_to_the_doctor(engine: Engine) -> None:
    state = new(engine)
    asked: list[str] = []
    last: Outcome | None = None
    for _ in range(100):
        question = engine.next_question(state, SECRETARY)
        if question is None:
            break
        asked.append(question.id)
        last = engine.answer(state, SECRETARY, SECRETARY_ANSWERS.get(question.id, ""))
        assert last.ok, last.message
        if last.next is not None:  # not the last one yet: no hand-over
            assert last.state.status == DossierStatus.DRAFT
            assert ("handed_over", None) not in kinds(last)
        state = last.state
    assert last is not None
    assert [f for f in SECRETARY_FIELDS if f not in asked] == ["context.caregiver_phone", "context.gp_name"]
    assert state.status == DossierStatus.AWAITING_DOCTOR
    assert state.handed_over
    assert ("handed_over", None) in kinds(last)
    assert "draft->awaiting_doctor" in status_steps(last)
    missing = engine.missing(state)
    assert missing and all(HNP.field(f).fill == Fill.DOCTOR for f in missing)
    by_owner = engine.missing_by_owner(state)
    assert by_owner[Fill.SECRETARY] == [] and by_owner[Fill.DOCTOR] == missing

    # the doctor takes over: red flags first, then the remaining doctor fields only
    first = engine.next_question(state, DOCTOR)
    assert first is not None and first.id == "request.red_flags"
    doctor_asked: list[str] = []
    done = drive(engine, state, DOCTOR, DOCTOR_ANSWERS, asked=doctor_asked)
    assert doctor_asked[0] == "request.red_flags"
    assert all(HNP.field(f).fill == Fill.DOCTOR for f in doctor_asked)
    assert done.status == DossierStatus.READY
    assert done.answers["patient.birth_name"] == "DUPONT"  # the secretary's answers are kept
    assert engine.sign(done, DOCTOR, True).state.status == DossierStatus.SIGNED


def test_red_flag_after_hand_over_blocks_and_correction_gives_draft(engine: Engine) -> None:
    state = drive(engine, new(engine), SECRETARY, SECRETARY_ANSWERS)
    assert state.status == DossierStatus.AWAITING_DOCTOR
    out = engine.answer(state, DOCTOR, "sepsis")
    assert out.state.status == DossierStatus.BLOCKED
    assert status_steps(out) == ["awaiting_doctor->blocked"]
    fixed = change(engine, out.state, DOCTOR, "request.red_flags", "aucun")
    assert fixed.state.status == DossierStatus.DRAFT  # lifecycle: blocked -> draft
    assert fixed.next is not None and fixed.next.id == "request.specialty"


# --------------------------------------------------------------------------- signing


def test_sign_refused_when_incomplete_names_missing_labels(engine: Engine) -> None:
    state = at(engine, "medical.reason")
    out = engine.sign(state, DOCTOR, True)
    assert not out.ok and out.state.signature is None
    message = out.message or ""
    for field_id in engine.missing(state):
        assert label(field_id) in message
    assert label("medical.reason") in message and label("consent.patient_informed") in message
    assert label("patient.birth_name") not in message


def test_sign_refused_without_consent(engine: Engine) -> None:
    out = engine.answer(at(engine, "consent.patient_informed"), DOCTOR, "non")
    assert out.ok and out.state.status == DossierStatus.READY
    assert [w.code for w in out.warnings] == ["no_consent"]
    refused = engine.sign(out.state, DOCTOR, True)
    assert not refused.ok and "accord" in (refused.message or "")
    assert refused.state.status == DossierStatus.READY and refused.state.signature is None


def test_sign_refused_with_a_wrong_code(engine: Engine) -> None:
    state = complete(engine)
    out = engine.sign(state, DOCTOR, False)
    assert not out.ok and "Code personnel incorrect" in (out.message or "")
    assert ("signature_refused", None) in kinds(out)
    assert out.state.status == DossierStatus.READY and out.state.signature is None


def test_sign_refused_for_a_secretary_or_another_doctor(engine: Engine) -> None:
    state = complete(engine)
    for actor in (SECRETARY, OTHER_DOCTOR):
        out = engine.sign(state, actor, True)
        assert not out.ok and "médecin" in (out.message or "")
        assert out.state.signature is None


def test_sign_accepted_when_ready(engine: Engine) -> None:
    state = complete(engine)
    out = engine.sign(state, DOCTOR, True)
    assert out.ok
    signed = out.state
    assert signed.status == DossierStatus.SIGNED
    assert signed.signature is not None
    assert signed.signature.rpps == DOCTOR.rpps and signed.signature.user_id == DOCTOR.user_id
    assert signed.signature.answers_hash == state.answers_hash()
    assert signed.signature.at == NOW.isoformat()
    assert ("signed", None) in kinds(out) and status_steps(out) == ["ready->signed"]
    again = engine.sign(signed, DOCTOR, True)
    assert not again.ok and "déjà signé" in (again.message or "")


def test_any_change_after_signing_removes_the_signature(engine: Engine) -> None:
    signed = engine.sign(complete(engine), DOCTOR, True).state
    out = change(engine, signed, DOCTOR, "medical.goal", "Bilan et adaptation du traitement")
    assert out.ok
    assert out.state.signature is None
    assert out.state.status == DossierStatus.READY
    assert ("signature_removed", None) in kinds(out)
    assert status_steps(out) == ["signed->ready"]


def test_a_secretary_change_after_signing_removes_the_signature(engine: Engine) -> None:
    signed = engine.sign(complete(engine), DOCTOR, True).state
    out = change(engine, signed, SECRETARY, "patient.address", "3 rue des Lilas")
    assert out.ok and out.state.signature is None
    assert out.state.status == DossierStatus.READY
    assert ("signature_removed", None) in kinds(out)


def test_same_answer_again_keeps_the_signature(engine: Engine) -> None:
    signed = engine.sign(complete(engine), DOCTOR, True).state
    out = change(engine, signed, DOCTOR, "medical.diagnosis", "Insuffisance cardiaque gauche")
    assert out.ok and out.state.signature is not None and out.state.status == DossierStatus.SIGNED


def test_change_after_signing_that_leaves_a_field_missing_goes_through_ready(engine: Engine) -> None:
    signed = engine.sign(complete(engine), DOCTOR, True).state
    out = change(engine, signed, DOCTOR, "context.gp_is_requester", "non")
    assert out.ok
    assert out.state.signature is None
    assert out.state.status == DossierStatus.DRAFT
    steps = status_steps(out)
    assert steps == ["signed->ready", "ready->draft"]
    for step in steps:  # every step is a legal transition
        a, b = (DossierStatus(s) for s in step.split("->"))
        assert b in DOSSIER_TRANSITIONS[a]
    assert ("signature_removed", None) in kinds(out)
    assert out.next is not None and out.next.id == "context.gp_name"


def test_red_flag_after_signing_goes_to_blocked_without_awaiting_doctor(engine: Engine) -> None:
    """A doctor's own dossier never passes through awaiting_doctor: no secretary handed it over."""
    signed = engine.sign(complete(engine), DOCTOR, True).state
    out = change(engine, signed, DOCTOR, "request.red_flags", "7")
    assert out.state.status == DossierStatus.BLOCKED and out.state.signature is None
    steps = status_steps(out)
    assert steps == ["signed->ready", "ready->draft", "draft->blocked"]
    for step in steps:
        a, b = (DossierStatus(s) for s in step.split("->"))
        assert b in DOSSIER_TRANSITIONS[a]


def test_secretary_edit_on_a_complete_doctor_dossier_is_not_a_hand_over(engine: Engine) -> None:
    state = complete(engine)
    out = change(engine, state, SECRETARY, "patient.address", "3 rue des Lilas")
    assert out.ok
    assert ("handed_over", None) not in kinds(out)
    assert not out.state.handed_over
    # a later change that leaves a field missing gives draft, not awaiting_doctor
    later = change(engine, out.state, DOCTOR, "context.gp_is_requester", "non")
    assert later.state.status == DossierStatus.DRAFT
    assert status_steps(later) == ["ready->draft"]


# --------------------------------------------------------------------------- overview


def test_progress_per_section(engine: Engine) -> None:
    state = new(engine)
    before = {p.section: (p.answered, p.total) for p in engine.progress(state)}
    assert before["requester"] == (2, 4)  # the two prefilled fields
    assert before["patient"] == (0, 11)
    assert before["context"] == (0, 4)  # caregiver phone and GP name do not apply yet
    assert before["consent"] == (0, 1)

    handed = drive(engine, state, SECRETARY, SECRETARY_ANSWERS)
    after = {p.section: p for p in engine.progress(handed)}
    assert (after["patient"].answered, after["patient"].total) == (11, 11) and after["patient"].done
    assert (after["context"].answered, after["context"].total) == (4, 4)
    assert (after["request"].answered, after["request"].total) == (0, 5) and not after["request"].done
    assert (after["medical"].answered, after["medical"].total) == (0, 19)

    secretary_view = {p.section for p in engine.progress(handed, SECRETARY)}
    assert secretary_view == {"requester", "patient", "context", "logistics"}  # no D-only section

    done = drive(engine, handed, DOCTOR, DOCTOR_ANSWERS)
    assert all(p.done for p in engine.progress(done))


def test_review_marks_missing_fields_with_who_must_fill_them(engine: Engine) -> None:
    state = drive(engine, new(engine), SECRETARY, SECRETARY_ANSWERS)
    sections = engine.review(state)
    assert [s.section for s in sections] == [s for s, _ in HNP.sections]
    items = {i.field.id: i for s in sections for i in s.items}
    missing = {fid for fid, i in items.items() if i.state == "missing"}
    assert missing == set(engine.missing(state))
    assert items["request.red_flags"].who == "le médecin"
    assert items["consent.patient_informed"].state == "missing"
    assert items["patient.birth_name"].state == "answered"
    assert items["patient.birth_name"].display == "DUPONT"
    assert items["patient.birth_date"].display == "14/07/1950"
    assert items["patient.used_name"].state == "skipped"
    assert items["medical.goal"].state == "optional"
    assert "context.gp_name" not in items  # a condition that does not hold: not listed
    assert items["patient.commune"].who == "le médecin ou la secrétaire"

    incomplete = engine.review(at(engine, "patient.birth_date"))
    items = {i.field.id: i for s in incomplete for i in s.items}
    assert items["patient.birth_date"].state == "missing"
    assert items["patient.birth_date"].who == "le médecin ou la secrétaire"


# --------------------------------------------------------------------------- refusals


REFUSALS = [
    ("requester.callback_phone", "12"),
    ("requester.mssante", "pas-une-adresse"),
    ("patient.birth_name", "Martin3"),
    ("patient.birth_date", "31/02/1938"),
    ("patient.sex", "X"),
    ("patient.birth_place", "ABCDE"),
    ("patient.identity_status", "douteuse"),
    ("patient.commune", "Zzyzxville"),
    ("context.living", "sur la lune"),
    ("context.gp_is_requester", "peut-être"),
    ("request.specialty", "chirurgie"),
    ("request.timing", "dans 3 jours"),
    ("medical.reason", "fièvre"),
    ("medical.diagnosis_code", "XYZ"),
    ("medical.treatments", ""),
    ("medical.anticoagulation", "warfarine ++"),
    ("medical.allergies", ""),
    ("medical.bp_systolic", "400"),
    ("medical.heart_rate", "rapide"),
    ("medical.spo2", "120 %"),
    ("medical.temperature", "50"),
    ("medical.isolation", "peut-être"),
    ("medical.gir", "7"),
    ("logistics.transport", "hélicoptère"),
    ("consent.patient_informed", "bof"),
]


@pytest.mark.parametrize(("field_id", "typed"), REFUSALS)
def test_every_refusal_names_the_label_the_input_and_what_is_expected(
    engine: Engine, field_id: str, typed: str
) -> None:
    state = at(engine, field_id)
    out = engine.answer(state, DOCTOR, typed)
    assert_refused(out, field_id, typed)
    assert out.state is state  # nothing saved
    question = engine.next_question(out.state, DOCTOR)
    assert question is not None and question.id == field_id


def test_normalised_values_of_a_full_dossier(engine: Engine) -> None:
    answers = complete(engine).answers
    assert answers["requester.callback_phone"] == "+33561000000"
    assert answers["patient.birth_name"] == "MARTIN"
    assert answers["patient.birth_date"] == "1938-03-12"
    assert answers["patient.identity_status"] == "qualifiee"
    assert answers["patient.commune"] == "31555"
    assert answers["context.living"] == "home_with_others"
    assert answers["request.specialty"] == "cardiology"
    assert answers["medical.diagnosis_code"] == "I50.0"
    assert answers["medical.allergies"] == "aucune allergie connue"
    assert answers["medical.spo2"] == 93 and isinstance(answers["medical.spo2"], int)
    assert answers["medical.temperature"] == 37.2
    assert answers["logistics.needs"] == ["oxygen"]
    assert answers["consent.patient_informed"] is True


def test_low_systolic_pressure_is_accepted_with_a_warning(engine: Engine) -> None:
    low = engine.answer(at(engine, "medical.bp_systolic"), DOCTOR, "70")
    assert low.ok and low.state.answers["medical.bp_systolic"] == 70
    assert [w.code for w in low.warnings] == ["hypotension"]
    assert "15" in low.warnings[0].message and "Signes de gravité" in low.warnings[0].message
    normal = engine.answer(at(engine, "medical.bp_systolic"), DOCTOR, "125")
    assert normal.ok and normal.warnings == []


def test_sign_refusal_for_lack_of_consent_says_how_to_change_it(engine: Engine) -> None:
    out = engine.answer(at(engine, "consent.patient_informed"), DOCTOR, "non")
    refused = engine.sign(out.state, DOCTOR, True)
    assert "/modifier accord" in (refused.message or "")
    assert [f.id for f in HNP.find("accord")] == ["consent.patient_informed"]


def test_a_personal_mailbox_is_kept_with_a_warning_that_it_is_not_mssante(engine: Engine) -> None:
    personal = engine.answer(at(engine, "requester.mssante"), DOCTOR, "claire@gmail.com")
    assert personal.ok and personal.state.answers["requester.mssante"] == "claire@gmail.com"
    assert [w.code for w in personal.warnings] == ["not_mssante"]
    secure = engine.answer(at(engine, "requester.mssante"), DOCTOR, "claire.martin@medecin.mssante.fr")
    assert secure.ok and secure.warnings == []
