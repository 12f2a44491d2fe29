"""ICD-10 codes and the patients they can describe (assistant/directory/icd10.py and icd10_scope.py):
suggestions leave out codes outside the patient's age and sex scope (P23, congenital pneumonia,
was proposed for an 84-year-old woman), and a typed code outside it is kept with a warning."""

from __future__ import annotations

from datetime import date

import pytest
from test_engine import DOCTOR, DOCTOR_ANSWERS, NOW, drive, new

from orient.assistant.directory.communes import default_table
from orient.assistant.directory.icd10 import Icd10, default_icd10
from orient.assistant.directory.icd10_scope import fits, scope_problem, scopes_of
from orient.assistant.engine import Engine, Lookups
from orient.dialogs.hnp import HNP


@pytest.fixture(scope="module")
def icd() -> Icd10:
    return default_icd10()


def codes(found: list[tuple[str, str]]) -> list[str]:
    return [code for code, _ in found]


# -- the scope of a code -----------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "age", "sex", "ok"), [
    ("P23", 84, "F", False), ("P23.9", 84, "M", False), ("P23", 0, "F", True), ("P96.9", 1, "M", False),
    ("Z38.0", 30, "F", False), ("Z38.0", 0, "M", True),
    ("O80", 30, "F", True), ("O80", 30, "M", False), ("O80", 60, "F", False), ("O00.0", 11, "F", False),
    ("O99.8", 55, "F", True), ("Z33", 40, "M", False), ("Z34.0", 25, "F", True),
    ("N40", 70, "M", True), ("N40", 70, "F", False), ("N51.0", 50, "F", False), ("N52", 60, "F", True),
    ("C61", 70, "F", False), ("C60.1", 70, "M", True), ("C63.9", 70, "F", False),
    ("N70", 30, "M", False), ("N98.9", 30, "M", False), ("N99.2", 50, "M", False), ("N99.0", 50, "M", True),
    ("C53.9", 45, "M", False), ("C51", 45, "F", True), ("C58", 45, "M", False),
    ("D07", 40, "M", True), ("D07.1", 40, "M", False), ("D07.5", 40, "F", False), ("D07.5", 40, "M", True),
    ("M80.0", 70, "M", False), ("M80.2", 70, "M", True),
    ("C50.9", 70, "M", True),  # breast cancer: men too
    ("J18.9", 84, "F", True), ("I50.0", 0, "M", True),
])
def test_scope_by_age_and_sex(code: str, age: int, sex: str, ok: bool) -> None:
    assert fits(code, age, sex) is ok, scopes_of(code)


@pytest.mark.parametrize("code", ["P23", "O80", "N40", "N70", "C61", "C53"])
def test_unknown_or_indeterminate_sex_and_unknown_age_never_exclude(code: str) -> None:
    assert scopes_of(code)
    assert fits(code, None, None)
    assert fits(code, None, "I")


def test_the_french_reasons_name_the_code_and_the_patient() -> None:
    assert scope_problem("P23", 84, "F", "Pneumopathie congénitale") == (
        "P23 (Pneumopathie congénitale) est un code de la période périnatale (nouveau-né ou "
        "nourrisson de moins d'un an) : la patiente a 84 ans.")
    assert scope_problem("N40", 70, "F") == "N40 est un code réservé aux hommes : la patiente est une femme."
    assert scope_problem("N80", 40, "M") == "N80 est un code réservé aux femmes : le patient est un homme."
    assert scope_problem("O80", 30, "M") == "O80 est un code de grossesse ou d'accouchement : le patient est un homme."
    assert "femme de 12 à 55 ans" in (scope_problem("O80", 60, "F") or "")


def test_out_of_scope_gives_the_french_label(icd: Icd10) -> None:
    assert icd.out_of_scope("p23", 84, "F") == (
        "P23 (Pneumopathie congénitale) est un code de la période périnatale (nouveau-né ou "
        "nourrisson de moins d'un an) : la patiente a 84 ans.")
    assert icd.out_of_scope("J18.9", 84, "F") is None
    assert icd.out_of_scope("X99.99", 84, "F") is None  # no such code: not this function's business


