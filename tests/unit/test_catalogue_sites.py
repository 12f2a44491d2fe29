"""The demo catalogue over the whole shipped FINESS file: sites whose name says they take no acute
admission (convalescence, rest home, long stay, villa, annex) get no acute unit, cancer centres get
only the cancer centre's units, and a general hospital filed under the psychiatric category (the
CENTRE MEDICO CHIRURGICAL DES HOPITAUX DE LANNEMEZAN) gets acute medicine units. The examples are
those a clinician met (issue 9): pneumonia near Saint-Laurent-de-Neste, general medicine near
Colomiers."""

from __future__ import annotations

import re
import unicodedata

import pytest

from orient.assistant.directory.catalogue import catalogue
from orient.assistant.directory.communes import default_table
from orient.assistant.directory.establishments import read_establishments
from orient.assistant.directory.matching import Criteria, DirectoryIndex
from orient.dialogs.hnp import SPECIALTY_ACTIVITIES
from orient.models.directory import Establishment, Unit

DECLARED = "2024-03-01T09:30:00+00:00"
CANCER_CENTRE_UNITS = {"oncology", "haematology", "palliative_care"}
PSYCHIATRIC = {"psychiatry", "old_age_psychiatry"}


def plain(name: str) -> str:
    text = unicodedata.normalize("NFKD", name.upper())
    text = "".join(c for c in text if not unicodedata.combining(c)).replace(".", "")
    return " ".join(re.sub(r"[^A-Z0-9]+", " ", text).split())


# what a reader of the name understands, written independently of the product's rules
NOT_ACUTE = re.compile(r"\b(CONVALESC\w*|MAISON DE REPOS|REPOS|LONG SEJOUR|LONGUE DUREE|USLD|VILLA)\b")
ANNEX = re.compile(r"\bANNEXE\b")
CANCER = re.compile(r"\b(CANCER\w*|ONCOPOLE|CLCC|ONCOLOG\w*)\b")
PSY = re.compile(r"\bPSY")


@pytest.fixture(scope="module")
def establishments() -> list[Establishment]:
    return list(read_establishments())


@pytest.fixture(scope="module")
def by_finess(establishments: list[Establishment]) -> dict[str, list[Unit]]:
    found: dict[str, list[Unit]] = {}
    for u in catalogue(establishments, DECLARED):
        found.setdefault(u.finess, []).append(u)
    return found


@pytest.fixture(scope="module")
def real_index(establishments: list[Establishment], by_finess: dict[str, list[Unit]]) -> DirectoryIndex:
    return DirectoryIndex(establishments, [u for us in by_finess.values() for u in us])


def specialties(units: list[Unit]) -> set[str]:
    return {u.id.split("-", 1)[1] for u in units}


def site(establishments: list[Establishment], finess: str) -> Establishment:
    [e] = [e for e in establishments if e.finess == finess]
    return e


def near(commune: str, specialty: str, age: int = 84) -> Criteria:
    found = default_table().resolve(commune).commune
    assert found is not None and found.lat is not None and found.lon is not None
    return Criteria(specialty, found.lat, found.lon, age)


# -- the whole catalogue ------------------------------------------------------------------------------
def test_no_convalescence_rest_home_long_stay_or_villa_site_gets_a_unit(
    establishments: list[Establishment], by_finess: dict[str, list[Unit]],
) -> None:
    named = [e for e in establishments if NOT_ACUTE.search(plain(e.name))]
    assert len(named) > 20
    offenders = [f"{e.finess} {e.name} -> {sorted(specialties(by_finess[e.finess]))}"
                 for e in named if e.finess in by_finess]
    assert offenders == []


def test_an_annex_gets_no_somatic_unit(establishments: list[Establishment],
                                        by_finess: dict[str, list[Unit]]) -> None:
    annexes = [e for e in establishments if ANNEX.search(plain(e.name))]
    assert len(annexes) > 10
    offenders = [f"{e.finess} {e.name} -> {sorted(specialties(by_finess[e.finess]) - PSYCHIATRIC)}"
                 for e in annexes if specialties(by_finess.get(e.finess, [])) - PSYCHIATRIC]
    assert offenders == []


def test_cancer_centres_get_only_cancer_centre_units(establishments: list[Establishment],
                                                     by_finess: dict[str, list[Unit]]) -> None:
    centres = [e for e in establishments
               if (e.category == "131" or CANCER.search(plain(e.name))) and not PSY.search(plain(e.name))]
    assert len(centres) > 20
    offenders = [f"{e.finess} {e.name} -> {sorted(specialties(by_finess[e.finess]) - CANCER_CENTRE_UNITS)}"
                 for e in centres if specialties(by_finess.get(e.finess, [])) - CANCER_CENTRE_UNITS]
    assert offenders == []
    assert sum("oncology" in specialties(by_finess.get(e.finess, [])) for e in centres) > 20


