"""Import of a ROR export (FHIR Bundle of HealthcareService, Location, Organization) into the
directory: the units of the covered establishments are replaced, the others untouched, and a file
with any fault is refused whole, with the resource and the field named, the store unchanged.

Fixtures: tests/fixtures/ror/ (valid_bundle.json follows the ANS ROR guide; each other file has one
fault; partial_bundle.json is a valid establishment followed by one faulty service)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session

from orient.assistant.directory.ror_import import (
    ACTIVITY_CODES_FILE,
    RorImportError,
    load_activity_codes,
    parse_ror,
)
from orient.assistant.store.db import open_engine
from orient.assistant.store.directory import (
    UNIT,
    ensure_directory,
    import_ror,
    load_index,
    set_chosen_units,
)
from orient.assistant.store.tables import DossierRow
from orient.models.directory import Availability

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ror"

PURPAN, RANGUEIL, HERRIOT = "310783048", "310783055", "690783154"
COVERED = {PURPAN, RANGUEIL, HERRIOT}
CHU_TOULOUSE_EJ = "310781406"  # legal entity, listed in the file for partOf only
ELSEWHERE = "300000023"  # CH Alès: not in the file


@pytest.fixture(scope="module")
def codes() -> frozenset[str]:
    """The TRE-R211 list shipped with the package."""
    assert ACTIVITY_CODES_FILE.is_file()
    return load_activity_codes()


@pytest.fixture(scope="module")
def loaded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the shipped directory (establishments and demo units), built once."""
    path = tmp_path_factory.mktemp("store") / "x.db"
    engine = open_engine(path)
    with Session(engine) as s:
        ensure_directory(s)
    engine.dispose()
    return path


@pytest.fixture
def session(tmp_path: Path, loaded_db: Path):
    db = tmp_path / "x.db"
    shutil.copyfile(loaded_db, db)
    engine = open_engine(db)
    with Session(engine) as s:
        assert not ensure_directory(s)  # already loaded
        yield s
    engine.dispose()


def _rows(session: Session) -> list[dict]:
    """Every unit row, to compare the store before and after."""
    rows = session.connection().execute(select(UNIT).order_by(UNIT.c.id)).all()
    session.rollback()  # end the read transaction
    return [dict(r._mapping) for r in rows]


def _units_of(session: Session, finess: str) -> dict:
    index = load_index(session)
    session.rollback()
    return {u.id: u for u in index.units.values() if u.finess == finess}


# --- valid file -----------------------------------------------------------------------------------


def test_fixture_establishments_have_demo_units(session: Session) -> None:
    for finess in (*COVERED, ELSEWHERE):
        units = _units_of(session, finess)
        assert units and all(u.demo for u in units.values()), finess


def test_valid_import_replaces_demo_units_of_covered_establishments_only(
    session: Session, codes: frozenset[str]
) -> None:
    before = _rows(session)
    demo_covered = [r for r in before if r["finess"] in COVERED]
    untouched_before = [r for r in before if r["finess"] not in COVERED]

    report = import_ror(session, FIXTURES / "valid_bundle.json", activity_codes=codes)

    assert report.finess == tuple(sorted(COVERED))
    assert report.units_imported == 4
    assert report.units_removed == report.demo_units_removed == len(demo_covered)
    assert (report.services, report.skipped_services, report.ignored_entries) == (5, 1, 1)
    assert "4 unité(s) importée(s)" in report.summary_fr()

    after = _rows(session)
    assert [r for r in after if r["finess"] not in COVERED] == untouched_before
    imported = [r for r in after if r["finess"] in COVERED]
    assert sorted(r["id"] for r in imported) == [
        "310783048-ror-hs-purpan-cardio-hc",
        "310783048-ror-hs-purpan-geriatrie-hc",
        "310783055-ror-hs-rangueil-pneumo-hc",
        "690783154-ror-hs-herriot-medecine-interne",
    ]
    assert all(not r["demo"] and r["source"] == "valid_bundle.json" for r in imported)
    assert not any(r["finess"] == CHU_TOULOUSE_EJ for r in after)


