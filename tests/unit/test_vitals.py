"""Vital signs (spec/hnp-dossier.md, medical rows): respiratory rate, oxygen and weight; a blood
pressure in one answer, a SpO2 with its oxygen, a whole line of signs at any vital-sign question."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from orient.assistant.engine import CONFIRM_FIELD, Engine, Lookups
from orient.dialogs.hnp import HNP
from orient.dialogs.hnp_vitals import VITAL_FIELDS, split
from orient.models.dossier import DossierState
from orient.models.provenance import Provenance, Source
from orient.models.users import Actor, Role

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=timezone(timedelta(hours=1)))
DOCTOR = Actor("doc-1", Role.DOCTOR, "Dr Claire Martin", rpps="10003456786")
LINE = "TA 128/74 FC 96 FR 24 SpO2 89% AA T 38,5 poids 62"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(HNP, Lookups(now=lambda: NOW))


def at(engine: Engine, field_id: str, **answers: object) -> DossierState:
    """A dossier whose next question is `field_id`: the questions before it are passed (or
    answered as given); an answered `field_id` is being changed."""
    state = engine.new_dossier("d-1", DOCTOR.rpps or "", DOCTOR.name).state
    state.answers.update({"request.red_flags": [], **{k.replace("__", "."): v for k, v in answers.items()}})
    for spec in HNP.order(Role.DOCTOR):
        if spec.id == field_id:
            break
        if spec.id not in state.answers and spec.applies(state.answers):
            state.skipped.add(spec.id)
    if field_id in state.answers:
        state.focus = field_id
    q = engine.next_question(state, DOCTOR)
    assert q is not None and q.id == field_id
    return state


def test_the_new_fields_come_in_the_spec_order() -> None:
    ids = [f.id for f in HNP.fields if f.section == "medical"]
    i = ids.index("medical.temperature")
    assert ids[ids.index("medical.bp_systolic"):i + 4] == [
        "medical.bp_systolic", "medical.bp_diastolic", "medical.heart_rate", "medical.spo2",
        "medical.spo2_confirmed", "medical.temperature", "medical.resp_rate", "medical.oxygen",
        "medical.weight"]
    assert ids[i + 4] == "medical.isolation"


@pytest.mark.parametrize(("field_id", "typed", "stored"), [
    ("medical.resp_rate", "24", 24), ("medical.resp_rate", "24 /min", 24), ("medical.resp_rate", "5", 5),
    ("medical.weight", "62", 62.0), ("medical.weight", "62,5 kg", 62.5), ("medical.weight", "1", 1.0),
    ("medical.oxygen", "air ambiant", "air ambiant"), ("medical.oxygen", "AA", "air ambiant"),
    ("medical.oxygen", "aa", "air ambiant"), ("medical.oxygen", "2 L/min", "2 L/min"),
    ("medical.oxygen", "O2 3l", "3 L/min"), ("medical.oxygen", "sous 0,5 l/min", "0,5 L/min"),
    ("medical.oxygen", "15 litres/min", "15 L/min"),
])
def test_new_fields_are_read_and_stored_normalised(engine: Engine, field_id: str, typed: str,
                                                   stored: object) -> None:
    out = engine.answer(at(engine, field_id), DOCTOR, typed)
    assert out.ok, out.message
    assert out.state.answers[field_id] == stored


@pytest.mark.parametrize(("field_id", "typed", "words"), [
    ("medical.resp_rate", "4", "entre 5 et 60"), ("medical.resp_rate", "61", "hors limites"),
    ("medical.weight", "351", "hors limites"), ("medical.weight", "0,5", "entre 1 et 350"),
    ("medical.oxygen", "masque", "air ambiant"), ("medical.oxygen", "80 L/min", "dépasse 60 L/min"),
])
def test_new_fields_refuse_with_the_reason(engine: Engine, field_id: str, typed: str, words: str) -> None:
    out = engine.answer(at(engine, field_id), DOCTOR, typed)
    assert not out.ok
    assert out.message and HNP.field(field_id).label in out.message and words in out.message
    assert field_id not in out.state.answers


@pytest.mark.parametrize(("typed", "sys_", "dia"), [
    ("128/74", 128, 74), ("128 / 74 mmHg", 128, 74), ("12/7", 120, 70), ("12,5/7", 125, 70),
    ("TA 128/74", 128, 74), ("90/29", 90, 29),
])
def test_blood_pressure_in_one_answer(engine: Engine, typed: str, sys_: int, dia: int) -> None:
    out = engine.answer(at(engine, "medical.bp_systolic"), DOCTOR, typed)
    assert out.ok, out.message
    assert (out.state.answers["medical.bp_systolic"], out.state.answers["medical.bp_diastolic"]) == (sys_, dia)
    assert out.state.sources == {}  # typed
    assert [e.detail for e in out.events if e.kind == "answer_accepted"] == ["source=typed"] * 2
    assert out.next is not None and out.next.id == "medical.heart_rate"


def test_a_single_number_is_the_systolic_and_the_diastolic_is_asked(engine: Engine) -> None:
    out = engine.answer(at(engine, "medical.bp_systolic"), DOCTOR, "128")
    assert out.state.answers["medical.bp_systolic"] == 128
    assert out.next is not None and out.next.id == "medical.bp_diastolic"


@pytest.mark.parametrize(("typed", "label", "words"), [
    ("128/250", "diastolique", "hors limites"), ("74/128", "diastolique", "inférieure à la systolique"),
    ("400/74", "systolique", "hors limites"),
])
def test_a_refused_part_of_a_pressure_records_nothing(engine: Engine, typed: str, label: str,
                                                     words: str) -> None:
    state = at(engine, "medical.bp_systolic")
    out = engine.answer(state, DOCTOR, typed)
    assert not out.ok
    assert out.message and label in out.message and words in out.message and typed in out.message
    assert "medical.bp_systolic" not in out.state.answers and "medical.bp_diastolic" not in out.state.answers


def test_a_pressure_replaces_both_parts_when_changed(engine: Engine) -> None:
    state = at(engine, "medical.bp_systolic", medical__bp_systolic=150, medical__bp_diastolic=95)
    out = engine.answer(state, DOCTOR, "110/60")
    assert out.ok, out.message
    assert (out.state.answers["medical.bp_systolic"], out.state.answers["medical.bp_diastolic"]) == (110, 60)


def test_low_systolic_warning_with_a_pressure_in_one_answer(engine: Engine) -> None:
    out = engine.answer(at(engine, "medical.bp_systolic"), DOCTOR, "85/50")
    assert out.ok and [w.code for w in out.warnings] == ["hypotension"]


@pytest.mark.parametrize(("typed", "spo2", "oxygen"), [
    ("89 % AA", 89, "air ambiant"), ("94 % sous 2 L", 94, "2 L/min"), ("94% O2 3l", 94, "3 L/min"),
    ("SpO2 96 % air ambiant", 96, "air ambiant"),
])
def test_spo2_with_its_oxygen(engine: Engine, typed: str, spo2: int, oxygen: str) -> None:
    out = engine.answer(at(engine, "medical.spo2"), DOCTOR, typed)
    assert out.ok, out.message
    assert (out.state.answers["medical.spo2"], out.state.answers["medical.oxygen"]) == (spo2, oxygen)


def test_low_spo2_with_oxygen_is_still_confirmed_and_non_asks_it_again(engine: Engine) -> None:
    out = engine.answer(at(engine, "medical.spo2"), DOCTOR, "86 % AA")
    assert out.next is not None and out.next.id == "medical.spo2_confirmed"
    no = engine.answer(out.state, DOCTOR, "non")
    assert "medical.spo2" not in no.state.answers
    assert no.state.answers["medical.oxygen"] == "air ambiant"  # the oxygen was not in question
    assert no.next is not None and no.next.id == "medical.spo2"


@pytest.mark.parametrize("field_id", VITAL_FIELDS)
def test_a_line_of_signs_at_any_vital_sign_question(engine: Engine, field_id: str) -> None:
    state = at(engine, field_id)
    out = engine.answer(state, DOCTOR, LINE)
    assert out.ok, out.message
    assert not any(k in out.state.answers for k in VITAL_FIELDS)  # nothing counts before confirming
    q = out.next
    assert q is not None and q.id == CONFIRM_FIELD
    assert [(i.number, i.field.id, i.display) for i in q.confirm] == [
        (1, "medical.bp_systolic", "128"), (2, "medical.bp_diastolic", "74"), (3, "medical.heart_rate", "96"),
        (4, "medical.spo2", "89"), (5, "medical.temperature", "38,5"), (6, "medical.resp_rate", "24"),
        (7, "medical.oxygen", "air ambiant"), (8, "medical.weight", "62")]
    assert {i.source for i in q.confirm} == {Provenance(Source.TYPED)}
    done = engine.answer(out.state, DOCTOR, "")
    assert done.ok
    assert {k: done.state.answers[k] for k in VITAL_FIELDS} == {
        "medical.bp_systolic": 128, "medical.bp_diastolic": 74, "medical.heart_rate": 96, "medical.spo2": 89,
        "medical.temperature": 38.5, "medical.resp_rate": 24, "medical.oxygen": "air ambiant",
        "medical.weight": 62.0}
    assert done.state.sources == {}  # typed by the person
    # the low SpO2 is still confirmed, right after
    assert done.next is not None and done.next.id == "medical.spo2_confirmed"


def test_what_a_line_does_not_say_is_asked_as_usual(engine: Engine) -> None:
    out = engine.answer(at(engine, "medical.bp_systolic"), DOCTOR, "FC 96 glycémie 1,2 SpO2 94 % sous 2 L")
    assert out.ok
    assert out.message and "« glycémie 1,2 »" in out.message
    assert [i.field.id for i in out.next.confirm] == ["medical.heart_rate", "medical.spo2", "medical.oxygen"]
    done = engine.answer(out.state, DOCTOR, "oui")
    assert done.next is not None and done.next.id == "medical.bp_systolic"  # not in the line
    after = engine.answer(done.state, DOCTOR, "")  # skipped
    assert after.next is not None and after.next.id == "medical.bp_diastolic"


def test_a_refused_value_of_a_line_is_shown_with_its_refusal(engine: Engine) -> None:
    out = engine.answer(at(engine, "medical.heart_rate"), DOCTOR, "TA 128/74 FC 300 T 38")
    assert out.ok
    assert [r.field for r in out.refused] == ["medical.heart_rate"]
    assert "Fréquence cardiaque" in out.refused[0].message and "300" in out.refused[0].message
    assert [i.field.id for i in out.next.confirm] == ["medical.bp_systolic", "medical.bp_diastolic",
                                                      "medical.temperature"]
    done = engine.answer(out.state, DOCTOR, "")
    assert done.next is not None and done.next.id == "medical.heart_rate"


def test_a_line_with_nothing_acceptable_is_refused_and_records_nothing(engine: Engine) -> None:
    state = at(engine, "medical.heart_rate")
    out = engine.answer(state, DOCTOR, "FC 300 T 50")
    assert not out.ok
    assert out.message and "Fréquence cardiaque" in out.message and "Température" in out.message
    assert out.state.pending == [] and out.state is state


def test_low_systolic_in_a_line_warns_when_confirmed(engine: Engine) -> None:
    out = engine.answer(at(engine, "medical.heart_rate"), DOCTOR, "TA 85/50 FC 110")
    done = engine.answer(out.state, DOCTOR, "")
    assert [w.code for w in done.warnings] == ["hypotension"]


def test_a_changed_low_spo2_is_confirmed_again(engine: Engine) -> None:
    state = at(engine, "medical.heart_rate", medical__spo2=86, medical__spo2_confirmed=True)
    out = engine.answer(state, DOCTOR, "FC 96 SpO2 84 % AA")
    done = engine.answer(out.state, DOCTOR, "")
    assert done.state.answers["medical.spo2"] == 84
    assert "medical.spo2_confirmed" not in done.state.answers
    assert done.next is not None and done.next.id == "medical.spo2_confirmed"


def test_correcting_one_value_of_a_line(engine: Engine) -> None:
    out = engine.answer(at(engine, "medical.bp_systolic"), DOCTOR, LINE)
    fixed = engine.answer(out.state, DOCTOR, "3")  # the heart rate: typed by hand next
    assert fixed.next is not None and fixed.next.id == "medical.heart_rate"
    assert "medical.heart_rate" not in fixed.state.answers and fixed.state.answers["medical.weight"] == 62.0
    typed = engine.answer(fixed.state, DOCTOR, "104")
    assert typed.state.answers["medical.heart_rate"] == 104
    assert typed.next is not None and typed.next.id == "medical.spo2_confirmed"


@pytest.mark.parametrize(("field_id", "typed"), [
    ("medical.bp_systolic", "abc"), ("medical.bp_systolic", "128"), ("medical.heart_rate", "96 bpm"),
    ("medical.temperature", "38,5 °C"), ("medical.spo2", "92 %"), ("medical.oxygen", "O2 3l"),
    ("medical.weight", "62 kg"), ("medical.reason", LINE), ("medical.bp_systolic", "128 abc"),
])
def test_ordinary_answers_are_read_as_before(field_id: str, typed: str) -> None:
    assert split(field_id, typed) is None
