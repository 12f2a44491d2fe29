"""Directory entities: establishments (FINESS ET) and their units (wards), as values."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Availability(StrEnum):
    AVAILABLE = "available"
    LIMITED = "limited"
    FULL = "full"


AVAILABILITY_FR = {
    Availability.AVAILABLE: "lits disponibles",
    Availability.LIMITED: "disponibilité limitée",
    Availability.FULL: "complet",
}


@dataclass(frozen=True, slots=True)
class Establishment:
    finess: str
    name: str
    category: str
    category_label: str
    lat: float | None
    lon: float | None
    address: str = ""
    postcode: str = ""
    commune: str = ""
    departement: str = ""
    phone: str | None = None  # E.164, only when the source gives one


@dataclass(frozen=True, slots=True)
class Unit:
    """A ward of an establishment, as declared (ROR import) or derived (demo catalogue)."""

    id: str
    finess: str
    name: str
    activities: tuple[str, ...]  # ROR operational activity codes (TRE-R211)
    age_min: int
    age_max: int
    direct_admission: bool
    isolation_rooms: bool
    oxygen: bool
    bariatric_beds: bool
    availability: Availability
    availability_at: str  # ISO datetime of the declaration
    phone: str | None
    demo: bool