def test_imported_units_carry_the_declared_properties(
    session: Session, codes: frozenset[str]
) -> None:
    import_ror(session, FIXTURES / "valid_bundle.json", activity_codes=codes)
    purpan = _units_of(session, PURPAN)
    assert set(purpan) == {"310783048-ror-hs-purpan-cardio-hc", "310783048-ror-hs-purpan-geriatrie-hc"}

    cardio = purpan["310783048-ror-hs-purpan-cardio-hc"]
    assert cardio.demo is False
    assert cardio.name == "Cardiologie - hospitalisation complète"
    assert cardio.activities == ("013",)
    assert (cardio.age_min, cardio.age_max) == (18, 120)
    assert cardio.phone == "+33561772400"  # the service's own telecom
    assert cardio.direct_admission is True
    assert (cardio.isolation_rooms, cardio.oxygen, cardio.bariatric_beds) == (True, True, False)
    assert cardio.availability == Availability.AVAILABLE  # 4 beds available
    assert cardio.availability_at == "2024-03-18T07:45:00+01:00"

    geriatrics = purpan["310783048-ror-hs-purpan-geriatrie-hc"]
    assert geriatrics.activities == ("491",)
    assert (geriatrics.age_min, geriatrics.age_max) == (75, 120)  # 999: no upper limit
    assert geriatrics.direct_admission is False  # appointmentRequired
    assert geriatrics.phone is None  # none declared: none invented
    assert geriatrics.isolation_rooms is False  # negative-pressure room declared with 0 in service
    assert (geriatrics.oxygen, geriatrics.bariatric_beds) == (True, True)
    assert geriatrics.availability == Availability.LIMITED  # 1 bed

    (pneumo,) = _units_of(session, RANGUEIL).values()
    assert pneumo.activities == ("114",)
    assert pneumo.phone == "+33561322533"  # from its Location
    assert pneumo.isolation_rooms is True  # double-flow room
    assert pneumo.availability == Availability.FULL

    (internal,) = _units_of(session, HERRIOT).values()  # provided by an OI, partOf the EG
    assert internal.activities == ("085",)
    assert (internal.age_min, internal.age_max) == (16, 120)
    assert internal.availability == Availability.LIMITED  # no capacity declared
    assert internal.availability_at == "2024-03-18T08:30:00+01:00"  # meta.lastUpdated
    assert (internal.isolation_rooms, internal.oxygen, internal.bariatric_beds) == (False,) * 3


def test_second_import_replaces_the_first(session: Session, codes: frozenset[str]) -> None:
    import_ror(session, FIXTURES / "valid_bundle.json", activity_codes=codes)
    first = _rows(session)
    report = import_ror(session, FIXTURES / "valid_bundle.json", activity_codes=codes)
    assert (report.units_removed, report.demo_units_removed, report.units_imported) == (4, 0, 4)
    assert _rows(session) == first


def test_imported_units_are_proposed_by_the_index(session: Session, codes: frozenset[str]) -> None:
    import_ror(session, FIXTURES / "valid_bundle.json", activity_codes=codes)
    index = load_index(session)
    cardio = index.units["310783048-ror-hs-purpan-cardio-hc"]
    assert cardio.demo is False and cardio.finess in index.establishments


# --- FINESS shapes --------------------------------------------------------------------------------


def _edit(tmp_path: Path, change) -> Path:
    data = json.loads((FIXTURES / "valid_bundle.json").read_text(encoding="utf-8"))
    resources = {(e["resource"]["resourceType"], e["resource"].get("id")): e["resource"]
                 for e in data["entry"]}
    change(resources)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_finess_shapes_accepted(tmp_path: Path, codes: frozenset[str]) -> None:
    def change(r: dict) -> None:
        # plain FINESS under the idNatSt system; "1" + FINESS (Corsica) under the same system
        r["Organization", "org-eg-herriot"]["identifier"][0]["value"] = HERRIOT
        r["Organization", "org-eg-rangueil"]["identifier"] = [
            {"system": "urn:oid:1.2.250.1.71.4.2.2", "value": "12A0000022"},
            {"system": "urn:oid:1.2.250.1.71.4.2.2", "value": "326690027400111"},  # 3 + SIRET
        ]

    parsed = parse_ror(_edit(tmp_path, change), codes)
    assert parsed.finess == {PURPAN, "2A0000022", HERRIOT}


def test_contradictory_finess_refused(tmp_path: Path, codes: frozenset[str]) -> None:
    def change(r: dict) -> None:
        r["Organization", "org-eg-purpan"]["identifier"][1]["value"] = RANGUEIL

    with pytest.raises(RorImportError) as err:
        parse_ror(_edit(tmp_path, change), codes)
    assert "Organization/org-eg-purpan" in str(err.value)
    assert "identifier[1].value" in str(err.value)


def test_unparsable_phone_refused(tmp_path: Path, codes: frozenset[str]) -> None:
    def change(r: dict) -> None:
        r["HealthcareService", "hs-purpan-cardio-hc"]["telecom"][0]["value"] = "poste 2400"

    with pytest.raises(RorImportError) as err:
        parse_ror(_edit(tmp_path, change), codes)
    assert "HealthcareService/hs-purpan-cardio-hc" in str(err.value)
    assert "telecom[0].value" in str(err.value)


# --- refused files --------------------------------------------------------------------------------

