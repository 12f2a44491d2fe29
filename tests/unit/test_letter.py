"""The referral letter: every legal field present, the signature and the date; user text inert."""

from __future__ import annotations

from datetime import date

from orient.dialogs.documents import (
    LEGAL_FIELDS,
    render_letter_html,
    render_letter_markdown,
    render_review,
    sections_from_answers,
)

ANSWERS = {
    "requester.rpps": "10003456786",
    "requester.name": "Dr Claire Martin",
    "requester.callback_phone": "+33561000000",
    "patient.birth_name": "MARTIN",
    "patient.first_names": "Jeanne",
    "patient.birth_date": "1938-03-12",
    "patient.sex": "F",
    "patient.commune": "31555",
    "request.specialty": "cardiology",
    "request.timing": "within_24h",
    "medical.reason": "<script>alert('x')</script> dyspnée | aggravation **rapide**",
    "medical.diagnosis": "Insuffisance cardiaque",
    "medical.history": "HTA",
    "medical.treatments": "Furosémide & ramipril",
    "medical.allergies": "aucune allergie connue",
}


def test_html_letter_has_the_legal_fields_signature_and_date() -> None:
    html = render_letter_html(ANSWERS, sections_from_answers(ANSWERS), "2026-11-27T10:15:00+01:00",
                              date(2026, 11, 27))
    for section_id in ("reason", "treatments", "allergies"):
        assert f'id="{section_id}"' in html
    assert "Motif de la demande" in html and "Traitements en cours" in html and "Allergies connues" in html
    assert "Furosémide &amp; ramipril" in html
    assert "aucune allergie connue" in html
    assert "Signé électroniquement par Dr Claire Martin le 27/11/2026 à 10:15" in html
    assert "Lettre établie le 27/11/2026" in html
    assert len(LEGAL_FIELDS) == 3


def test_html_letter_escapes_user_text() -> None:
    html = render_letter_html(ANSWERS, sections_from_answers(ANSWERS), None, date(2026, 11, 27))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "Non signé" in html


def test_markdown_letter_makes_user_text_inert() -> None:
    text = render_letter_markdown(ANSWERS, sections_from_answers(ANSWERS), None, date(2026, 11, 27))
    assert "\\<script\\>" in text and "\\*\\*rapide\\*\\*" in text and "\\|" in text
    assert "## Motif de la demande" in text and "## Traitements en cours" in text
    assert "## Allergies connues" in text


def test_review_marks_missing_fields_with_who_fills_them() -> None:
    sections = [{"section": "medical", "title": "Volet médical", "hidden": False, "items": [
        {"field": "medical.reason", "label": "Motif", "state": "missing", "value": None, "display": "",
         "who": "le médecin"}]}]
    text = render_review(sections, "draft", None)
    assert "à remplir par le médecin" in text and "brouillon" in text


def test_letter_writes_the_phone_and_empty_choices_the_french_way() -> None:
    answers = {**ANSWERS, "medical.precautions": []}
    for text in (render_letter_html(answers, sections_from_answers(answers), None, date(2026, 11, 27)),
                 render_letter_markdown(answers, sections_from_answers(answers), None, date(2026, 11, 27))):
        assert "rappel au 05 61 00 00 00" in text and "+33561000000" not in text
        assert "néant" in text and ": aucun<" not in text and ": aucun\n" not in text


WARNINGS = [
    {"field": "patient.ins", "code": "ins_mismatch",
     "message": "Le matricule INS ne correspond pas aux traits d'identité : sexe : le numéro indique un homme (1)."},
    {"field": "medical.bp_systolic", "code": "hypotension",
     "message": "Pression systolique à 85 mmHg <b>. Vérifiez les signes de gravité (/modifier Signes de gravité)."},
]


def test_the_letter_and_the_review_show_the_warnings_the_dossier_keeps() -> None:
    html = render_letter_html(ANSWERS, sections_from_answers(ANSWERS), None, date(2026, 11, 27), WARNINGS)
    assert 'id="warnings"' in html and "Points d'attention" in html
    assert "sexe : le numéro indique un homme (1)" in html
    assert "85 mmHg &lt;b&gt;. Vérifiez les signes de gravité.</li>" in html  # no chat command on paper
    text = render_letter_markdown(ANSWERS, sections_from_answers(ANSWERS), None, date(2026, 11, 27), WARNINGS)
    assert "## Points d'attention" in text and "⚠ Le matricule INS ne correspond pas" in text
    assert "/modifier" not in text
    review = render_review(sections_from_answers(ANSWERS), "ready", None, WARNINGS)
    assert "**Avertissements**" in review and "⚠ Le matricule INS ne correspond pas" in review
    # none kept: no heading
    assert "Points d'attention" not in render_letter_markdown(ANSWERS, sections_from_answers(ANSWERS), None,
                                                              date(2026, 11, 27))


def test_the_ins_number_is_in_the_letter_only_with_a_qualified_identity() -> None:
    for status, shown in (("qualifiee", True), ("validee", False), ("provisoire", False)):
        answers = {**ANSWERS, "patient.ins": "238033155512370", "patient.identity_status": status}
        html = render_letter_html(answers, sections_from_answers(answers), None, date(2026, 11, 27))
        text = render_letter_markdown(answers, sections_from_answers(answers), None, date(2026, 11, 27))
        assert ("238033155512370" in html) is shown and ("238033155512370" in text) is shown, status
