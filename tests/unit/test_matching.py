"""Matching (spec/hnp-dossier.md, "Matching"): distances and bands, every filter, the ranking, the
French reasons, "why is unit X not proposed", and the demo catalogue built from the real FINESS file.

Most tests use small hand-built establishments and units, placed due north of a fixed point so that
each test controls exactly what it checks; the last part runs on the shipped data."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace

import pytest

from orient.assistant.directory.catalogue import catalogue
from orient.assistant.directory.communes import default_table
from orient.assistant.directory.establishments import read_establishments
from orient.assistant.directory.matching import (
    BAND_FR,
    EARTH_KM,
    Criteria,
    DirectoryIndex,
    Proposal,
    band_of,
    distance_km,
)
from orient.dialogs.hnp import SPECIALTIES, SPECIALTY_ACTIVITIES
from orient.models.directory import Availability, Establishment, Unit

A, L, F = Availability.AVAILABLE, Availability.LIMITED, Availability.FULL
# The patient's home: Toulouse town hall. Establishments are put `km` due north of it.
HOME_LAT, HOME_LON = 43.604049, 1.443047
KM_PER_DEGREE = EARTH_KM * math.pi / 180
DECLARED = "2024-03-01T09:30:00+00:00"
# spec/replay.md, "proposals": the keys of one proposal object
PROPOSAL_KEYS = {"unit_id", "finess", "establishment", "unit", "specialty", "distance_km",
                 "availability", "demo", "reasons"}


# -- builders ----------------------------------------------------------------------------------------
def est(finess: str, km: float, *, name: str | None = None, phone: str | None = None,
        category: str = "355") -> Establishment:
    return Establishment(finess=finess, name=name or f"CH TEST {finess}", category=category,
                         category_label="Centre hospitalier", lat=HOME_LAT + km / KM_PER_DEGREE,
                         lon=HOME_LON, phone=phone)


def unit(finess: str, activities: Iterable[str] = ("013",), *, suffix: str = "u", age_min: int = 18,
         age_max: int = 120, direct: bool = True, isolation: bool = True, oxygen: bool = True,
         bariatric: bool = True, availability: Availability = A, demo: bool = True,
         name: str = "Unité test") -> Unit:
    return Unit(id=f"{finess}-{suffix}", finess=finess, name=name, activities=tuple(activities),
                age_min=age_min, age_max=age_max, direct_admission=direct, isolation_rooms=isolation,
                oxygen=oxygen, bariatric_beds=bariatric, availability=availability,
                availability_at=DECLARED, phone=None, demo=demo)


def crit(specialty: str = "cardiology", age: int = 70, needs: Iterable[str] = (),
         isolation: str | None = None) -> Criteria:
    return Criteria(specialty, HOME_LAT, HOME_LON, age, frozenset(needs), isolation)


def index(*pairs: tuple[Establishment, Unit], minutes: dict[str, float] | None = None) -> DirectoryIndex:
    ests = {e.finess: e for e, _ in pairs}
    return DirectoryIndex(ests.values(), [u for _, u in pairs], response_minutes=minutes)


def one(u: Unit, km: float = 5.0, **kw: object) -> DirectoryIndex:
    return index((est(u.finess, km), u), **kw)  # type: ignore[arg-type]


def ids(proposals: list[Proposal]) -> list[str]:
    return [p.unit.id for p in proposals]


# -- distances and bands -----------------------------------------------------------------------------
def test_toulouse_montpellier_town_halls_are_197_5_km_apart() -> None:
    table = default_table()
    toulouse, montpellier = table.get("31555"), table.get("34172")
    assert toulouse is not None and montpellier is not None
    assert toulouse.lat is not None and toulouse.lon is not None
    assert montpellier.lat is not None and montpellier.lon is not None
    km = distance_km(toulouse.lat, toulouse.lon, montpellier.lat, montpellier.lon)
    assert km == pytest.approx(197.5, abs=0.5)
    assert distance_km(montpellier.lat, montpellier.lon, toulouse.lat, toulouse.lon) == pytest.approx(km)
    assert band_of(km) == 4


def test_zero_distance() -> None:
    assert distance_km(HOME_LAT, HOME_LON, HOME_LAT, HOME_LON) == 0.0
    assert band_of(0.0) == 0


def test_builder_places_establishments_at_the_asked_distance() -> None:
    e = est("000000001", 37.0)
    assert distance_km(HOME_LAT, HOME_LON, e.lat, e.lon) == pytest.approx(37.0, abs=1e-6)  # type: ignore[arg-type]


@pytest.mark.parametrize(("km", "band"), [
    (0.0, 0), (9.99, 0), (10.0, 1), (24.99, 1), (25.0, 2), (49.99, 2), (50.0, 3), (99.99, 3),
    (100.0, 4), (197.5, 4), (1000.0, 4),
])
def test_band_boundaries(km: float, band: int) -> None:
    """Bands 0-10, 10-25, 25-50, 50-100, over 100 km: a boundary opens the next band."""
    assert band_of(km) == band


# -- filters -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["097", "098"])
def test_either_code_of_a_two_code_specialty_matches(code: str) -> None:
    idx = one(unit("000000001", (code,)))
    assert ids(idx.search(crit("neurology")).proposals) == ["000000001-u"]


@pytest.mark.parametrize(("specialty", "codes"), [(c, acts) for c, _, acts in SPECIALTIES])
def test_every_specialty_matches_each_of_its_activity_codes(specialty: str, codes: tuple[str, ...]) -> None:
    pairs = [(est(f"00000001{i}", 3.0 + i), unit(f"00000001{i}", (code,))) for i, code in enumerate(codes)]
    other = next(c for c in ("013", "097") if c not in codes)
    pairs.append((est("000000099", 1.0), unit("000000099", (other,))))
    found = index(*pairs).search(crit(specialty, age=70)).proposals
    assert sorted(ids(found)) == sorted(u.id for _, u in pairs[:-1])


def test_spec_table_of_activity_codes() -> None:
    assert SPECIALTY_ACTIVITIES["neurology"] == ("097", "098")
    assert SPECIALTY_ACTIVITIES["acute_geriatrics"] == ("491", "050")
    assert SPECIALTY_ACTIVITIES["palliative_care"] == ("076", "170")
    assert SPECIALTY_ACTIVITIES["cardiology"] == ("013",)


def test_a_unit_without_the_specialty_is_not_proposed() -> None:
    idx = one(unit("000000001", ("013",)))
    result = idx.search(crit("neurology"))
    assert result.proposals == [] and result.full == [] and not result.more


def test_a_unit_with_two_codes_of_the_specialty_is_proposed_once() -> None:
    idx = one(unit("000000001", ("097", "098")))
    assert ids(idx.search(crit("neurology")).proposals) == ["000000001-u"]


def test_direct_admission_is_required() -> None:
    assert one(unit("000000001", direct=False)).search(crit()).proposals == []
    assert ids(one(unit("000000001", direct=True)).search(crit()).proposals) == ["000000001-u"]


@pytest.mark.parametrize(("age", "proposed"), [(17, False), (18, True), (40, True), (64, True), (65, False)])
def test_age_range_boundaries_are_inclusive(age: int, proposed: bool) -> None:
    idx = one(unit("000000001", age_min=18, age_max=64))
    assert bool(idx.search(crit(age=age)).proposals) is proposed


@pytest.mark.parametrize(("isolation", "needs_rooms"), [
    ("mdro", True), ("xdro", True), ("none_known", False), ("unknown", False), (None, False),
])
def test_isolation_rooms_needed_only_for_mdro_and_xdro(isolation: str | None, needs_rooms: bool) -> None:
    without = one(unit("000000001", isolation=False))
    with_rooms = one(unit("000000001", isolation=True))
    assert bool(without.search(crit(isolation=isolation)).proposals) is not needs_rooms
    assert ids(with_rooms.search(crit(isolation=isolation)).proposals) == ["000000001-u"]


@pytest.mark.parametrize(("need", "flag"), [("oxygen", "oxygen"), ("bariatric_bed", "bariatric")])
def test_oxygen_and_bariatric_bed_needs(need: str, flag: str) -> None:
    lacking = one(unit("000000001", **{flag: False}))  # type: ignore[arg-type]
    assert lacking.search(crit(needs=[need])).proposals == []
    assert ids(lacking.search(crit()).proposals) == ["000000001-u"]  # not needed: no filter
    having = one(unit("000000001", **{flag: True}))  # type: ignore[arg-type]
    assert ids(having.search(crit(needs=[need])).proposals) == ["000000001-u"]


def test_single_room_and_interpreter_do_not_filter() -> None:
    """The spec names isolation, oxygen and bariatric_bed as the needs a unit must meet."""
    idx = one(unit("000000001", isolation=False, oxygen=False, bariatric=False))
    assert ids(idx.search(crit(needs=["single_room", "interpreter"])).proposals) == ["000000001-u"]


def test_full_units_are_listed_apart_not_proposed() -> None:
    idx = index(
        (est("000000001", 2.0), unit("000000001", availability=F)),
        (est("000000002", 4.0), unit("000000002", availability=A)),
        (est("000000003", 6.0), unit("000000003", availability=F, age_max=50)),  # full and too young
    )
    result = idx.search(crit(age=70))
    assert ids(result.proposals) == ["000000002-u"]
    assert ids(result.full) == ["000000001-u"]
    assert result.full[0].unit.availability == F
    assert result.full[0].distance_km == pytest.approx(2.0, abs=1e-6)


def test_full_units_are_listed_within_the_searched_distance_only() -> None:
    """25 available units within 4 km fill the proposals from the first band: a full unit at 2 km
    is listed apart, one at 30 km (beyond every proposal) is not, and "why" says it is full."""
    pairs = [(est(f"0000001{k:02d}", 1.0 + k / 10), unit(f"0000001{k:02d}")) for k in range(25)]
    pairs.append((est("000000900", 30.0), unit("000000900", availability=F)))
    pairs.append((est("000000901", 2.0), unit("000000901", availability=F)))
    idx = index(*pairs)
    result = idx.search(crit())
    assert ids(result.full) == ["000000901-u"]
    assert "complète" in idx.why_not("000000900-u", crit())


def test_units_of_an_establishment_without_coordinates_are_not_proposed() -> None:
    e = replace(est("000000001", 1.0), lat=None, lon=None)
    idx = index((e, unit("000000001")))
    assert idx.search(crit()).proposals == []
    assert "coordonnées" in idx.why_not("000000001-u", crit())


# -- ranking -----------------------------------------------------------------------------------------
def test_band_comes_before_availability() -> None:
    idx = index((est("000000015", 15.0), unit("000000015", availability=A)),
                (est("000000005", 5.0), unit("000000005", availability=L)))
    assert ids(idx.search(crit()).proposals) == ["000000005-u", "000000015-u"]


def test_availability_comes_before_distance_within_a_band() -> None:
    idx = index((est("000000001", 1.0), unit("000000001", availability=L)),
                (est("000000009", 9.0), unit("000000009", availability=A)))
    assert ids(idx.search(crit()).proposals) == ["000000009-u", "000000001-u"]


def test_response_time_comes_before_exact_distance_and_known_before_unknown() -> None:
    idx = index(
        (est("000000001", 1.0), unit("000000001")),  # closest, time not measured
        (est("000000002", 2.0), unit("000000002")),  # 60 min
        (est("000000008", 8.0), unit("000000008")),  # 30 min
        (est("000000009", 9.0), unit("000000009", availability=L)),  # 5 min but limited
        minutes={"000000002-u": 60.0, "000000008-u": 30.0, "000000009-u": 5.0},
    )
    assert ids(idx.search(crit()).proposals) == ["000000008-u", "000000002-u", "000000001-u", "000000009-u"]


def test_exact_distance_breaks_the_remaining_ties() -> None:
    idx = index(*[(est(f"00000000{k}", k + 0.5), unit(f"00000000{k}")) for k in (7, 3, 9, 1, 5)])
    found = idx.search(crit()).proposals
    assert ids(found) == [f"00000000{k}-u" for k in (1, 3, 5, 7, 9)]
    assert [p.distance_km for p in found] == sorted(p.distance_km for p in found)


def test_full_ordering_band_availability_time_distance() -> None:
    """A mix over every band: the order is (band, availability, known time, time, distance)."""
    rows = [  # (km, availability, minutes)
        (3.0, L, None), (6.0, A, 90.0), (8.0, A, None), (9.5, A, 20.0), (12.0, L, 10.0),
        (20.0, A, None), (30.0, A, 40.0), (26.0, A, 40.0), (45.0, L, None), (60.0, A, None),
        (150.0, A, 5.0), (99.0, L, 1.0), (300.0, L, None),
    ]
    pairs, minutes = [], {}
    for i, (km, availability, mins) in enumerate(rows):
        finess = f"0000001{i:02d}"
        pairs.append((est(finess, km), unit(finess, availability=availability)))
        if mins is not None:
            minutes[f"{finess}-u"] = mins
    found = index(*pairs, minutes=minutes).search(crit(), limit=100).proposals
    assert len(found) == len(rows)

    def key(p: Proposal) -> tuple[int, int, float, float]:
        m = minutes.get(p.unit.id)
        return (band_of(p.distance_km), p.unit.availability != A, math.inf if m is None else m, p.distance_km)

    assert [key(p) for p in found] == sorted(key(p) for p in found)
    assert [p.band for p in found] == [band_of(p.distance_km) for p in found]
    assert [p.response_minutes for p in found] == [minutes.get(p.unit.id) for p in found]


def test_limit_offset_and_more() -> None:
    idx = index(*[(est(f"00000000{k}", float(k)), unit(f"00000000{k}")) for k in range(1, 6)])
    everything = ids(idx.search(crit(), limit=100).proposals)
    assert everything == [f"00000000{k}-u" for k in range(1, 6)]
    first = idx.search(crit(), limit=2)
    assert ids(first.proposals) == everything[:2] and first.more
    second = idx.search(crit(), limit=2, offset=2)
    assert ids(second.proposals) == everything[2:4] and second.more
    last = idx.search(crit(), limit=2, offset=4)
    assert ids(last.proposals) == everything[4:] and not last.more
    exact = idx.search(crit(), limit=5)
    assert ids(exact.proposals) == everything and not exact.more


def test_default_limit_is_20() -> None:
    idx = index(*[(est(f"0000001{k:02d}", 1.0 + k / 10), unit(f"0000001{k:02d}")) for k in range(25)])
    result = idx.search(crit())
    assert len(result.proposals) == 20 and result.more
    assert ids(result.proposals) == [f"0000001{k:02d}-u" for k in range(20)]


def test_far_units_are_found_when_few_are_near() -> None:
    idx = index((est("000000001", 450.0), unit("000000001")), (est("000000002", 120.0), unit("000000002")))
    found = idx.search(crit()).proposals
    assert ids(found) == ["000000002-u", "000000001-u"]
    assert [p.band for p in found] == [4, 4]


def test_a_small_limit_gives_the_head_of_the_full_ranking() -> None:
    """The index reads near cells first: that shortcut must not change the order."""
    pairs, minutes = [], {}
    for i in range(60):
        km = (i * 37) % 230 + 0.3  # spread over every band
        finess = f"0000002{i:02d}"
        pairs.append((est(finess, km), unit(finess, availability=(A, L, F)[i % 3])))
        if i % 4 == 0:
            minutes[f"{finess}-u"] = float((i * 13) % 120)
    idx = index(*pairs, minutes=minutes)
    everything = ids(idx.search(crit(), limit=1000).proposals)
    assert len(everything) == 40
    for limit in (1, 3, 7, 20, 39):
        assert ids(idx.search(crit(), limit=limit).proposals) == everything[:limit]
        assert ids(idx.search(crit(), limit=limit, offset=5).proposals) == everything[5:5 + limit]


# -- explanations ------------------------------------------------------------------------------------
def test_reasons_mention_specialty_distance_availability_time_and_demo() -> None:
    idx = index((est("000000001", 12.34), unit("000000001", ("098",), availability=L, demo=True)),
                minutes={"000000001-u": 42.0})
    [p] = idx.search(crit("neurology")).proposals
    text = " | ".join(p.reasons)
    assert "Neurologie" in text and "098" in text
    assert "12,3 km" in text and "12.3" not in text  # French decimal comma
    assert BAND_FR[1] in text
    assert "disponibilité limitée" in text
    assert "42 min" in text
    assert "démonstration" in text


def test_reasons_for_an_available_unit_without_measured_time_that_is_not_demo() -> None:
    idx = one(unit("000000001", availability=A, demo=False), km=3.0)
    [p] = idx.search(crit()).proposals
    text = " | ".join(p.reasons)
    assert "Cardiologie" in text
    assert "3,0 km" in text
    assert "lits disponibles" in text
    assert "pas encore mesuré" in text
    assert "démonstration" not in text


def test_reasons_mention_the_needs_met() -> None:
    idx = one(unit("000000001"))
    [p] = idx.search(crit(needs=["oxygen", "bariatric_bed"], isolation="xdro")).proposals
    text = " | ".join(p.reasons)
    assert "oxygène" in text and "bariatrique" in text and "isolement" in text


def test_as_json_has_exactly_the_replay_proposal_keys() -> None:
    idx = index((est("000000001", 4.26, name="HOPITAL TEST"),
                 unit("000000001", ("013",), name="Cardiologie", availability=L)))
    [p] = idx.search(crit()).proposals
    data = p.as_json()
    assert set(data) == PROPOSAL_KEYS
    assert data["unit_id"] == "000000001-u"
    assert data["finess"] == "000000001"
    assert data["establishment"] == "HOPITAL TEST"
    assert data["unit"] == "Cardiologie"
    assert data["specialty"] == "cardiology"
    assert data["distance_km"] == pytest.approx(4.3) and isinstance(data["distance_km"], float)
    assert data["availability"] == "limited"
    assert data["demo"] is True
    assert data["reasons"] == list(p.reasons) and all(isinstance(r, str) for r in data["reasons"])


# -- why not -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("changes", "criteria", "expected", "not_expected"), [
    # specialty first, even when the age fails too
    ({"activities": ("097",), "age_max": 50}, {"age": 70}, "Cardiologie", "âge"),
    ({"direct_admission": False, "age_max": 50}, {"age": 70}, "admission directe", "âge"),
    ({"age_max": 50, "isolation_rooms": False}, {"age": 70, "isolation": "mdro"}, "âge", "isolement"),
    ({"isolation_rooms": False, "oxygen": False}, {"isolation": "xdro", "needs": ["oxygen"]},
     "isolement", "oxygène"),
    ({"oxygen": False, "bariatric_beds": False}, {"needs": ["oxygen", "bariatric_bed"]},
     "oxygène", "bariatrique"),
    ({"bariatric_beds": False, "availability": F}, {"needs": ["bariatric_bed"]}, "bariatrique", "complète"),
    ({"availability": F}, {}, "complète", "rang"),
])
def test_why_not_names_the_first_failing_criterion(changes: dict[str, object], criteria: dict[str, object],
                                                  expected: str, not_expected: str) -> None:
    u = replace(unit("000000001"), **changes)  # type: ignore[arg-type]
    idx = one(u)
    answer = idx.why_not(u.id, crit(**criteria))  # type: ignore[arg-type]
    assert expected in answer
    assert not_expected not in answer
    assert "n'est pas proposée" in answer


def test_why_not_for_the_specialty_names_the_codes() -> None:
    idx = one(unit("000000001", ("013",)))
    answer = idx.why_not("000000001-u", crit("neurology"))
    assert "Neurologie" in answer and "097" in answer and "098" in answer


def test_why_not_for_the_age_gives_age_and_range() -> None:
    idx = one(unit("000000001", age_min=65, age_max=120))
    answer = idx.why_not("000000001-u", crit(age=40))
    assert "40 ans" in answer and "65" in answer and "120" in answer


def test_why_not_of_a_proposed_unit_gives_its_rank() -> None:
    idx = index((est("000000001", 1.0), unit("000000001")), (est("000000002", 2.0), unit("000000002")),
                (est("000000003", 3.0), unit("000000003")))
    assert "rang 2" in idx.why_not("000000002-u", crit())
    assert "est proposée" in idx.why_not("000000001-u", crit())
    beyond = idx.why_not("000000003-u", crit(), limit=2)
    assert "rang 3" in beyond and "est proposée" not in beyond


def test_why_not_of_an_unknown_unit() -> None:
    idx = one(unit("000000001"))
    answer = idx.why_not("999999999-nope", crit())
    assert "inconnue" in answer.lower() and "999999999-nope" in answer


def test_failure_is_none_exactly_for_proposed_units() -> None:
    u = unit("000000001")
    idx = one(u)
    assert idx.failure(u, crit()) is None
    assert idx.failure(replace(u, availability=F), crit()) is not None


# -- the real data: FINESS establishments and the demo catalogue -------------------------------------
@pytest.fixture(scope="module")
def establishments() -> list[Establishment]:
    return list(read_establishments())


@pytest.fixture(scope="module")
def units(establishments: list[Establishment]) -> list[Unit]:
    return catalogue(establishments, DECLARED)


@pytest.fixture(scope="module")
def by_finess(units: list[Unit]) -> dict[str, list[Unit]]:
    found: dict[str, list[Unit]] = {}
    for u in units:
        found.setdefault(u.finess, []).append(u)
    return found


@pytest.fixture(scope="module")
def real_index(establishments: list[Establishment], units: list[Unit]) -> DirectoryIndex:
    return DirectoryIndex(establishments, units)


def specialties_of(us: Iterable[Unit]) -> set[str]:
    return {u.id.split("-", 1)[1] for u in us}


def plain(name: str) -> str:
    """Upper case, no accents, dots dropped (C.A.T.T.P. -> CATTP), other punctuation as spaces."""
    text = unicodedata.normalize("NFKD", name.upper())
    text = "".join(c for c in text if not unicodedata.combining(c)).replace(".", "")
    return re.sub(r"[^A-Z0-9]+", " ", text)


# SOURCES.md: sites where nobody is admitted overnight must get no demo unit
NO_ADMISSION = re.compile(r"HOPITAL DE JOUR|\bHJ\b|\bCMP|\bCATTP\b|\bSMUR\b|\bECOLE\b|DIALYSE|\bHAD\b")


@pytest.mark.parametrize(("finess", "name"), [
    ("030007843", "HOPITAL DE JOUR DENIS PAPIN"),
    ("020000154", "HJ EPSMD SAINT-QUENTIN"),
    ("040005209", "HOP DE JOUR CMP CH DIGNE"),
    ("060787777", "HJ CMP CATTP LES VIOLETTES"),
    ("020016366", "SMUR CH SAINT-QUENTIN GUISE"),
    ("060024395", "CHU DE NICE ANTENNE SMUR SITE CH LA PALMOSA"),
    ("2B0005573", "ECOLE DE FORMATION DES CADRES DE SANTE DE BASTIA"),
    ("220020101", "UNITE DE DIALYSE MEDICALISEE DE LANNION"),
    ("100007699", "HAD GHAM"),
    ("620033829", "HEMODIALYSE SITE CH CALAIS"),
    ("300018256", "CMPEA PSYCHIATRIE INF JUV SAINT GILLES"),
    ("500020367", 'HÔPITAL DE JOUR "ESPACE PRÉLUDE" FBS'),
    ("300784741", "HOSPITALISATION DE JOUR LE VIGAN"),
    ("440017440", "HOPITAL A DOMICILE CH ST NAZAIRE"),
    # not wards a community doctor refers to (found proposed for cardiology and geriatrics)
    ("810012385", "UNITE SANITAIRE EN MILIEU PENITENTIERE ADULTES"),
    ("810012393", "UNITE SANITAIRE EN MILIEU PENITENTIERE MINEURS"),
    ("130803661", "USMP CENTRE DETENTION CH ARLES"),
    ("970410452", "EPSMR-MAISON D'ARRET (ST DENIS)"),
    ("130047145", "UNITE HOSPITALIERE SPECIALEMENT AMENAGEE UHSA"),
    ("760035667", "CEGIDD LE HAVRE - GHH"),
    ("490539293", "CENTRE DE PLANIFICATION DU CENTRE HOSPITALIER DE CHOLET"),
    ("710973371", "CENTRE MEDICO-SOCIAL"),
])
def test_real_sites_without_overnight_admission_get_no_unit(
    establishments: list[Establishment], by_finess: dict[str, list[Unit]], finess: str, name: str,
) -> None:
    [e] = [e for e in establishments if e.finess == finess]
    assert e.name == name  # the FINESS file really has this site
    assert by_finess.get(finess, []) == [], f"{name}: {specialties_of(by_finess[finess])}"


def test_no_real_site_named_as_a_non_admitting_site_gets_a_unit(
    establishments: list[Establishment], by_finess: dict[str, list[Unit]],
) -> None:
    matched = [e for e in establishments if NO_ADMISSION.search(plain(e.name))]
    assert len(matched) > 1000  # ~584 day hospitals, 371 CMP, 316 CATTP, 53 SMUR... (overlapping)
    offenders = [f"{e.finess} {e.name!r} -> {sorted(specialties_of(by_finess[e.finess]))}"
                 for e in matched if e.finess in by_finess]
    assert offenders == []


def test_a_chu_offers_most_specialties(establishments: list[Establishment],
                                       by_finess: dict[str, list[Unit]]) -> None:
    [purpan] = [e for e in establishments if e.finess == "310783048"]
    assert purpan.category == "101" and "PURPAN" in purpan.name
    offered = specialties_of(by_finess[purpan.finess])
    assert len(offered) >= 12
    assert {"general_medicine", "cardiology", "neurology", "pulmonology", "nephrology"} <= offered
    assert "old_age_psychiatry" not in offered
    assert all(u.isolation_rooms and u.bariatric_beds for u in by_finess[purpan.finess])


def test_every_chu_site_with_units_offers_most_specialties(establishments: list[Establishment],
                                                           by_finess: dict[str, list[Unit]]) -> None:
    chu = [e for e in establishments if e.category == "101" and e.finess in by_finess]
    assert chu
    general = [e for e in chu if "general_medicine" in specialties_of(by_finess[e.finess])]
    assert len(general) > 100
    assert all(len(specialties_of(by_finess[e.finess])) >= 12 for e in general)


def test_former_local_hospitals_offer_general_medicine_and_geriatrics_only(
    establishments: list[Establishment], by_finess: dict[str, list[Unit]],
) -> None:
    local = [e for e in establishments if e.category == "106"]
    assert local
    offered = [specialties_of(by_finess.get(e.finess, [])) for e in local]
    assert all(s <= {"general_medicine", "acute_geriatrics"} for s in offered)
    assert any(s == {"general_medicine", "acute_geriatrics"} for s in offered)
    geriatrics = [u for e in local for u in by_finess.get(e.finess, []) if u.id.endswith("acute_geriatrics")]
    assert geriatrics and all(set(u.activities) <= set(SPECIALTY_ACTIVITIES["acute_geriatrics"])
                              for u in geriatrics)


def test_psychiatric_hospitals_offer_psychiatry_only(establishments: list[Establishment],
                                                     by_finess: dict[str, list[Unit]]) -> None:
    """Every site of the psychiatric category offers psychiatry only, except one whose name says
    medico-surgical (test_catalogue_sites.py: the Lannemezan centre)."""
    psychiatric = [e for e in establishments if e.category == "292" and "MEDICO CHIRURG" not in plain(e.name)]
    offered = [specialties_of(by_finess.get(e.finess, [])) for e in psychiatric]
    assert all(s <= {"psychiatry", "old_age_psychiatry"} for s in offered), \
        [(e.name, s) for e, s in zip(psychiatric, offered) if not s <= {"psychiatry", "old_age_psychiatry"}]
    assert any("psychiatry" in s for s in offered)


def test_catalogue_is_deterministic(establishments: list[Establishment], units: list[Unit]) -> None:
    again = catalogue(list(read_establishments()), DECLARED)
    assert again == units
    assert len({u.id for u in units}) == len(units)


def test_every_demo_unit_is_marked_demo_and_uses_its_establishment_phone(
    establishments: list[Establishment], units: list[Unit],
) -> None:
    phones = {e.finess: e.phone for e in establishments}
    assert units
    assert all(u.demo is True for u in units)
    assert all(u.finess in phones for u in units)
    assert all(u.phone == phones[u.finess] for u in units)  # the switchboard or None, never invented
    assert any(u.phone is None for u in units) and any(u.phone for u in units)


def test_every_demo_unit_declares_a_code_of_its_specialty(units: list[Unit]) -> None:
    for u in units:
        specialty = u.id.split("-", 1)[1]
        assert set(u.activities) & set(SPECIALTY_ACTIVITIES[specialty]), u


def test_real_search_in_toulouse(real_index: DirectoryIndex) -> None:
    toulouse = default_table().get("31555")
    assert toulouse is not None and toulouse.lat is not None and toulouse.lon is not None
    c = Criteria("cardiology", toulouse.lat, toulouse.lon, 80)
    result = real_index.search(c)
    assert 0 < len(result.proposals) <= 20
    assert len(result.proposals) == 20 and result.more
    keys = [(p.band, p.unit.availability != A, p.distance_km) for p in result.proposals]
    assert keys == sorted(keys)  # no response times measured yet: band, availability, distance
    assert all(p.unit.availability in (A, L) for p in result.proposals)
    assert all(p.unit.demo and "démonstration" in " ".join(p.reasons) for p in result.proposals)
    assert all(f.unit.availability == F for f in result.full)
    assert all(set(p.as_json()) == PROPOSAL_KEYS for p in result.proposals)
    more = real_index.search(c, limit=20, offset=20)
    assert not {p.unit.id for p in more.proposals} & {p.unit.id for p in result.proposals}
    first = result.proposals[0]
    assert "est proposée, au rang 1" in real_index.why_not(first.unit.id, c)


def test_real_search_far_from_everything_still_proposes(real_index: DirectoryIndex) -> None:
    """Nephrology is CHU-only in the demo catalogue: from a small commune the nearest is far."""
    c = Criteria("nephrology", 44.9, 2.9, 70)  # Aubrac plateau
    result = real_index.search(c, limit=5)
    assert len(result.proposals) == 5
    assert [p.band for p in result.proposals] == sorted(p.band for p in result.proposals)


# -- "why is it absent?" with what a person knows: a name or a FINESS number --------------------
TOULOUSE_CARDIO = Criteria("cardiology", 43.6, 1.44, 80)


@pytest.mark.parametrize(("typed", "expected"), [
    # the only Purpan site with wards (its day hospitals share the name)
    ("purpan", "Cardiologie (HOPITAL PURPAN CHU TOULOUSE) est proposée, au rang"),
    ("310783048", "Cardiologie (HOPITAL PURPAN CHU TOULOUSE) est proposée, au rang"),
    ("310783048-cardiology", "Cardiologie (HOPITAL PURPAN CHU TOULOUSE) est proposée, au rang"),
    ("CENTRE DE PLANIFICATION DU CENTRE HOSPITALIER DE CHOLET",
     "CENTRE DE PLANIFICATION DU CENTRE HOSPITALIER DE CHOLET n'est pas proposé : aucune de ses"),
    ("zzzz", "Aucun établissement ni aucune unité ne correspond à « zzzz »."),
    ("ab", "« ab » : tapez le nom"),
])
def test_why_not_by_name_or_finess(real_index: DirectoryIndex, typed: str, expected: str) -> None:
    assert real_index.why_not(typed, TOULOUSE_CARDIO).startswith(expected)


def test_why_not_lists_the_sites_a_vague_name_designates(real_index: DirectoryIndex) -> None:
    answer = real_index.why_not("CHU", TOULOUSE_CARDIO)
    assert answer.startswith("« CHU » désigne ") and "Précisez le nom ou tapez le numéro FINESS" in answer
    assert len(re.findall(r"FINESS [0-9AB]{9}\)", answer)) == 5  # five sites named


# -- a second acceptable specialty (request.specialty_alt) ---------------------------------------------
def two(age: int = 70) -> Criteria:
    """General medicine, failing that pneumology."""
    return Criteria("general_medicine", HOME_LAT, HOME_LON, age, specialty_alt="pulmonology")


def test_units_of_either_specialty_are_proposed_the_first_before_the_second_in_a_band() -> None:
    idx = index(
        (est("000000001", 2.0), unit("000000001", ("114",))),  # pneumology, closest
        (est("000000002", 8.0), unit("000000002", ("083",), availability=L)),  # general medicine, limited
        (est("000000003", 15.0), unit("000000003", ("114",))),  # pneumology, next band
        (est("000000004", 40.0), unit("000000004", ("083",))),
        (est("000000005", 5.0), unit("000000005", ("013",))),  # cardiology: neither
    )
    found = idx.search(two()).proposals
    assert ids(found) == ["000000002-u", "000000001-u", "000000003-u", "000000004-u"]
    assert [p.specialty for p in found] == ["general_medicine", "pulmonology", "pulmonology",
                                            "general_medicine"]
    assert [p.alternative for p in found] == [False, True, True, False]
    assert found[0].reasons[0] == "Médecine polyvalente : activité ROR 083 déclarée"
    assert found[1].reasons[0] == "Pneumologie (autre spécialité acceptable) : activité ROR 114 déclarée"
    assert [p.as_json()["specialty"] for p in found] == [p.specialty for p in found]
    # without the second specialty, only general medicine
    assert ids(idx.search(crit("general_medicine")).proposals) == ["000000002-u", "000000004-u"]


def test_a_unit_of_both_specialties_is_proposed_once_for_the_first() -> None:
    idx = one(unit("000000001", ("114", "083")))
    [p] = idx.search(two()).proposals
    assert p.specialty == "general_medicine" and not p.alternative


def test_the_same_specialty_twice_is_one_specialty() -> None:
    c = Criteria("pulmonology", HOME_LAT, HOME_LON, 70, specialty_alt="pulmonology")
    assert c.specialties() == ("pulmonology",)
    result = one(unit("000000001", ("114",))).search(c)
    assert not result.two_specialties and result.proposals[0].group(result.two_specialties) == \
        "moins de 10 km · lits disponibles"


def test_full_units_of_the_second_specialty_are_listed_apart_too() -> None:
    idx = index((est("000000001", 2.0), unit("000000001", ("114",), availability=F)),
                (est("000000002", 3.0), unit("000000002", ("083",))))
    result = idx.search(two())
    assert ids(result.proposals) == ["000000002-u"] and ids(result.full) == ["000000001-u"]
    assert result.full[0].specialty == "pulmonology"


def test_why_not_with_two_specialties_names_both() -> None:
    idx = one(unit("000000001", ("013",)))
    answer = idx.why_not("000000001-u", two())
    assert "ni l'activité Médecine polyvalente (activités ROR 083) ni l'activité Pneumologie" in answer
    assert "est proposée, au rang 1" in one(unit("000000001", ("114",))).why_not("000000001-u", two())


def test_infectious_diseases_matches_077_and_486() -> None:
    assert SPECIALTY_ACTIVITIES["infectious_diseases"] == ("077", "486")
    idx = index((est("000000001", 2.0), unit("000000001", ("077",))),
                (est("000000002", 3.0), unit("000000002", ("486",))))
    found = idx.search(crit("infectious_diseases", age=40)).proposals
    assert ids(found) == ["000000001-u", "000000002-u"]
    assert found[0].reasons[0].startswith("Maladies infectieuses et tropicales : activité ROR 077")


# -- the grouping that explains the order --------------------------------------------------------------
def test_groups_cut_the_list_where_band_or_availability_changes() -> None:
    """48 km before 27 km reads right once the headings show the availability band."""
    idx = index((est("000000048", 48.0), unit("000000048", availability=A)),
                (est("000000027", 27.0), unit("000000027", availability=L)),
                (est("000000005", 5.0), unit("000000005", availability=L)),
                (est("000000030", 30.0), unit("000000030", availability=A)))
    result = idx.search(crit())
    assert [(heading, ids(members)) for heading, members in result.groups()] == [
        ("moins de 10 km · disponibilité limitée", ["000000005-u"]),
        ("25–50 km · lits disponibles", ["000000030-u", "000000048-u"]),
        ("25–50 km · disponibilité limitée", ["000000027-u"]),
    ]
    assert "par tranche de distance" in result.ranking


def test_groups_name_the_specialty_when_two_are_searched() -> None:
    idx = index((est("000000001", 2.0), unit("000000001", ("114",))),
                (est("000000002", 3.0), unit("000000002", ("083",))))
    result = idx.search(two())
    assert [heading for heading, _ in result.groups()] == [
        "moins de 10 km · Médecine polyvalente · lits disponibles",
        "moins de 10 km · Pneumologie · lits disponibles",
    ]
    assert "spécialité souhaitée d'abord" in result.ranking
    payload = result.as_json()
    assert [set(p) for p in payload["proposals"]] == [PROPOSAL_KEYS] * 2  # the replay's objects
    assert payload["groups"] == {"000000002-u": "moins de 10 km · Médecine polyvalente · lits disponibles",
                                 "000000001-u": "moins de 10 km · Pneumologie · lits disponibles"}
