"""Commune resolution: INSEE codes, postcodes and names against the shipped commune table."""

from __future__ import annotations

import io

import pytest

from orient.assistant.directory.communes import (
    Commune,
    CommuneTable,
    Resolution,
    default_table,
    describe,
    normalize_name,
)


@pytest.fixture(scope="module")
def table() -> CommuneTable:
    return default_table()


def _codes(communes: tuple[Commune, ...]) -> list[str]:
    return [c.code for c in communes]


def _is_well_formed(resolution: Resolution) -> bool:
    """Exactly one of: a commune, >= 2 candidates, or neither (suggestions only then)."""
    if resolution.commune is not None:
        return not resolution.candidates and not resolution.suggestions
    if resolution.candidates:
        return len(resolution.candidates) >= 2 and not resolution.suggestions
    return True


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("76351", "76351"),  # INSEE code
        ("2A004", "2A004"),  # Corsican code
        ("2a 004", "2A004"),  # lower case, space inside
        (" 2b.033 ", "2B033"),  # dots and surrounding spaces
        ("2-b-0-3-3", "2B033"),
        ("31000", "31555"),  # postcode of one commune (Toulouse)
        ("75001", "75101"),  # Paris and Paris 1er both listed: the arrondissement wins
        ("75 001", "75101"),
        ("Paris", "75056"),  # the city, not its arrondissements
        ("Marseille", "13055"),
        ("Lyon", "69123"),
        ("Le Havre", "76351"),
        ("Havre", "76351"),
        ("le havre", "76351"),
        ("LE-HAVRE", "76351"),
        ("le-havre", "76351"),
        ("  Le   Havre  ", "76351"),
        ("L'Haÿ-les-Roses", "94038"),
        ("l’hay les roses", "94038"),  # typographic apostrophe, no accent
        ("Haÿ-les-Roses", "94038"),
        ("Ste-Foy-lès-Lyon", "69202"),
        ("Ste. Foy les Lyon", "69202"),
        ("Ste Maxime", "83115"),
        ("St-Étienne", "42218"),
        ("st etienne", "42218"),
        ("Aux Marais", "60703"),  # article outside le/la/les/l' kept in nom_complet
        ("Marais", "60703"),  # ... and the INSEE name without it
        ("Bellegarde-sur-Valserine", "01033"),  # COMD (same code as its COM) -> Valserhône
        ("Arbignieu", "01015"),  # COMD -> Arboys en Bugey
        ("09028", "09296"),  # former commune's own code (no COM row) -> its commune
        ("Paris 1er", "75101"),  # arrondissement without the word "Arrondissement"
        ("Marseille 1er Arrondissement", "13201"),
    ],
)
def test_accepted(table: CommuneTable, text: str, code: str) -> None:
    resolution = table.resolve(text)
    assert resolution.commune is not None, resolution
    assert resolution.commune.code == code
    assert _is_well_formed(resolution)


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("01660", ["01096", "01246", "01429"]),  # postcode of three communes
        ("13001", ["13001", "13201"]),  # Aix by INSEE code, Marseille 1er by postcode
        ("76600", ["76351", "76600"]),  # Le Havre by postcode, Saint-Léonard by INSEE code
        ("69001", ["69001", "69381"]),  # Affoux, Lyon 1er
        ("Saint-Denis", ["11339", "30247", "93066", "97411"]),
        ("St Denis", ["11339", "30247", "93066", "97411"]),
        ("st-denis", ["11339", "30247", "93066", "97411"]),
        ("Château-Chinon", ["58063", "58062"]),  # "(Campagne)", "(Ville)": sorted by name
    ],
)
def test_ambiguous(table: CommuneTable, text: str, codes: list[str]) -> None:
    resolution = table.resolve(text)
    assert resolution.commune is None
    assert _codes(resolution.candidates) == codes
    assert _is_well_formed(resolution)


def test_saint_denis_candidates_name_their_departements(table: CommuneTable) -> None:
    candidates = table.resolve("Saint-Denis").candidates
    by_code = {c.code: c for c in candidates}
    assert by_code["93066"].departement == "93"
    assert by_code["97411"].departement == "974"
    # The COMD row of 93066 must not duplicate the commune.
    assert len(by_code) == len(candidates)
    assert "Saint-Denis (93, 93066) ; Saint-Denis (974, 97411)" in describe(candidates)


def test_candidates_sorted_by_departement_then_name(table: CommuneTable) -> None:
    candidates = table.resolve("Saint-Denis").candidates
    assert [c.departement for c in candidates] == ["11", "30", "93", "974"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Toulousse", "31555"),
        ("Montpelier", "34172"),
        ("Bordeau", "33063"),
        ("Villeneuve sur Lott", "47323"),
        ("Saint Martin de la Plaine", "42259"),
    ],
)
def test_misspelt_name_suggests(table: CommuneTable, text: str, expected: str) -> None:
    resolution = table.resolve(text)
    assert resolution.commune is None
    assert not resolution.candidates
    codes = _codes(resolution.suggestions)
    assert codes[0] == expected
    assert len(codes) == len(set(codes)) <= 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Saint Martin de la Plaine", "42259"),  # in the "saint" bucket, not among all "s..."
        ("Sainte Maxim", "83115"),  # "sainte" bucket
        ("Sommieres du Clain", "86264"),  # an "s" name that is not a saint's
    ],
)
def test_suggestions_in_saint_buckets(table: CommuneTable, text: str, expected: str) -> None:
    resolution = table.resolve(text)
    assert expected in _codes(resolution.suggestions) or (
        resolution.commune is not None and resolution.commune.code == expected
    )


