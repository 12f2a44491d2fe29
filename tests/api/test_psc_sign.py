"""Signing by a fresh Pro Santé Connect authentication (ORIENT_PSC_SIGN_WITH_PSC, hub/psc_sign.py)
against a real OpenID Connect provider (oidc-provider-mock in a thread) reached over HTTP: the
doctor asks to sign a dossier at a version, the browser authenticates again (prompt=login,
max_age=0), the callback signs exactly as the code does. Content changed meanwhile, someone else,
an old authentication, a cancelled one, a replayed callback: refused in French, nothing signed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_helpers import CHU_UNITS, Env, User, detail_of, looks_french, luhn_rpps
from oidc_provider_mock import run_server_in_thread
from psc_helpers import Tamper, browser, callback, poll, psc_claims, register, settings
from sqlmodel import select

from orient.assistant.hub.psc import PscClient
from orient.assistant.store.tables import AuditEntryRow, DossierRow


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def env(module_db_url: str, provider: str) -> Iterator[Env]:
    world = Env(module_db_url)
    world.hub.psc = PscClient(settings(provider, sign_with_psc=True))
    yield world
    world.close()


@pytest.fixture(autouse=True)
def real_time(env: Env) -> None:
    env.clock.sync()  # the provider stamps auth_time with the real time


def doctor_with_psc(env: Env, provider: str, name: str = "Dr Claire Martin") -> tuple[User, str]:
    """A doctor account and their identity at the provider (national identifier 8 + RPPS)."""
    doctor = env.user("doctor", name)
    sub = f"psc-{uuid.uuid4().hex[:8]}"
    given, family = name.removeprefix("Dr ").split(" ", 1)
    register(provider, sub, psc_claims("8" + (doctor.rpps or ""), given, family))
    return doctor, sub


def ready(env: Env, doctor: User) -> dict[str, Any]:
    """A complete dossier of the doctor with its units chosen: the step to sign."""
    step = env.fill(doctor)
    assert step["status"] == "ready", step
    env.ok("PUT", f"/dossiers/{step['dossier_id']}/units", doctor, json={"unit_ids": list(CHU_UNITS[:2])})
    return step


def start_signing(env: Env, doctor: User, step: dict[str, Any]) -> dict[str, Any]:
    started = env.ok("POST", f"/dossiers/{step['dossier_id']}/sign/psc", doctor,
                     json={"version": step["version"]})
    query = dict(httpx.URL(started["url"]).params)
    assert query["prompt"] == "login" and query["max_age"] == "0"
    assert query["acr_values"] == "eidas1" and query["code_challenge_method"] == "S256"
    salt, _, bound = query["nonce"].partition(".")
    assert salt and len(bound) == 64  # the nonce carries the binding to the content
    return started


def signed_entries(env: Env, dossier_id: str) -> list[AuditEntryRow]:
    with env.session() as session:
        return list(session.exec(select(AuditEntryRow).where(
            AuditEntryRow.dossier_id == dossier_id, AuditEntryRow.event == "signed")).all())


def status_of(env: Env, dossier_id: str) -> str:
    with env.session() as session:
        row = session.get(DossierRow, dossier_id)
        assert row is not None
        return str(row.status)


def assert_nothing_signed(env: Env, doctor: User, dossier_id: str) -> None:
    assert status_of(env, dossier_id) != "signed" and signed_entries(env, dossier_id) == []
    assert env.dossier(doctor, dossier_id)["signed"] is False


# -- the doctor signs ---------------------------------------------------------------------------
def test_a_doctor_signs_by_a_fresh_psc_authentication(env: Env, provider: str) -> None:
    doctor, sub = doctor_with_psc(env, provider)
    step = ready(env, doctor)
    dossier_id = step["dossier_id"]
    # the code no longer signs on this hub
    refused = env.call("POST", f"/dossiers/{dossier_id}/sign", doctor,
                       json={"code": doctor.code, "version": step["version"]})
    assert refused.status_code == 403 and "Pro Santé Connect" in detail_of(refused)
    assert env.ok("GET", "/auth/psc")["sign_with_psc"] is True

    started = start_signing(env, doctor, step)
    assert poll(env, started)["status"] == "pending"
    page = callback(env, browser(started["url"], sub))

    assert page.status_code == 200 and "Signature enregistrée" in page.text, page.text
    done = poll(env, started)
    assert done["status"] == "done" and "signé" in done["message"] and done["token"] is None
    view = env.dossier(doctor, dossier_id)
    assert view["signed"] is True and view["status"] == "signed"
    # the same audit entry as a signature by code: the digest of the signed answers (checked by
    # the audit verification), marked with the method and the sign-in
    [entry] = signed_entries(env, dossier_id)
    assert entry.actor == doctor.id and (entry.detail or "").startswith("psc:") and entry.value_hash
    assert env.audit_ok()["ok"] is True
    # the news is handed over once; the signed dossier is sent as usual
    assert poll(env, started)["status"] == "delivered"
    assert len(env.send(doctor, dossier_id)) == 2


def test_a_doctor_account_created_by_psc_signs_without_a_code(env: Env, provider: str) -> None:
    rpps = luhn_rpps(5151517)
    sub = f"psc-{uuid.uuid4().hex[:8]}"
    register(provider, sub, psc_claims("8" + rpps, "Inès", "Bernard"))
    saved = env.hub.psc
    env.hub.psc = PscClient(settings(provider, sign_with_psc=True, admit_unknown=True,
                                     allowed_professions="10"))
    try:
        login = env.ok("POST", "/auth/psc/start", json={})
        callback(env, browser(login["url"], sub))
        session = poll(env, login)
        assert session["status"] == "done" and session["role"] == "doctor"
        me = env.ok("GET", "/me", session["token"])
        doctor = User(me["id"], "doctor", session["token"], name=me["name"], rpps=rpps)
        step = ready(env, doctor)
        started = start_signing(env, doctor, step)
        page = callback(env, browser(started["url"], sub))
    finally:
        env.hub.psc = saved
    assert page.status_code == 200 and "Signature enregistrée" in page.text
    assert poll(env, started)["status"] == "done"
    assert env.dossier(doctor, step["dossier_id"])["signed"] is True


def test_without_the_setting_the_code_signs_and_psc_signing_is_off(env: Env, provider: str) -> None:
    doctor, _ = doctor_with_psc(env, provider)
    step = ready(env, doctor)
    saved = env.hub.psc
    env.hub.psc = PscClient(settings(provider))  # PSC sign-in, signing by code
    try:
        off = env.call("POST", f"/dossiers/{step['dossier_id']}/sign/psc", doctor,
                       json={"version": step["version"]})
        assert off.status_code == 404 and "code personnel" in detail_of(off)
        signed = env.ok("POST", f"/dossiers/{step['dossier_id']}/sign", doctor,
                        json={"code": doctor.code, "version": step["version"]})
    finally:
        env.hub.psc = saved
    assert signed["ok"] and signed["status"] == "signed"
    assert signed_entries(env, step["dossier_id"])[0].detail is None


def test_only_the_dossiers_doctor_may_ask_and_only_a_signable_dossier(env: Env, provider: str) -> None:
    doctor, _ = doctor_with_psc(env, provider)
    other, _ = doctor_with_psc(env, provider, "Dr Paul Durand")
    secretary = env.user("secretary")
    env.delegate(doctor, secretary, ["fill_admin", "send"])
    step = ready(env, doctor)
    path = f"/dossiers/{step['dossier_id']}/sign/psc"
    body = {"version": step["version"]}
    assert env.call("POST", path, other, json=body).status_code == 404
    as_secretary = env.call("POST", path, secretary, json=body)
    assert as_secretary.status_code == 403 and "médecin" in detail_of(as_secretary)
    stale = env.call("POST", path, doctor, json={"version": step["version"] - 1})
    assert stale.status_code == 409 and looks_french(detail_of(stale))
    draft = env.fill(doctor, stop_before="medical.reason")
    unfinished = env.call("POST", f"/dossiers/{draft['dossier_id']}/sign/psc", doctor,
                          json={"version": draft["version"]})
    assert unfinished.status_code == 409 and "il manque" in detail_of(unfinished)


# -- refusals: nothing signed -------------------------------------------------------------------
def test_content_changed_meanwhile_is_refused(env: Env, provider: str) -> None:
    doctor, sub = doctor_with_psc(env, provider)
    step = ready(env, doctor)
    dossier_id = step["dossier_id"]
    started = start_signing(env, doctor, step)
    # the answers change while the browser authenticates
    edit = env.ok("POST", f"/dossiers/{dossier_id}/edit", doctor,
                  json={"field": "medical.history", "version": step["version"]})
    changed = env.ok("POST", f"/dossiers/{dossier_id}/answer", doctor,
                     json={"text": "HTA, diabète de type 2, BPCO", "version": edit["version"]})
    assert changed["ok"], changed
    page = callback(env, browser(started["url"], sub))
    assert page.status_code == 400 and "a changé" in page.text and "Rien n'est signé" in page.text
    done = poll(env, started)
    assert done["status"] == "refused" and "a changé" in done["message"]
    assert_nothing_signed(env, doctor, dossier_id)


def test_a_change_that_keeps_the_answers_still_needs_a_new_request(env: Env, provider: str) -> None:
    """Only the version moved (a change asked, then given up): the request named the old one."""
    doctor, sub = doctor_with_psc(env, provider)
    step = ready(env, doctor)
    started = start_signing(env, doctor, step)
    edit = env.ok("POST", f"/dossiers/{step['dossier_id']}/edit", doctor,
                  json={"field": "medical.history", "version": step["version"]})
    env.ok("POST", f"/dossiers/{step['dossier_id']}/cancel-change", doctor, json={"version": edit["version"]})
    page = callback(env, browser(started["url"], sub))
    assert page.status_code == 400 and "a changé" in page.text
    assert_nothing_signed(env, doctor, step["dossier_id"])


def test_another_person_is_refused(env: Env, provider: str) -> None:
    doctor, _ = doctor_with_psc(env, provider)
    _, someone_else = doctor_with_psc(env, provider, "Dr Luc Moreau")
    step = ready(env, doctor)
    started = start_signing(env, doctor, step)
    page = callback(env, browser(started["url"], someone_else))
    assert page.status_code == 400 and "n'est pas le médecin" in page.text
    assert "n'est pas le médecin" in poll(env, started)["message"]
    assert_nothing_signed(env, doctor, step["dossier_id"])
    with env.session() as session:
        last = session.exec(select(AuditEntryRow).where(AuditEntryRow.event == "psc_refused")
                            .order_by(AuditEntryRow.seq.desc())).first()  # type: ignore[attr-defined]
    assert last is not None and (last.detail or "").endswith("other_person")


@pytest.mark.parametrize("auth_time", [
    lambda claims: {"auth_time": int(time.time()) - 3600},  # an hour-old session reused
    lambda claims: {key: None for key in ("auth_time",)},  # no auth_time at all
])
def test_an_authentication_that_is_not_fresh_is_refused(env: Env, provider: str, auth_time: Any) -> None:
    doctor, sub = doctor_with_psc(env, provider)
    step = ready(env, doctor)
    saved, key = env.hub.psc, Tamper.new_key()
    env.hub.psc = PscClient(settings(provider, sign_with_psc=True),
                            http=lambda: httpx.Client(transport=Tamper(auth_time, key)))
    try:
        started = start_signing(env, doctor, step)
        page = callback(env, browser(started["url"], sub))
    finally:
        env.hub.psc = saved
    assert page.status_code == 400 and "à l'instant" in page.text and "Rien n'est signé" in page.text
    assert poll(env, started)["status"] == "refused"
    assert_nothing_signed(env, doctor, step["dossier_id"])


def test_a_cancelled_signature_says_so(env: Env, provider: str) -> None:
    doctor, _ = doctor_with_psc(env, provider)
    step = ready(env, doctor)
    started = start_signing(env, doctor, step)
    location = browser(started["url"], None, deny=True)
    state = dict(httpx.URL(started["url"]).params)["state"]
    page = callback(env, f"{location}&state={state}")  # PSC echoes the state (the mock does not)
    assert "Signature annulée" in page.text and "rien n'est signé" in page.text
    done = poll(env, started)
    assert done["status"] == "cancelled" and "Signature annulée" in done["message"]
    assert_nothing_signed(env, doctor, step["dossier_id"])


def test_a_replayed_signature_callback_is_refused(env: Env, provider: str) -> None:
    doctor, sub = doctor_with_psc(env, provider)
    step = ready(env, doctor)
    started = start_signing(env, doctor, step)
    location = browser(started["url"], sub)
    assert callback(env, location).status_code == 200
    replay = callback(env, location)
    assert replay.status_code == 400 and "déjà été utilisée" in replay.text
    assert len(signed_entries(env, step["dossier_id"])) == 1


def test_a_session_ended_before_the_callback_signs_nothing(env: Env, provider: str) -> None:
    doctor, sub = doctor_with_psc(env, provider)
    step = ready(env, doctor)
    started = start_signing(env, doctor, step)
    _, other_token = env.new_token(doctor)
    env.ok("POST", "/auth/logout", doctor)
    page = callback(env, browser(started["url"], sub))
    assert page.status_code == 400 and "session Orient" in page.text
    assert_nothing_signed(env, User(doctor.id, "doctor", other_token), step["dossier_id"])


def test_an_expired_signature_request_says_so(env: Env, provider: str) -> None:
    doctor, sub = doctor_with_psc(env, provider)
    step = ready(env, doctor)
    started = start_signing(env, doctor, step)
    location = browser(started["url"], sub)
    env.clock.advance(minutes=11)
    try:
        page = callback(env, location)
        done = poll(env, started)
    finally:
        env.clock.sync()
    assert page.status_code == 400 and "expiré" in page.text
    assert done["status"] == "expired" and "Rien n'est signé" in done["message"]
    assert_nothing_signed(env, doctor, step["dossier_id"])
