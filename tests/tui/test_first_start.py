"""A first start: the person presses 1 as soon as the first screen shows. The home screen comes
at once (the demo user's name needs no hub); what they open from it waits for the local hub,
which may still be opening, and then opens by itself."""

from __future__ import annotations

import threading
from pathlib import Path

from tui_helpers import SIZE, make_app, make_embedded, run, wait_until

from orient.assistant.embedded import Embedded
from orient.assistant.tui.screens.chat import ChatScreen
from orient.assistant.tui.screens.home import HomeScreen


def test_home_shows_before_the_hub_is_ready_and_n_opens_the_chat_once_it_is(tmp_path: Path) -> None:
    gate = threading.Event()

    def slow_hub() -> Embedded:  # the local hub's layers importing, the database being created
        assert gate.wait(30)
        return make_embedded(tmp_path)

    async def scenario() -> None:
        app = make_app(slow_hub, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("1")
            await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home screen")
            assert "Dr Claire Martin" in str(app.screen.query_one(".title").render())
            await pilot.press("n")  # before the hub is ready: remembered, not lost
            await pilot.pause(0.05)
            assert isinstance(app.screen, HomeScreen)
            assert any("Préparation" in str(n.message) for n in app._notifications)
            gate.set()
            chat = await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen,
                                    timeout=20, what="the chat opened once the hub is ready")
            await wait_until(pilot, lambda: chat.question, timeout=20, what="the first question")
            assert chat.question["field"] == "request.red_flags"

    run(scenario())


def test_going_back_to_the_first_screen_while_signing_in_forgets_the_pending_screen(tmp_path: Path) -> None:
    gate = threading.Event()

    def slow_hub() -> Embedded:
        assert gate.wait(30)
        return make_embedded(tmp_path)

    async def scenario() -> None:
        app = make_app(slow_hub, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("1")
            await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home screen")
            await pilot.press("n", "escape")  # opens nothing yet, then back to "who"
            await wait_until(pilot, lambda: type(app.screen).__name__ == "WhoScreen", what="who")
            gate.set()
            await pilot.press("2")  # the secretary this time
            await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen) and app.role == "secretary",
                             what="the secretary's home")
            await wait_until(pilot, lambda: app._client is not None, timeout=20, what="signed in")
            await pilot.pause(0.1)
            assert isinstance(app.screen, HomeScreen)  # the doctor's pending chat did not open

    run(scenario())