def test_suggestions_offer_current_names_only(table: CommuneTable) -> None:
    # "Arbignieu" is a former commune (COMD) of Arboys en Bugey: a near miss of the old name
    # is not offered as a spelling, and no commune is suggested twice
    suggested = _codes(table.resolve("Arbignieux").suggestions)
    assert "01016" in suggested  # Arbigny, a current name
    assert "01015" not in suggested  # Arboys en Bugey, reached only through its former name
    assert len(set(suggested)) == len(suggested)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "!!!", "-", "'", "x", "zzzzzzzzzzzzzzzzzzz", "12", "99999", "2C004", "le", "€"],
)
def test_nothing_matched_does_not_crash(table: CommuneTable, text: str) -> None:
    resolution = table.resolve(text)
    assert resolution.commune is None
    assert resolution.candidates == ()
    assert _is_well_formed(resolution)


def test_get(table: CommuneTable) -> None:
    commune = table.get("76351")
    assert commune is not None and commune.name == "Le Havre" and commune.kind == "COM"
    assert table.get("2a004") == table.resolve("2A004").commune
    arrondissement = table.get("75101")
    assert arrondissement is not None and arrondissement.kind == "ARM"
    assert table.get("09028") is None  # a former commune is not a commune
    assert table.get("nope") is None


def test_label_and_describe(table: CommuneTable) -> None:
    havre = table.get("76351")
    assert havre is not None
    assert havre.label == "Le Havre (76, 76351)"
    assert describe([]) == ""


@pytest.mark.parametrize(
    ("code", "lat", "lon"),
    [
        ("76351", 49.494090, 0.107928),  # town hall
        ("75056", 48.856589, 2.342915),  # no town hall coordinates: centroid
        ("56098", 47.76875, -3.327573),  # town hall written "nan" in the file: centroid
        ("42084", 45.757434, 3.941601),
        ("15031", None, None),  # no coordinates at all
    ],
)
def test_coordinates(table: CommuneTable, code: str, lat: float | None, lon: float | None) -> None:
    commune = table.get(code)
    assert commune is not None
    assert (commune.lat, commune.lon) == (lat, lon)


def test_paris_postcodes(table: CommuneTable) -> None:
    paris = table.get("75056")
    assert paris is not None and "75001" in paris.postcodes and "75116" in paris.postcodes


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Le Havre", "havre"),
        ("L’Abergement-Clémenciat", "abergementclemenciat"),
        ("St. Denis", "saintdenis"),
        ("Ste-Foy", "saintefoy"),
        ("Œuilly", "oeuilly"),
        ("Le", "le"),  # a lone word is not an article
    ],
)
def test_normalize_name(text: str, key: str) -> None:
    assert normalize_name(text) == key


def test_table_from_text() -> None:
    csv_text = (
        "code_insee,type,nom,nom_complet,commune_parente,departement,population,codes_postaux,"
        "lat_mairie,lon_mairie,lat_centroide,lon_centroide\n"
        "99001,COM,Ville,La Ville,,99,1,99100|99200,1.5,2.5,1,2\n"
        "99001,COMD,Ville,La Ville,99001,99,1,,,,1,2\n"
        "99002,COMA,Hameau,Le Hameau,99001,99,1,,,,,\n"
    )
    table = CommuneTable(io.StringIO(csv_text))
    assert len(table) == 1
    assert table.resolve("99200").commune == table.get("99001")
    assert table.resolve("hameau").commune == table.get("99001")
    assert table.resolve("99002").commune == table.get("99001")
    ville = table.get("99001")
    assert ville is not None and (ville.lat, ville.lon) == (1.5, 2.5)
    assert ville.postcodes == ("99100", "99200")


def test_default_table_is_cached() -> None:
    assert default_table() is default_table()


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("97411 Saint-Denis", "97411"),  # 97411 alone is also Saint-Paul's postcode
        ("Saint-Denis (974, 97411)", "97411"),  # a candidate's label, as listed
        ("76600 Le Havre", "76351"),  # postcode and name
        ("Le Havre 76600", "76351"),
        ("13001 Aix-en-Provence", "13001"),
        ("13001 Marseille", "13201"),  # the city's name picks its arrondissement
    ],
)
def test_code_with_name_settles_an_ambiguous_code(typed: str, code: str) -> None:
    found = default_table().resolve(typed)
    assert found.commune is not None and found.commune.code == code


def test_code_with_unknown_name_suggests_the_name() -> None:
    found = default_table().resolve("Toulousse 31000")
    assert found.commune is None and not found.candidates
    assert "31555" in [c.code for c in found.suggestions]
