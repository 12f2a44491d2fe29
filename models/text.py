"""Text folding shared by every comparison of typed words (choices, field names, communes)."""

from __future__ import annotations

import unicodedata

_DROP = str.maketrans("", "", " '’-_.\t")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise_key(text: str) -> str:
    """Lower-case, without accents, apostrophes, hyphens, underscores, dots or spaces."""
    return strip_accents(text).casefold().translate(_DROP)
