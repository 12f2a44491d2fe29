"""Check digits of RPPS, FINESS and NIR, and NIR/trait consistency."""

from __future__ import annotations

import csv
import io
from datetime import date
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orient.models.identifiers import (
    finess_valid,
    luhn_valid,
    nir_check,
    nir_key,
    nir_trait_mismatches,
    rpps_valid,
)

# --------------------------------------------------------------------------- Luhn / RPPS


@pytest.mark.parametrize(
    ("digits", "ok"),
    [
        ("79927398713", True),  # the classic Luhn example
        ("79927398710", False),
        ("0", True),
        ("18", True),
        ("10", False),
        ("", False),
        ("12a4", False),
        ("١٨", False),  # Arabic-Indic digits are not digits here
        (" 18", False),
    ],
)
def test_luhn_valid(digits: str, ok: bool) -> None:
    assert luhn_valid(digits) is ok


@pytest.mark.parametrize(
    ("rpps", "ok"),
    [
        ("10000000009", True),
        ("10100345676", True),
        ("10001987659", True),
        ("10000000008", False),  # wrong check digit
        ("10100345667", False),  # two digits swapped
        ("1000000000", False),  # 10 digits
        ("100000000009", False),  # 12 digits
        ("1000000000A", False),
        ("", False),
    ],
)
def test_rpps_valid(rpps: str, ok: bool) -> None:
    assert rpps_valid(rpps) is ok


# --------------------------------------------------------------------------- FINESS


@pytest.mark.parametrize(
    ("finess", "ok"),
    [
        ("010000024", True),  # CH de Bourg-en-Bresse (from the 2020 extract)
        ("030780589", True),  # CHS d'Yzeure
        ("920300985", True),  # Hôpital Nord Villeneuve-la-Garenne
        ("2A0000022", True),  # CH Notre-Dame de la Miséricorde, Ajaccio
        ("2B0000012", True),  # CH de Bastia
        ("2a0000022", True),  # lower case tolerated
        ("010000025", False),
        ("920300958", False),
        ("2A0000023", False),
        ("2B0000022", False),  # 2A number with 2B prefix
        ("200000022", False),  # Corsica as 20 does not pass
        ("01000002", False),  # 8 characters
        ("0100000240", False),  # 10 characters
        ("2C0000022", False),
        ("01000002X", False),
        ("", False),
    ],
)
def test_finess_valid(finess: str, ok: bool) -> None:
    assert finess_valid(finess) is ok


def _finess_numbers() -> list[str]:
    """FINESS numbers of the 2020 extract shipped in the package."""
    res = resources.files("orient.assistant.directory") / "data" / "finess_hospitals_fr_2020.csv"
    return [row["finess_et"] for row in csv.DictReader(io.StringIO(res.read_text(encoding="utf-8")))]


def test_finess_extract_all_valid() -> None:
    numbers = _finess_numbers()
    digits = [n for n in numbers if n.isdigit()]
    corsica = [n for n in numbers if n[:2] in ("2A", "2B")]
    assert len(digits) > 5000
    assert len(corsica) >= 20
    assert len(digits) + len(corsica) == len(numbers)
    assert [n for n in digits if not luhn_valid(n)] == []
    assert [n for n in digits if not finess_valid(n)] == []
    assert [n for n in corsica if not finess_valid(n)] == []
    # Corsican numbers only pass with the 2A -> 21, 2B -> 22 substitution.
    assert all(
        luhn_valid(("21" if n[:2] == "2A" else "22") + n[2:]) for n in corsica
    )


def test_finess_extract_altered_fail() -> None:
    numbers = _finess_numbers()
    sample = numbers[::400] + [n for n in numbers if n[:2] in ("2A", "2B")][:5]
    for n in sample:
        last = int(n[-1])
        for delta in (1, 5, 9):  # any change of the check digit breaks Luhn
            assert not finess_valid(n[:-1] + str((last + delta) % 10)), n
        swapped = n[:-3] + n[-2] + n[-3] + n[-1]
        if swapped != n and n[-2] != n[-3] and abs(int(n[-2]) - int(n[-3])) != 9:
            assert not finess_valid(swapped), n


# --------------------------------------------------------------------------- NIR


