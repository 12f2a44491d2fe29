"""Text folding shared by every comparison of typed words (choices, field names, communes)."""

from __future__ import annotations

import re
import unicodedata

# Characters no stored text may hold: C0 controls (tab, line feed and carriage return aside, which
# are read as spaces), DEL, C1 controls (U+0080-U+009F: CSI U+009B drives a terminal like ESC [)
# and the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which
# make a terminal or a printed letter show something other than what is stored.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# C1 and bidirectional controls alone: free text drops C0 controls and DEL but refuses these
# (models.readers.read_text).
TERMINAL_AND_BIDI = re.compile("[\x80-\x9f\u202a-\u202e\u2066-\u2069]")


def controls_in(text: str, pattern: re.Pattern[str] = CONTROL_CHARS) -> str | None:
    """The forbidden characters of `text` as code points ("U+009B, U+202E"), or None."""
    found = list(dict.fromkeys(pattern.findall(text)))
    if not found:
        return None
    return ", ".join(f"U+{ord(c):04X}" for c in found[:6]) + (", …" if len(found) > 6 else "")


def control_message(text: str) -> str | None:
    """The French refusal of a text holding forbidden characters, or None when it holds none."""
    found = controls_in(text)
    return None if found is None else f"caractère de contrôle interdit ({found})"


_DROP = str.maketrans("", "", " '’-_.\t")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise_key(text: str) -> str:
    """Lower-case, without accents, apostrophes, hyphens, underscores, dots or spaces."""
    return strip_accents(text).casefold().translate(_DROP)
