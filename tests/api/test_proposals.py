"""Proposed answers through the hub (POST /dossiers/{id}/proposals): read through each field's
rule, kept with the dossier until confirmed (a restart keeps them), confirmed through the ordinary
answer route, and audited with where each answer came from."""

from __future__ import annotations

from typing import Any

from api_helpers import Env, looks_french
from sqlmodel import select

from orient.assistant.store.tables import AuditEntryRow

FILE = "sha256:" + "0123456789abcdef" * 4


def _new(env: Env, who: Any) -> dict[str, Any]:
    step = env.ok("POST", "/dossiers", who, json={}, status=201)
    if step["question"]["field"] == "request.red_flags":
        step = env.ok("POST", f"/dossiers/{step['dossier_id']}/answer", who,
                      json={"text": "aucun", "version": step["version"]})
    return step


def _propose(env: Env, who: Any, step: dict[str, Any], *items: tuple[str, str],
             source: str = "import", origin: str | None = FILE, status: int = 200) -> dict[str, Any]:
    body = {"proposals": [{"field": f, "text": t, "source": source, "origin": origin} for f, t in items],
            "base_version": step["version"]}
    return env.ok("POST", f"/dossiers/{step['dossier_id']}/proposals", who, json=body, status=status)


def _audit(env: Env, dossier_id: str) -> list[AuditEntryRow]:
    with env.session() as session:
        return list(session.exec(select(AuditEntryRow).where(AuditEntryRow.dossier_id == dossier_id)
                                 .order_by(AuditEntryRow.seq)).all())  # type: ignore[arg-type]


def test_proposals_wait_survive_a_restart_and_are_confirmed_with_their_source(
        env: Env, env_factory: Any) -> None:
    doctor = env.demo_doctor
    step = _new(env, doctor)
    dossier_id = step["dossier_id"]
    out = _propose(env, doctor, step, ("patient.birth_name", "Martin"), ("patient.birth_date", "31/02/1938"),
                   ("medical.treatments", "ramipril 5 mg"))
    assert out["ok"] and out["version"] == step["version"] + 1
    assert [r["field"] for r in out["refused"]] == ["patient.birth_date"]
    assert looks_french(out["refused"][0]["message"]) and "31/02/1938" in out["refused"][0]["message"]
    q = out["question"]
    assert q["field"] == "dossier.confirm" and q["section"] == "patient" and not q["required"]
    assert [(i["number"], i["field"], i["display"], i["source"], i["origin"]) for i in q["confirm"]] == [
        (1, "patient.birth_name", "MARTIN", "import", FILE),
        (2, "medical.treatments", "ramipril 5 mg", "import", FILE)]
    assert q["confirm"][1]["section_title"] == "Volet médical"
    # nothing pending counts as an answer
    view = env.ok("GET", f"/dossiers/{dossier_id}", doctor)
    assert "patient.birth_name" not in view["answers"]
    assert view["question"]["field"] == "dossier.confirm"

    # a restart (a new hub on the same database) keeps them
    again = env_factory(env.url)
    view = again.ok("GET", f"/dossiers/{dossier_id}", again.demo_doctor)
    assert [i["field"] for i in view["question"]["confirm"]] == ["patient.birth_name", "medical.treatments"]

    done = again.ok("POST", f"/dossiers/{dossier_id}/answer", again.demo_doctor,
                    json={"text": "", "version": view["version"]})
    assert done["ok"] and done["question"]["field"] == "requester.callback_phone"
    view = again.ok("GET", f"/dossiers/{dossier_id}", again.demo_doctor)
    assert view["answers"]["patient.birth_name"] == "MARTIN"
    assert view["answers"]["medical.treatments"] == "ramipril 5 mg"
    review = again.ok("GET", f"/dossiers/{dossier_id}/review", again.demo_doctor)
    items = {i["field"]: i for s in review for i in s["items"]}
    assert (items["patient.birth_name"]["source"], items["patient.birth_name"]["origin"]) == ("import", FILE)
    assert items["requester.rpps"]["source"] is None

    entries = _audit(again, dossier_id)
    proposed = [(e.field_id, e.detail) for e in entries if e.event == "answer_proposed"]
    assert proposed == [("patient.birth_name", f"source=import;origin={FILE}"),
                        ("medical.treatments", f"source=import;origin={FILE}")]
    refused = [(e.field_id, e.detail) for e in entries if e.event == "proposal_refused"]
    assert refused == [("patient.birth_date", f"source=import;origin={FILE}")]
    accepted = [(e.field_id, e.detail) for e in entries if e.event == "answer_accepted"]
    assert accepted == [("request.red_flags", "source=typed"),
                        ("patient.birth_name", f"source=import;origin={FILE}"),
                        ("medical.treatments", f"source=import;origin={FILE}")]
    assert all(e.value_hash for e in entries if e.event in ("answer_proposed", "answer_accepted"))
    assert again.ok("GET", "/audit/verify", again.admin)["ok"]


