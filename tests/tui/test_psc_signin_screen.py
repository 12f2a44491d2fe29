"""`orient --hub URL` without a token, on a hub with Pro Santé Connect: the sign-in screen shows the
URL (and hands it to the browser opener), waits while the person signs in at a real OIDC provider
(oidc-provider-mock), then opens home as the signed-in doctor. Escape gives up."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread
from sqlmodel import Session
from textual.widgets import Static
from tui_helpers import SIZE, run, settle, wait_until

from orient.assistant.client import HubClient
from orient.assistant.demo_accounts import DEMO_DOCTOR
from orient.assistant.hub.app import Hub, create_app
from orient.assistant.hub.psc import PscClient
from orient.assistant.hub.psc_settings import PscSettings
from orient.assistant.store.accounts import ensure_demo_accounts
from orient.assistant.store.db import open_engine
from orient.assistant.tui.app import OrientApp

CALLBACK = "http://hub.test/auth/psc/callback"
RPPS = DEMO_DOCTOR.rpps or ""  # the demo doctor, pre-registered


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


def hub_app(folder: Path, provider: str) -> Any:
    engine = open_engine(f"sqlite:///{folder / 'hub.db'}")
    with Session(engine) as session:
        ensure_demo_accounts(session)
    hub = Hub(engine)
    hub.psc = PscClient(PscSettings(discovery_url=f"{provider}/.well-known/openid-configuration",
                                    client_id="orient-hub", client_secret="s", redirect_url=CALLBACK))
    return create_app(hub)


def browser_signs_in(url: str, sub: str) -> str:
    with httpx.Client() as client:
        client.get(url).raise_for_status()
        return client.post(url, data={"sub": sub}).headers["location"]


def test_a_doctor_signs_in_from_the_terminal(tmp_path: Path, provider: str) -> None:
    sub = f"psc-{uuid.uuid4().hex[:8]}"
    httpx.put(f"{provider}/users/{sub}", json={
        "SubjectNameID": "8" + RPPS,
        "SubjectRefPro": {"exercices": [{"codeProfession": "10", "nomDexercice": "MARTIN",
                                         "prenomDexercice": "Claire", "activities": []}]},
    }).raise_for_status()
    app_under_test = hub_app(tmp_path, provider)
    opened: list[str] = []
    app = OrientApp(client=HubClient.in_process(app_under_test, token=None), open_browser=opened.append)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            url = await wait_until(pilot, lambda: opened and opened[0], what="the sign-in URL")
            shown = app.screen.query_one("#psc-url", Static)
            assert url in str(shown.render())
            location = browser_signs_in(url, sub)
            parts = urlsplit(location)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_under_test),
                                         base_url="http://hub.test") as browser:
                page = await browser.get(f"{parts.path}?{parts.query}")
            assert "revenir au terminal" in page.text
            await wait_until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", timeout=15,
                             what="home after the sign-in")
            assert app.role == "doctor" and app.user_name == DEMO_DOCTOR.name
            assert (await app.client.me())["rpps"] == RPPS
            await settle(pilot)  # home fully mounted before the app closes (its header's title)

    run(scenario())


def test_escape_gives_up_the_sign_in(tmp_path: Path, provider: str) -> None:
    app = OrientApp(client=HubClient.in_process(hub_app(tmp_path, provider), token=None))

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: getattr(app.screen, "url", ""), what="the sign-in URL")
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.return_code == 1, what="the app to quit")

    run(scenario())
