"""Property tests of the engine: whatever is typed, at whatever question, it never raises, and a
refusal always names the field being asked (spec/hnp-dossier.md, "How a typed answer is read")."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orient.assistant.directory.communes import default_table
from orient.assistant.engine import Engine, Lookups
from orient.dialogs.hnp import HNP
from orient.models.dossier import DossierState
from orient.models.lifecycle import DossierStatus
from orient.models.users import Actor, Role, Scope

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=timezone(timedelta(hours=1)))
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
DOCTOR = Actor("doc-1", Role.DOCTOR, "Dr Claire Martin", rpps="10003456786")
SECRETARY = Actor(
    "sec-1", Role.SECRETARY, "Sophie Bernard", delegation_id="del-1",
    on_behalf_of="10003456786", scopes=frozenset({Scope.FILL_ADMIN}),
)
DOCTOR_ANSWERS: dict[str, str] = {
    k: v[-1] for k, v in json.loads((SCENARIOS / "doctor_full.json").read_text("utf-8"))["answers"].items()
}
# Valid answers that also open the conditional questions (caregiver phone, GP name, prior contact
# name, SpO2 confirmation, required precautions).
BRANCHING_ANSWERS = {
    **DOCTOR_ANSWERS,
    "context.caregiver_name": "Paul Dupont",
    "context.caregiver_phone": "06 12 34 56 78",
    "context.gp_is_requester": "non",
    "context.gp_name": "Lefèvre",
    "request.prior_contact": "oui",
    "request.prior_contact_name": "Dr Durand, cardiologie",
    "medical.spo2": "85",
    "medical.spo2_confirmed": "oui",
    "medical.isolation": "BMR",
    "medical.precautions": "contact",
}

ENGINE = Engine(HNP, Lookups(now=lambda: NOW, communes=default_table(),
                             duplicates=lambda _i, t: ["dup"] if t.get("patient.sex") == "M" else []))


def _states(actor: Actor, answers: dict[str, str]) -> list[DossierState]:
    """The state before every question of the conversation driven with valid answers, and the
    final state."""
    state = ENGINE.new_dossier("d-prop", DOCTOR.rpps or "", DOCTOR.name).state
    states = []
    for _ in range(200):
        states.append(state)
        question = ENGINE.next_question(state, actor)
        if question is None:
            return states
        out = ENGINE.answer(state, actor, answers.get(question.id, ""))
        assert out.ok, out.message
        state = out.state
    raise AssertionError("the conversation does not end")


DOCTOR_STATES = _states(DOCTOR, DOCTOR_ANSWERS)
BRANCH_STATES = _states(DOCTOR, BRANCHING_ANSWERS)
SECRETARY_STATES = _states(SECRETARY, {**DOCTOR_ANSWERS, "context.living": "1"})
READY = DOCTOR_STATES[-1]
SIGNED = ENGINE.sign(READY, DOCTOR, True).state
BLOCKED = ENGINE.answer(DOCTOR_STATES[0], DOCTOR, "1").state

POINTS: list[tuple[Actor, DossierState]] = (
    [(DOCTOR, s) for s in DOCTOR_STATES]
    + [(DOCTOR, s) for s in BRANCH_STATES]
    + [(SECRETARY, s) for s in SECRETARY_STATES]
    + [(DOCTOR, SIGNED), (DOCTOR, BLOCKED), (SECRETARY, BLOCKED)]
)


def test_the_driven_conversations_reach_their_ends() -> None:
    assert READY.status == DossierStatus.READY
    assert BRANCH_STATES[-1].status == DossierStatus.READY
    assert SECRETARY_STATES[-1].status == DossierStatus.AWAITING_DOCTOR
    assert SIGNED.status == DossierStatus.SIGNED and BLOCKED.status == DossierStatus.BLOCKED
    branch_fields = {ENGINE.next_question(s, DOCTOR).id for s in BRANCH_STATES[:-1]}  # type: ignore[union-attr]
    assert {"context.caregiver_phone", "context.gp_name", "request.prior_contact_name",
            "medical.spo2_confirmed", "medical.precautions"} <= branch_fields


# Any text: any unicode (controls, surrogates excluded by hypothesis, combining marks, RTL...),
# sometimes huge; plus texts built from the characters readers care about.
ANY_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(max_size=3000),
    st.text(alphabet=st.sampled_from("0123456789 ,.;-/%°'’aAéoOuinN\t\n\x00\u00a0\u202e"), max_size=60),
    st.sampled_from(["aucun", "aucune", "oui", "non", "0", "-1", "1e9", "9" * 500, "nan", "inf",
                     "1,2,3,4,5,6,7,8", "2A004", "  ", "\x00", "１２", "٣", "²"]),
)
POINT = st.integers(min_value=0, max_value=len(POINTS) - 1)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(point=POINT, typed=ANY_TEXT)
def test_answer_never_raises_and_refusals_name_the_field(point: int, typed: str) -> None:
    actor, state = POINTS[point]
    question = ENGINE.next_question(state, actor)
    before = state.copy()
    out = ENGINE.answer(state, actor, typed)
    assert state.answers == before.answers and state.status == before.status  # pure
    if question is None:
        assert not out.ok and out.message
        return
    if out.ok:
        # recorded, or (answers chained with « ; », a line of signs) waiting for one confirmation
        assert question.id in out.changed or (out.next is not None and out.next.confirm)
        # an accepted answer leads to a legal state: a question of the actor, or none
        nxt = out.next
        assert nxt is None or ENGINE.can_fill(actor, nxt.field)
        assert out.state.status in set(DossierStatus)
    else:
        assert out.message
        # one answer filling several fields (a blood pressure at the diastolic question) names the
        # field whose value was refused
        split = HNP.split_answer(question.id, typed)
        named = [question.id, *(f for f, _ in (split.parts if split is not None else ())),
                 *(r.field for r in out.refused)]  # a run: the fields its parts were refused for
        assert any(HNP.field(f).label in out.message for f in named), (question.id, out.message)
        assert "Attendu" in out.message
        # nothing changes but the candidates a commune's refusal offers for a numbered pick
        assert out.state is state or (out.persist and out.state.answers == state.answers
                                       and out.state.status == state.status
                                       and set(out.state.picks) <= {question.id} | set(state.picks))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(point=POINT, ref=ANY_TEXT)
def test_edit_never_raises(point: int, ref: str) -> None:
    actor, state = POINTS[point]
    out = ENGINE.edit(state, actor, ref)
    if out.ok:
        assert out.next is not None
        assert out.state.focus == out.next.id
        assert ENGINE.can_fill(actor, out.next.field)
        assert out.state.answers == state.answers
    else:
        assert out.message
        assert out.state.answers == state.answers and out.state.focus == state.focus


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(point=POINT, field_id=st.sampled_from([f.id for f in HNP.fields]), typed=ANY_TEXT)
def test_edit_then_any_answer_never_raises(point: int, field_id: str, typed: str) -> None:
    actor, state = POINTS[point]
    edit = ENGINE.edit(state, actor, field_id)
    if not edit.ok:
        return
    assert edit.next is not None and edit.next.id == field_id
    out = ENGINE.answer(edit.state, actor, typed)
    if not out.ok:
        # the refusal names the field asked, or, for one answer filling several fields (a blood
        # pressure typed at the diastolic question), the field whose value was refused
        split = HNP.split_answer(field_id, typed)
        named = [field_id, *(f for f, _ in (split.parts if split is not None else ()))]
        assert any(HNP.field(f).label in (out.message or "") for f in named), out.message
        assert "Attendu" in (out.message or "")
    else:
        # a signature never survives a changed answer
        if out.state.signature is not None:
            assert out.state.signature.answers_hash == out.state.answers_hash()
        # the status agrees with what is missing
        if out.state.status in (DossierStatus.READY, DossierStatus.SIGNED):
            assert ENGINE.missing(out.state) == []


@pytest.mark.parametrize("field_id", [f.id for f in HNP.fields])
def test_every_label_reachable_by_edit(field_id: str) -> None:
    """Every field can be named by its id; its French label finds it (or lists it among several)."""
    assert [f.id for f in HNP.find(field_id)] == [field_id]
    assert field_id in [f.id for f in HNP.find(HNP.field(field_id).label)]


@pytest.mark.parametrize(("typed", "found"), [
    ("accord", ["consent.patient_informed"]),  # a word inside the label, not its start
    ("Allergies", ["medical.allergies"]),  # the label's start
    ("medical.allergies", ["medical.allergies"]),  # the id
    ("ou", []),  # under four letters: no search inside the labels
])
def test_a_field_is_found_by_a_word_of_its_label(typed: str, found: list[str]) -> None:
    assert [f.id for f in HNP.find(typed)] == found


@pytest.mark.parametrize(("answers", "label"), [
    ({"patient.birth_name": "MARTIN", "patient.first_names": "Jeanne Marie",
      "patient.birth_date": "1938-03-12", "patient.sex": "F"}, "MARTIN Jeanne Marie, née le 12/03/1938"),
    ({"patient.birth_name": "DURAND", "patient.first_names": "Paul",
      "patient.birth_date": "1950-07-14", "patient.sex": "M"}, "DURAND Paul, né le 14/07/1950"),
    ({"patient.birth_name": "DURAND", "patient.birth_date": "1950-07-14"}, "DURAND, né(e) le 14/07/1950"),
    ({"patient.birth_name": "DURAND"}, "DURAND"),  # no date yet: the name alone
    ({"patient.birth_date": "1950-07-14"}, ""),  # no name yet: nothing to show
])
def test_patient_label_tells_namesakes_apart(answers: dict[str, str], label: str) -> None:
    from orient.dialogs.hnp import patient_label

    assert patient_label(answers) == label
