"""Helpers for the Pilot tests of the Textual app (assistant/tui).

The tests drive the app by keys only; they read the state (the ChatScreen's current question,
the transcript's bubbles, #error) to know what to type next and to check the outcome.
"""

from __future__ import annotations

import asyncio
import json
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from textual import events
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Markdown, Static

from orient.assistant.demo_accounts import DEMO_UNIT_SITES
from orient.assistant.embedded import Embedded
from orient.assistant.tui.app import OrientApp
from orient.assistant.tui.screens.chat import Bubble, ChatScreen
from orient.assistant.tui.screens.referral import ReferralScreen

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SIZE = (100, 40)
DOCTOR_CODE = "1234"
CHU_TOULOUSE = DEMO_UNIT_SITES  # the FINESS of the three sites the demo unit account answers for

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def scenario_answers(name: str) -> dict[str, list[str]]:
    """{field id: inputs, in order} of a scenario file of tests/scenarios."""
    data = json.loads((SCENARIOS / name).read_text(encoding="utf-8"))
    return {field: list(inputs) for field, inputs in data["answers"].items()}


def make_embedded(folder: Path, **kwargs: Any) -> Embedded:
    return Embedded(folder / "orient.db", outbox=folder / "outbox.json", **kwargs)


def make_app(embedded: Embedded | Callable[[], Embedded], folder: Path, feed_wait: float = 0.5) -> OrientApp:
    return OrientApp(embedded=embedded, letter_folder=folder / "letters", feed_wait=feed_wait)


# -- waiting ---------------------------------------------------------------------------------
async def wait_until(pilot: Pilot[Any], condition: Callable[[], Any], timeout: float = 5.0,
                     what: str = "condition") -> Any:
    """Await pilot.pause() until `condition()` is truthy (returned), or fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for: {what}")
        await pilot.pause(0.01)


async def settle(pilot: Pilot[Any], timeout: float = 10.0) -> None:
    """Let the pending messages run, then wait for the finite workers (every group but the
    live feed's endless long polling)."""
    app = pilot.app
    await pilot.pause()
    deadline = time.monotonic() + timeout
    while True:
        busy = [w for w in app.workers if w.group != "feed" and not w.is_finished]
        if not busy:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"workers still running after {timeout} s: {busy}")
        await pilot.pause(0.01)
    await pilot.pause()


# -- typing ----------------------------------------------------------------------------------
def key_event(key: str) -> events.Key:
    """The key event a terminal sends for a typed character or a key name (as Pilot.press
    builds it)."""
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


