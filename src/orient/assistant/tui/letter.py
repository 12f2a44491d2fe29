"""The referral letter as a receiving unit reads it in the terminal."""

from __future__ import annotations

from datetime import date
from typing import Any

from orient.dialogs.documents import render_letter_markdown, sections_from_answers


def letter_from_answers(answers: dict[str, Any], signed_at: str | None = "(voir le dossier)") -> str:
    return render_letter_markdown(answers, sections_from_answers(answers), signed_at, date.today())
