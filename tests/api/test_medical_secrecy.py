"""Nothing derived from the medical section reaches a caller who may not read it (issue 11,
finding 3): a secretary whose delegation lacks `read_medical` must not learn that the patient
carries a BMR/BHRe (or has a low SpO2) from the proposals' reasons, the "why not" answers, the
fields still missing, the dossier list, the review or the letter, through the API as through the
replay. Matching stays clinically safe: a unit without isolation rooms is never proposed, to her
either; she is told that medical needs were taken into account, on every proposal, whatever they
are. The doctor and a secretary with `read_medical` keep the full explanation."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from api_helpers import DOCTOR_FULL, Env, make_env, make_roles

from orient.assistant import replay
from orient.assistant.directory.matching import MEDICAL_NEEDS_FAILURE, MEDICAL_NEEDS_REASON
from orient.assistant.service import DossierService
from orient.assistant.store.db import open_engine
from orient.dialogs.documents import render_letter_markdown
from orient.dialogs.hnp import HNP

# What the medical answers of these dossiers would give away (and their values as typed or shown).
MEDICAL_WORDS = re.compile(r"isolement|BMR|BHRe|portage|multirésistante|SpO2|saturation|précaution"
                           r"|Précautions|Décompensation|Furosémide|contact|medical\.", re.IGNORECASE)
CARRIER = {"medical.isolation": ["BMR"], "medical.precautions": ["contact"],
           "medical.spo2": ["85"], "medical.spo2_confirmed": ["oui"]}
NO_CARRIER = {"medical.isolation": ["aucun connu"], "medical.precautions": ["aucune"],
              "medical.spo2": ["96"]}


@pytest.fixture(scope="module")
def world(module_sqlite_url: str) -> Iterator[dict[str, Any]]:
    env = make_env(module_sqlite_url)
    r = make_roles(env)
    carrier = env.fill(r.owner, answers=env.answers_for(**CARRIER))
    control = env.fill(r.owner, answers=env.answers_for(**NO_CARRIER))
    assert carrier["status"] == control["status"] == "ready"
    # the same, stopped before the precautions (required for a carrier only)
    unfinished = env.fill(r.owner, answers=env.answers_for(**CARRIER), stop_before="medical.precautions")
    unfinished_control = env.fill(r.owner, answers=env.answers_for(**NO_CARRIER),
                                  stop_before="medical.mobility")
    index = env.hub.service.directory()
    # cardiology units near Toulouse that meet every criterion but the isolation rooms
    lacking = [u.id for u in index.units.values()
               if "013" in u.activities and not u.isolation_rooms and u.direct_admission
               and u.finess.startswith("31") and u.age_max >= 90 and u.oxygen
               and u.availability.value != "full"]
    assert lacking
    yield {"env": env, "r": r, "carrier": carrier["dossier_id"], "control": control["dossier_id"],
           "unfinished": unfinished["dossier_id"], "unfinished_control": unfinished_control["dossier_id"],
           "lacking": lacking}
    env.close()


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _proposals(env: Env, who: Any, dossier: str) -> dict[str, Any]:
    return dict(env.ok("GET", f"/dossiers/{dossier}/proposals", who, params={"limit": 200}))


def test_proposals_tell_her_nothing_of_the_carriage(world: dict[str, Any]) -> None:
    env, r = world["env"], world["r"]
    seen = _proposals(env, r.sec_deleg, world["carrier"])
    assert seen["proposals"]
    for p in seen["proposals"] + seen["full"]:
        assert not MEDICAL_WORDS.search(_text(p["reasons"])), p["reasons"]
        assert MEDICAL_NEEDS_REASON in p["reasons"]
    # her explanation is the same with or without a carriage: it depends on no medical answer
    control = {p["unit_id"]: p["reasons"] for p in _proposals(env, r.sec_deleg, world["control"])["proposals"]}
    both = [p for p in seen["proposals"] if p["unit_id"] in control]
    assert both
    assert all(p["reasons"] == control[p["unit_id"]] for p in both)


def test_matching_stays_safe_for_her(world: dict[str, Any]) -> None:
    env, r = world["env"], world["r"]
    index = env.hub.service.directory()
    for who in (r.sec_deleg, r.owner):
        proposed = _proposals(env, who, world["carrier"])["proposals"]
        assert all(index.units[p["unit_id"]].isolation_rooms for p in proposed)
        assert not {p["unit_id"] for p in proposed} & set(world["lacking"])


def test_the_doctor_and_a_secretary_with_read_medical_keep_the_full_reasons(world: dict[str, Any]) -> None:
    env, r = world["env"], world["r"]
    for who in (r.owner, r.sec_medical):
        proposed = _proposals(env, who, world["carrier"])["proposals"]
        assert all("chambres d'isolement pour le portage BMR/BHRe" in p["reasons"] for p in proposed)
        answer = env.ok("GET", f"/dossiers/{world['carrier']}/why-not/{world['lacking'][0]}", who)
        assert "elle n'a pas de chambre d'isolement (portage BMR/BHRe)" in answer["message"]


def test_why_not_names_no_medical_criterion_to_her(world: dict[str, Any]) -> None:
    env, r = world["env"], world["r"]
    for unit in world["lacking"][:5]:
        answer = env.ok("GET", f"/dossiers/{world['carrier']}/why-not/{unit}", r.sec_deleg)["message"]
        assert not MEDICAL_WORDS.search(answer), answer
        assert MEDICAL_NEEDS_FAILURE in answer
    # asked by the establishment's name, the same
    index = env.hub.service.directory()
    est = index.establishments[index.units[world["lacking"][0]].finess]
    by_name = env.ok("GET", f"/dossiers/{world['carrier']}/why-not/{est.finess}", r.sec_deleg)["message"]
    assert not MEDICAL_WORDS.search(by_name), by_name


def test_a_visible_reason_comes_before_the_medical_one(world: dict[str, Any]) -> None:
    """A unit she may know is unsuitable for a visible reason (here: the specialty) is explained
    by that reason, never by the medical one."""
    env, r = world["env"], world["r"]
    index = env.hub.service.directory()
    other = next(u.id for u in index.units.values()
                 if "013" not in u.activities and not u.isolation_rooms and u.finess.startswith("31"))
    answer = env.ok("GET", f"/dossiers/{world['carrier']}/why-not/{other}", r.sec_deleg)["message"]
    assert "ne déclare pas l'activité Cardiologie" in answer
    assert MEDICAL_NEEDS_FAILURE not in answer


def test_missing_fields_show_the_medical_section_as_a_whole(world: dict[str, Any]) -> None:
    env, r = world["env"], world["r"]
    doctor_view = env.dossier(r.owner, world["unfinished"])
    assert "medical.precautions" in doctor_view["missing"]  # required for a carrier only
    views = {name: env.dossier(r.sec_deleg, world[name]) for name in ("unfinished", "unfinished_control")}
    for view in views.values():
        assert "medical" in view["missing"]
        assert not [f for f in view["missing"] if f.startswith("medical.")], view["missing"]
        assert not MEDICAL_WORDS.search(_text({k: view[k] for k in ("missing", "answers", "question")}))
    assert views["unfinished"]["missing"] == views["unfinished_control"]["missing"]
    # her own steps say the same
    step = env.ok("POST", f"/dossiers/{world['unfinished']}/back", r.sec_deleg,
                  json={"version": views["unfinished"]["version"]})
    assert not [f for f in step["missing"] if f.startswith("medical.")], step["missing"]
    # with read_medical, the fields themselves
    assert "medical.precautions" in env.dossier(r.sec_medical, world["unfinished"])["missing"]


def test_list_review_and_letter_hold_nothing_medical(world: dict[str, Any]) -> None:
    env, r = world["env"], world["r"]
    listed = env.ok("GET", "/dossiers", r.sec_deleg)
    assert listed and not MEDICAL_WORDS.search(_text(listed))
    view = env.dossier(r.sec_deleg, world["carrier"])
    review = env.ok("GET", f"/dossiers/{world['carrier']}/review", r.sec_deleg)
    assert view["medical_hidden"] is True
    assert not MEDICAL_WORDS.search(_text(view)), view
    assert [s["items"] for s in review if s["section"] == "medical"] == [[]]
    letter = render_letter_markdown(view["answers"], review, view["signed_at"], date.today())
    assert "MARTIN" in letter
    assert not MEDICAL_WORDS.search(letter), letter


def test_the_replay_as_such_a_secretary_shows_nothing_medical(tmp_path: Any) -> None:
    """`orient replay` (through the hub client): a doctor's dossier of a BMR carrier, continued by
    the demo secretary (no read_medical): her report's proposals and missing fields."""
    engine = open_engine(tmp_path / "replay.db")
    try:
        service = DossierService(engine)
        answers = {**{k: list(v) for k, v in DOCTOR_FULL.items()}, **CARRIER}
        doctor = replay.parse_scenario({"role": "doctor", "answers": answers})
        dossier_id, report = replay.run_dossier(doctor, service)
        assert report["status"] == "ready", report
        assert any("isolement" in " ".join(p["reasons"]) for p in report["proposals"])
        secretary = replay.parse_scenario({"role": "secretary", "answers": {}})
        _, seen = replay.run_dossier(secretary, service, dossier_id)
        assert seen["proposals"]
        assert not MEDICAL_WORDS.search(_text({k: seen[k] for k in ("proposals", "missing", "dossier")}))
    finally:
        engine.dispose()


def test_fields_of_the_medical_section_are_the_ones_hidden() -> None:
    """The words checked above cover the section: every medical field id starts with `medical.`."""
    assert {f.section for f in HNP.fields if f.id.startswith("medical.")} == {"medical"}