# Keys computed independently: Corsica as "20" then minus 1,000,000 (2A) or 2,000,000 (2B).
@pytest.mark.parametrize(
    ("first13", "key"),
    [
        ("2380331555123", 70),
        ("180012A004123", 43),
        ("180012B033045", 54),
        ("180012a004123", 43),
        ("2851299134002", 96),
        ("1840176451089", 64),
        ("2690599350020", 90),
        ("1000000000000", 47),
        ("1800131555093", 97),  # multiple of 97: the key is 97, never 0
    ],
)
def test_nir_key(first13: str, key: int) -> None:
    assert nir_key(first13) == key


@pytest.mark.parametrize(
    "bad", ["", "238033155512", "23803315551234", "23803X1555123", "2A80331555123"]
)
def test_nir_key_refuses_malformed(bad: str) -> None:
    with pytest.raises(ValueError):
        nir_key(bad)


@pytest.mark.parametrize(
    "nir",
    [
        "238033155512370",
        "180012A00412343",
        "180012B03304554",
        "285129913400296",
        "184017645108964",
        "269059935002090",
        "180013155509397",
        "380033155512396",  # sex digit 3
        "480033155512346",
        "780033155512390",  # NIA
        "880033155512340",
    ],
)
def test_nir_check_valid(nir: str) -> None:
    assert nir_check(nir) is None


def test_nir_check_literal_keys_match_nir_key() -> None:
    for nir in ("380033155512396", "480033155512346", "780033155512390", "880033155512340"):
        assert nir_key(nir[:13]) == int(nir[13:])


WRONG_KEY = "ne correspond pas aux 13 chiffres (vérifiez-les sur la carte Vitale ou l'attestation)"


@pytest.mark.parametrize(
    ("nir", "reason"),
    [
        ("238033155512371", f"la clé 71 {WRONG_KEY}"),
        ("238033155512307", f"la clé 07 {WRONG_KEY}"),
        ("180012A00412344", f"la clé 44 {WRONG_KEY}"),
        ("180012B00412343", f"la clé 43 {WRONG_KEY}"),
        ("180012000412343", f"la clé 43 {WRONG_KEY}"),
        ("23803315551237", "15 caractères attendus, 14 saisis"),
        ("2380331555123700", "15 caractères attendus, 16 saisis"),
        ("", "15 caractères attendus, 0 saisis"),
        ("538033155512370", "le premier chiffre doit être 1, 2, 3, 4, 7 ou 8, et non 5"),
        ("038033155512370", "le premier chiffre doit être 1, 2, 3, 4, 7 ou 8, et non 0"),
        ("638033155512370", "le premier chiffre doit être 1, 2, 3, 4, 7 ou 8, et non 6"),
    ],
)
def test_nir_check_refused(nir: str, reason: str) -> None:
    assert nir_check(nir) == reason


@pytest.mark.parametrize(("first13", "key"), [
    ("2380331555123", 70), ("180012A004123", 43), ("180012B004123", 70), ("1800120004123", 16),
])
def test_nir_key_of_the_refused_numbers(first13: str, key: int) -> None:
    # the refusal does not give the right key (the slip may be in the 13 digits): computed here
    assert nir_key(first13) == key


@pytest.mark.parametrize(
    "nir",
    [
        "2380X3155512370",  # letter outside the Corsican position
        "2A8033155512370",
        "180012C00412343",  # 2C is not Corsica
        "18001A200412343",
        "238 33155512370",
        "238033155512３70",  # full-width digit
        "2380331555123\x0070",
    ],
)
def test_nir_check_wrong_characters(nir: str) -> None:
    reason = nir_check(nir)
    assert reason is not None and reason.startswith("caractères non acceptés")


def test_nir_corsica_keys_differ_from_20() -> None:
    # 2A, 2B and 20 give three different keys.
    keys = {nir_key("180012A004123"), nir_key("180012B004123"), nir_key("1800120004123")}
    assert keys == {43, 70, 16}


@given(st.text(max_size=40))
def test_nir_check_never_raises(s: str) -> None:
    reason = nir_check(s)
    assert reason is None or isinstance(reason, str)


# --------------------------------------------------------------------------- NIR and traits

NIR_F = "238033155512370"  # woman, born March 1938 in Toulouse (31555)
NIR_CORSE = "180012A00412343"  # man, born January 1980 in 2A004 (Ajaccio)


