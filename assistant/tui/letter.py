"""The referral letter as a receiving unit reads it in the terminal."""

from __future__ import annotations

from typing import Any

from orient.dialogs.documents import render_letter_markdown, sections_from_answers
from orient.models.localtime import paris_today


def letter_from_answers(answers: dict[str, Any], sections: list[dict[str, Any]] | None = None,
                        signed_at: str | None = None, warnings: list[dict[str, Any]] | None = None,
                        addressees: list[str] | None = None) -> str:
    """The letter from the hub's sections (values as shown to people), else from the answers;
    with the warnings the dossier keeps; `addressees`: the units it goes to, in words."""
    return render_letter_markdown(answers, sections or sections_from_answers(answers), signed_at,
                                  paris_today(), warnings, addressees=[a for a in addressees or [] if a])