async def burst(pilot: Pilot[Any], keys: Iterable[str]) -> None:
    """Key events (characters or key names), sent through the driver like Pilot.press does, but
    in one burst (a person typing fast), waiting once for the app to be idle afterwards instead
    of after every key (Pilot.press costs ~50 ms a key: too slow for whole dossiers)."""
    driver = pilot.app._driver
    assert driver is not None
    for key in keys:
        event = key_event(key)
        event.set_sender(pilot.app)
        driver.send_message(event)
    await pilot.pause()


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type `text`, one key press per character."""
    await burst(pilot, text)


async def type_and_enter(pilot: Pilot[Any], text: str) -> None:
    await type_text(pilot, text)
    await pilot.press("enter")
    await settle(pilot)


# -- the chat --------------------------------------------------------------------------------
def chat(pilot: Pilot[Any]) -> ChatScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ChatScreen), f"expected the chat, on {type(screen).__name__}"
    return screen


def field_of(pilot: Pilot[Any]) -> str | None:
    q = chat(pilot).question
    return q["field"] if q else None


def bubbles(screen: ChatScreen, kind: str | None = None) -> list[Bubble]:
    found = list(screen.query(Bubble))
    return [b for b in found if kind is None or b.has_class(kind)]


def bubble_texts(screen: ChatScreen, kind: str | None = None) -> list[str]:
    return [str(b.render()) for b in bubbles(screen, kind)]


def error_text(screen: Any) -> str:
    return str(screen.query_one("#error", Static).render())


def answer_value(screen: ChatScreen) -> str:
    return screen.query_one("#answer", Input).value


async def open_chat(pilot: Pilot[Any], who: str, home_key: str) -> ChatScreen:
    """From the first screen: pick the person (1, 2, 3) then n (new) or r (resume, first row)."""
    await settle(pilot)
    await pilot.press(who)
    await settle(pilot)
    await pilot.press(home_key)
    await settle(pilot)
    if home_key == "r":
        await pilot.press("enter")  # the first dossier of the list
        await settle(pilot)
    screen = chat(pilot)
    await wait_until(pilot, lambda: screen.question is not None or screen.status != "draft",
                     what="the first question")
    return screen


async def reopen(pilot: Pilot[Any], dossier_id: str | None = None, status: str = "ready") -> ChatScreen:
    """From the first screen: the demo doctor (1), Resume (r), the only dossier of the list (Enter);
    waits until the chat shows it with `status`."""
    await settle(pilot)
    await pilot.press("1")
    await settle(pilot)
    await pilot.press("r")
    await settle(pilot)
    table = pilot.app.screen.query_one(DataTable)
    await wait_until(pilot, lambda: table.row_count == 1, what="the dossier")
    await pilot.press("enter")
    await settle(pilot)
    screen = chat(pilot)
    assert dossier_id is None or screen.dossier_id == dossier_id
    await wait_until(pilot, lambda: screen.status == status, what="the reopened dossier")
    return screen


async def open_only_referral(pilot: Pilot[Any]) -> ReferralScreen:
    """From the first screen: the receiving unit (3), its inbox (i), the only referral (Enter);
    waits until its letter shows."""
    await settle(pilot)
    await pilot.press("3")  # the receiving unit's demo account
    await settle(pilot)
    await pilot.press("i")
    await settle(pilot)
    rows = pilot.app.screen.query_one("#inbox", DataTable)
    await wait_until(pilot, lambda: rows.row_count == 1, what="the unit's inbox")
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReferralScreen)
    letter = screen.query_one("#dossier", Markdown)
    await wait_until(pilot, lambda: "Lettre de liaison" in letter.source, what="the letter")
    return screen


async def answer_all(pilot: Pilot[Any], answers: Mapping[str, Iterable[str]],
                     asked: list[str] | None = None, refused: list[tuple[str, str, str]] | None = None,
                     limit: int = 120) -> None:
    """Answer every question by typing the scenario's inputs for its field (next input after a
    refusal), Enter alone for an optional field without inputs, until no question is left."""
    queues = {field: deque(inputs) for field, inputs in answers.items()}
    screen = chat(pilot)
    for _ in range(limit):
        q = screen.question
        if q is None:
            return
        field = q["field"]
        if asked is not None and (not asked or asked[-1] != field):
            asked.append(field)  # once per question, however many attempts
        queue = queues.get(field)
        if queue:
            typed = queue.popleft()
        else:
            assert not q["required"], f"no input for the required question {field}"
            typed = ""
        version = screen.version
        await type_and_enter(pilot, typed)
        if screen.question is not None and screen.question["field"] == field and error_text(screen):
            if refused is not None:
                refused.append((field, typed, error_text(screen)))
            assert queue, f"{field}: « {typed} » refused: {error_text(screen)}"
            # the refused text stays in the input: clear it before the next attempt
            await pilot.press("end", "ctrl+u")
            await settle(pilot)
            assert answer_value(screen) == "", answer_value(screen)
        else:  # accepted: the dossier moved on
            assert screen.version != version, (field, typed)
    raise AssertionError(f"still questions after {limit} answers")


# -- dossiers prepared through the hub client (not the TUI) --------------------------------------
async def prepared_dossier(embedded: Embedded, *, choose: list[int] | None = None, sign: bool = False,
                           send: bool = False, answers: Mapping[str, list[str]] | None = None,
                           ) -> tuple[str, dict[str, Any]]:
    """The doctor's full scenario (tests/scenarios/doctor_full.json) through the hub client, some
    `answers` replaced: (dossier id, replay report)."""
    from orient.assistant import replay

    data = json.loads((SCENARIOS / "doctor_full.json").read_text(encoding="utf-8"))
    data.update(choose=choose, sign=sign, send=send)
    data["answers"].update(answers or {})
    client = embedded.client("doctor")
    try:
        dossier_id, report = await replay.replay_with_client(replay.parse_scenario(data), client)
    finally:
        await client.close()
    assert not report["errors"], report["errors"]
    return dossier_id, report
