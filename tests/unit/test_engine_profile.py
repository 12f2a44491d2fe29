"""The doctor's profile in the engine (spec/hnp-dossier.md, last section): a callback phone or an
MSSanté address typed while the profile has none is kept there; profile values are offered for
confirmation; a correction asks whether the profile changes too."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from orient.assistant.engine import CONFIRM_FIELD, PROFILE_FIELD, Engine, Lookups
from orient.dialogs.hnp import HNP
from orient.models.dossier import DossierState
from orient.models.provenance import Proposal, Provenance, Source
from orient.models.users import Actor, Role

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=timezone(timedelta(hours=1)))
DOCTOR = Actor("doc-1", Role.DOCTOR, "Dr Claire Martin", rpps="10003456786")
PHONE, MAIL = "requester.callback_phone", "requester.mssante"


def engine_with(profile: dict[str, Any]) -> Engine:
    return Engine(HNP, Lookups(now=lambda: NOW, profile=lambda rpps: profile if rpps == DOCTOR.rpps else {}))


def offered(engine: Engine, profile: dict[str, Any]) -> DossierState:
    state = engine.new_dossier("d-1", DOCTOR.rpps or "", DOCTOR.name).state
    state = engine.answer(state, DOCTOR, "aucun").state
    out = engine.propose(state, DOCTOR, [Proposal(f, str(v), Source.PROFILE, "profil") for f, v in profile.items()])
    assert out.refused == []
    return out.state


def test_typed_values_are_kept_when_the_profile_has_none() -> None:
    engine = engine_with({})
    state = engine.answer(engine.new_dossier("d-1", DOCTOR.rpps or "", DOCTOR.name).state, DOCTOR, "aucun").state
    out = engine.answer(state, DOCTOR, "05 61 00 00 00")
    assert out.profile_updates == {PHONE: "+33561000000"}
    out = engine.answer(out.state, DOCTOR, "")  # no MSSanté: nothing to keep
    assert out.profile_updates == {}


def test_profile_values_are_confirmed_with_enter() -> None:
    profile = {PHONE: "+33561000000", MAIL: "dr.martin@medecin.mssante.fr"}
    engine = engine_with(profile)
    state = offered(engine, profile)
    q = engine.next_question(state, DOCTOR)
    assert q is not None and q.id == CONFIRM_FIELD
    assert [(i.field.id, i.display) for i in q.confirm] == [(PHONE, "05 61 00 00 00"),
                                                           (MAIL, "dr.martin@medecin.mssante.fr")]
    out = engine.answer(state, DOCTOR, "")
    assert out.state.answers[PHONE] == "+33561000000"
    assert out.state.sources[PHONE] == Provenance(Source.PROFILE, "profil")
    assert out.profile_updates == {}
    assert out.next is not None and out.next.id == "patient.birth_name"


def test_a_correction_asks_whether_to_update_the_profile() -> None:
    profile = {PHONE: "+33561000000", MAIL: "dr.martin@medecin.mssante.fr"}
    engine = engine_with(profile)
    out = engine.answer(offered(engine, profile), DOCTOR, "1")
    assert out.next is not None and out.next.id == PHONE
    assert out.state.answers[MAIL] == "dr.martin@medecin.mssante.fr"
    typed = engine.answer(out.state, DOCTOR, "05 62 00 00 00")
    assert typed.profile_updates == {}
    q = typed.next
    assert q is not None and q.id == PROFILE_FIELD and not q.required
    assert "05 62 00 00 00" in q.text and "05 61 00 00 00" in q.text and "profil" in q.text
    bad = engine.answer(typed.state, DOCTOR, "peut-être")
    assert not bad.ok and bad.message and "oui ou non" in bad.message
    yes = engine.answer(typed.state, DOCTOR, "oui")
    assert yes.ok and yes.profile_updates == {PHONE: "+33562000000"}
    assert yes.state.answers[PHONE] == "+33562000000" and PHONE not in yes.state.sources
    assert yes.next is not None and yes.next.id == "patient.birth_name"
    no = engine.answer(typed.state, DOCTOR, "")
    assert no.ok and no.profile_updates == {}
    assert [e.kind for e in no.events] == ["profile_update_declined"]
    assert no.state.answers[PHONE] == "+33562000000"  # this dossier keeps its own number
