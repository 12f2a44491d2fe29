"""Refusal messages read as French sentences: a reason that has its own brackets is not put in
brackets again (« ... l'attestation)) » was shown for an INS with a wrong key)."""

from __future__ import annotations

from datetime import date

import pytest

from orient.dialogs.hnp import HNP
from orient.models.fields import ReadError, RuleContext, read_answer, refusal_message


def refusal(field_id: str, typed: str) -> str:
    spec = HNP.field(field_id)
    with pytest.raises(ReadError) as caught:
        read_answer(spec, typed, RuleContext(answers={}, today=date(2026, 12, 3)))
    return refusal_message(spec, typed, caught.value)


@pytest.mark.parametrize("typed", [
    "238033155512356",  # a wrong key: "(vérifiez-les sur la carte Vitale ou l'attestation)"
    "2380331555X2345",  # a character that is not a digit: "(seulement des chiffres, ...)"
])
def test_no_doubled_brackets(typed: str) -> None:
    message = refusal("patient.ins", typed)
    assert "))" not in message and "((" not in message, message
    assert message.count("(") == message.count(")"), message
    assert f"« {typed} » n'est pas accepté. " in message, message


def test_a_plain_reason_stays_in_brackets() -> None:
    message = refusal("patient.ins", "12")
    assert "« 12 » n'est pas accepté (15 caractères attendus, 2 saisis). Attendu : " in message
