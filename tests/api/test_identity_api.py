"""Identity vigilance and warnings through the hub (spec/hnp-dossier.md: rows patient.ins and
patient.identity_status, the duplicate paragraph, "Commune resolution", "Warnings travel with the
dossier"; issue 11 finding 4: duplicate suspicion covers only the dossiers the caller may see)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api_helpers import CHU_UNITS, DEMO_CODE, Env, Roles, User, make_roles
from sqlmodel import select

from orient.assistant.store.tables import AuditEntryRow

FEMALE_TOULOUSE = "238033155512370"  # a woman born in March 1938 in the 31
MALE_TOULOUSE = "138033155512323"  # the same traits, but a man
TRAITS_DONE = "patient.birth_place"  # asked right after the four traits of duplicate suspicion


def answer(env: Env, who: User, step: dict[str, Any], text: str) -> dict[str, Any]:
    return dict(env.ok("POST", f"/dossiers/{step['dossier_id']}/answer", who,
                       json={"text": text, "version": step["version"]}))


def edit(env: Env, who: User, step: dict[str, Any], field: str) -> dict[str, Any]:
    out = env.ok("POST", f"/dossiers/{step['dossier_id']}/edit", who,
                 json={"field": field, "version": step["version"]})
    assert out["ok"], out
    return dict(out)


def codes(warnings: list[dict[str, Any]]) -> set[str]:
    return {w["code"] for w in warnings}


def audit_of(env: Env, dossier_id: str) -> list[AuditEntryRow]:
    with env.session() as session:
        return list(session.exec(select(AuditEntryRow).where(AuditEntryRow.dossier_id == dossier_id)
                                 .order_by(AuditEntryRow.seq)).all())  # type: ignore[arg-type]


# -- duplicate suspicion: only the dossiers the caller may see -----------------------------------
def test_duplicate_suspicion_names_only_the_callers_dossiers(env: Env, roles: Roles) -> None:
    r = roles
    theirs = env.fill(r.other_doctor, stop_before=TRAITS_DONE)["dossier_id"]
    # another doctor's patient with the same traits: nothing is said, named or counted
    first = env.fill(r.owner, stop_before=TRAITS_DONE)
    assert first["question"]["field"] == TRAITS_DONE
    assert first["duplicates"] == [] and "duplicate" not in codes(first["warnings"])
    assert theirs not in str(first)
    mine = first["dossier_id"]
    assert "duplicate" not in codes(env.dossier(r.owner, mine)["warnings"])
    # the doctor's own open dossier is offered, by number, and only it
    second = env.fill(r.owner, stop_before=TRAITS_DONE)
    [warning] = [w for w in second["warnings"] if w["code"] == "duplicate"]
    assert warning["dossiers"] == [mine] == second["duplicates"]
    assert [p[0] for p in warning["picks"]] == [mine]
    assert warning["picks"][0][1].startswith("Dossier modifié le ") and "(brouillon)" in warning["picks"][0][1]
    assert "l'ouvrir" in warning["message"] and theirs not in str(second)
    # the dossier it offers can be opened by its caller
    assert env.dossier(r.owner, mine)["id"] == mine
    # the suspicion stays with the dossier (worded for any reader, without ids)
    [kept] = [w for w in env.dossier(r.owner, second["dossier_id"])["warnings"] if w["code"] == "duplicate"]
    assert "doublon" in kept["message"] and kept["dossiers"] == [] and mine not in kept["message"]

    # a secretary sees the dossiers of the doctors who delegate to her, all of them
    both = env.user("secretary", "Sam Deuxmédecins")
    env.delegate(r.owner, both, ["fill_admin"])
    env.delegate(r.other_doctor, both, ["fill_admin"])
    hers = env.fill(both, doctor_rpps=r.owner.rpps, stop_before=TRAITS_DONE)
    assert sorted(hers["duplicates"]) == sorted([theirs, mine, second["dossier_id"]])
    # ... and a secretary of the owner alone, the owner's only
    owners_only = env.fill(r.sec_deleg, stop_before=TRAITS_DONE)
    assert sorted(owners_only["duplicates"]) == sorted([mine, second["dossier_id"], hers["dossier_id"]])
    assert theirs not in str(owners_only)


# -- identity status (RNIV) ----------------------------------------------------------------------
def test_changing_a_trait_removes_a_status_no_longer_allowed_and_asks_it_again(
        sqlite_env: Env, sqlite_roles: Roles) -> None:
    env, r = sqlite_env, sqlite_roles
    step = env.fill(r.owner, answers=env.answers_for(**{
        "patient.birth_place": ["Toulouse"], "patient.ins": [FEMALE_TOULOUSE],
        "patient.identity_status": ["qualifiée"]}))
    assert step["status"] == "ready"
    dossier_id = step["dossier_id"]
    assert env.dossier(r.owner, dossier_id)["answers"]["patient.identity_status"] == "qualifiee"

    # the secretary corrects the sex: the INS now contradicts it, "Qualifiée" is no longer allowed
    step = edit(env, r.sec_deleg, env.dossier(r.sec_deleg, dossier_id) | {"dossier_id": dossier_id}, "Sexe")
    step = answer(env, r.sec_deleg, step, "M")
    assert step["ok"] and {"ins_mismatch", "identity_status_removed"} <= codes(step["warnings"])
    removed = next(w for w in step["warnings"] if w["code"] == "identity_status_removed")
    assert "Qualifiée" in removed["message"] and "Provisoire ou Validée" in removed["message"]
    assert step["question"]["field"] == "patient.identity_status"  # asked again
    assert step["status"] == "draft" and "patient.identity_status" in step["missing"]
    view = env.dossier(r.owner, dossier_id)
    assert "patient.identity_status" not in view["answers"]
    removals = [e for e in audit_of(env, dossier_id)
                if e.event == "answer_removed" and e.field_id == "patient.identity_status"]
    assert len(removals) == 1 and removals[0].actor == r.sec_deleg.id

    refused = answer(env, r.sec_deleg, step, "qualifiée")
    assert not refused["ok"] and "sexe" in refused["message"] and "Provisoire ou Validée" in refused["message"]
    step = answer(env, r.sec_deleg, refused, "validée")
    assert step["ok"] and step["status"] == "ready"
    assert "ins_mismatch" in codes(env.dossier(r.owner, dossier_id)["warnings"])

    # corrected back: the contradiction is gone from the dossier, and the status may be qualified
    step = answer(env, r.owner, edit(env, r.owner, step, "Sexe"), "F")
    assert "ins_mismatch" not in codes(env.dossier(r.owner, dossier_id)["warnings"])
    step = answer(env, r.owner, edit(env, r.owner, step, "Statut de l'identité"), "qualifiée")
    assert step["ok"] and step["status"] == "ready"


def test_removing_the_ins_removes_a_qualified_status(sqlite_env: Env, sqlite_roles: Roles) -> None:
    env, r = sqlite_env, sqlite_roles
    step = env.fill(r.owner, answers=env.answers_for(**{
        "patient.ins": [FEMALE_TOULOUSE], "patient.identity_status": ["récupérée"]}))
    assert step["status"] == "ready"
    step = answer(env, r.owner, edit(env, r.owner, step, "patient.ins"), "")
    assert step["ok"] and "identity_status_removed" in codes(step["warnings"])
    assert step["question"]["field"] == "patient.identity_status"


# -- warnings travel with the dossier ------------------------------------------------------------
def test_warnings_stay_with_the_dossier_while_their_cause_holds(sqlite_env: Env, sqlite_roles: Roles) -> None:
    env, r = sqlite_env, sqlite_roles
    step = env.fill(r.owner, answers=env.answers_for(**{
        "requester.mssante": ["dr.martin@gmail.com"], "patient.birth_date": ["12/03/2010"],
        "patient.birth_place": ["Toulouse"], "patient.ins": [MALE_TOULOUSE],
        "patient.identity_status": ["validée"], "medical.bp_systolic": ["85"],
        "medical.bp_diastolic": ["60"]}))
    assert step["status"] == "ready"
    dossier_id = step["dossier_id"]
    everything = {"not_mssante", "minor", "ins_mismatch", "hypotension"}
    assert codes(env.dossier(r.owner, dossier_id)["warnings"]) == everything
    # the medical section's warnings do not reach a secretary who may not read it
    assert codes(env.dossier(r.sec_deleg, dossier_id)["warnings"]) == everything - {"hypotension"}
    assert codes(env.dossier(r.sec_medical, dossier_id)["warnings"]) == everything

    # the cause corrected, the warning goes; the others stay
    step = answer(env, r.owner, edit(env, r.owner, step, "MSSanté"), "dr.martin@medecin.mssante.fr")
    assert step["ok"] and step["warnings"] == []
    assert codes(env.dossier(r.owner, dossier_id)["warnings"]) == everything - {"not_mssante"}
    cleared = [e for e in audit_of(env, dossier_id) if e.event == "warning_cleared"]
    assert [(e.field_id, e.detail) for e in cleared] == [("requester.mssante", "not_mssante")]

    # signed and sent: the receiving unit reads them with the referral
    signed = env.ok("POST", f"/dossiers/{dossier_id}/sign", r.owner,
                    json={"code": r.owner.code or DEMO_CODE, "version": step["version"]})
    assert signed["ok"], signed
    env.ok("PUT", f"/dossiers/{dossier_id}/units", r.owner, json={"unit_ids": [CHU_UNITS[0]]})
    [ref] = env.send(r.owner, dossier_id)
    opened = env.ok("POST", f"/inbox/{ref['id']}/open", r.recv_unit)
    assert codes(opened["warnings"]) == everything - {"not_mssante"}
    assert any("mineur" in w["message"] for w in opened["warnings"])
    # the INS number leaves the system only with a qualified identity (here: validated)
    assert "patient.ins" not in opened["dossier"] and MALE_TOULOUSE not in str(opened)


# -- numbered picks of communes ------------------------------------------------------------------
def test_an_ambiguous_commune_is_picked_by_number_after_a_restart(
        sqlite_url: str, env_factory: Callable[[str], Env]) -> None:
    env = env_factory(sqlite_url)
    doctor = make_roles(env).owner
    step = env.fill(doctor, stop_before="patient.commune")
    refused = answer(env, doctor, step, "Saint-Denis")
    assert not refused["ok"]
    assert "1. Saint-Denis (11, 11339)" in refused["message"] and "4. Saint-Denis (974, 97411)" in refused["message"]
    offered = refused["question"]["suggestions"]
    assert [code for code, _ in offered] == ["11339", "30247", "93066", "97411"]
    assert refused["question"]["suggestions_title"]

    restarted = env_factory(sqlite_url)  # another hub process on the same database
    view = restarted.dossier(doctor, step["dossier_id"])
    assert view["question"]["field"] == "patient.commune"
    assert view["question"]["suggestions"] == offered
    step = answer(restarted, doctor, {"dossier_id": step["dossier_id"], "version": view["version"]}, "3")
    assert step["ok"] and step["recorded"] == "Saint-Denis (93, 93066)"
    view = restarted.dossier(doctor, step["dossier_id"])
    assert view["answers"]["patient.commune"] == "93066"
    assert view["question"]["suggestions"] == []  # the pick is done
