"""The Pro Santé Connect URL a screen shows (sign-in, signature): a link the terminal can open on
a click (OSC 8, where supported), also copied to the clipboard (OSC 52, where the terminal allows
it), since a URL wrapped over several lines is hard to copy by hand."""

from __future__ import annotations

import contextlib
from typing import Any

from rich.style import Style
from rich.text import Text

COPIED = "Adresse aussi copiée dans le presse-papiers (si votre terminal le permet)."


def shown(app: Any, before: str, url: str, after: str) -> Text:
    """`before`, the URL as a link, `after`; the URL copied to the clipboard."""
    with contextlib.suppress(Exception):  # a terminal without clipboard access
        app.copy_to_clipboard(url)
    return Text.assemble(before, (url, Style(link=url)), after)
