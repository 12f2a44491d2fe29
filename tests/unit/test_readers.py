"""Readers of typed answers: normalised values and French refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orient.models.readers import (
    ReadError,
    read_bool,
    read_choice,
    read_date,
    read_dec,
    read_email,
    read_identifier,
    read_int,
    read_multi,
    read_name,
    read_phone,
    read_text,
)

DELAY = [("today", "Aujourd'hui"), ("h24", "Sous 24 h"), ("h48", "Sous 48 h")]
DELAY_LIST = "1. Aujourd'hui ; 2. Sous 24 h ; 3. Sous 48 h"
SPECIALTY = [
    ("gastro", "Gastro-entérologie"),
    ("geriatrie", "Gériatrie"),
    ("cardio", "Cardiologie"),
    ("home_alone", "Vit seul à domicile"),
]


def refused(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> ReadError:
    with pytest.raises(ReadError) as info:
        fn(*args, **kwargs)
    err = info.value
    assert isinstance(err.reason, str) and isinstance(err.expected, str)
    assert err.expected  # always says what is expected
    return err


def test_read_error_fields() -> None:
    err = ReadError("la date est dans un format inconnu", "une date jj/mm/aaaa")
    assert err.reason == "la date est dans un format inconnu"
    assert err.expected == "une date jj/mm/aaaa"
    assert str(err) == "la date est dans un format inconnu"
    assert str(ReadError("", "oui ou non")) == "oui ou non"


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("  douleur thoracique  ", "douleur thoracique"),
        ("douleur \t\n  thoracique", "douleur thoracique"),
        ("", ""),
        ("   ", ""),
        ("a\x00b\x07c", "abc"),  # control characters dropped
        ("e\u0301", "é"),  # NFC
        ("chute\u00a0à domicile", "chute à domicile"),
    ],
)
def test_read_text(raw: str, value: str) -> None:
    assert read_text(raw) == value


@pytest.mark.parametrize(
    ("raw", "min_length", "reason", "expected"),
    [
        ("", 1, "la réponse est vide", "un texte d'au moins 1 caractère"),
        ("   ", 3, "la réponse est vide", "un texte d'au moins 3 caractères"),
        ("a", 3, "le texte est trop court (1 caractère)", "un texte d'au moins 3 caractères"),
        ("ab", 3, "le texte est trop court (2 caractères)", "un texte d'au moins 3 caractères"),
        ("a    b", 4, "le texte est trop court (3 caractères)",
         "un texte d'au moins 4 caractères"),
    ],
)
def test_read_text_refused(raw: str, min_length: int, reason: str, expected: str) -> None:
    err = refused(read_text, raw, min_length=min_length)
    assert err.reason == reason
    assert err.expected == expected


def test_read_text_min_length_met() -> None:
    assert read_text(" abc ", min_length=3) == "abc"


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("Lefèvre", "Lefèvre"),
        ("  Jean   Pierre ", "Jean Pierre"),
        ("Jean-Pierre", "Jean-Pierre"),
        ("d’Ornano", "d'Ornano"),
        ("d'Ornano", "d'Ornano"),
        ("Lefèvre-d’Ornano", "Lefèvre-d'Ornano"),
        ("Éloïse", "Éloïse"),
        ("Œdipe", "Œdipe"),
        ("N\u0301", "\u0143"),  # NFC: N + combining acute is Ń
        ("Q\u0301", "Q\u0301"),  # no precomposed form: the combining accent is kept
    ],
)
def test_read_name(raw: str, value: str) -> None:
    assert read_name(raw) == value


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("Lefèvre-d’Ornano", "LEFEVRE-D'ORNANO"),
        ("lefevre", "LEFEVRE"),
        ("Cœur", "COEUR"),
        ("Lætitia", "LAETITIA"),
        ("Straße", "STRASSE"),
        ("Müller  Ñúñez", "MULLER NUNEZ"),
        ("Ç'a", "C'A"),
        ("Kowalski-Łąka", "KOWALSKI-LAKA"),
        ("e\u0301lodie", "ELODIE"),
    ],
)
def test_read_name_upper_ins(raw: str, value: str) -> None:
    assert read_name(raw, upper_ins=True) == value


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("Jean2", "caractères non acceptés : « 2 »"),
        ("Dupont & Fils", "caractères non acceptés : « & »"),
        ("Ma@rie3", "caractères non acceptés : « @ », « 3 »"),
        ("Jean_Pierre", "caractères non acceptés : « _ »"),
        ("Jean.", "caractères non acceptés : « . »"),
        ("Jean\x07", "caractères non acceptés : U+0007"),
        ("Иван", "caractères non acceptés : « И », « в », « а », « н »"),
        ("-Jean", "un nom ne commence ni ne finit par un trait d'union ou une apostrophe"),
        ("Jean-", "un nom ne commence ni ne finit par un trait d'union ou une apostrophe"),
        ("’Jean", "un nom ne commence ni ne finit par un trait d'union ou une apostrophe"),
        ("d'", "un nom ne commence ni ne finit par un trait d'union ou une apostrophe"),
        ("- '", "le nom ne contient aucune lettre"),
        ("", "la réponse est vide"),
        ("  ", "la réponse est vide"),
    ],
)
@pytest.mark.parametrize("upper_ins", [False, True])
def test_read_name_refused(raw: str, reason: str, upper_ins: bool) -> None:
    err = refused(read_name, raw, upper_ins=upper_ins)
    assert err.reason == reason
    assert "lettres" in err.expected


# --------------------------------------------------------------------------- identifiers


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("2 38 03 31 555 123 70", "238033155512370"),
        ("2a-004", "2A004"),
        ("1.80.01.2A.004.123", "180012A004123"),
        ("  010000024 ", "010000024"),
        ("abc\t12", "ABC12"),
    ],
)
def test_read_identifier(raw: str, value: str) -> None:
    assert read_identifier(raw) == value


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "la réponse est vide"),
        (" - . ", "la réponse est vide"),
        ("12/34", "caractères non acceptés : « / »"),
        ("12_34", "caractères non acceptés : « _ »"),
        ("٣٣", "caractères non acceptés : « ٣ »"),
        ("é12", "caractères non acceptés : « é »"),
    ],
)
def test_read_identifier_refused(raw: str, reason: str) -> None:
    assert refused(read_identifier, raw).reason == reason


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("12/03/1938", date(1938, 3, 12)),
        ("12-03-1938", date(1938, 3, 12)),
        ("12.03.1938", date(1938, 3, 12)),
        ("12031938", date(1938, 3, 12)),
        ("1938-03-12", date(1938, 3, 12)),
        ("1/3/1938", date(1938, 3, 1)),
        ("1-3-1938", date(1938, 3, 1)),
        ("  01/03/1938 ", date(1938, 3, 1)),
        ("12 / 03 / 1938", date(1938, 3, 12)),
        ("29/02/2000", date(2000, 2, 29)),
        ("29/02/2024", date(2024, 2, 29)),
        ("31/12/1999", date(1999, 12, 31)),
    ],
)
def test_read_date(raw: str, value: date) -> None:
    assert read_date(raw) == value


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("31/02/1938", "le 31/02/1938 n'existe pas : février 1938 compte 28 jours"),
        ("30/02/2024", "le 30/02/2024 n'existe pas : février 2024 compte 29 jours"),
        ("29/02/1900", "le 29/02/1900 n'existe pas : février 1900 compte 28 jours"),
        ("31/04/2020", "le 31/04/2020 n'existe pas : avril compte 30 jours"),
        ("31061990", "le 31/06/1990 n'existe pas : juin compte 30 jours"),
        ("12/13/1938", "le mois 13 n'existe pas"),
        ("12/00/1938", "le mois 00 n'existe pas"),
        ("00/03/1938", "le jour 00 n'existe pas"),
        ("12/03/38", "l'année 38 à deux chiffres est ambiguë (1938 ou 2038 ?)"),
        ("120338", "l'année 38 à deux chiffres est ambiguë (1938 ou 2038 ?)"),
        ("12/03/938", "l'année doit compter quatre chiffres"),
        ("12/03/19380", "l'année doit compter quatre chiffres"),
        ("12/03/0038", "l'année 0038 n'est pas plausible"),
        ("12/03/9999", "l'année 9999 n'est pas plausible"),
        ("12 mars 1938", "la date est dans un format inconnu"),
        ("12/03-1938", "la date est dans un format inconnu"),
        ("1938/03/12", "la date est dans un format inconnu"),
        ("1938", "la date est dans un format inconnu"),
        ("١٢/٠٣/١٩٣٨", "la date est dans un format inconnu"),
        ("hier", "la date est dans un format inconnu"),
        ("", "la réponse est vide"),
    ],
)
def test_read_date_refused(raw: str, reason: str) -> None:
    err = refused(read_date, raw)
    assert err.reason == reason
    assert err.expected == "une date jj/mm/aaaa (par exemple 12/03/1938)"


# --------------------------------------------------------------------------- yes / no


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("oui", True),
        ("OUI", True),
        (" o ", True),
        ("O", True),
        ("yes", True),
        ("Y", True),
        ("non", False),
        ("Non", False),
        ("n", False),
        ("no", False),
        ("NO ", False),
    ],
)
def test_read_bool(raw: str, value: bool) -> None:
    assert read_bool(raw) is value


@pytest.mark.parametrize("raw", ["peut-être", "ouii", "1", "0", "vrai", "o n", "", "  "])
def test_read_bool_refused(raw: str) -> None:
    err = refused(read_bool, raw)
    assert err.expected == "oui ou non (o ou n)"


# --------------------------------------------------------------------------- choice


@pytest.mark.parametrize(
    ("raw", "options", "code"),
    [
        ("1", DELAY, "today"),
        (" 2 ", DELAY, "h24"),
        ("3", DELAY, "h48"),
        ("2.", DELAY, "h24"),
        ("h48", DELAY, "h48"),
        ("H24", DELAY, "h24"),
        ("Sous 24 h", DELAY, "h24"),
        ("sous 24h", DELAY, "h24"),
        ("SOUS24H", DELAY, "h24"),
        ("aujourdhui", DELAY, "today"),
        ("aujourd’hui", DELAY, "today"),
        ("auj", DELAY, "today"),
        ("a", DELAY, "today"),
        ("sous 4", DELAY, "h48"),
        ("gastro enterologie", SPECIALTY, "gastro"),
        ("Gastro-entérologie", SPECIALTY, "gastro"),
        ("gastro", SPECIALTY, "gastro"),
        ("GÉRIA", SPECIALTY, "geriatrie"),
        ("ca", SPECIALTY, "cardio"),
        ("home alone", SPECIALTY, "home_alone"),
        ("home-alone", SPECIALTY, "home_alone"),
        ("vit seul", SPECIALTY, "home_alone"),
        ("4", SPECIALTY, "home_alone"),
    ],
)
def test_read_choice(raw: str, options: list[tuple[str, str]], code: str) -> None:
    assert read_choice(raw, options) == code


def test_read_choice_exact_beats_prefix() -> None:
    options = [("a", "Sous 24 h"), ("b", "Sous 24 h ou plus")]
    assert read_choice("sous 24 h", options) == "a"
    assert read_choice("sous 24 h ou", options) == "b"


def test_read_choice_number_beyond_options_reads_label_prefix() -> None:
    options = [("a", "10 mg"), ("b", "5 mg")]
    assert read_choice("10", options) == "a"
    assert read_choice("1", options) == "a"
    assert read_choice("2", options) == "b"


def test_read_choice_number_and_code_disagree() -> None:
    options = [("2", "Deux"), ("1", "Un")]
    err = refused(read_choice, "1", options)
    assert err.reason == "« 1 » correspond à plusieurs options : Deux, Un"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("sous", "« sous » correspond à plusieurs options : Sous 24 h, Sous 48 h"),
        ("SOUS", "« SOUS » correspond à plusieurs options : Sous 24 h, Sous 48 h"),
        ("4", "il n'y a pas d'option 4"),
        ("0", "il n'y a pas d'option 0"),
        ("demain", ""),
        ("24", "il n'y a pas d'option 24"),
        ("sous 72", ""),
        ("-", ""),
        ("", "la réponse est vide"),
    ],
)
def test_read_choice_refused(raw: str, reason: str) -> None:
    err = refused(read_choice, raw, DELAY)
    assert err.reason == reason
    assert err.expected == DELAY_LIST


# --------------------------------------------------------------------------- several choices


@pytest.mark.parametrize(
    ("raw", "codes"),
    [
        ("1", ["today"]),
        ("1,3", ["today", "h48"]),
        ("3, 1", ["h48", "today"]),
        ("1;2", ["today", "h24"]),
        ("1,,2", ["today", "h24"]),
        (" , 1 , ", ["today"]),
        ("2, sous 24 h, h24", ["h24"]),
        ("3,1,3,1", ["h48", "today"]),
        ("aujourd'hui, sous 48", ["today", "h48"]),
        ("aucun", []),
        ("Aucune", []),
        (" AUCUN ", []),
        ("aucun, aucune", []),
    ],
)
def test_read_multi(raw: str, codes: list[str]) -> None:
    assert read_multi(raw, DELAY) == codes


def test_read_multi_none_is_an_option() -> None:
    options = [("none", "Aucune"), ("some", "Certaines")]
    assert read_multi("aucune", options) == ["none"]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("aucun, 1", "« aucun » ne peut pas être combiné avec d'autres options"),
        ("1, aucune", "« aucune » ne peut pas être combiné avec d'autres options"),
        ("1, demain", "« demain » ne correspond à aucune option"),
        ("1, 7", "il n'y a pas d'option 7"),
        ("sous, 1", "« sous » correspond à plusieurs options : Sous 24 h, Sous 48 h"),
        ("1 et 2", "« 1 et 2 » ne correspond à aucune option"),
        ("", "la réponse est vide"),
        (" ,, ; ", "la réponse est vide"),
    ],
)
def test_read_multi_refused(raw: str, reason: str) -> None:
    err = refused(read_multi, raw, DELAY)
    assert err.reason == reason
    assert err.expected.endswith(DELAY_LIST)


# --------------------------------------------------------------------------- numbers

PCT = ("%",)
TEMP = ("°C", "°", "C")


@pytest.mark.parametrize(
    ("raw", "kwargs", "value"),
    [
        ("92", {}, 92),
        (" 92 ", {}, 92),
        ("92 %", {"units": PCT}, 92),
        ("92%", {"units": PCT}, 92),
        ("92", {"units": PCT}, 92),
        ("92,0", {}, 92),
        ("92.00", {}, 92),
        ("092", {}, 92),
        ("-3", {}, -3),
        ("+3", {}, 3),
        ("−3", {}, -3),  # U+2212 minus sign
        ("50", {"min": 50, "max": 100}, 50),
        ("100", {"min": 50, "max": 100}, 100),
        ("80 BPM", {"units": ("bpm", "/min")}, 80),
        ("80 / min", {"units": ("bpm", "/min")}, 80),
    ],
)
def test_read_int(raw: str, kwargs: dict[str, Any], value: int) -> None:
    result = read_int(raw, **kwargs)
    assert result == value and isinstance(result, int)


@pytest.mark.parametrize(
    ("raw", "kwargs", "reason", "expected"),
    [
        ("92,5", {}, "un nombre entier est attendu, sans décimale", "un nombre entier"),
        ("92.01", {}, "un nombre entier est attendu, sans décimale", "un nombre entier"),
        ("120", {"min": 50, "max": 100}, "la valeur 120 est hors limites",
         "un nombre entier entre 50 et 100"),
        ("49", {"min": 50, "max": 100}, "la valeur 49 est hors limites",
         "un nombre entier entre 50 et 100"),
        ("-1", {"min": 0}, "la valeur -1 est hors limites",
         "un nombre entier supérieur ou égal à 0"),
        ("301", {"max": 300}, "la valeur 301 est hors limites",
         "un nombre entier inférieur ou égal à 300"),
        ("92 kg", {"units": PCT}, "l'unité « kg » n'est pas acceptée",
         "un nombre entier (unité acceptée : %)"),
        ("92 %", {}, "", "un nombre entier"),
        ("quatre-vingt", {}, "", "un nombre entier"),
        ("%", {"units": PCT}, "", "un nombre entier (unité acceptée : %)"),
        ("1 000", {}, "", "un nombre entier"),
        ("٣", {}, "", "un nombre entier"),
        ("١٢٣", {}, "", "un nombre entier"),
        ("1e3", {}, "", "un nombre entier"),
        ("12 345 678 901 234 567 890", {}, "", "un nombre entier"),
        ("1234567890123456789", {}, "le nombre compte trop de chiffres", "un nombre entier"),
        ("", {}, "la réponse est vide", "un nombre entier"),
        (".", {}, "", "un nombre entier"),
    ],
)
def test_read_int_refused(
    raw: str, kwargs: dict[str, Any], reason: str, expected: str
) -> None:
    err = refused(read_int, raw, **kwargs)
    assert err.reason == reason
    assert err.expected == expected


@pytest.mark.parametrize(
    ("raw", "kwargs", "value"),
    [
        ("38,5", {}, 38.5),
        ("38.5", {}, 38.5),
        ("38,5 °C", {"units": TEMP}, 38.5),
        ("38,5°C", {"units": TEMP}, 38.5),
        ("38,5 °", {"units": TEMP}, 38.5),
        ("38,5 c", {"units": TEMP}, 38.5),
        ("38", {"units": TEMP}, 38.0),
        (",5", {}, 0.5),
        ("0,25", {}, 0.25),
        ("-0", {}, 0.0),
        ("-1,5", {}, -1.5),
        ("1,20", {}, 1.2),
        ("35,5", {"min": 35.5, "max": 42}, 35.5),
        ("72,3 kg", {"units": ("kg",)}, 72.3),
    ],
)
def test_read_dec(raw: str, kwargs: dict[str, Any], value: float) -> None:
    result = read_dec(raw, **kwargs)
    assert result == value and isinstance(result, float)


def test_read_dec_no_negative_zero() -> None:
    assert str(read_dec("-0,0")) == "0.0"


@pytest.mark.parametrize(
    ("raw", "kwargs", "reason", "expected"),
    [
        ("45", {"min": 30, "max": 42.5}, "la valeur 45 est hors limites",
         "un nombre entre 30 et 42,5"),
        ("29,9", {"min": 30, "max": 42.5}, "la valeur 29,9 est hors limites",
         "un nombre entre 30 et 42,5"),
        ("38,5 °F", {"units": TEMP}, "l'unité « °F » n'est pas acceptée",
         "un nombre (unités acceptées : °C, °, C)"),
        ("38,5,2", {}, "", "un nombre"),
        ("38..5", {}, "", "un nombre"),
        ("trente-huit", {}, "", "un nombre"),
        ("", {}, "la réponse est vide", "un nombre"),
    ],
)
def test_read_dec_refused(
    raw: str, kwargs: dict[str, Any], reason: str, expected: str
) -> None:
    err = refused(read_dec, raw, **kwargs)
    assert err.reason == reason
    assert err.expected == expected


# --------------------------------------------------------------------------- phone


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("05 61 00 00 00", "+33561000000"),
        ("0561000000", "+33561000000"),
        ("05.61.00.00.00", "+33561000000"),
        ("05-61-00-00-00", "+33561000000"),
        ("06 12 34 56 78", "+33612345678"),
        ("01 23 45 67 89", "+33123456789"),
        ("09 70 00 00 00", "+33970000000"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+33612345678", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("+33 (0) 5 61 00 00 00", "+33561000000"),
        ("+262 692 12 34 56", "+262692123456"),
        ("+32 2 123 45 67", "+3221234567"),
        ("+44 (0)20 7946 0000", "+442079460000"),
        ("+1 212 555 0100", "+12125550100"),
        ("+12345678", "+12345678"),  # 8 digits: the shortest accepted
        ("+123456789012345", "+123456789012345"),  # 15 digits: the E.164 maximum
        ("0012345678", "+12345678"),  # 00 is the international prefix, not French
        ("+33 6 92 12 34 56", "+262692123456"),  # overseas number written with +33
    ],
)
def test_read_phone(raw: str, value: str) -> None:
    assert read_phone(raw) == value


@pytest.mark.parametrize(
    ("prefix", "country"),
    [
        ("0262", "262"),
        ("0263", "262"),
        ("0269", "262"),
        ("0639", "262"),
        ("0692", "262"),
        ("0693", "262"),
        ("0590", "590"),
        ("0690", "590"),
        ("0691", "590"),
        ("0594", "594"),
        ("0694", "594"),
        ("0596", "596"),
        ("0696", "596"),
        ("0697", "596"),
        ("0260", "33"),
        ("0595", "33"),
        ("0698", "33"),
        ("0612", "33"),
    ],
)
def test_read_phone_overseas(prefix: str, country: str) -> None:
    raw = f"{prefix} 12 34 56"
    assert read_phone(raw) == f"+{country}{prefix[1:]}123456"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("0262 12 34 56", "+262262123456"),
        ("0692 12 34 56", "+262692123456"),
        ("0590 12 34 56", "+590590123456"),
        ("0594 12 34 56", "+594594123456"),
        ("0696 12 34 56", "+596696123456"),
    ],
)
def test_read_phone_overseas_literal(raw: str, value: str) -> None:
    assert read_phone(raw) == value


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("06 12 34 56", "10 chiffres attendus, 8 saisis"),
        ("06 12 34 56 78 9", "10 chiffres attendus, 11 saisis"),
        ("6 12 34 56 78", "10 chiffres attendus, 9 saisis"),
        ("1612345678", "un numéro français commence par 0"),
        ("06 12 34 56 7A", "un numéro de téléphone ne contient pas de lettres"),
        ("tel 0612345678", "un numéro de téléphone ne contient pas de lettres"),
        ("+33 06 12 34 56 78", "après +33, 9 chiffres sont attendus, sans le 0 initial"),
        ("+33 6 12 34 56", "après +33, 9 chiffres sont attendus, sans le 0 initial"),
        ("+33 6 12 34 56 78 9", "après +33, 9 chiffres sont attendus, sans le 0 initial"),
        ("+1234567", "un numéro international compte de 8 à 15 chiffres après l'indicatif +"),
        ("+1234567890123456", "le numéro compte trop de chiffres (16)"),
        ("+0612345678", "l'indicatif du pays ne commence pas par 0"),
        ("06 12 (34) 56 78", "caractères non acceptés : « ( », « ) »"),
        ("06+12345678", "caractères non acceptés : « + »"),
        (
            "٠٦١٢٣٤٥٦٧٨",  # Arabic-Indic digits
            "caractères non acceptés : « ٠ », « ٦ », « ١ », « ٢ », « ٣ », « ٤ », …",
        ),
        ("", "la réponse est vide"),
        (" . - ", "la réponse est vide"),
    ],
)
def test_read_phone_refused(raw: str, reason: str) -> None:
    err = refused(read_phone, raw)
    assert err.reason == reason
    assert "10 chiffres" in err.expected


# --------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("jean.dupont@chu-toulouse.fr", "jean.dupont@chu-toulouse.fr"),
        ("  Jean.Dupont@CHU-Toulouse.FR ", "Jean.Dupont@chu-toulouse.fr"),
        ("dr.martin+hnp@hopital.mssante.fr", "dr.martin+hnp@hopital.mssante.fr"),
        ("a@b.co", "a@b.co"),
    ],
)
def test_read_email(raw: str, value: str) -> None:
    assert read_email(raw) == value


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("jean dupont@chu.fr", "une adresse ne contient pas d'espace"),
        ("jean.dupont.chu.fr", "une adresse contient un seul @"),
        ("a@b@chu.fr", "une adresse contient un seul @"),
        ("@chu.fr", "il manque le nom avant le @"),
        ("jean@", "il manque le domaine après le @"),
        ("jean@chu", "le domaine « chu » n'est pas valide (par exemple chu-exemple.fr)"),
        ("jean@chu..fr", "le domaine « chu..fr » n'est pas valide (par exemple chu-exemple.fr)"),
        ("jean@.chu.fr", "le domaine « .chu.fr » n'est pas valide (par exemple chu-exemple.fr)"),
        ("jean@chu.fr.", "le domaine « chu.fr. » n'est pas valide (par exemple chu-exemple.fr)"),
        (".jean@chu.fr", "les points sont mal placés avant le @"),
        ("jean..d@chu.fr", "les points sont mal placés avant le @"),
        ("jean,d@chu.fr", "caractères non acceptés : « , »"),
        ("<jean@chu.fr>", "caractères non acceptés : « < », « > »"),
        ("jean\x00@chu.fr", "caractères non acceptés : U+0000"),
        ("", "la réponse est vide"),
    ],
)
def test_read_email_refused(raw: str, reason: str) -> None:
    err = refused(read_email, raw)
    assert err.reason == reason
    assert err.expected.startswith("une adresse électronique")


# --------------------------------------------------------------------------- any input

READERS: list[tuple[str, Callable[[str], Any]]] = [
    ("text", read_text),
    ("text_min", lambda s: read_text(s, min_length=5)),
    ("name", read_name),
    ("name_ins", lambda s: read_name(s, upper_ins=True)),
    ("identifier", read_identifier),
    ("date", read_date),
    ("bool", read_bool),
    ("choice", lambda s: read_choice(s, DELAY)),
    ("choice_specialty", lambda s: read_choice(s, SPECIALTY)),
    ("multi", lambda s: read_multi(s, SPECIALTY)),
    ("int", read_int),
    ("int_units", lambda s: read_int(s, units=PCT, min=50, max=100)),
    ("dec", read_dec),
    ("dec_units", lambda s: read_dec(s, units=TEMP, min=30, max=42.5)),
    ("phone", read_phone),
    ("email", read_email),
]

# Text biased towards the characters the readers look at, plus any unicode.
_RELEVANT = st.text(
    alphabet=st.sampled_from(list("0123456789+-.,;/()%°C@ aAoOnN’'_éŒß٣\t\x00")), max_size=60
)
_ANY_TEXT = st.one_of(st.text(max_size=300), _RELEVANT)


@pytest.mark.parametrize(("name", "reader"), READERS, ids=[n for n, _ in READERS])
@settings(max_examples=200, deadline=None)
@given(raw=_ANY_TEXT)
def test_reader_returns_or_raises_read_error(
    name: str, reader: Callable[[str], Any], raw: str
) -> None:
    try:
        reader(raw)
    except ReadError as err:
        assert isinstance(err.reason, str) and isinstance(err.expected, str)


@pytest.mark.parametrize(("name", "reader"), READERS, ids=[n for n, _ in READERS])
@pytest.mark.parametrize(
    "raw",
    [
        "9" * 10_000,
        "1," + "0" * 10_000,
        "0" * 10_000 + "1",
        "a" * 100_000,
        "1/" * 5_000,
        " " * 10_000 + "x",
        "\x00\x01\x1f\x7f\x85\u200b\ufeff",
        "\ud800",  # lone surrogate
        "٣٤",
        "𝟗𝟐",  # mathematical bold digits
    ],
    ids=lambda r: repr(r[:12]),
)
def test_reader_survives_hostile_input(
    name: str, reader: Callable[[str], Any], raw: str
) -> None:
    try:
        reader(raw)
    except ReadError:
        pass


@pytest.mark.parametrize(("name", "reader"), READERS, ids=[n for n, _ in READERS])
def test_reader_refuses_non_string(name: str, reader: Callable[[str], Any]) -> None:
    with pytest.raises(ReadError):
        reader(None)  # type: ignore[arg-type]


TIMING = [("today", "Aujourd'hui"), ("within_24h", "Sous 24 h"), ("within_48h", "Sous 48 h")]


@pytest.mark.parametrize(("raw", "code"), [("48h", "within_48h"), ("48 h", "within_48h"),
                                           ("24H", "within_24h"), ("sous 48h", "within_48h")])
def test_read_choice_a_quantity_names_the_option_it_ends(raw: str, code: str) -> None:
    assert read_choice(raw, TIMING) == code


@pytest.mark.parametrize("raw", ["24", "72h", "h", "heures"])
def test_read_choice_other_quantities_are_refused(raw: str) -> None:
    with pytest.raises(ReadError):
        read_choice(raw, TIMING)