# -- suggestions ------------------------------------------------------------------------------------
def test_no_perinatal_code_is_suggested_for_an_84_year_old(icd: Icd10) -> None:
    assert "P23" in codes(icd.propose("Pneumopathie", 10))  # the table has it...
    found = codes(icd.propose("Pneumopathie", 10, age=84, sex="F"))
    assert found[0] == "J18.9" and len(found) == 10  # ...the patient does not: the list is refilled
    assert not [c for c in found if c.startswith("P")]
    assert "P23" in codes(icd.propose("Pneumopathie", 10, age=0, sex="F"))  # a newborn may


def test_no_pregnancy_code_for_a_man_or_an_84_year_old_woman(icd: Icd10) -> None:
    for age, sex in ((40, "M"), (84, "F")):
        found = codes(icd.propose("infection urinaire", 8, age=age, sex=sex))
        assert found and "N39.0" in found
        assert not [c for c in found if c.startswith(("O", "P"))]
    assert [c for c in codes(icd.propose("infection urinaire", 8, age=30, sex="F")) if c.startswith("O")]


def test_sex_specific_codes_follow_the_sex(icd: Icd10) -> None:
    prostate = codes(icd.propose("hyperplasie de la prostate", 5, age=70, sex="M"))
    assert "N40" in prostate
    assert not [c for c in codes(icd.propose("hyperplasie de la prostate", 8, age=70, sex="F"))
                if not fits(c, 70, "F") or c.startswith(("N40", "N41", "N42", "C61"))]
    assert "N40" in codes(icd.propose("hyperplasie de la prostate", 5, age=70, sex="I"))


def test_every_suggestion_fits_the_patient(icd: Icd10) -> None:
    for text in ("Pneumopathie", "infection urinaire", "cancer", "hémorragie", "insuffisance cardiaque",
                 "douleur abdominale", "grossesse", "tumeur"):
        for age, sex in ((0, "M"), (8, "F"), (30, "F"), (30, "M"), (84, "F"), (84, "M")):
            found = codes(icd.propose(text, 10, age=age, sex=sex))
            assert all(fits(c, age, sex) for c in found), (text, age, sex, found)


# -- in the conversation --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def engine_with_icd10(icd: Icd10) -> Engine:
    return Engine(HNP, Lookups(now=lambda: NOW, communes=default_table(), icd10=icd))


def at_code(engine: Engine, sex: str = "F", born: str = "12/03/1942", diagnosis: str = "Pneumopathie"):  # type: ignore[no-untyped-def]
    answers = {**DOCTOR_ANSWERS, "patient.sex": sex, "patient.birth_date": born, "medical.diagnosis": diagnosis}
    state = drive(engine, new(engine), DOCTOR, answers, stop="medical.diagnosis_code")
    question = engine.next_question(state, DOCTOR)
    assert question is not None and question.id == "medical.diagnosis_code"
    return state, question


def test_the_question_suggests_codes_that_fit_the_patient(engine_with_icd10: Engine) -> None:
    state, question = at_code(engine_with_icd10)
    assert state.answers["patient.birth_date"] == "1942-03-12"
    assert NOW.date() > date(2026, 3, 12)  # 84 years old
    suggested = [code for code, _ in question.suggestions]
    assert suggested and suggested[0] == "J18.9" and not [c for c in suggested if c.startswith("P")]
    # "2" picks the second code shown, not the second of the unfiltered list (P23)
    out = engine_with_icd10.answer(state, DOCTOR, "2")
    assert out.ok and out.state.answers["medical.diagnosis_code"] == suggested[1] != "P23"
    assert out.warnings == []


def test_a_typed_code_outside_the_scope_is_kept_with_a_warning(engine_with_icd10: Engine) -> None:
    state, _ = at_code(engine_with_icd10)
    out = engine_with_icd10.answer(state, DOCTOR, "P23")
    assert out.ok and out.state.answers["medical.diagnosis_code"] == "P23"
    assert [(w.field, w.code) for w in out.warnings] == [("medical.diagnosis_code", "icd10_out_of_scope")]
    assert "période périnatale" in out.warnings[0].message and "84 ans" in out.warnings[0].message
    assert ("warning_shown", "medical.diagnosis_code") in [(e.kind, e.field) for e in out.events]


def test_a_typed_code_within_the_scope_gives_no_warning(engine_with_icd10: Engine) -> None:
    state, _ = at_code(engine_with_icd10, sex="M", born="01/01/1950", diagnosis="adénome prostatique")
    out = engine_with_icd10.answer(state, DOCTOR, "N40")
    assert out.ok and out.warnings == []