@pytest.mark.parametrize(
    ("nir", "sex", "birth_date", "birth_place", "fields"),
    [
        (NIR_F, "F", date(1938, 3, 12), "31555", []),
        (NIR_F, None, None, None, []),
        (NIR_F, "I", date(1938, 3, 12), "31555", []),
        (NIR_F, "M", date(1938, 3, 12), "31555", ["sexe"]),
        (NIR_F, "F", date(1939, 3, 12), "31555", ["année de naissance"]),
        (NIR_F, "F", date(2038, 3, 12), "31555", []),  # only 2 digits of the year
        (NIR_F, "F", date(1938, 4, 12), "31555", ["mois de naissance"]),
        # the département is compared (31), not the commune: codes change with mergers
        (NIR_F, "F", date(1938, 3, 12), "31556", []),
        (NIR_F, "F", date(1938, 3, 12), "32013", ["lieu de naissance"]),
        (NIR_F, "F", date(1938, 3, 12), "99134", ["lieu de naissance"]),
        (NIR_F, "F", date(1938, 3, 12), " 31 555 ", []),
        (NIR_F, "M", date(1939, 4, 1), "75056", [
            "sexe", "année de naissance", "mois de naissance", "lieu de naissance"
        ]),
        (NIR_CORSE, "M", date(1980, 1, 5), "2A004", []),
        (NIR_CORSE, "M", date(1980, 1, 5), "2a004", []),
        (NIR_CORSE, "M", date(1980, 1, 5), "2B004", ["lieu de naissance"]),
        (NIR_CORSE, "F", date(1980, 1, 5), "2A004", ["sexe"]),
        # Born in Corsica before 1976: NIR with 20, commune code with 2A.
        ("170012000412321", "M", date(1970, 1, 5), "2A004", []),
        ("170012000412321", "M", date(1970, 1, 5), "2B005", []),
        ("170012000412321", "M", date(1970, 1, 5), "31555", ["lieu de naissance"]),
        # Born abroad (99 + country code): 99 is compared, not the country.
        ("285129913400296", "F", date(1985, 12, 1), "99134", []),
        ("285129913400296", "F", date(1985, 12, 1), "99100", []),
        ("285129913400296", "F", date(1985, 12, 1), "31555", ["lieu de naissance"]),
        # Overseas: three characters (974 is not 971).
        ("285129741100296", "F", date(1985, 12, 1), "97411", []),
        ("285129741100296", "F", date(1985, 12, 1), "97105", ["lieu de naissance"]),
        # Born in the Seine before 1968 (75 in the NIR), in a commune of the 92 today.
        ("138037501200155", "M", date(1938, 3, 12), "92012", []),
        ("138037501200155", "M", date(1938, 3, 12), "31555", ["lieu de naissance"]),
        # Sex digits 3, 7 = man; 4, 8 = woman.
        ("380033155512396", "M", None, None, []),
        ("380033155512396", "F", None, None, ["sexe"]),
        ("780033155512390", "M", None, None, []),
        ("480033155512346", "F", None, None, []),
        ("880033155512340", "M", None, None, ["sexe"]),
        # Unknown month (20-42, 99): no month mismatch.
        ("238203155512351", "F", date(1938, 3, 12), None, []),
        ("238423155512315", "F", date(1938, 7, 12), None, []),
        ("238993155512354", "F", date(1938, 7, 12), None, []),
        ("238193155512335", "F", date(1938, 7, 12), None, ["mois de naissance"]),
        ("238433155512331", "F", date(1938, 7, 12), None, ["mois de naissance"]),
        # Malformed parts are not compared.
        ("", "F", date(1938, 3, 12), "31555", []),
        ("2", "M", date(1938, 3, 12), "31555", ["sexe"]),
    ],
)
def test_nir_trait_mismatches(
    nir: str,
    sex: str | None,
    birth_date: date | None,
    birth_place: str | None,
    fields: list[str],
) -> None:
    found = nir_trait_mismatches(nir, sex=sex, birth_date=birth_date, birth_place=birth_place)
    assert [m.split(" : ")[0] for m in found] == fields


def test_nir_trait_mismatch_wording() -> None:
    found = nir_trait_mismatches(
        NIR_F, sex="M", birth_date=date(1939, 5, 1), birth_place="75056"
    )
    assert found == [
        "sexe : le numéro indique une femme (2), le sexe saisi est masculin",
        "année de naissance : le numéro indique 38, la date de naissance est en 1939",
        "mois de naissance : le numéro indique 03, la date de naissance est en mai (05)",
        ("lieu de naissance : le numéro indique une naissance dans le département 31, le lieu "
         "saisi est dans le département 75"),
    ]
