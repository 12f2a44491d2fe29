"""F8 on a hub that signs by a fresh Pro Santé Connect authentication (ORIENT_PSC_SIGN_WITH_PSC):
the signing dialog offers Enter instead of the code, shows the URL (and hands it to the browser
opener), waits while the person authenticates again at a real OIDC provider (oidc-provider-mock),
then sends; someone else authenticating is refused in the dialog and nothing is signed."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread
from textual.widgets import Static
from tui_helpers import (
    SIZE,
    bubble_texts,
    chat,
    error_text,
    open_chat,
    prepared_dossier,
    run,
    wait_until,
)

from orient.assistant.client import HubClient
from orient.assistant.demo_accounts import DEMO_DOCTOR
from orient.assistant.embedded import Embedded
from orient.assistant.hub.psc import PscClient
from orient.assistant.hub.psc_settings import PscSettings
from orient.assistant.psc_dev_provider import psc_claims
from orient.assistant.tui.app import OrientApp
from orient.assistant.tui.screens.sign import SignScreen

CALLBACK = "http://hub.test/auth/psc/callback"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


def person(provider: str, national_id: str, given: str, family: str) -> str:
    sub = f"psc-{uuid.uuid4().hex[:8]}"
    httpx.put(f"{provider}/users/{sub}", json=psc_claims(national_id, given, family)).raise_for_status()
    return sub


def world(folder: Path, provider: str) -> tuple[Embedded, str]:
    embedded = Embedded(folder / "orient.db", outbox=folder / "outbox.json")
    dossier_id, _ = run(prepared_dossier(embedded, choose=[1, 2]))  # ready, two units chosen
    embedded.hub.psc = PscClient(PscSettings(
        discovery_url=f"{provider}/.well-known/openid-configuration", client_id="orient-hub",
        client_secret="s", redirect_url=CALLBACK, sign_with_psc=True))
    return embedded, dossier_id


async def authenticate(app_under_test: Any, url: str, sub: str) -> str:
    """The browser: picks `sub` at the provider, follows the redirect to the hub's callback."""
    with httpx.Client() as client:
        client.get(url).raise_for_status()
        location = client.post(url, data={"sub": sub}).headers["location"]
    parts = urlsplit(location)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_under_test),
                                 base_url="http://hub.test") as browser:
        return (await browser.get(f"{parts.path}?{parts.query}")).text


async def open_signing(pilot: Any, app: OrientApp) -> SignScreen:
    await open_chat(pilot, "1", "r")  # the demo doctor resumes the dossier
    await pilot.press("f8")
    await wait_until(pilot, lambda: isinstance(app.screen, SignScreen), what="the signing dialog")
    screen = app.screen
    assert isinstance(screen, SignScreen)
    state = screen.query_one("#state", Static)
    await wait_until(pilot, lambda: "Pro Santé Connect" in str(state.render()), what="the PSC offer")
    assert "code" not in str(state.render())
    return screen


def test_the_doctor_signs_f8_by_authenticating_again(tmp_path: Path, provider: str) -> None:
    embedded, dossier_id = world(tmp_path, provider)
    sub = person(provider, "8" + (DEMO_DOCTOR.rpps or ""), "Claire", "Martin")
    opened: list[str] = []
    app = OrientApp(embedded=embedded, letter_folder=tmp_path / "letters", open_browser=opened.append)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_signing(pilot, app)
            await pilot.press("enter")
            url = await wait_until(pilot, lambda: opened and opened[0], what="the signing URL")
            assert url in str(screen.query_one("#state", Static).render())
            assert "prompt=login" in url and "max_age=0" in url
            page = await authenticate(embedded.app, url, sub)
            assert "Signature enregistrée" in page
            await wait_until(pilot, lambda: not isinstance(app.screen, SignScreen), timeout=15,
                             what="the dialog to close once signed and sent")
            await wait_until(pilot, lambda: "signé et envoyé : 2 demande(s)" in bubble_texts(
                chat(pilot), "assistant")[-1], what="the chat saying it is signed and sent")

    run(scenario())
    view = run(embedded.client("doctor").dossier(dossier_id))
    assert view["signed"] is True


def test_someone_else_authenticating_signs_nothing(tmp_path: Path, provider: str) -> None:
    embedded, dossier_id = world(tmp_path, provider)
    other = person(provider, "810101010101", "Luc", "Moreau")
    opened: list[str] = []
    app = OrientApp(embedded=embedded, letter_folder=tmp_path / "letters", open_browser=opened.append)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_signing(pilot, app)
            await pilot.press("enter")
            url = await wait_until(pilot, lambda: opened and opened[0], what="the signing URL")
            page = await authenticate(embedded.app, url, other)
            assert "Signature refusée" in page
            await wait_until(pilot, lambda: "n'est pas le médecin" in error_text(screen), timeout=15,
                             what="the refusal in the dialog")
            assert "Rien n'est signé" in error_text(screen)
            await pilot.pause()  # and on screen, not only in the widget
            shown = html.unescape(re.sub(r"<[^>]+>", "", app.export_screenshot())).replace("\xa0", " ")
            assert "Signature refusée" in shown
            assert "recommencer" in str(screen.query_one("#state", Static).render())
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, SignScreen), what="the dialog closed")

    run(scenario())
    view = run(embedded.client("doctor").dossier(dossier_id))
    assert view["signed"] is False


# -- the session: signing out and quitting revoke the token --------------------------------------
async def signed_in(pilot: Any, app: OrientApp, app_under_test: Any, opened: list[str], sub: str) -> str:
    """The PSC sign-in screen completed in the browser: the session's token once home shows."""
    url = await wait_until(pilot, lambda: opened and opened[-1], what="the sign-in URL")
    opened.clear()
    await authenticate(app_under_test, url, sub)
    await wait_until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", timeout=15, what="home")
    return str(app.client.http.headers["Authorization"])


async def status_with(app_under_test: Any, authorization: str) -> int:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_under_test),
                                 base_url="http://hub.test") as http:
        return (await http.get("/me", headers={"Authorization": authorization})).status_code


def test_escape_signs_out_and_quitting_ends_the_session(tmp_path: Path, provider: str) -> None:
    embedded = Embedded(tmp_path / "orient.db", outbox=tmp_path / "outbox.json")
    embedded.hub.psc = PscClient(PscSettings(
        discovery_url=f"{provider}/.well-known/openid-configuration", client_id="orient-hub",
        client_secret="s", redirect_url=CALLBACK))
    sub = person(provider, "8" + (DEMO_DOCTOR.rpps or ""), "Claire", "Martin")
    opened: list[str] = []
    app = OrientApp(client=HubClient.in_process(embedded.app, token=None), open_browser=opened.append)

    async def scenario() -> tuple[str, str]:
        async with app.run_test(size=SIZE) as pilot:
            first = await signed_in(pilot, app, embedded.app, opened, sub)
            assert await status_with(embedded.app, first) == 200
            await pilot.press("escape")  # « Changer d'utilisateur »: sign out, sign in again
            await wait_until(pilot, lambda: type(app.screen).__name__ == "PscSigninScreen",
                             what="the sign-in screen again")
            assert await status_with(embedded.app, first) == 401
            second = await signed_in(pilot, app, embedded.app, opened, sub)
            assert await status_with(embedded.app, second) == 200
            await pilot.press("ctrl+q")
            await wait_until(pilot, lambda: app.return_code is not None, what="the app to quit")
            return first, second

    first, second = run(scenario())
    assert first != second
    assert run(status_with(embedded.app, second)) == 401