@pytest.mark.parametrize(("finess", "name"), [
    ("310000013", "LES HOPITAUX DE LUCHON CENTRE CONVALESCENCE ET GERONTOLOGIE"),
    ("310787304", "CENTRE DE CASSELARDIT VILLA ANCELY CHU TOULOUSE"),
    ("620112656", 'MAISON DE REPOS  "ESPOIR" MAROEUIL'),
    ("060790177", "CHU DE NICE CENTRE DE CONVALESCENCE DE TENDE"),
    ("370000515", "CENTRE DE CONVALESCENTS ET DE CHRONIQUES L'ERMITAGE DU CHRU"),
    ("650788565", "UNITE DE SOINS DE LONGUE DUREE HOPITAUX LANNEMEZAN"),
    ("420784845", "ANNEXE BONVERT DU CH DE ROANNE"),
])
def test_named_non_acute_sites_get_no_unit(establishments: list[Establishment],
                                           by_finess: dict[str, list[Unit]], finess: str, name: str) -> None:
    assert site(establishments, finess).name == name  # the FINESS file really has this site
    assert by_finess.get(finess, []) == []


def test_the_toulouse_oncopole_is_a_cancer_centre(establishments: list[Establishment],
                                                  by_finess: dict[str, list[Unit]]) -> None:
    oncopole = site(establishments, "310025333")
    assert oncopole.name == "ONCOPOLE CHU TOULOUSE" and oncopole.category == "101"
    assert specialties(by_finess[oncopole.finess]) == CANCER_CENTRE_UNITS


def test_the_lannemezan_medico_surgical_centre_gets_acute_medicine_units(
    establishments: list[Establishment], by_finess: dict[str, list[Unit]],
) -> None:
    lannemezan = site(establishments, "650784218")
    assert lannemezan.name == "CENTRE MEDICO CHIRURGICAL DES HOPITAUX DE LANNEMEZAN"
    assert lannemezan.category == "292"  # filed as psychiatric in FINESS
    offered = specialties(by_finess[lannemezan.finess])
    assert {"general_medicine", "internal_medicine", "pulmonology", "cardiology", "acute_geriatrics"} <= offered
    assert not offered & PSYCHIATRIC


# -- what a doctor sees -----------------------------------------------------------------------------
def test_pneumonia_near_saint_laurent_de_neste(real_index: DirectoryIndex) -> None:
    result = real_index.search(near("Saint-Laurent-de-Neste", "pulmonology"), limit=20)
    listed = [p.establishment.finess for p in result.proposals + result.full]
    assert "310000013" not in listed  # the Luchon convalescence and gerontology centre
    nearest = (result.proposals + result.full)[0]
    assert nearest.establishment.finess == "650784218" and nearest.distance_km < 10


def test_general_medicine_near_colomiers(real_index: DirectoryIndex) -> None:
    result = real_index.search(near("Colomiers", "general_medicine"), limit=50)
    names = [p.establishment.name for p in result.proposals + result.full]
    assert len(names) >= 20
    assert not [n for n in names if "ONCOPOLE" in n or "VILLA" in n]


def test_oncology_near_colomiers_still_proposes_the_oncopole(real_index: DirectoryIndex) -> None:
    result = real_index.search(near("Colomiers", "oncology", age=60), limit=20)
    assert "310025333" in [p.establishment.finess for p in result.proposals + result.full]


# -- infectious diseases from real establishments -----------------------------------------------------
def test_infectious_diseases_units_come_from_real_hospitals(establishments: list[Establishment],
                                                            by_finess: dict[str, list[Unit]]) -> None:
    units = [u for us in by_finess.values() for u in us if u.id.endswith("-infectious_diseases")]
    categories = {e.finess: e.category for e in establishments}
    chu = [u for u in units if categories[u.finess] == "101"]
    ch = [u for u in units if categories[u.finess] == "355"]
    assert len(chu) > 100 and all(u.activities == ("077",) for u in chu)
    assert len(ch) > 50 and all(u.activities == ("486",) for u in ch)
    assert all(set(u.activities) <= set(SPECIALTY_ACTIVITIES["infectious_diseases"]) for u in units)


def test_an_infectious_diseases_search_proposes_units(real_index: DirectoryIndex) -> None:
    result = real_index.search(near("Toulouse", "infectious_diseases", age=50), limit=5)
    assert len(result.proposals) == 5
    assert all("Maladies infectieuses et tropicales" in p.reasons[0] for p in result.proposals)