REFUSED = [
    # file, resource named, field named, words of the reason
    ("not_json.json", "", "", "n'est pas du JSON valide"),
    ("not_bundle.json", "Bundle", "resourceType", "n'est pas un Bundle FHIR"),
    ("invalid_resource.json", "HealthcareService/hs-rangueil-pneumo-hc (entry[3])",
     "appointmentRequired", "booléen attendu"),
    ("missing_finess.json", "HealthcareService/hs-herriot-medecine-interne", "providedBy",
     "FINESS manquant"),
    ("unknown_activity.json", "HealthcareService/hs-rangueil-pneumo-hc",
     "specialty[0].coding[0].code", "« 999 » absent de la nomenclature TRE-R211"),
    ("bad_finess_key.json", "Organization/org-eg-rangueil", "identifier[0].value",
     "la clé de contrôle ne correspond pas"),
    ("age_min_above_max.json", "HealthcareService/hs-purpan-geriatrie-hc",
     "extension[2].extension[0].valueRange", "âge minimum (75 ans) supérieur à l'âge maximum"),
    ("missing_organization.json", "HealthcareService/hs-rangueil-pneumo-hc", "providedBy",
     "« Organization/org-eg-rangueil » désigne une ressource Organization absente du fichier"),
    ("missing_location.json", "HealthcareService/hs-purpan-geriatrie-hc", "location[0]",
     "« Location/loc-purpan-geriatrie » désigne une ressource Location absente du fichier"),
    ("unknown_finess.json", "Organization/org-ej-chu-toulouse", "identifier",
     f"FINESS {CHU_TOULOUSE_EJ} inconnu du répertoire des établissements"),
    ("partial_bundle.json", "HealthcareService/hs-rangueil-pneumo-hc (entry[7])",
     "specialty[0].coding[0].code", "« 999 »"),
]


@pytest.mark.parametrize(("name", "resource", "field", "reason"), REFUSED,
                         ids=[r[0] for r in REFUSED])
def test_faulty_file_refused_and_store_unchanged(
    session: Session, codes: frozenset[str], name: str, resource: str, field: str, reason: str
) -> None:
    before = _rows(session)
    with pytest.raises(RorImportError) as err:
        import_ror(session, FIXTURES / name, activity_codes=codes)
    message = str(err.value)
    assert resource in message
    assert reason in message
    if field:
        assert f"champ {field}" in message
        assert err.value.field == field
    assert _rows(session) == before


def test_partial_file_imports_nothing(session: Session, codes: frozenset[str]) -> None:
    """Its first establishment is complete and valid, yet stays with its demo units."""
    before = _units_of(session, PURPAN)
    with pytest.raises(RorImportError):
        import_ror(session, FIXTURES / "partial_bundle.json", activity_codes=codes)
    after = _units_of(session, PURPAN)
    assert after == before and all(u.demo for u in after.values())


def test_missing_file_refused(session: Session, codes: frozenset[str], tmp_path: Path) -> None:
    with pytest.raises(RorImportError, match="fichier introuvable"):
        import_ror(session, tmp_path / "absent.json", activity_codes=codes)


def test_bundle_without_service_refused(tmp_path: Path, codes: frozenset[str]) -> None:
    path = tmp_path / "empty.json"
    path.write_text('{"resourceType": "Bundle", "type": "collection", "entry": []}', "utf-8")
    with pytest.raises(RorImportError, match="aucune ressource HealthcareService"):
        parse_ror(path, codes)


def test_chosen_demo_unit_blocks_import_without_writing(
    session: Session, codes: frozenset[str]
) -> None:
    """A dossier that chose a demo unit of a covered establishment keeps the store as it is: the
    import is refused whole (the unit table is referenced by chosen_unit)."""
    now = datetime.now(UTC)
    session.add(DossierRow(id="d1", owner_rpps="10003456789", created_by="u1", status="draft",
                           created_at=now, updated_at=now))
    session.flush()
    demo_id = next(iter(_units_of_in_tx(session, PURPAN)))
    set_chosen_units(session, "d1", [demo_id])
    session.commit()
    before = _rows(session)
    with pytest.raises(RorImportError, match="unités choisies"):
        import_ror(session, FIXTURES / "valid_bundle.json", activity_codes=codes)
    assert _rows(session) == before


def _units_of_in_tx(session: Session, finess: str) -> list[str]:
    rows = session.connection().execute(select(UNIT.c.id).where(UNIT.c.finess == finess))
    return [r.id for r in rows]


def test_refusal_inside_the_transaction_releases_the_store(
    session: Session, codes: frozenset[str]
) -> None:
    """A FINESS unknown to the store is found after the write transaction began: it is rolled
    back, and another connection can import at once."""
    with pytest.raises(RorImportError):
        import_ror(session, FIXTURES / "unknown_finess.json", activity_codes=codes)
    other = open_engine(session.get_bind().url.database)
    try:
        with Session(other) as s:
            report = import_ror(s, FIXTURES / "valid_bundle.json", activity_codes=codes)
        assert report.units_imported == 4
    finally:
        other.dispose()
