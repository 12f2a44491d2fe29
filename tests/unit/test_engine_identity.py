"""The engine's identity-vigilance rules and the warnings a dossier keeps (spec/hnp-dossier.md:
patient.birth_place, patient.ins, patient.identity_status, "Warnings travel with the dossier")."""

from __future__ import annotations

from test_engine import DOCTOR, at, change, complete, engine, kinds, make_engine

from orient.assistant.engine import Engine
from orient.models.fields import Warning

__all__ = ["engine"]  # the module-wide engine fixture of test_engine

FEMALE_TOULOUSE = "238033155512370"  # a woman born in March 1938 in the 31
QUALIFIED = {"patient.birth_place": "Balma", "patient.ins": FEMALE_TOULOUSE, "patient.identity_status": "4"}


def codes(warnings: list[Warning]) -> list[str]:
    return [w.code for w in warnings]


def test_a_birthplace_in_another_departement_removes_the_qualified_status() -> None:
    engine = make_engine()
    state = complete(engine, QUALIFIED)
    assert state.answers["patient.identity_status"] == "qualifiee" and state.warnings == []
    out = change(engine, state, DOCTOR, "Lieu de naissance", "Ajaccio")
    assert out.ok and out.state.answers["patient.birth_place"] == "2A004"
    assert "patient.identity_status" not in out.state.answers
    assert codes(out.warnings) == ["identity_status_removed", "ins_mismatch"]
    assert "département 31" in out.warnings[1].message and "département 2A" in out.warnings[1].message
    assert ("answer_removed", "patient.identity_status") in kinds(out)
    assert out.next is not None and out.next.id == "patient.identity_status"
    # the contradiction is kept with the dossier, the removal is not (the status is asked again)
    assert codes(out.state.warnings) == ["ins_mismatch"]
    refused = engine.answer(out.state, DOCTOR, "récupérée")
    assert not refused.ok and "2A" in (refused.message or "")


def test_a_birthplace_abroad_is_99_and_a_country_code() -> None:
    engine = make_engine()
    state = at(engine, "patient.birth_place")
    out = engine.answer(state, DOCTOR, "99-134")
    assert out.ok and out.state.answers["patient.birth_place"] == "99134"
    nouméa = engine.answer(state, DOCTOR, "98818")  # an overseas collectivity, not in the table
    assert nouméa.ok and nouméa.state.answers["patient.birth_place"] == "98818"
    former = engine.answer(state, DOCTOR, "Cordieux")  # an associated commune, of Montluel
    assert former.ok and former.state.answers["patient.birth_place"] == "01262"


def test_an_unknown_commune_offers_its_nearest_spellings_by_number() -> None:
    engine = make_engine()
    state = at(engine, "patient.commune")
    refused = engine.answer(state, DOCTOR, "Tolouse")
    assert not refused.ok and refused.persist
    assert "1. Toulouse (31, 31555)" in (refused.message or "")
    question = engine.next_question(refused.state, DOCTOR)
    assert question is not None and question.suggestions[0] == ("31555", "Toulouse (31, 31555)")
    empty = engine.answer(refused.state, DOCTOR, "")  # an Enter too soon keeps the candidates
    assert not empty.ok and empty.state.picks == refused.state.picks
    picked = engine.answer(refused.state, DOCTOR, "1")
    assert picked.ok and picked.state.answers["patient.commune"] == "31555" and picked.state.picks == {}


def test_warnings_are_kept_while_their_cause_holds(engine: Engine) -> None:
    state = complete(engine, {"patient.birth_date": "28/11/2008", "medical.spo2": "85",
                              "medical.spo2_confirmed": "oui", "medical.bp_systolic": "80",
                              "medical.bp_diastolic": "50"})
    assert sorted(codes(state.warnings)) == ["hypotension", "minor", "spo2_low"]
    assert "85 %" in next(w.message for w in state.warnings if w.code == "spo2_low")
    # corrected causes: their warnings go, with an audit event each
    normal = change(engine, state, DOCTOR, "medical.spo2", "96")
    assert "spo2_low" not in codes(normal.state.warnings)
    assert ("warning_cleared", "medical.spo2_confirmed") in kinds(normal)
    adult = change(engine, normal.state, DOCTOR, "Date de naissance", "12/03/1938")
    assert codes(adult.state.warnings) == ["hypotension"]
    assert [Warning.from_json(w.as_json()) for w in adult.state.warnings] == adult.state.warnings
