"""Proposed answers (spec/hnp-dossier.md, "Answers that fill several fields, and imported
answers"): values from outside the question asked are read through their field's rule, wait in the
dossier, and count only once the person confirms them; each answer keeps where it came from."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from orient.assistant.directory.communes import default_table
from orient.assistant.engine import CONFIRM_FIELD, Engine, Lookups
from orient.dialogs.hnp import HNP
from orient.models.dossier import DossierState
from orient.models.provenance import ASK, Proposal, Provenance, Source
from orient.models.users import Actor, Role, Scope

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=timezone(timedelta(hours=1)))
DOCTOR = Actor("doc-1", Role.DOCTOR, "Dr Claire Martin", rpps="10003456786")
SECRETARY = Actor("sec-1", Role.SECRETARY, "Sophie Bernard", delegation_id="del-1",
                  on_behalf_of="10003456786", scopes=frozenset({Scope.FILL_ADMIN}))
FILE = "sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(HNP, Lookups(now=lambda: NOW, communes=default_table()))


def fresh(engine: Engine, red_flags: bool = True) -> DossierState:
    state = engine.new_dossier("d-1", DOCTOR.rpps or "", DOCTOR.name).state
    if red_flags:
        out = engine.answer(state, DOCTOR, "aucun")
        assert out.ok
        state = out.state
    return state


def imported(*pairs: tuple[str, str]) -> list[Proposal]:
    return [Proposal(f, t, Source.IMPORT, FILE) for f, t in pairs]


def test_each_value_goes_through_its_rule_and_waits_for_confirmation(engine: Engine) -> None:
    state = fresh(engine)
    out = engine.propose(state, DOCTOR, imported(
        ("patient.birth_date", "31/02/1938"), ("patient.birth_name", "Martin"),
        ("requester.callback_phone", "05 61 00 00 00"), ("medical.spo2", "120 %")))
    assert out.ok
    assert [(r.field, r.text) for r in out.refused] == [("patient.birth_date", "31/02/1938"),
                                                        ("medical.spo2", "120 %")]
    assert "Date de naissance" in out.refused[0].message and "31/02/1938" in out.refused[0].message
    new = out.state
    # nothing pending counts as an answer
    assert "patient.birth_name" not in new.answers
    assert engine.missing(new) == engine.missing(state)
    assert [p.field for p in new.pending] == ["requester.callback_phone", "patient.birth_name"]
    kinds = [(e.kind, e.field) for e in out.events]
    assert ("answer_proposed", "patient.birth_name") in kinds
    assert ("proposal_refused", "patient.birth_date") in kinds
    assert all(e.detail == f"source=import;origin={FILE}" for e in out.events)
    # the confirmation question lists them by section, numbered
    q = out.next
    assert q is not None and q.id == CONFIRM_FIELD and q.section == "requester"
    assert [(i.number, i.field.id, i.display) for i in q.confirm] == [
        (1, "requester.callback_phone", "05 61 00 00 00"), (2, "patient.birth_name", "MARTIN")]
    assert q.confirm[0].source == Provenance(Source.IMPORT, FILE)
    assert not q.required


def test_red_flags_come_before_any_confirmation(engine: Engine) -> None:
    state = fresh(engine, red_flags=False)
    out = engine.propose(state, DOCTOR, [Proposal("requester.callback_phone", "0561000000", Source.PROFILE)])
    assert out.next is not None and out.next.id == "request.red_flags"
    after = engine.answer(out.state, DOCTOR, "aucun")
    assert after.next is not None and after.next.id == CONFIRM_FIELD


def test_enter_accepts_all_with_their_source(engine: Engine) -> None:
    state = engine.propose(fresh(engine), DOCTOR, imported(
        ("patient.birth_name", "Martin"), ("patient.first_names", "Jeanne"))).state
    out = engine.answer(state, DOCTOR, "")
    assert out.ok
    assert out.state.answers["patient.birth_name"] == "MARTIN"
    assert out.state.answers["patient.first_names"] == "Jeanne"
    assert out.state.sources["patient.birth_name"] == Provenance(Source.IMPORT, FILE)
    assert out.state.pending == []
    accepted = [e for e in out.events if e.kind == "answer_accepted"]
    assert [(e.field, e.detail) for e in accepted] == [
        ("patient.birth_name", f"source=import;origin={FILE}"),
        ("patient.first_names", f"source=import;origin={FILE}")]
    assert out.changed >= {"patient.birth_name", "patient.first_names"}
    # back to the ordinary questions (the callback phone comes first)
    assert out.next is not None and out.next.id == "requester.callback_phone"
    # the review marks them
    items = {i.field.id: i for s in engine.review(out.state) for i in s.items}
    assert items["patient.birth_name"].source == Provenance(Source.IMPORT, FILE)
    assert items["requester.rpps"].source is None


def test_oui_accepts_all(engine: Engine) -> None:
    state = engine.propose(fresh(engine), DOCTOR, imported(("patient.birth_name", "Martin"))).state
    assert engine.answer(state, DOCTOR, " Oui ").state.answers["patient.birth_name"] == "MARTIN"


def test_numbers_drop_those_and_ask_them_by_hand_next(engine: Engine) -> None:
    state = engine.propose(fresh(engine), DOCTOR, imported(
        ("requester.callback_phone", "05 61 00 00 00"), ("patient.birth_name", "Martin"),
        ("patient.first_names", "Jeanne"), ("patient.birth_date", "12/03/1938"))).state
    out = engine.answer(state, DOCTOR, "4, 2")
    assert out.ok
    assert out.state.answers.get("requester.callback_phone") == "+33561000000"
    assert out.state.answers.get("patient.first_names") == "Jeanne"
    assert "patient.birth_name" not in out.state.answers
    assert "patient.birth_date" not in out.state.answers
    assert [(p.field, p.step) for p in out.state.pending] == [("patient.birth_name", ASK),
                                                              ("patient.birth_date", ASK)]
    assert [e.field for e in out.events if e.kind == "proposal_dropped"] == ["patient.birth_name",
                                                                             "patient.birth_date"]
    # asked by hand next, in the order listed; the typed answer is recorded as typed
    assert out.next is not None and out.next.id == "patient.birth_name"
    typed = engine.answer(out.state, DOCTOR, "Durand")
    assert typed.state.answers["patient.birth_name"] == "DURAND"
    assert "patient.birth_name" not in typed.state.sources
    assert [e.detail for e in typed.events if e.kind == "answer_accepted"] == ["source=typed"]
    assert typed.next is not None and typed.next.id == "patient.birth_date"
    done = engine.answer(typed.state, DOCTOR, "12/03/1939")
    assert done.state.pending == []
    assert done.next is not None and done.next.id == "requester.mssante"  # the ordinary order again


def test_non_drops_all_then_fields_are_asked_as_usual(engine: Engine) -> None:
    state = engine.propose(fresh(engine), DOCTOR, imported(
        ("patient.birth_name", "Martin"), ("patient.sex", "F"))).state
    out = engine.answer(state, DOCTOR, "non")
    assert out.ok and out.state.pending == []
    assert "patient.birth_name" not in out.state.answers
    assert out.next is not None and out.next.id == "requester.callback_phone"


@pytest.mark.parametrize("typed", ["5", "0", "1, x", "peut-être", "12/03/1938"])
def test_a_confirmation_answer_that_is_not_one_is_refused(engine: Engine, typed: str) -> None:
    state = engine.propose(fresh(engine), DOCTOR, imported(
        ("patient.birth_name", "Martin"), ("patient.sex", "F"))).state
    out = engine.answer(state, DOCTOR, typed)
    assert not out.ok
    assert out.message and "Entrée" in out.message and "de 1 à 2" in out.message
    assert out.state.pending == state.pending
    assert [(e.kind, e.field) for e in out.events] == [("answer_refused", CONFIRM_FIELD)]


def test_a_field_the_actor_may_not_fill_is_refused_with_the_reason(engine: Engine) -> None:
    state = engine.new_dossier("d-2", DOCTOR.rpps or "", DOCTOR.name).state
    out = engine.propose(state, SECRETARY, imported(("medical.allergies", "pénicilline"),
                                                    ("patient.birth_name", "Martin"),
                                                    ("no.such_field", "x")))
    assert {r.field: r.message for r in out.refused} == {
        "medical.allergies": "« Allergies connues » est réservé au médecin.",
        "no.such_field": "« no.such_field » : aucune question de ce nom dans le dossier."}
    assert [p.field for p in out.state.pending] == ["patient.birth_name"]


def test_the_secretary_is_never_shown_the_doctors_pending_values(engine: Engine) -> None:
    state = fresh(engine)
    state = engine.propose(state, DOCTOR, imported(("medical.allergies", "pénicilline"),
                                                   ("patient.birth_name", "Martin"))).state
    q = engine.next_question(state, SECRETARY)
    assert q is not None and [i.field.id for i in q.confirm] == ["patient.birth_name"]
    out = engine.answer(state, SECRETARY, "")
    assert out.state.answers["patient.birth_name"] == "MARTIN"
    assert [p.field for p in out.state.pending] == ["medical.allergies"]  # still the doctor's
    q = engine.next_question(out.state, DOCTOR)
    assert q is not None and [i.field.id for i in q.confirm] == ["medical.allergies"]


def test_rules_see_the_other_proposed_values_and_are_read_again_when_confirmed(engine: Engine) -> None:
    state = fresh(engine)
    out = engine.propose(state, DOCTOR, imported(("medical.bp_systolic", "120"),
                                                 ("medical.bp_diastolic", "130")))
    assert [r.field for r in out.refused] == ["medical.bp_diastolic"]
    assert "systolique" in out.refused[0].message
    # a condition met by another proposal of the same batch
    out = engine.propose(state, DOCTOR, imported(("context.caregiver_name", "Paul Martin"),
                                                 ("context.caregiver_phone", "06 12 34 56 78")))
    assert out.refused == []
    # dropping the caregiver drops the phone, which no longer applies, with a word
    confirmed = engine.answer(out.state, DOCTOR, "1")
    assert [r.field for r in confirmed.refused] == ["context.caregiver_phone"]
    assert "ne s'applique plus" in confirmed.refused[0].message
    assert "context.caregiver_phone" not in confirmed.state.answers


def test_a_proposal_equal_to_the_answer_asks_nothing(engine: Engine) -> None:
    state = engine.answer(fresh(engine), DOCTOR, "05 61 00 00 00").state
    out = engine.propose(state, DOCTOR, [Proposal("requester.callback_phone", "+33561000000", Source.PROFILE)])
    assert out.state.pending == [] and out.events == []


def test_a_change_of_an_answer_shows_what_it_replaces(engine: Engine) -> None:
    state = engine.answer(fresh(engine), DOCTOR, "05 61 00 00 00").state
    out = engine.propose(state, DOCTOR, imported(("requester.callback_phone", "05 62 00 00 00")))
    q = out.next
    assert q is not None and q.confirm[0].current_display == "05 61 00 00 00"
    done = engine.answer(out.state, DOCTOR, "")
    assert [e.kind for e in done.events if e.field == "requester.callback_phone"] == ["answer_changed"]


def test_warnings_of_confirmed_values_are_shown(engine: Engine) -> None:
    state = engine.propose(fresh(engine), DOCTOR, imported(("medical.bp_systolic", "80"))).state
    out = engine.answer(state, DOCTOR, "")
    assert [w.code for w in out.warnings] == ["hypotension"]
    assert ("warning_shown", "medical.bp_systolic") in [(e.kind, e.field) for e in out.events]


def test_low_spo2_from_a_proposal_is_still_confirmed(engine: Engine) -> None:
    state = engine.propose(fresh(engine), DOCTOR, imported(("medical.spo2", "86"))).state
    out = engine.answer(state, DOCTOR, "")
    assert out.state.answers["medical.spo2"] == 86
    assert out.next is not None and out.next.id == "requester.callback_phone"
    assert HNP.field("medical.spo2_confirmed").applies(out.state.answers)
    assert "medical.spo2_confirmed" in engine.missing(out.state)


def test_a_sent_or_blocked_dossier_takes_no_proposal(engine: Engine) -> None:
    state = fresh(engine, red_flags=False)
    blocked = engine.answer(state, DOCTOR, "1").state
    out = engine.propose(blocked, DOCTOR, imported(("patient.birth_name", "Martin")))
    assert out.state.pending == [] and "bloqué" in out.refused[0].message
