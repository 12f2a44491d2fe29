"""Sign-in with Pro Santé Connect against a real OpenID Connect provider (oidc-provider-mock,
running in a thread) serving PSC-shaped claims. The hub reaches the provider over real HTTP through
the configurable discovery URL; the "browser" is an httpx client on the provider's pages, handing
the redirect back to the hub's callback. A man-in-the-middle transport between the hub and the
provider serves a second key or re-signed id_tokens for the refusals."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_helpers import Env, User, detail_of, looks_french, luhn_rpps
from joserfc import jwt
from joserfc.jwk import RSAKey
from oidc_provider_mock import run_server_in_thread
from psc_helpers import browser, callback, poll, register, settings
from sqlmodel import select

from orient.assistant.hub.psc import PscClient
from orient.assistant.store.tables import AuditEntryRow, PscSigninRow, TokenRow, UserRow


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def env(module_sqlite_url: str, provider: str) -> Iterator[Env]:
    world = Env(module_sqlite_url)
    world.hub.psc = PscClient(settings(provider))
    yield world
    world.close()


def psc_claims(national_id: str, given: str, family: str, profession: str = "10") -> dict[str, Any]:
    return {
        "SubjectNameID": national_id, "given_name": given, "family_name": family,
        "SubjectRefPro": {"codeCivilite": "DR", "exercices": [{
            "codeProfession": profession, "codeCategorieProfessionnelle": "C",
            "nomDexercice": family.upper(), "prenomDexercice": given,
            "activities": [{"numeroFinessSite": "310783048", "raisonSocialeSite": "CHU DE TOULOUSE"}],
        }]},
    }


def start(env: Env) -> dict[str, Any]:
    started = env.ok("POST", "/auth/psc/start", json={})
    query = dict(httpx.URL(started["url"]).params)
    assert query["scope"] == "openid scope_all" and query["acr_values"] == "eidas1"
    assert query["code_challenge_method"] == "S256" and query["state"] and query["nonce"]
    assert "code_verifier" not in query
    return started


def sign_in(env: Env, sub: str) -> tuple[httpx.Response, dict[str, Any]]:
    started = start(env)
    page = callback(env, browser(started["url"], sub))
    return page, poll(env, started)


def counts(env: Env) -> tuple[int, int]:
    with env.session() as session:
        return (len(session.exec(select(UserRow)).all()), len(session.exec(select(TokenRow)).all()))


def doctor_account(env: Env, name: str) -> User:
    return env.user("doctor", name)


# -- a doctor, a secretary, an unknown professional --------------------------------------------
@pytest.mark.parametrize("leading_eight", [True, False])
def test_a_doctor_signs_in_and_gets_a_session_that_creates_and_signs(env: Env, provider: str,
                                                                      leading_eight: bool) -> None:
    doctor = doctor_account(env, "Dr Claire Martin")
    assert doctor.rpps
    national_id = ("8" + doctor.rpps) if leading_eight else doctor.rpps
    sub = f"psc-{uuid.uuid4().hex[:8]}"
    register(provider, sub, psc_claims(national_id, "Claire", "Martin"))
    users_before, _ = counts(env)

    page, done = sign_in(env, sub)

    assert page.status_code == 200 and "revenir au terminal" in page.text, page.text
    assert done["status"] == "done" and done["token"] and done["role"] == "doctor"
    assert counts(env)[0] == users_before  # the pre-registered account, no new one
    me = env.ok("GET", "/me", done["token"])
    assert me["id"] == doctor.id and me["rpps"] == doctor.rpps
    # the session works: a dossier is created, filled and signed
    session_user = User(doctor.id, "doctor", done["token"], name=doctor.name, rpps=doctor.rpps,
                        code=doctor.code)
    signed = env.signed(session_user)
    assert signed["status"] == "signed"
    with env.session() as session:
        row = session.exec(select(TokenRow).where(TokenRow.id == done["token_id"])).one()
        assert row.label.startswith("psc:")
        events = [e.event for e in session.exec(select(AuditEntryRow).where(
            AuditEntryRow.actor == doctor.id))]
    assert "psc_signin" in events
    # polled again: the token is not handed out twice
    again = env.ok("POST", "/auth/psc/poll", json={"signin_id": done_id(env, done["token_id"]),
                                                    "poll_secret": "wrong"}, status=404)
    assert looks_french(detail_of_json(again))


def done_id(env: Env, token_id: str) -> str:
    with env.session() as session:
        return session.exec(select(PscSigninRow).where(PscSigninRow.token_id == token_id)).one().id


def detail_of_json(body: dict[str, Any]) -> str:
    return str(body.get("detail"))


def test_the_token_is_handed_to_the_starting_terminal_once(env: Env, provider: str) -> None:
    doctor = doctor_account(env, "Dr Paul Durand")
    sub = f"psc-{uuid.uuid4().hex[:8]}"
    register(provider, sub, psc_claims("8" + (doctor.rpps or ""), "Paul", "Durand"))
    started = start(env)
    pending = poll(env, started)
    assert pending["status"] == "pending" and pending["token"] is None
    callback(env, browser(started["url"], sub))
    assert poll(env, started)["status"] == "done"
    second = poll(env, started)
    assert second["status"] == "delivered" and second["token"] is None and looks_french(second["message"])


def test_logout_revokes_the_token(env: Env, provider: str) -> None:
    doctor = doctor_account(env, "Dr Léa Petit")
    sub = f"psc-{uuid.uuid4().hex[:8]}"
    register(provider, sub, psc_claims("8" + (doctor.rpps or ""), "Léa", "Petit"))
    _, done = sign_in(env, sub)
    env.ok("GET", "/me", done["token"])
    env.ok("POST", "/auth/logout", done["token"])
    refused = env.call("GET", "/me", done["token"])
    assert refused.status_code == 401 and "révoqué" in detail_of(refused)


def test_a_pre_registered_secretary_signs_in_by_her_national_identifier(env: Env, provider: str) -> None:
    from orient.assistant import accounts_admin

    national_id = "2" + uuid.uuid4().hex[:10].upper()  # a non-RPPS identifier (e-CPS of a staff member)
    with env.session() as session:
        secretary_id, _ = accounts_admin.add_user(session, role="secretary", name="Sophie Lambert",
                                                  by="tests", psc_id=national_id)
    sub = f"psc-{uuid.uuid4().hex[:8]}"
    register(provider, sub, psc_claims(national_id, "Sophie", "Lambert", profession="99"))
    page, done = sign_in(env, sub)
    assert page.status_code == 200
    assert done["status"] == "done" and done["role"] == "secretary"
    assert env.ok("GET", "/me", done["token"])["id"] == secretary_id


def test_an_unknown_professional_is_refused_and_nothing_is_created(env: Env, provider: str) -> None:
    sub = f"psc-{uuid.uuid4().hex[:8]}"
    register(provider, sub, psc_claims("8" + luhn_rpps(77777), "Inconnu", "Docteur"))
    before = counts(env)
    page, done = sign_in(env, sub)
    assert page.status_code == 400 and "aucun compte Orient" in page.text
    assert done["status"] == "refused" and "aucun compte Orient" in done["message"] and done["token"] is None
    assert counts(env) == before
    with env.session() as session:
        last = session.exec(select(AuditEntryRow).order_by(AuditEntryRow.seq.desc())).first()  # type: ignore[attr-defined]
    assert last is not None and last.event == "psc_refused" and (last.detail or "").endswith("unknown")


def test_an_admitted_profession_creates_the_account_with_the_claims_names(env: Env, provider: str) -> None:
    rpps = luhn_rpps(4242421)
    sub = f"psc-{uuid.uuid4().hex[:8]}"
    register(provider, sub, psc_claims("8" + rpps, "Hélène", "Rousseau"))
    saved = env.hub.psc
    env.hub.psc = PscClient(settings(provider, admit_unknown=True, allowed_professions="10"))
    try:
        _, done = sign_in(env, sub)
    finally:
        env.hub.psc = saved
    assert done["status"] == "done" and done["role"] == "doctor"
    me = env.ok("GET", "/me", done["token"])
    assert me["rpps"] == rpps and me["name"] in ("Dr Hélène Rousseau", "Dr Hélène ROUSSEAU")  # given_name or nomDexercice


# -- refusals ---------------------------------------------------------------------------------
def test_a_cancelled_sign_in_says_so(env: Env, provider: str) -> None:
    started = start(env)
    location = browser(started["url"], None, deny=True)
    page = callback(env, location)
    assert "annulée" in page.text and "revenir au terminal" in page.text
    # the mock drops the state on a denial; PSC, as RFC 6749 asks, sends it back: then the
    # terminal learns it at once
    state = dict(httpx.URL(started["url"]).params)["state"]
    page = callback(env, f"{location}&state={state}")
    assert "annulée" in page.text and "revenir au terminal" in page.text
    done = poll(env, started)
    assert done["status"] == "cancelled" and "annulée" in done["message"]


def test_an_expired_sign_in_says_so(env: Env, provider: str) -> None:
    doctor = doctor_account(env, "Dr Marc Lefèvre")
    sub = f"psc-{uuid.uuid4().hex[:8]}"
    register(provider, sub, psc_claims("8" + (doctor.rpps or ""), "Marc", "Lefèvre"))
    started = start(env)
    location = browser(started["url"], sub)
    before = counts(env)
    env.clock.advance(minutes=11)
    try:
        page = callback(env, location)
        done = poll(env, started)
    finally:
        env.clock.sync()
    assert page.status_code == 400 and "expiré" in page.text
    assert done["status"] == "expired" and "expiré" in done["message"] and done["token"] is None
    assert counts(env) == before


def test_a_wrong_state_is_refused(env: Env, provider: str) -> None:
    doctor = doctor_account(env, "Dr Anne Roux")
    sub = f"psc-{uuid.uuid4().hex[:8]}"
    register(provider, sub, psc_claims("8" + (doctor.rpps or ""), "Anne", "Roux"))
    started = start(env)
    location = browser(started["url"], sub)
    forged = re.sub(r"state=[^&]+", "state=forged-state", location)
    before = counts(env)
    page = callback(env, forged)
    assert page.status_code == 400 and "state" in page.text and looks_french(page.text)
    assert counts(env) == before
    assert poll(env, started)["status"] == "pending"


def test_a_replayed_code_is_refused(env: Env, provider: str) -> None:
    doctor = doctor_account(env, "Dr Luc Moreau")
    sub = f"psc-{uuid.uuid4().hex[:8]}"
    register(provider, sub, psc_claims("8" + (doctor.rpps or ""), "Luc", "Moreau"))
    started = start(env)
    location = browser(started["url"], sub)
    assert callback(env, location).status_code == 200
    poll(env, started)
    before = counts(env)
    replay = callback(env, location)  # the same code and state again
    assert replay.status_code == 400 and "déjà été utilisée" in replay.text
    # the same code under the state of a new sign-in: the provider refuses it
    fresh = start(env)
    state = dict(httpx.URL(fresh["url"]).params)["state"]
    code = dict(httpx.URL(location).params)["code"]
    page = env.call("GET", f"/auth/psc/callback?code={code}&state={state}")
    assert page.status_code == 400 and "code d'autorisation" in page.text
    assert poll(env, fresh)["status"] == "refused"
    assert counts(env) == before


class Tamper(httpx.BaseTransport):
    """Between the hub and the provider: serves a second key as the JWKS and, when `claims` is
    set, re-signs the id_token with it after changing those claims."""

    def __init__(self, key: RSAKey, claims: dict[str, Any] | None = None) -> None:
        self.inner = httpx.HTTPTransport()
        self.key = key
        self.claims = claims

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.inner.handle_request(request)
        answer.read()
        if request.url.path.endswith("/jwks"):
            return httpx.Response(200, json={"keys": [self.key.as_dict(private=False)]})
        if request.url.path.endswith("/token") and self.claims is not None and answer.status_code == 200:
            body = answer.json()
            payload = body["id_token"].split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            claims.update(self.claims)
            body["id_token"] = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)
            return httpx.Response(200, json=body)
        return answer


@pytest.mark.parametrize(("claims", "expected"), [
    (None, "signature"),
    ({"aud": "un-autre-service"}, "audience"),
    ({"exp": 1_000_000_000, "iat": 999_999_000}, "expiré"),
    ({"nonce": "autre"}, "nonce"),
    ({"iss": "https://faux.example"}, "émetteur"),
])
def test_a_bad_id_token_is_refused_and_nothing_is_created(env: Env, provider: str,
                                                         claims: dict[str, Any] | None,
                                                         expected: str) -> None:
    doctor = doctor_account(env, "Dr Julie Garnier")
    sub = f"psc-{uuid.uuid4().hex[:8]}"
    register(provider, sub, psc_claims("8" + (doctor.rpps or ""), "Julie", "Garnier"))
    key = RSAKey.generate_key(2048, parameters={"kid": "seconde-cle"})
    saved = env.hub.psc
    env.hub.psc = PscClient(settings(provider), http=lambda: httpx.Client(transport=Tamper(key, claims)))
    before = counts(env)
    try:
        page, done = sign_in(env, sub)
    finally:
        env.hub.psc = saved
    assert page.status_code == 400 and expected in page.text and "Connexion refusée" in page.text
    assert done["status"] == "refused" and expected in done["message"] and done["token"] is None
    assert counts(env) == before


def test_without_psc_the_hub_says_so(env: Env) -> None:
    saved = env.hub.psc
    env.hub.psc = None
    try:
        assert env.ok("GET", "/auth/psc") == {"enabled": False, "sign_with_psc": False}
        refused = env.call("POST", "/auth/psc/start", json={})
        assert refused.status_code == 404 and "--token" in detail_of(refused)
    finally:
        env.hub.psc = saved
    assert env.ok("GET", "/auth/psc")["enabled"] is True


def test_settings_read_the_environment_and_a_file(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from orient.assistant.hub.psc_settings import load_settings

    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    config = tmp_path / "psc.env"
    config.write_text("ORIENT_PSC_ISSUER=https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet\n"
                      "ORIENT_PSC_CLIENT_ID=orient\nORIENT_PSC_ALLOWED_PROFESSIONS=10,21\n")
    monkeypatch.setenv("ORIENT_PSC_CONFIG", str(config))
    monkeypatch.setenv("ORIENT_PSC_CLIENT_SECRET_FILE", str(secret))
    settings = load_settings()
    assert settings.enabled and settings.secret() == "s3cret" and settings.professions() == {"10", "21"}
    assert settings.discovery() == ("https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet"
                                    "/.well-known/wallet-openid-configuration")
    monkeypatch.setenv("ORIENT_PSC_DISCOVERY_URL", "http://localhost:9400/.well-known/openid-configuration")
    assert load_settings().discovery().startswith("http://localhost:9400/")
