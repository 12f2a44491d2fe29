"""Answers chained with « ; » through the hub: each question carries the hint of what a run would
fill (`run`), a secretary's hint never names a field of the doctor's part, and a run posted as an
answer comes back as one confirmation question; its values count once confirmed."""

from __future__ import annotations

from typing import Any

from api_helpers import Env, User


def answer(env: Env, who: User, step: dict[str, Any], text: str) -> dict[str, Any]:
    out = env.ok("POST", f"/dossiers/{step['dossier_id']}/answer", who,
                 json={"text": text, "version": step["version"]})
    assert out["ok"], out["message"]
    return out


def test_a_run_through_the_hub(sqlite_env: Env) -> None:
    env = sqlite_env
    doctor = env.user("doctor")
    step = env.ok("POST", "/dossiers", doctor, json={}, status=201)
    assert step["question"]["field"] == "request.red_flags" and step["question"]["run"] == []
    step = answer(env, doctor, step, "aucun")
    step = answer(env, doctor, step, "05 61 00 00 00")
    step = answer(env, doctor, step, "")
    q = step["question"]
    assert q["field"] == "patient.birth_name"
    assert [i["field"] for i in q["run"]][:4] == ["patient.first_names", "patient.used_name",
                                                   "patient.birth_date", "patient.sex"]
    assert q["run"][0]["text"] == "Prénom(s)"
    step = answer(env, doctor, step, "Bertrand;Jeanne Marie;;12/03/1938;X")
    q = step["question"]
    assert q["field"] == "dossier.confirm"
    assert [(i["field"], i["display"], i["source"]) for i in q["confirm"]] == [
        ("patient.birth_name", "BERTRAND", "typed"), ("patient.first_names", "Jeanne Marie", "typed"),
        ("patient.used_name", "(question passée)", "typed"), ("patient.birth_date", "12/03/1938", "typed")]
    assert [r["field"] for r in step["refused"]] == ["patient.sex"]
    view = env.ok("GET", f"/dossiers/{step['dossier_id']}", doctor)
    assert "patient.birth_name" not in view["answers"]  # nothing counts before the confirmation
    step = answer(env, doctor, step, "")
    assert step["question"]["field"] == "patient.sex"
    view = env.ok("GET", f"/dossiers/{step['dossier_id']}", doctor)
    assert view["answers"]["patient.birth_date"] == "1938-03-12"


def test_a_secretarys_hint_stays_in_her_part(sqlite_env: Env) -> None:
    env = sqlite_env
    doctor = env.user("doctor")
    secretary = env.user("secretary")
    env.delegate(doctor, secretary, ["fill_admin"])
    step = env.ok("POST", "/dossiers", secretary, json={"doctor_rpps": doctor.rpps}, status=201)
    doctors_part = {"request", "medical", "consent"}
    seen = 0
    for text in ["05 61 00 00 00", "", "Martin", "Jeanne", "", "12/03/1938", "F", "", "", "provisoire",
                 "Toulouse", "", "", "2", "", "aucune", "oui"]:
        q = step["question"]
        if q is None:
            break
        assert not {i["field"].split(".")[0] for i in q["run"]} & doctors_part, q["run"]
        seen += len(q["run"])
        step = answer(env, secretary, step, text)
    assert seen > 0
