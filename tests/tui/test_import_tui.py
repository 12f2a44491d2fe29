"""A new dossier from a document in the TUI, by keys: home (f), 1 then the file's path (or 2 then
a pasted letter, F9); the chat lists the values read and nothing counts before Enter confirms
them. A refused file is explained on the import screen and saves nothing. The kiosk offers the
shipped synthetic example instead of a path."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

from textual.widgets import Static
from tui_helpers import (
    SIZE,
    bubble_texts,
    chat,
    make_app,
    make_embedded,
    run,
    settle,
    type_and_enter,
    type_text,
    wait_until,
)

from orient.assistant.importing import example_bundle
from orient.assistant.tui.app import OrientApp
from orient.assistant.tui.screens.chat import ChatScreen
from orient.assistant.tui.screens.importing import ImportScreen


async def _import_screen(pilot: Any) -> ImportScreen:
    await settle(pilot)
    await pilot.press("1")  # the demo doctor
    await settle(pilot)
    await pilot.press("f")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ImportScreen)
    return screen


def _error(screen: Any) -> str:
    return str(screen.query_one("#error", Static).render())


def test_a_fhir_file_is_read_listed_and_confirmed_by_keys(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)
    export = tmp_path / "export.json"
    export.write_bytes(example_bundle())
    stu3 = tmp_path / "ancien.json"
    data = json.loads(example_bundle())
    data["meta"]["tag"] = [{"system": "http://hl7.org/fhir/FHIR-version", "code": "3.0.2"}]
    stu3.write_text(json.dumps(data), encoding="utf-8")

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await _import_screen(pilot)
            await pilot.press("1")
            await settle(pilot)
            # a path that does not exist, then a file of another FHIR version: said, nothing saved
            await type_and_enter(pilot, str(tmp_path / "absent.json"))
            assert "introuvable" in _error(screen)
            await pilot.press("end", "ctrl+u")
            await type_and_enter(pilot, str(stu3))
            await wait_until(pilot, lambda: "FHIR STU3" in _error(screen), what="the refusal")
            assert "Rien n'a été importé" in _error(screen) and app.screen is screen
            assert await app.client.dossiers() == []

            await pilot.press("end", "ctrl+u")
            await type_and_enter(pilot, str(export))
            chat_screen = await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen,
                                           what="the chat")
            assert isinstance(chat_screen, ChatScreen)
            await wait_until(pilot, lambda: chat_screen.question is not None, what="the first question")
            said = bubble_texts(chat_screen, "assistant")
            assert any("fichier « export.json »" in t and "28 valeur(s) lue(s)" in t for t in said)
            assert any("NIR de test" in t for t in said)
            # the red flags first, then the values read, listed by section and numbered
            assert chat_screen.question["field"] == "request.red_flags"
            await type_and_enter(pilot, "aucun")
            assert chat_screen.question["field"] == "dossier.confirm"
            listing = bubble_texts(chat_screen, "assistant")[-1]
            assert listing.startswith("Valeurs à confirmer :")
            assert "Identité du patient\n  1. Nom de naissance : BERTRAND (import)" in listing
            assert "Allergies connues : Amoxicilline (urticaire généralisée) (import)" in listing
            view = await app.client.dossier(chat_screen.dossier_id)
            assert "patient.birth_name" not in view["answers"]  # nothing counts yet

            # 28 drops the weight, asked by hand at once; Enter alone would accept everything
            await type_and_enter(pilot, "28")
            assert chat_screen.question["field"] == "medical.weight"
            await type_and_enter(pilot, "61 kg")
            assert chat_screen.question["field"] == "requester.callback_phone"
            view = await app.client.dossier(chat_screen.dossier_id)
            assert view["answers"]["patient.birth_name"] == "BERTRAND"
            assert view["answers"]["medical.allergies"] == "Amoxicilline (urticaire généralisée)"
            assert view["answers"]["medical.weight"] == 61
            review = await app.client.review(chat_screen.dossier_id)
            sources = {i["field"]: i["source"] for s in review for i in s["items"]}
            # the review marks what was not typed (a typed answer has no mark)
            assert sources["patient.ins"] == "import" and sources["request.red_flags"] is None
            assert sources["medical.weight"] is None

    run(scenario())


def test_a_pasted_letter_and_one_with_nothing_recognisable(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await _import_screen(pilot)
            await pilot.press("2")
            await settle(pilot)
            await type_text(pilot, "Bonjour, merci de voir ce patient.")
            await pilot.press("f9")
            await settle(pilot)
            await wait_until(pilot, lambda: "Rien de reconnaissable" in _error(screen), what="the refusal")
            assert await app.client.dossiers() == []

            await pilot.press("ctrl+a")  # select all the text typed, replaced by what follows
            await type_text(pilot, "Motif : pneumopathie chez une patiente fragile")
            await pilot.press("enter")
            await type_text(pilot, "Allergies : aucune")
            await pilot.press("f9")
            await settle(pilot)
            chat_screen = await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen,
                                           what="the chat")
            await wait_until(pilot, lambda: chat_screen.question is not None, what="the first question")
            await type_and_enter(pilot, "aucun")
            listing = bubble_texts(chat(pilot), "assistant")[-1]
            assert listing.startswith("Valeurs à confirmer :")
            assert ("Motif de la demande d'hospitalisation : pneumopathie chez une patiente fragile "
                    "(courrier)") in listing

    run(scenario())


class _World:
    def __init__(self, folder: Path) -> None:
        self.embedded = make_embedded(folder)

    def close(self) -> None:
        self.embedded.close()


def test_the_kiosk_offers_the_synthetic_example(tmp_path: Path) -> None:
    async def scenario() -> None:
        app = OrientApp(world_factory=lambda: _World(tmp_path), letter_folder=tmp_path / "letters",
                        feed_wait=0.5)
        async with app.run_test(size=SIZE) as pilot:
            screen = await _import_screen(pilot)
            options = str(screen.query_one("#sources").get_option_at_index(0).prompt)
            assert "exemple synthétique" in options and not screen.query_one("#path").display
            await pilot.press("1")
            chat_screen = await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen,
                                           what="the chat")
            await wait_until(pilot, lambda: chat_screen.question is not None, what="the first question")
            assert any("exemple synthétique" in t for t in bubble_texts(chat_screen, "assistant"))

    run(scenario())


def test_orient_new_from_a_file_opens_the_chat_on_the_new_dossier(tmp_path: Path) -> None:
    """What `orient new --from FILE` starts: the app signs the demo doctor in and imports the
    file at once; the chat shows the new dossier."""
    embedded = make_embedded(tmp_path)
    export = tmp_path / "export.json"
    export.write_bytes(example_bundle())

    async def scenario() -> None:
        app = OrientApp(embedded=embedded, letter_folder=tmp_path / "letters", feed_wait=0.5,
                        start=("import", {"path": str(export)}), start_role="doctor")
        async with app.run_test(size=SIZE) as pilot:
            chat_screen = await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen,
                                           what="the chat")
            await wait_until(pilot, lambda: chat_screen.question is not None, what="the first question")
            assert app.role == "doctor"
            assert chat_screen.question["field"] == "request.red_flags"
            assert len(await app.client.dossiers()) == 1
            await pilot.press("escape")  # back home, under the chat
            await settle(pilot)
            assert type(app.screen).__name__ == "HomeScreen"

    run(scenario())


def test_orient_new_refuses_a_bad_file_before_opening_anything(tmp_path: Path) -> None:
    from orient.assistant.cli import main

    bad = tmp_path / "r5.json"
    data = json.loads(example_bundle())
    data["fhirVersion"] = "5.0.0"
    bad.write_text(json.dumps(data), encoding="utf-8")
    for path, words in ((bad, "FHIR R5"), (tmp_path / "absent.json", "illisible")):
        err = io.StringIO()
        out = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            assert main(["new", "--from", str(path)]) == 2
        assert words in err.getvalue() and out.getvalue() == ""
