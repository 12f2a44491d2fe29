"""What the TUI writes, driven by keys: French line breaks (no line starting with "?" or ";"),
no missing-glyph header icon, a typed command for every function key (F1 lists them), the letter
printed from the chat, notices that leave the answer field visible, ticked boxes marked, a
reopened sent dossier described as it is, no literal Markdown in plain messages, Ctrl+C in French."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Markdown, SelectionList
from textual.widgets._toast import Toast
from tui_helpers import (
    SIZE,
    bubble_texts,
    chat,
    error_text,
    make_app,
    make_embedded,
    open_chat,
    prepared_dossier,
    reopen,
    run,
    settle,
    type_and_enter,
    wait_until,
)

from orient.assistant.embedded import Embedded

# a line of the screen whose text (after a bubble's border) starts with a French double
# punctuation mark or a closing guillemet
BAD_START = re.compile(r"^[\s▌▐▊▎┃│█]*[?;:!»]")


def screen_lines(pilot: Pilot[Any]) -> list[str]:
    return [strip.text for strip in pilot.app.screen._compositor.render_strips()]


@pytest.mark.parametrize("width", [62, 66])
def test_no_line_starts_with_a_french_punctuation_mark(tmp_path: Path, width: int) -> None:
    """At 62 columns the greeting wrapped before « ; F1 », at 66 the first question before « ? »."""
    embedded = make_embedded(tmp_path)

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=(width, 30)) as pilot:
            screen = await open_chat(pilot, "1", "n")
            await settle(pilot)
            assert screen.question is not None
            lines = screen_lines(pilot)
            assert not [line for line in lines if BAD_START.match(line)], "\n".join(lines)
            assert not [line for line in lines if line.rstrip().endswith("«")], "\n".join(lines)
            # the header shows no icon: Textual's ⭘ is a missing-glyph box in the kiosk's font
            assert "⭘" not in lines[0]
            assert lines[0].strip().startswith("Orient")

    try:
        run(scenario())
    finally:
        embedded.close()


def test_every_function_key_has_a_command_listed_in_help(ready: tuple[Embedded, Path, str]) -> None:
    embedded, folder, dossier_id = ready

    async def scenario() -> None:
        app = make_app(embedded, folder)
        async with app.run_test(size=SIZE) as pilot:
            screen = await reopen(pilot, dossier_id, "ready")
            # F1 (and /aide): every key with its command, and where the letter goes
            await type_and_enter(pilot, "/aide")
            helps = [str(m.source) for m in screen.query(Markdown)]
            assert helps, "no help shown"
            for command in ("/aide", "/retour", "/modifier", "/pourquoi", "/recap", "/unites",
                            "/choisir", "/signer", "/lettre", "/imprimer", "/accueil"):
                assert command in helps[-1], command
            for key in ("F1", "F2", "F3", "F4", "F6", "F7", "F8", "F9", "F10"):
                assert f"**{key}**" in helps[-1], key
            assert str(folder / "letters") in helps[-1] and "Ctrl+P" in helps[-1]

            # F7's twin: /unites opens the proposals
            await type_and_enter(pilot, "/unites")
            assert type(app.screen).__name__ == "ProposalsScreen"
            units = app.screen.query_one("#units", SelectionList)
            await wait_until(pilot, lambda: units.option_count >= 2, what="the proposals")
            options = [units.get_option_at_index(i) for i in range(units.option_count)]
            first_two = [o.value for o in options if not o.disabled][:2]  # numbers 1 and 2
            await pilot.press("escape")
            await settle(pilot)
            assert chat(pilot) is screen

            # F9's twin, from the chat: /choisir with the numbers of the list
            await type_and_enter(pilot, "/choisir 1, 2")
            view = await app.client.dossier(dossier_id)
            assert view["chosen_units"] == first_two
            assert "2 unité(s) choisie(s)" in bubble_texts(screen)[-1]
            assert screen.query_one("#answer", Input).value == ""
            await type_and_enter(pilot, "/choisir 500")
            assert "La liste compte" in error_text(screen)

            # F10's twins: /lettre shows the letter, addressed to the chosen units
            await type_and_enter(pilot, "/lettre")
            assert type(app.screen).__name__ == "LetterScreen"
            letter = app.screen.query_one("#letter", Markdown)
            await wait_until(pilot, lambda: "Adressée à" in str(letter.source), what="the letter")
            shown = str(letter.source)
            for name in view["chosen_labels"]:
                assert name.split(" — ")[-1] in shown
            assert "née le 12/03/1938" in shown and "né(e)" not in shown
            await pilot.press("escape")
            await settle(pilot)

            # /imprimer saves the printable HTML (F10 on the letter) and says where
            await type_and_enter(pilot, "/imprimer")
            saved = folder / "letters" / f"lettre-de-liaison-{dossier_id[:8]}.html"
            await wait_until(pilot, saved.exists, what="the saved letter")
            html = saved.read_text(encoding="utf-8")
            assert "Adressée à" in html and "née le 12/03/1938" in html
            assert any(str(saved) in n.message for n in app._notifications)
            await pilot.press("f1")  # on the letter: how to print it
            await settle(pilot)
            assert any("Ctrl+P" in n.message and str(folder / "letters") in n.message
                       for n in app._notifications)
            await pilot.press("escape")
            await settle(pilot)

            # F6's and F8's twins, then Escape's
            await type_and_enter(pilot, "/recap")
            assert type(app.screen).__name__ == "ReviewScreen"
            await pilot.press("escape")
            await settle(pilot)
            await type_and_enter(pilot, "/signer")
            assert type(app.screen).__name__ == "SignScreen"
            await pilot.press("escape")
            await settle(pilot)
            assert chat(pilot) is screen
            await type_and_enter(pilot, "/accueil")
            assert type(app.screen).__name__ == "HomeScreen"

    run(scenario())


def test_commands_of_keys_not_yet_available_say_so(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_chat(pilot, "1", "n")
            for command in ("/unites", "/signer", "/choisir 1"):
                await type_and_enter(pilot, command)
                assert chat(pilot) is screen, command
                assert "Pas encore" in error_text(screen), command
            await type_and_enter(pilot, "/frobnique")
            assert "Commande inconnue « /frobnique »" in error_text(screen)
            assert "/unites" in error_text(screen) and "/imprimer" in error_text(screen)

    try:
        run(scenario())
    finally:
        embedded.close()


def test_a_notice_leaves_the_answer_field_visible(ready: tuple[Embedded, Path, str]) -> None:
    embedded, folder, dossier_id = ready

    async def scenario() -> None:
        app = make_app(embedded, folder)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            screen = await reopen(pilot, dossier_id, "ready")
            await pilot.press("f7")
            await settle(pilot)
            units = app.screen.query_one("#units", SelectionList)
            await wait_until(pilot, lambda: units.option_count >= 1, what="the proposals")
            await pilot.press("space", "f9")  # one unit chosen: a notice, back in the chat
            await settle(pilot)
            assert chat(pilot) is screen
            toasts = await wait_until(pilot, lambda: list(app.screen.query(Toast)), what="the notice")
            answer = screen.query_one("#answer", Input).region
            footer_top = app.size.height - 1
            for toast in toasts:
                assert not toast.region.overlaps(answer), (toast.region, answer)
                assert toast.region.bottom <= footer_top

    run(scenario())


def test_ticked_boxes_show_a_mark_not_only_a_colour(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_chat(pilot, "1", "n")
            multi = screen.query_one("#multi", SelectionList)
            await pilot.press("shift+tab")
            await settle(pilot)
            assert multi.has_focus
            await pilot.press("space")  # the first sign ticked, the others not
            await settle(pilot)
            first, second = multi.render_line(0).text, multi.render_line(1).text
            assert "▐X▌" in first and "Détresse respiratoire" in first, first
            assert "▐ ▌" in second and "X" not in second.split("2.")[0], second
            await pilot.press("space")  # unticked again: the mark goes
            await settle(pilot)
            assert "▐ ▌" in multi.render_line(0).text

    try:
        run(scenario())
    finally:
        embedded.close()


def test_red_flag_message_shows_no_markdown_backticks(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_chat(pilot, "1", "n")
            await type_and_enter(pilot, "1")  # respiratory distress: blocked, call the 15
            assert screen.status == "blocked"
            texts = bubble_texts(screen)
            assert any("/modifier Signes de gravité" in t for t in texts)
            assert not [t for t in texts if "`" in t]

    try:
        run(scenario())
    finally:
        embedded.close()


def test_a_reopened_sent_dossier_is_not_resumed_where_it_stopped(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)

    async def scenario() -> None:
        dossier_id, report = await prepared_dossier(embedded, choose=[1], sign=True, send=True)
        assert report["status"] == "sent"
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await reopen(pilot, dossier_id, "sent")
            await wait_until(pilot, lambda: len(bubble_texts(screen)) >= 2, what="the messages")
            first = bubble_texts(screen)[0]
            assert "repris là où il s'était arrêté" not in first
            assert "rouvert : il est « envoyé »" in first and "MARTIN" in first

    try:
        run(scenario())
    finally:
        embedded.close()


def test_ctrl_c_says_how_to_quit_in_french(tmp_path: Path) -> None:
    embedded = make_embedded(tmp_path)

    async def scenario() -> None:
        app = make_app(embedded, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("1")
            await settle(pilot)
            await pilot.press("ctrl+c")
            await settle(pilot)
            notes = list(app._notifications)
            assert notes, "nothing said"
            assert all("quit" not in (n.title + n.message).lower().replace("quitter", "") for n in notes)
            assert any(n.title == "Quitter ?" and "Ctrl+Q" in n.message for n in notes)

    try:
        run(scenario())
    finally:
        embedded.close()
