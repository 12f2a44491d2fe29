"""The doctor's profile through the hub: asked once per account, kept in the account, offered on
each new dossier of the doctor (and of a secretary working for them) for confirmation with Enter,
and updated on a correction only when the doctor says so."""

from __future__ import annotations

from typing import Any

from api_helpers import Env, User, looks_french
from sqlmodel import select

from orient.assistant.store.tables import AuditEntryRow

PHONE, MAIL = "requester.callback_phone", "requester.mssante"


def answer(env: Env, who: User, step: dict[str, Any], text: str) -> dict[str, Any]:
    out = env.ok("POST", f"/dossiers/{step['dossier_id']}/answer", who,
                 json={"text": text, "version": step["version"]})
    assert out["ok"], out["message"]
    return out


def new(env: Env, who: User, **body: Any) -> dict[str, Any]:
    step = env.ok("POST", "/dossiers", who, json=body, status=201)
    if step["question"]["field"] == "request.red_flags":
        step = answer(env, who, step, "aucun")
    return step


def test_asked_once_then_offered_on_each_new_dossier(sqlite_env: Env) -> None:
    env = sqlite_env
    doctor = env.user("doctor")
    assert env.ok("GET", "/me/profile", doctor)["callback_phone"] is None
    # the first dossier asks them as usual, and keeps them in the account
    step = new(env, doctor)
    assert step["question"]["field"] == PHONE
    step = answer(env, doctor, step, "05 61 00 00 00")
    assert step["question"]["field"] == MAIL
    answer(env, doctor, step, "dr.test@medecin.mssante.fr")
    profile = env.ok("GET", "/me/profile", doctor)
    assert (profile["callback_phone"], profile["callback_phone_display"], profile["mssante"]) == (
        "+33561000000", "05 61 00 00 00", "dr.test@medecin.mssante.fr")

    # the next dossier offers them, confirmed with Enter
    step = new(env, doctor)
    q = step["question"]
    assert q["field"] == "dossier.confirm"
    assert [(i["field"], i["display"], i["source"]) for i in q["confirm"]] == [
        (PHONE, "05 61 00 00 00", "profile"), (MAIL, "dr.test@medecin.mssante.fr", "profile")]
    step = answer(env, doctor, step, "")
    assert step["question"]["field"] == "patient.birth_name"
    view = env.ok("GET", f"/dossiers/{step['dossier_id']}", doctor)
    assert (view["answers"][PHONE], view["answers"][MAIL]) == ("+33561000000", "dr.test@medecin.mssante.fr")
    review = env.ok("GET", f"/dossiers/{step['dossier_id']}/review", doctor)
    items = {i["field"]: i for s in review for i in s["items"]}
    assert items[PHONE]["source"] == "profile"
    with env.session() as session:
        details = {(e.event, e.field_id): e.detail for e in session.exec(
            select(AuditEntryRow).where(AuditEntryRow.dossier_id == step["dossier_id"])).all()}
    assert details[("answer_accepted", PHONE)] == "source=profile;origin=profil"
    assert ("answer_proposed", MAIL) in details

    # a secretary working for that doctor gets the same offer
    secretary = env.user("secretary")
    env.delegate(doctor, secretary, ["fill_admin"])
    step = env.ok("POST", "/dossiers", secretary, json={"doctor_rpps": doctor.rpps}, status=201)
    assert [i["field"] for i in step["question"]["confirm"]] == [PHONE, MAIL]
    # another doctor's dossiers are not offered this profile
    other = env.user("doctor")
    assert new(env, other)["question"]["field"] == PHONE


def test_a_correction_updates_the_profile_only_when_the_doctor_says_so(sqlite_env: Env) -> None:
    env = sqlite_env
    doctor = env.user("doctor")
    env.ok("PUT", "/me/profile", doctor, json={"callback_phone": "05 61 00 00 00", "mssante": None})
    step = new(env, doctor)
    assert [i["field"] for i in step["question"]["confirm"]] == [PHONE]
    step = answer(env, doctor, step, "1")  # correct the phone by hand
    assert step["question"]["field"] == PHONE
    step = answer(env, doctor, step, "06 12 34 56 78")
    q = step["question"]
    assert q["field"] == "dossier.profile" and "06 12 34 56 78" in q["question"]
    step = answer(env, doctor, step, "non")
    assert step["question"]["field"] == MAIL
    assert env.ok("GET", "/me/profile", doctor)["callback_phone"] == "+33561000000"

    step = new(env, doctor)
    step = answer(env, doctor, step, "1")
    step = answer(env, doctor, step, "06 12 34 56 78")
    step = answer(env, doctor, step, "oui")
    assert env.ok("GET", "/me/profile", doctor)["callback_phone"] == "+33612345678"
    assert new(env, doctor)["question"]["confirm"][0]["display"] == "06 12 34 56 78"
    with env.session() as session:
        updated = session.exec(select(AuditEntryRow).where(AuditEntryRow.event == "profile_updated")
                               .where(AuditEntryRow.dossier_id == step["dossier_id"])).all()
    assert [e.field_id for e in updated] == [PHONE]


def test_editing_the_profile_directly(sqlite_env: Env) -> None:
    env = sqlite_env
    doctor = env.user("doctor")
    bad = env.call("PUT", "/me/profile", doctor, json={"callback_phone": "12", "mssante": None})
    assert bad.status_code == 422 and looks_french(bad.json()["detail"]) and "Téléphone" in bad.json()["detail"]
    assert env.ok("GET", "/me/profile", doctor)["callback_phone"] is None  # nothing saved
    out = env.ok("PUT", "/me/profile", doctor, json={"callback_phone": "0561000000", "mssante": "dr@gmail.com"})
    assert out["callback_phone"] == "+33561000000" and out["warnings"] and "MSSanté" in out["warnings"][0]
    cleared = env.ok("PUT", "/me/profile", doctor, json={"callback_phone": "0561000000", "mssante": ""})
    assert cleared["mssante"] is None
    secretary = env.user("secretary")
    assert env.call("GET", "/me/profile", secretary).status_code == 403
    assert env.call("GET", "/me/profile").status_code == 401
