"""The second acceptable specialty (spec/hnp-dossier.md, `request.specialty_alt`): asked to the
doctor right after `request.specialty`, optional, another code of the table or none; and the
matching criteria the dossier gives."""

from __future__ import annotations

import pytest
from test_engine import (
    DOCTOR,
    DOCTOR_ANSWERS,
    SECRETARY,
    SECRETARY_ANSWERS,
    assert_refused,
    at,
    drive,
    make_engine,
    new,
)

from orient.assistant.directory.matching import alternative_specialty
from orient.assistant.engine import Engine
from orient.dialogs.hnp import HNP, SPECIALTIES
from orient.models.fields import Fill, Req


@pytest.fixture(scope="module")
def engine() -> Engine:
    return make_engine()


def test_the_field_follows_the_specialty_optional_and_for_the_doctor() -> None:
    ids = [f.id for f in HNP.fields]
    assert ids.index("request.specialty_alt") == ids.index("request.specialty") + 1
    spec = HNP.field("request.specialty_alt")
    assert spec.req == Req.O and spec.fill == Fill.DOCTOR
    assert [code for code, _ in spec.options] == [code for code, _, _ in SPECIALTIES] + ["none"]
    assert ("infectious_diseases", "Maladies infectieuses et tropicales") in spec.options


def test_asked_after_the_specialty_and_never_to_a_secretary(engine: Engine) -> None:
    asked: list[str] = []
    drive(engine, new(engine), DOCTOR, DOCTOR_ANSWERS, asked=asked, stop="request.timing")
    assert asked[-2:] == ["request.specialty", "request.specialty_alt"]
    secretary: list[str] = []
    drive(engine, new(engine, "d-2"), SECRETARY, SECRETARY_ANSWERS, asked=secretary)
    assert "request.specialty_alt" not in secretary


def test_a_label_a_number_or_a_code_is_accepted(engine: Engine) -> None:
    state = at(engine, "request.specialty_alt", {"request.specialty": "médecine polyvalente"})
    for typed, code in (("pneumologie", "pulmonology"), ("5", "pulmonology"),
                        ("maladies infectieuses", "infectious_diseases"), ("aucune", "none")):
        out = engine.answer(state, DOCTOR, typed)
        assert out.ok, out.message
        assert out.state.answers["request.specialty_alt"] == code


def test_empty_skips_it(engine: Engine) -> None:
    state = at(engine, "request.specialty_alt")
    out = engine.answer(state, DOCTOR, "")
    assert out.ok and "request.specialty_alt" not in out.state.answers
    assert engine.next_question(out.state, DOCTOR).id == "request.timing"  # type: ignore[union-attr]


def test_the_same_specialty_again_is_refused(engine: Engine) -> None:
    state = at(engine, "request.specialty_alt", {"request.specialty": "pneumologie"})
    message = assert_refused(engine.answer(state, DOCTOR, "Pneumologie"), "request.specialty_alt", "Pneumologie")
    assert "déjà la spécialité souhaitée" in message


def test_the_criteria_take_the_second_specialty_only_when_it_is_another_one() -> None:
    assert alternative_specialty({"request.specialty": "general_medicine",
                                  "request.specialty_alt": "pulmonology"}) == "pulmonology"
    assert alternative_specialty({"request.specialty": "general_medicine"}) is None
    assert alternative_specialty({"request.specialty": "general_medicine", "request.specialty_alt": "none"}) is None
    # the first specialty changed later to the second one: one specialty
    assert alternative_specialty({"request.specialty": "pulmonology",
                                  "request.specialty_alt": "pulmonology"}) is None
