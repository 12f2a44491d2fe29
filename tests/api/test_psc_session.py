"""The Orient token a Pro Santé Connect sign-in gives lives as long as the session
(ORIENT_PSC_SESSION_HOURS), not the 30 days of a printed token, and logging out ends it at once
(docs/psc.md "Session, logout, revocation"); against a real provider (oidc-provider-mock)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from api_helpers import Env, detail_of
from oidc_provider_mock import run_server_in_thread
from psc_helpers import browser, callback, poll, psc_claims, register, settings

from orient.assistant.hub.psc import PscClient


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def env(sqlite_url: str, provider: str) -> Iterator[Env]:
    world = Env(sqlite_url)
    world.hub.psc = PscClient(settings(provider, session_hours=2))
    yield world
    world.close()


def test_the_token_expires_with_the_session_and_logout_ends_it(env: Env, provider: str) -> None:
    doctor = env.user("doctor", "Dr Claire Martin")
    sub = f"psc-{uuid.uuid4().hex[:8]}"
    register(provider, sub, psc_claims("8" + (doctor.rpps or ""), "Claire", "Martin"))
    signed_in_at = env.clock.sync()

    def session() -> dict[str, str]:
        started = env.ok("POST", "/auth/psc/start", json={})
        callback(env, browser(started["url"], sub))
        done = poll(env, started)
        assert done["status"] == "done"
        return done

    first = session()
    assert datetime.fromisoformat(first["expires_at"]) == signed_in_at + timedelta(hours=2)
    env.clock.advance(hours=1, minutes=59)
    assert env.ok("GET", "/me", first["token"])["id"] == doctor.id
    env.clock.advance(minutes=2)
    expired = env.call("GET", "/me", first["token"])
    assert expired.status_code == 401 and "expiré" in detail_of(expired)

    env.clock.sync()
    second = session()  # signed in again: a new session, ended by logging out
    env.ok("POST", "/auth/logout", second["token"])
    revoked = env.call("GET", "/me", second["token"])
    assert revoked.status_code == 401 and "révoqué" in detail_of(revoked)


class PollsDuringTheCheck(httpx.HTTPTransport):
    """Between the hub and the provider: when the hub exchanges the code (the browser is back, the
    hub checking), the terminal polls, as it does every two seconds."""

    def __init__(self, env: Env, started: dict[str, str], seen: list[dict[str, Any]]) -> None:
        super().__init__()
        self.env, self.started, self.seen = env, started, seen

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            self.seen.append(asyncio.run(self.poll()))  # another loop: the hub's is in the callback
        return super().handle_request(request)

    async def poll(self) -> dict[str, Any]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.env.app),
                                     base_url="http://t") as http:
            answer = await http.post("/auth/psc/poll", json={
                "signin_id": self.started["signin_id"], "poll_secret": self.started["poll_secret"]})
            return dict(answer.json())


def test_a_poll_while_the_hub_checks_is_still_waiting(env: Env, provider: str) -> None:
    doctor = env.user("doctor", "Dr Claire Martin")
    sub = f"psc-{uuid.uuid4().hex[:8]}"
    register(provider, sub, psc_claims("8" + (doctor.rpps or ""), "Claire", "Martin"))
    env.clock.sync()
    started = env.ok("POST", "/auth/psc/start", json={})
    seen: list[dict[str, Any]] = []
    env.hub.psc = PscClient(env.hub.psc.settings,
                            http=lambda: httpx.Client(transport=PollsDuringTheCheck(env, started, seen)))
    page = callback(env, browser(started["url"], sub))
    assert page.status_code == 200, page.text
    assert [s["status"] for s in seen] == ["pending"] and "vérification" in seen[0]["message"]
    assert poll(env, started)["status"] == "done"
