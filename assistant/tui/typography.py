"""French line breaking for everything the terminal wraps.

French puts a space before « ? ; : ! » and inside « guillemets »; a wrap at that space leaves a
line starting with "?" or ";" (or a guillemet alone at a line's end). A non-breaking space would
not help: Rich and Textual wrap at any Unicode space, non-breaking ones included. So the wrapper's
notion of a word changes instead: a space before a double punctuation mark or a closing guillemet,
or after an opening guillemet, binds the two sides (the text itself is unchanged, so what the
person copies is what the hub said)."""

from __future__ import annotations

import re

from rich import _wrap

ENGLISH_WORD = _wrap.re_word
# a word for the wrapper: leading spaces, then non-space characters and the spaces that bind
FRENCH_WORD = re.compile(r"\s*(?:«\s+|\s+(?=[?;:!»])|\S)+\s*")


def install() -> None:
    """Wrap every text the French way in this process (Rich and Textual share rich._wrap)."""
    _wrap.re_word = FRENCH_WORD
