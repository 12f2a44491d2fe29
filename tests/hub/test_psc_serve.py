"""`orient serve` configured for Pro Santé Connect by a config file (ORIENT_PSC_CONFIG) and a
secret file, against a real OIDC provider (oidc-provider-mock in a thread): a browser following
redirects over real HTTP signs a pre-registered doctor in; `orient --hub URL` without a token on a
hub without PSC still says a token is needed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import hub_processes
import pytest
from hub_processes import Server, add_user, new_rpps, orient
from oidc_provider_mock import run_server_in_thread

from orient.assistant.psc_dev_provider import psc_claims


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


def test_serve_with_psc_signs_a_doctor_in(tmp_path: Path, provider: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "hub.db")
    rpps = new_rpps(314)
    add_user(db, "doctor", "Dr Claire Martin", "--rpps", rpps, "--code", "4321")
    port = hub_processes.free_port()  # known beforehand: the callback URL is in the configuration
    monkeypatch.setattr(hub_processes, "free_port", lambda: port)
    secret = tmp_path / "client-secret"
    secret.write_text("dev-secret\n")
    secret.chmod(0o600)
    config = tmp_path / "psc.env"
    config.write_text(f"ORIENT_PSC_DISCOVERY_URL={provider}/.well-known/openid-configuration\n"
                      "ORIENT_PSC_CLIENT_ID=orient-hub\n"
                      f"ORIENT_PSC_CLIENT_SECRET_FILE={secret}\n"
                      f"ORIENT_PSC_REDIRECT_URL=http://127.0.0.1:{port}/auth/psc/callback\n")
    monkeypatch.setenv("ORIENT_PSC_CONFIG", str(config))
    server = Server(db, tmp_path / "serve.log").start()
    try:
        assert httpx.get(server.url + "/auth/psc").json()["enabled"] is True
        sub = f"psc-{uuid.uuid4().hex[:8]}"
        httpx.put(f"{provider}/users/{sub}", json=psc_claims("8" + rpps, "Claire", "Martin")).raise_for_status()
        started = httpx.post(server.url + "/auth/psc/start", json={}).json()
        with httpx.Client(follow_redirects=True) as browser:
            browser.get(started["url"]).raise_for_status()
            page = browser.post(started["url"], data={"sub": sub})
        assert page.status_code == 200 and "revenir au terminal" in page.text
        done = httpx.post(server.url + "/auth/psc/poll", json={
            "signin_id": started["signin_id"], "poll_secret": started["poll_secret"]}).json()
        assert done["status"] == "done" and done["role"] == "doctor"
        me = httpx.get(server.url + "/me", headers={"Authorization": f"Bearer {done['token']}"}).json()
        assert me["rpps"] == rpps
        assert "dev-secret" not in server.logs()
    finally:
        server.stop()


def test_hub_without_psc_still_needs_a_token(tmp_path: Path) -> None:
    server = Server(str(tmp_path / "hub.db"), tmp_path / "serve.log").start()
    try:
        assert httpx.get(server.url + "/auth/psc").json()["enabled"] is False
        result = orient("--hub", server.url, timeout=30)
    finally:
        server.stop()
    assert result.returncode == 2 and "--hub demande un jeton" in result.stderr


def test_a_hub_not_answering_is_named_not_taken_for_one_without_psc() -> None:
    url = f"http://127.0.0.1:{hub_processes.free_port()}"  # nothing listens there
    result = orient("--hub", url, timeout=30)
    assert result.returncode == 2 and f"le hub {url} ne répond pas" in result.stderr
    assert "demande un jeton" not in result.stderr
