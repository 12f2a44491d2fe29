"""The directory in the store: establishments and units, loaded from the shipped data on first use,
and the in-memory matching index built from them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

from orient.assistant.directory.catalogue import catalogue
from orient.assistant.directory.establishments import read_establishments
from orient.assistant.directory.matching import DirectoryIndex
from orient.assistant.store.db import LOCK_DIRECTORY, one_at_a_time
from orient.assistant.store.referrals import median_response_by_unit
from orient.assistant.store.tables import ChosenUnitRow, EstablishmentRow, UnitRow
from orient.models.directory import Availability, Establishment, Unit

if TYPE_CHECKING:  # the ROR parser loads fhir.resources: on the first ROR import, not with the hub
    from orient.assistant.directory.ror_import import ImportReport, RorBundle

EST = EstablishmentRow.__table__  # type: ignore[attr-defined]
UNIT = UnitRow.__table__  # type: ignore[attr-defined]
CHOSEN = ChosenUnitRow.__table__  # type: ignore[attr-defined]
_BATCH = 1000  # rows per INSERT when loading the directory
_SHARED_EST = ("finess", "category", "category_label", "postcode", "commune", "departement")
_CHOSEN_OF = (select(CHOSEN.c.unit_id).where(CHOSEN.c.dossier_id == bindparam("dossier_id"))
              .order_by(CHOSEN.c.position))  # built once: it runs on every send


def unit_values(unit: Unit, source: str) -> dict[str, object]:
    return {
        "id": unit.id, "finess": unit.finess, "name": unit.name, "activities": ",".join(unit.activities),
        "age_min": unit.age_min, "age_max": unit.age_max, "direct_admission": unit.direct_admission,
        "isolation_rooms": unit.isolation_rooms, "oxygen": unit.oxygen,
        "bariatric_beds": unit.bariatric_beds, "availability": unit.availability.value,
        "availability_at": unit.availability_at, "phone": unit.phone, "demo": unit.demo, "source": source,
    }


def ensure_directory(session: Session, now: datetime | None = None) -> bool:
    """Load the FINESS establishments and the demo catalogue if the store has none yet.
    Returns True when it loaded them."""
    conn = session.connection()
    one_at_a_time(conn, LOCK_DIRECTORY)  # hubs starting together on one PostgreSQL: one loads it
    if conn.execute(select(func.count()).select_from(EST)).scalar_one():
        return False
    declared = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    establishments = list(read_establishments())
    fields = list(Establishment.__dataclass_fields__)
    conn.execute(insert(EST), [{f: getattr(e, f) for f in fields} for e in establishments])
    units = iter(catalogue(establishments, declared))
    while batch := [unit_values(u, "demo") for u in islice(units, _BATCH)]:
        conn.execute(insert(UNIT), batch)  # in batches: 13,000 rows at once cost 10 MB more
    session.commit()
    return True


def _establishment(row: object, same: dict[str, str]) -> Establishment:
    values = {k: getattr(row, k) for k in Establishment.__dataclass_fields__}
    for k in _SHARED_EST:
        if values[k] is not None:
            values[k] = same.setdefault(values[k], values[k])
    return Establishment(**values)


def _unit(row: object, same: dict[str, str]) -> Unit:
    shared = same.setdefault
    return Unit(
        id=row.id, finess=shared(row.finess, row.finess),  # type: ignore[attr-defined]
        name=shared(row.name, row.name),  # type: ignore[attr-defined]
        activities=tuple(shared(a, a) for a in row.activities.split(",") if a),  # type: ignore[attr-defined]
        age_min=row.age_min, age_max=row.age_max,  # type: ignore[attr-defined]
        direct_admission=row.direct_admission,  # type: ignore[attr-defined]
        isolation_rooms=row.isolation_rooms, oxygen=row.oxygen,  # type: ignore[attr-defined]
        bariatric_beds=row.bariatric_beds,  # type: ignore[attr-defined]
        availability=Availability(row.availability),  # type: ignore[attr-defined]
        availability_at=shared(row.availability_at, row.availability_at),  # type: ignore[attr-defined]
        phone=row.phone and shared(row.phone, row.phone), demo=row.demo,  # type: ignore[attr-defined]
    )


def load_index(session: Session) -> DirectoryIndex:
    """The matching index over the store's directory (loading the shipped data on first use).
    Strings repeated across rows (FINESS numbers, unit names, activity codes, categories,
    communes, phones, declaration times) are kept once: the database gives a new string for each row."""
    ensure_directory(session)
    conn = session.connection()
    same: dict[str, str] = {}
    establishments = [_establishment(r, same) for r in conn.execute(select(EST))]
    units = [_unit(r, same) for r in conn.execute(select(UNIT))]
    return DirectoryIndex(establishments, units, response_minutes=median_response_by_unit(session))


def replace_units(session: Session, finess: set[str], units: list[Unit], source: str) -> None:
    """Replace every unit of these establishments (inside the caller's transaction)."""
    conn = session.connection()
    conn.execute(delete(UNIT).where(UNIT.c.finess.in_(finess)))
    if units:
        conn.execute(insert(UNIT), [unit_values(u, source) for u in units])


def chosen_units(session: Session, dossier_id: str) -> list[str]:
    rows = session.connection().execute(_CHOSEN_OF, {"dossier_id": dossier_id})
    return [r.unit_id for r in rows]


def set_chosen_units(session: Session, dossier_id: str, unit_ids: list[str]) -> None:
    conn = session.connection()
    conn.execute(delete(CHOSEN).where(CHOSEN.c.dossier_id == dossier_id))
    if unit_ids:
        conn.execute(insert(CHOSEN), [
            {"dossier_id": dossier_id, "unit_id": u, "position": i} for i, u in enumerate(unit_ids, 1)
        ])


# -- the ROR import: parsed in directory/ror_import.py, written here ------------------------
def _write_ror(session: Session, parsed: RorBundle, source: str) -> tuple[int, int]:
    """Check the FINESS against the store, replace the units and commit; (removed, demo removed)."""
    from orient.assistant.directory.ror_import import RorImportError

    conn = session.connection()
    est = EstablishmentRow.__table__  # type: ignore[attr-defined]
    known = {
        r.finess for r in conn.execute(select(est.c.finess).where(est.c.finess.in_(parsed.finess)))
    }
    missing = sorted(parsed.finess - known)
    if missing:
        raise RorImportError(
            f"FINESS {missing[0]} inconnu du répertoire des établissements d'Orient (FINESS "
            "géographique attendu, pas le FINESS juridique)",
            parsed.finess_sources.get(missing[0], "Organization"), "identifier",
        )
    counts = conn.execute(
        select(UNIT.c.demo, func.count())
        .where(UNIT.c.finess.in_(parsed.finess))
        .group_by(UNIT.c.demo)
    ).all()
    replace_units(session, set(parsed.finess), list(parsed.units), source)
    session.commit()
    return sum(n for _, n in counts), sum(n for demo, n in counts if demo)


def import_ror(
    session: Session,
    path: str | Path,
    *,
    activity_codes: Collection[str] | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Read a ROR file and replace the units of the establishments it covers, in one transaction
    committed at the end. Nothing is written when the file (or the store) refuses it."""
    from orient.assistant.directory.ror_import import ImportReport, RorImportError, parse_ror

    path = Path(path)
    parsed = parse_ror(path, activity_codes, now=now)
    ensure_directory(session)
    try:
        removed, demo_removed = _write_ror(session, parsed, path.name)
    except RorImportError:
        session.rollback()
        raise
    except IntegrityError as exc:
        session.rollback()
        raise RorImportError(
            "rien n'a été importé : une demande a retenu une unité d'un de ces établissements "
            "(unités choisies), le répertoire ne peut pas la remplacer"
        ) from exc
    except SQLAlchemyError as exc:
        session.rollback()
        raise RorImportError(
            "rien n'a été importé : le répertoire n'a pas pu être mis à jour "
            f"({exc.__class__.__name__})"
        ) from exc
    return ImportReport(
        source=path.name,
        finess=tuple(sorted(parsed.finess)),
        units_imported=len(parsed.units),
        units_removed=removed,
        demo_units_removed=demo_removed,
        services=parsed.services,
        skipped_services=parsed.skipped_services,
        ignored_entries=parsed.ignored_entries,
    )
