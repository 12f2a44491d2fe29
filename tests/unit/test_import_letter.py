"""The pasted-letter reader (assistant/importing/letter.py): what it recognises without guessing,
what it leaves out (with a note), and a letter with nothing recognisable."""

from __future__ import annotations

import pytest

from orient.assistant.directory.icd10 import default_icd10
from orient.assistant.importing import MAX_LETTER_CHARS, ImportRefused
from orient.assistant.importing.letter import read_letter

LETTER = """Dr Claire Martin
Cabinet médical, 3 place du Capitole, 31000 Toulouse
Toulouse, le 03/12/2026

Cher confrère,

Je vous adresse Mme Jeanne LAFARGUE née BERTRAND, née le 12 mars 1938, INS 2 38 03 31 555 047 49.

Motif : pneumopathie hypoxémiante chez une patiente âgée fragile, échec de l'amoxicilline orale.

Antécédents :
- Insuffisance cardiaque à fraction d'éjection préservée
- Fibrillation atriale paroxystique
- Diabète de type 2

Traitements en cours :
- Apixaban 2,5 mg x2/j
- Furosémide 40 mg le matin
- Metformine 850 mg x2/j

Allergies : amoxicilline (urticaire)

Examen : TA 128/74, FC 96, FR 24, SpO2 92 % sous 2 L, T 38,5 °C, poids 62 kg.

Diagnostic : pneumopathie aiguë communautaire

Sa fille, Hélène, est joignable au 06 71 82 93 04. Vous pouvez me joindre au 05 61 00 00 00.

Bien confraternellement,
"""


def found(text: str) -> dict[str, str]:
    return {v.field: v.text for v in read_letter(text, icd10=default_icd10()).values}


def test_a_referral_letter_gives_what_it_says() -> None:
    result = read_letter(LETTER, icd10=default_icd10())
    assert result.kind == "letter" and result.origin.startswith("sha256:")
    assert {v.field: v.text for v in result.values} == {
        "requester.callback_phone": "0561000000",
        "patient.birth_date": "12/03/1938",
        "patient.ins": "238033155504749",
        "context.caregiver_phone": "0671829304",
        "medical.reason": "pneumopathie hypoxémiante chez une patiente âgée fragile, échec de "
                          "l'amoxicilline orale",
        "medical.diagnosis": "pneumopathie aiguë communautaire",
        "medical.history": "Insuffisance cardiaque à fraction d'éjection préservée ; Fibrillation "
                           "atriale paroxystique ; Diabète de type 2",
        "medical.treatments": "Apixaban 2,5 mg x2/j ; Furosémide 40 mg le matin ; Metformine 850 mg x2/j",
        "medical.allergies": "amoxicilline (urticaire)",
        "medical.bp_systolic": "128",
        "medical.bp_diastolic": "74",
        "medical.heart_rate": "96",
        "medical.resp_rate": "24",
        "medical.spo2": "92 %",
        "medical.oxygen": "sous 2 L",
        "medical.temperature": "38,5 °C",
        "medical.weight": "62",
    }
    # the ICD-10 code is suggested from the diagnosis words, not chosen
    note = next(n for n in result.notes if "CIM-10" in n.text)
    assert "J18.9" in note.text and note.medical


def test_a_written_icd10_code_is_taken_and_nothing_else_is_invented() -> None:
    got = found("Diagnostic : pneumopathie\nCIM-10 : J18.9\n")
    assert got == {"medical.diagnosis": "pneumopathie", "medical.diagnosis_code": "J18.9"}


def test_a_date_is_a_birth_date_only_when_the_text_says_so() -> None:
    got = found("Vu le 12/03/2026.\nDate de naissance : 04/06/1941\nTA 130/80 le 02/12/2026")
    assert got["patient.birth_date"] == "04/06/1941"
    assert (got["medical.bp_systolic"], got["medical.bp_diastolic"]) == ("130", "80")
    assert found("DDN : 1er août 1941")["patient.birth_date"] == "01/08/1941"


def test_two_different_values_are_not_chosen_between() -> None:
    result = read_letter("Née le 12/03/1938.\nDate de naissance : 13/03/1938\nMotif : chute à domicile répétée")
    assert "patient.birth_date" not in {v.field for v in result.values}
    assert any("plusieurs dates de naissance" in n.text for n in result.notes)


def test_a_phone_is_taken_only_when_the_line_says_whose_it_is() -> None:
    result = read_letter("Tél. 06 12 34 56 78\nLe patient est joignable au 07 11 22 33 44.")
    got = {v.field: v.text for v in result.values}
    assert got == {"patient.phone": "0711223344"}
    assert any("06 12 34 56 78" in n.text and "non" not in n.text[:5] for n in result.notes)


def test_a_section_ends_at_a_blank_line_or_another_heading() -> None:
    got = found("ATCD :\nHTA\nExamen clinique :\nsouffle systolique\n\nTraitement : ramipril 5 mg\n"
                "Allergie : aucune connue\nConclusion : à revoir")
    assert got == {"medical.history": "HTA", "medical.treatments": "ramipril 5 mg",
                   "medical.allergies": "aucune connue"}


def test_a_word_in_prose_is_not_a_heading() -> None:
    with pytest.raises(ImportRefused):
        read_letter("Le traitement par amoxicilline a échoué ; les allergies sont inconnues.")


def test_a_letter_with_nothing_recognisable_says_so() -> None:
    with pytest.raises(ImportRefused) as caught:
        read_letter("Cher confrère, merci de recevoir ce patient. Bien confraternellement.")
    message = str(caught.value)
    assert message.startswith("Rien de reconnaissable") and "Rien n'a été importé" in message


def test_a_letter_too_long_is_refused() -> None:
    with pytest.raises(ImportRefused) as caught:
        read_letter("Motif : " + "x" * MAX_LETTER_CHARS)
    assert "trop long" in str(caught.value)