def test_a_number_corrects_that_value_by_hand(sqlite_env: Env) -> None:
    env, doctor = sqlite_env, sqlite_env.demo_doctor
    step = _new(env, doctor)
    out = _propose(env, doctor, step, ("requester.callback_phone", "05 61 00 00 00"),
                   ("requester.mssante", "dr.martin@medecin.mssante.fr"), source="letter", origin=None)
    assert [i["source"] for i in out["question"]["confirm"]] == ["letter", "letter"]
    nxt = env.ok("POST", f"/dossiers/{step['dossier_id']}/answer", doctor,
                 json={"text": "1", "version": out["version"]})
    assert nxt["ok"] and nxt["question"]["field"] == "requester.callback_phone"
    view = env.ok("GET", f"/dossiers/{step['dossier_id']}", doctor)
    assert "requester.callback_phone" not in view["answers"]
    assert view["answers"]["requester.mssante"] == "dr.martin@medecin.mssante.fr"


def test_refusals_stale_versions_and_bad_bodies(sqlite_env: Env) -> None:
    env, doctor = sqlite_env, sqlite_env.demo_doctor
    step = _new(env, doctor)
    path = f"/dossiers/{step['dossier_id']}/proposals"
    # a stale base version is refused with the fresh state, nothing saved
    stale = env.call("POST", path, doctor, json={
        "proposals": [{"field": "patient.birth_name", "text": "Martin", "source": "import"}],
        "base_version": step["version"] - 1})
    assert stale.status_code == 409 and looks_french(stale.json()["detail"])
    assert env.ok("GET", f"/dossiers/{step['dossier_id']}", doctor)["version"] == step["version"]
    for body in (
        {"proposals": [{"field": "patient.birth_name", "text": "Martin", "source": "fax"}], "base_version": 0},
        {"proposals": [{"field": "patient.birth_name", "text": "Martin", "source": "import", "x": 1}],
         "base_version": 0},
        {"proposals": []},
    ):
        assert env.call("POST", path, doctor, json=body).status_code == 422
    # another doctor does not even learn that the dossier exists
    other = env.user("doctor")
    assert env.call("POST", path, other, json={"proposals": [], "base_version": step["version"]}).status_code == 404


def test_a_secretary_may_only_propose_her_fields(sqlite_env: Env) -> None:
    env, doctor = sqlite_env, sqlite_env.demo_doctor
    secretary = env.user("secretary")
    doc = env.user("doctor")
    env.delegate(doc, secretary, ["fill_admin"])
    step = env.ok("POST", "/dossiers", secretary, json={"doctor_rpps": doc.rpps}, status=201)
    out = _propose(env, secretary, step, ("medical.allergies", "pénicilline"), ("patient.sex", "F"))
    assert [(r["field"], r["message"]) for r in out["refused"]] == [
        ("medical.allergies", "« Allergies connues » est réservé au médecin.")]
    assert [i["field"] for i in out["question"]["confirm"]] == ["patient.sex"]
    assert doctor.rpps != doc.rpps


def test_the_client_proposes(sqlite_env: Env) -> None:
    from orient.assistant.client import HubClient

    env = sqlite_env
    step = _new(env, env.demo_doctor)
    client = HubClient.in_process(env.app, env.demo_doctor.token)
    try:
        out = env.run(client.propose(step["dossier_id"], [
            {"field": "patient.birth_name", "text": "Martin", "source": "import", "origin": FILE}],
            step["version"]))
    finally:
        env.run(client.close())
    assert out["question"]["confirm"][0]["display"] == "MARTIN"


