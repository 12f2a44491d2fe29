"""Answers chained with « ; » (assistant/runs.py): one answer fills this question and the next
ones, in the order they would be asked, each part through its own field's rule; what was read is
confirmed once; refused parts are asked afterwards; « ; » stays literal at a free-text question;
a secretary's run stops at the doctor's part. And the values proposed as numbered picks: the
anticoagulation from the treatments, the MSSanté address from the doctor's name."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from orient.assistant.directory.communes import default_table
from orient.assistant.engine import CONFIRM_FIELD, Engine, Lookups, Outcome
from orient.dialogs.hnp import HNP
from orient.dialogs.hnp_proposals import mssante_address
from orient.models.dossier import DossierState
from orient.models.users import Actor, Role

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=timezone(timedelta(hours=1)))
DOCTOR = Actor("doc-1", Role.DOCTOR, "Dr Claire Martin", rpps="10003456786")
SECRETARY = Actor("sec-1", Role.SECRETARY, "Sophie Bernard")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(HNP, Lookups(now=lambda: NOW, communes=default_table()))


def at(engine: Engine, field_id: str, actor: Actor = DOCTOR, **answers: object) -> DossierState:
    """A dossier whose next question for `actor` is `field_id` (the questions before it passed,
    or answered as given)."""
    state = engine.new_dossier("d-1", DOCTOR.rpps or "", DOCTOR.name).state
    state.answers.update({"request.red_flags": [], **{k.replace("__", "."): v for k, v in answers.items()}})
    for spec in HNP.order(actor.role):
        if spec.id == field_id:
            break
        if spec.id not in state.answers and spec.applies(state.answers):
            state.skipped.add(spec.id)
    q = engine.next_question(state, actor)
    assert q is not None and q.id == field_id
    return state


def confirm_items(out: Outcome) -> list[tuple[str, str]]:
    assert out.next is not None and out.next.id == CONFIRM_FIELD, out.next
    return [(i.field.id, i.display) for i in out.next.confirm]


def test_a_run_fills_the_identity_once_confirmed(engine: Engine) -> None:
    state = at(engine, "patient.birth_name")
    out = engine.answer(state, DOCTOR, "Bertrand;Jeanne Marie;;12031938;F")
    assert out.ok and out.refused == []
    assert confirm_items(out) == [
        ("patient.birth_name", "BERTRAND"), ("patient.first_names", "Jeanne Marie"),
        ("patient.used_name", "(question passée)"), ("patient.birth_date", "12/03/1938"),
        ("patient.sex", "Féminin")]
    assert "patient.birth_name" not in out.state.answers  # nothing counts before the confirmation
    run = [e for e in out.events if e.kind == "answer_run"]
    assert run and run[0].field == "patient.birth_name"
    assert run[0].detail == "patient.birth_name,patient.first_names,patient.used_name,patient.birth_date,patient.sex"
    done = engine.answer(out.state, DOCTOR, "")
    assert done.ok
    a = done.state.answers
    assert (a["patient.birth_name"], a["patient.first_names"], a["patient.birth_date"], a["patient.sex"]) == (
        "BERTRAND", "Jeanne Marie", "1938-03-12", "F")
    assert "patient.used_name" in done.state.skipped and "patient.used_name" not in a
    assert "patient.birth_name" not in done.state.sources  # typed
    assert done.next is not None and done.next.id == "patient.birth_place"


def test_a_refused_part_is_shown_and_asked_after_the_confirmation(engine: Engine) -> None:
    state = at(engine, "patient.birth_name")
    out = engine.answer(state, DOCTOR, "Bertrand;Jeanne;;31/02/1938;F")
    assert out.ok
    assert [r.field for r in out.refused] == ["patient.birth_date"]
    assert "Date de naissance" in out.refused[0].message
    assert [f for f, _ in confirm_items(out)] == ["patient.birth_name", "patient.first_names",
                                                  "patient.used_name", "patient.sex"]
    done = engine.answer(out.state, DOCTOR, "")
    assert done.next is not None and done.next.id == "patient.birth_date"
    assert done.state.answers["patient.sex"] == "F"


def test_an_empty_part_at_a_required_question_is_refused_for_that_field(engine: Engine) -> None:
    out = engine.answer(at(engine, "patient.birth_name"), DOCTOR, "Bertrand;;Lafargue")
    assert [r.field for r in out.refused] == ["patient.first_names"]
    assert "une réponse est requise" in out.refused[0].message


def test_a_conditional_field_counts_only_when_it_applies(engine: Engine) -> None:
    with_caregiver = engine.answer(at(engine, "context.caregiver_name"), DOCTOR,
                                   "Hélène Lafargue;06 71 82 93 04;1;o")
    assert [f for f, _ in confirm_items(with_caregiver)] == [
        "context.caregiver_name", "context.caregiver_phone", "context.legal_protection",
        "context.gp_is_requester"]
    without = engine.answer(at(engine, "context.caregiver_name"), DOCTOR, ";1;n;Bernard Dupuis")
    assert confirm_items(without) == [
        ("context.caregiver_name", "(question passée)"), ("context.legal_protection", "Aucune"),
        ("context.gp_is_requester", "non"), ("context.gp_name", "Bernard Dupuis")]
    done = engine.answer(without.state, DOCTOR, "")
    assert done.state.answers["context.gp_name"] == "Bernard Dupuis"
    assert "context.caregiver_phone" not in done.state.answers


def test_a_run_may_cross_into_the_next_section_as_the_hint_shows(engine: Engine) -> None:
    state = at(engine, "patient.phone")
    q = engine.next_question(state, DOCTOR)
    assert q is not None
    assert [i.text for i in q.run][:3] == ["Contexte de vie : Lieu de vie", "Aidant",
                                          "Téléphone de l'aidant (s'il y a lieu)"]
    out = engine.answer(state, DOCTOR, "0561223344;2")
    assert confirm_items(out) == [("patient.phone", "05 61 22 33 44"),
                                  ("context.living", "À domicile, avec entourage")]


def test_semicolons_stay_literal_at_a_free_text_question(engine: Engine) -> None:
    state = at(engine, "medical.treatments", medical__reason="Pneumopathie hypoxémiante",
               medical__diagnosis="Pneumopathie", medical__history="aucun")
    q = engine.next_question(state, DOCTOR)
    assert q is not None and q.run == ()
    out = engine.answer(state, DOCTOR, "Apixaban 2,5 mg x2 ; furosémide 40 mg ; metformine")
    assert out.ok
    assert out.state.answers["medical.treatments"] == "Apixaban 2,5 mg x2 ; furosémide 40 mg ; metformine"
    assert out.next is not None and out.next.id == "medical.anticoagulation"


def test_a_run_started_at_a_structured_question_may_fill_free_text(engine: Engine) -> None:
    state = at(engine, "medical.anticoagulation", medical__treatments="Apixaban")
    out = engine.answer(state, DOCTOR, "3;Amoxicilline (urticaire);128/74")
    assert confirm_items(out) == [
        ("medical.anticoagulation", "AOD"), ("medical.allergies", "Amoxicilline (urticaire)"),
        ("medical.bp_systolic", "128"), ("medical.bp_diastolic", "74")]


def test_a_secretarys_run_stops_at_the_doctors_fields(engine: Engine) -> None:
    state = at(engine, "context.gp_is_requester", SECRETARY)
    q = engine.next_question(state, SECRETARY)
    assert q is not None and [i.field for i in q.run] == ["context.gp_name"]  # then the doctor's part
    out = engine.answer(state, SECRETARY, "n;Bernard Dupuis;5;2")
    assert out.ok
    assert [f for f, _ in confirm_items(out)] == ["context.gp_is_requester", "context.gp_name"]
    assert out.message is not None and "« 5 » ; « 2 »" in out.message and "Rien n'en est enregistré" in out.message
    assert not any(p.field.startswith("request.") for p in out.state.pending)


def test_non_drops_the_whole_run(engine: Engine) -> None:
    state = at(engine, "patient.birth_name")
    out = engine.answer(state, DOCTOR, "Bertrand;Jeanne;;12031938;F")
    dropped = engine.answer(out.state, DOCTOR, "non")
    assert dropped.ok
    assert not any(f.startswith("patient.") for f in dropped.state.answers)
    assert dropped.state.pending == []
    assert dropped.next is not None and dropped.next.id == "patient.birth_name"


def test_a_number_drops_one_value_which_is_asked_by_hand(engine: Engine) -> None:
    state = at(engine, "patient.birth_name")
    out = engine.answer(state, DOCTOR, "Bertrand;Jeanne;;12031938;F")
    kept = engine.answer(out.state, DOCTOR, "4")  # the birth date
    assert kept.ok
    assert kept.state.answers["patient.birth_name"] == "BERTRAND" and kept.state.answers["patient.sex"] == "F"
    assert "patient.birth_date" not in kept.state.answers
    assert kept.next is not None and kept.next.id == "patient.birth_date"


def test_checks_and_the_red_flags_are_never_filled_by_a_run(engine: Engine) -> None:
    first = engine.new_dossier("d-2", DOCTOR.rpps or "", DOCTOR.name).state
    q = engine.next_question(first, DOCTOR)
    assert q is not None and q.id == "request.red_flags" and q.run == ()
    state = at(engine, "medical.spo2")
    out = engine.answer(state, DOCTOR, "86;38,5")  # a low SpO2: its confirmation is asked alone
    assert [f for f, _ in confirm_items(out)] == ["medical.spo2", "medical.temperature"]
    done = engine.answer(out.state, DOCTOR, "")
    assert done.next is not None and done.next.id == "medical.spo2_confirmed"


def test_a_systolic_alone_in_a_run_leaves_the_diastolic_to_be_asked(engine: Engine) -> None:
    state = at(engine, "medical.bp_systolic")
    q = engine.next_question(state, DOCTOR)
    assert q is not None and q.run[0].field == "medical.heart_rate"
    out = engine.answer(state, DOCTOR, "128;96")
    assert [f for f, _ in confirm_items(out)] == ["medical.bp_systolic", "medical.heart_rate"]
    done = engine.answer(out.state, DOCTOR, "")
    assert done.next is not None and done.next.id == "medical.bp_diastolic"


def test_a_run_with_nothing_readable_is_refused_and_changes_nothing(engine: Engine) -> None:
    state = at(engine, "patient.birth_date")
    out = engine.answer(state, DOCTOR, "31/02/1938;X")
    assert not out.ok and out.state is state
    assert "Date de naissance" in (out.message or "") and "Sexe" in (out.message or "")


@pytest.mark.parametrize(("treatments", "proposed"), [
    ("Apixaban 2,5 mg x2, furosémide 40 mg", ["doac"]),
    ("ELIQUIS 5 mg", ["doac"]),
    ("Warfarine 5 mg", ["vka"]),
    ("Préviscan 20 mg", ["vka"]),
    ("Lovenox 4000 UI", ["heparin"]),
    ("Kardégic 75 mg ; ramipril", ["antiplatelet"]),
    ("Clopidogrel 75 mg, rivaroxaban 15 mg", ["doac", "antiplatelet"]),
    ("aucun", ["none"]),
    ("Paracétamol 1 g", []),
])
def test_the_anticoagulation_is_proposed_from_the_treatments(engine: Engine, treatments: str,
                                                              proposed: list[str]) -> None:
    state = at(engine, "medical.anticoagulation", medical__treatments=treatments)
    q = engine.next_question(state, DOCTOR)
    assert q is not None
    assert [code for code, _ in q.suggestions] == proposed
    if proposed:
        assert "traitements" in q.suggestions_title
    # never taken without a key: an empty answer is still refused
    assert not engine.answer(state, DOCTOR, "").ok


def test_the_proposed_anticoagulation_is_picked_by_its_number(engine: Engine) -> None:
    state = at(engine, "medical.anticoagulation", medical__treatments="Apixaban 2,5 mg x2")
    q = engine.next_question(state, DOCTOR)
    assert q is not None
    number = [code for code, _ in q.field.options].index(q.suggestions[0][0]) + 1
    out = engine.answer(state, DOCTOR, str(number))
    assert out.ok and out.state.answers["medical.anticoagulation"] == "doac"


def test_the_mssante_address_is_proposed_from_the_doctors_name_and_picked_by_number(engine: Engine) -> None:
    state = at(engine, "requester.mssante")
    q = engine.next_question(state, DOCTOR)
    assert q is not None and q.suggestions[0][0] == "claire.martin@medecin.mssante.fr"
    assert "vérifiez" in q.suggestions_title
    out = engine.answer(state, DOCTOR, "1")
    assert out.ok and out.state.answers["requester.mssante"] == "claire.martin@medecin.mssante.fr"
    skipped = engine.answer(state, DOCTOR, "")  # optional: Enter still passes it
    assert skipped.ok and "requester.mssante" not in skipped.state.answers


@pytest.mark.parametrize(("name", "address"), [
    ("Dr Claire Martin", "claire.martin@medecin.mssante.fr"),
    ("Dr Jean-Pierre Lefèvre", "jean-pierre.lefevre@medecin.mssante.fr"),
    ("MARTIN Claire", "claire.martin@medecin.mssante.fr"),
    ("Docteur Anne D'Arc", "anne.darc@medecin.mssante.fr"),
    ("Dr Marie Claire Martin", None),  # which words are the first name: not guessed
])
def test_the_mssante_form_of_the_ordre(name: str, address: str | None) -> None:
    assert mssante_address(name) == address


def test_no_run_while_values_wait_for_a_confirmation(engine: Engine) -> None:
    state = at(engine, "patient.birth_name")
    out = engine.answer(state, DOCTOR, "Bertrand;Jeanne;;12031938;F")
    dropped = engine.answer(out.state, DOCTOR, "1")  # the birth name, typed by hand next
    q = dropped.next
    assert q is not None and q.id == "patient.birth_name" and q.run == ()
    again = engine.answer(dropped.state, DOCTOR, "Dupont;Paul")
    assert not again.ok  # read as a name, not as a run


@pytest.mark.parametrize("typed", ["²", "¹", "1²", "³;2"])
def test_digits_that_are_not_numbers_are_refused_at_a_proposed_value(engine: Engine, typed: str) -> None:
    """Superscripts are Unicode digits but not numbers: a refusal naming the field, not a crash
    (found by the engine's property test)."""
    state = at(engine, "requester.mssante")
    out = engine.answer(state, DOCTOR, typed)
    assert not out.ok and "MSSanté" in (out.message or "")
    assert "requester.mssante" not in out.state.answers
