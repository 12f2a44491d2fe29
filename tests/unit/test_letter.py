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


# -- what the letter says about the patient and where it goes (issue 9) -----------------------
def both(answers: dict[str, object], signed_at: str | None = None, **kwargs: object) -> tuple[str, str]:
    sections = sections_from_answers(answers)
    today = date(2026, 12, 3)
    return (render_letter_markdown(answers, sections, signed_at, today, **kwargs),  # type: ignore[arg-type]
            render_letter_html(answers, sections, signed_at, today, **kwargs))  # type: ignore[arg-type]


def test_born_agrees_with_the_sex() -> None:
    for sex, word in (("F", "née le 12/03/1938"), ("M", "né le 12/03/1938"),
                      ("I", "date de naissance : 12/03/1938")):
        for text in both({**ANSWERS, "patient.sex": sex}):
            assert word in text.replace("&nbsp;", " "), (sex, text)
            assert "né(e)" not in text
    text, _ = both({**ANSWERS, "patient.sex": "M"})
    assert "née le" not in text


def test_usage_name_beside_the_birth_name() -> None:
    md_text, html = both({**ANSWERS, "patient.used_name": "DUPONT"})
    assert "MARTIN Jeanne (nom utilisé : DUPONT), née le" in md_text
    assert "MARTIN Jeanne (nom utilisé&nbsp;: DUPONT), née le" in html
    md_text, html = both(ANSWERS)
    assert "nom utilisé" not in md_text.split("##")[0] and "nom utilisé" not in html.split("<section")[0]


def test_the_units_it_is_addressed_to() -> None:
    units = ["Cardiologie — HOPITAL RANGUEIL CHU TOULOUSE", "Cardiologie (démo) — CLINIQUE PASTEUR"]
    md_text, html = both(ANSWERS, addressees=units)
    assert ("**Adressée à** : Cardiologie — HOPITAL RANGUEIL CHU TOULOUSE ; Cardiologie \\(démo\\) — "
            "CLINIQUE PASTEUR") in md_text
    assert "<li>Cardiologie — HOPITAL RANGUEIL CHU TOULOUSE</li>" in html
    assert "<li>Cardiologie (démo) — CLINIQUE PASTEUR</li>" in html
    for text in both(ANSWERS):
        assert "unités pas encore choisies" in text


def test_fields_are_written_with_labels_not_questions() -> None:
    answers = {**ANSWERS, "medical.spo2": 88, "medical.spo2_confirmed": True,
               "logistics.companion": False, "request.prior_contact": True,
               "request.prior_contact_name": "Dr Roux, cardiologie", "context.gp_is_requester": True}
    md_text, html = both(answers)
    for text in (md_text, html):
        assert "confirmez-vous" not in text and "sera-t-il" not in text and "Avez-vous" not in text
        assert "est-il le médecin traitant" not in text
    assert "- SpO2 basse \\(\\< 90 %\\) confirmée, sans signe de gravité : oui" in md_text
    assert "- Patient accompagné : non" in md_text
    assert "- Échange préalable avec un médecin hospitalier : oui" in md_text
    assert "- Demandeur médecin traitant du patient : oui" in md_text
    assert "<td>SpO2 basse (&lt; 90 %) confirmée, sans signe de gravité</td><td>oui</td>" in html
    assert "<td>Patient accompagné</td><td>non</td>" in html


def test_every_written_label_is_a_statement() -> None:
    from orient.dialogs.documents import written_label
    from orient.dialogs.hnp import HNP

    for spec in HNP.fields:
        label = written_label({"field": spec.id, "label": spec.label})
        assert not label.rstrip().endswith("?"), (spec.id, label)


def test_signature_time_is_french_local_time() -> None:
    md_text, html = both(ANSWERS, signed_at="2026-12-03T07:22:00+00:00")  # UTC in the store
    assert "le 03/12/2026 à 08:22" in md_text and "le 03/12/2026 à 08:22" in html
    md_text, _ = both(ANSWERS, signed_at="2026-07-01T07:22:00+00:00")  # summer time
    assert "le 01/07/2026 à 09:22" in md_text


def test_the_receiving_unit_reads_a_letter_addressed_to_it() -> None:
    from orient.assistant.tui.letter import letter_from_answers

    text = letter_from_answers(ANSWERS, addressees=["Cardiologie — HOPITAL RANGUEIL CHU TOULOUSE"])
    assert "**Adressée à** : Cardiologie — HOPITAL RANGUEIL CHU TOULOUSE\n" in text
