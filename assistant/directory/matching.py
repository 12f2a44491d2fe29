"""Matching (spec/hnp-dossier.md, "Matching"): which units can take the patient, ranked and explained.

A unit is a candidate when it declares one of the specialty's ROR activities and takes direct
admissions, the patient's age is within its range, it meets the needs (isolation rooms for BMR/BHRe,
oxygen, bariatric beds) and it is not declared full (full units are listed apart). Candidates are
ranked by distance band from the patient's commune, then availability, then the unit's median
response time, then exact distance. With a second acceptable specialty (request.specialty_alt),
units of either are candidates, the first specialty's ranked before the second's within a band.
The groups that explain the order (band, specialty when two, availability) come with the result,
for the lists to show as headings.

The index keeps each activity's units in a grid of 0.25° cells, so that a search reads the cells
near the patient first and reads everything only when fewer than `limit` candidates lie within
100 km.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orient.dialogs.hnp import SPECIALTIES, SPECIALTY_ACTIVITIES
from orient.models.directory import AVAILABILITY_FR, Availability, Establishment, Unit
from orient.models.text import normalise_key

BANDS_KM = (10.0, 25.0, 50.0, 100.0)
BAND_FR = ("moins de 10 km", "10 à 25 km", "25 à 50 km", "50 à 100 km", "plus de 100 km")
BAND_SHORT_FR = ("moins de 10 km", "10–25 km", "25–50 km", "50–100 km", "plus de 100 km")
# how the list is ordered, said once above it (spec/hnp-dossier.md, "Matching")
RANKING_FR = ("Classées par tranche de distance, puis lits disponibles d'abord, puis délai de "
              "réponse, puis distance.")
RANKING_ALT_FR = ("Classées par tranche de distance, spécialité souhaitée d'abord, puis lits "
                  "disponibles d'abord, puis délai de réponse, puis distance.")
CELL_DEG = 0.25
EARTH_KM = 6371.0088
DEFAULT_LIMIT = 20
ISOLATION_NEEDED = {"mdro", "xdro"}
SPECIALTY_FR = {code: label for code, label, _ in SPECIALTIES}


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def band_of(km: float) -> int:
    for i, limit in enumerate(BANDS_KM):
        if km < limit:
            return i
    return len(BANDS_KM)


def _km(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def km_fr(value: float) -> str:
    """A distance as French text: `20,8 km`."""
    return f"{_km(value)} km"


def group_label(band: int, availability: Availability, specialty: str | None = None) -> str:
    """The heading of the group a proposal ranks in: « 25–50 km · lits disponibles », with the
    specialty when two specialties are searched (« 10–25 km · Pneumologie · lits disponibles »)."""
    parts = [BAND_SHORT_FR[band]]
    if specialty:
        parts.append(SPECIALTY_FR.get(specialty, specialty))
    parts.append(AVAILABILITY_FR[availability])
    return " · ".join(parts)


@dataclass(frozen=True)
class Criteria:
    specialty: str
    lat: float
    lon: float
    age: int
    needs: frozenset[str] = frozenset()  # logistics.needs codes: oxygen, bariatric_bed count here
    isolation: str | None = None  # medical.isolation: mdro/xdro need isolation rooms
    specialty_alt: str | None = None  # request.specialty_alt: ranked after the first in each band

    def specialties(self) -> tuple[str, ...]:
        """The specialties searched, the wanted one first."""
        if self.specialty_alt and self.specialty_alt != self.specialty:
            return (self.specialty, self.specialty_alt)
        return (self.specialty,)


@dataclass(frozen=True)
class Proposal:
    unit: Unit
    establishment: Establishment
    distance_km: float
    band: int
    response_minutes: float | None
    reasons: tuple[str, ...]
    specialty: str
    alternative: bool = False  # it matches the second acceptable specialty, not the first

    def group(self, two_specialties: bool = False) -> str:
        """The heading of its group in a list (see `group_label`)."""
        return group_label(self.band, self.unit.availability, self.specialty if two_specialties else None)

    def as_json(self) -> dict[str, Any]:
        """The object of the replay's `proposals` and of `orient directory search --json`."""
        return {
            "unit_id": self.unit.id,
            "finess": self.unit.finess,
            "establishment": self.establishment.name,
            "unit": self.unit.name,
            "specialty": self.specialty,
            "distance_km": round(self.distance_km, 1),
            "availability": self.unit.availability.value,
            "demo": self.unit.demo,
            "reasons": list(self.reasons),
        }


@dataclass
class SearchResult:
    proposals: list[Proposal]
    full: list[Proposal]  # units within the searched distance that match but are full, listed apart
    more: bool  # candidates remain beyond the ones returned
    two_specialties: bool = False  # a second acceptable specialty was searched too

    @property
    def ranking(self) -> str:
        """How the list is ordered, in French, to show above it."""
        return RANKING_ALT_FR if self.two_specialties else RANKING_FR

    def as_json(self) -> dict[str, Any]:
        """The hub's answer for a dossier's proposals: the proposals (the replay's objects), the
        units declared full apart, the heading of each one's group by unit id, and how the list
        is ordered."""
        return {
            "proposals": [p.as_json() for p in self.proposals],
            "full": [p.as_json() for p in self.full],
            "more": self.more,
            "groups": {p.unit.id: p.group(self.two_specialties) for p in self.proposals + self.full},
            "ranking": self.ranking,
        }

    def groups(self) -> list[tuple[str, list[Proposal]]]:
        """The proposals in rank order, cut where the group (distance band, specialty when two are
        searched, availability) changes: what explains the order at a glance."""
        found: list[tuple[str, list[Proposal]]] = []
        for p in self.proposals:
            heading = p.group(self.two_specialties)
            if not found or found[-1][0] != heading:
                found.append((heading, []))
            found[-1][1].append(p)
        return found


@dataclass(slots=True)
class _Entry:
    unit: Unit
    est: Establishment
    lat: float
    lon: float


RankKey = tuple[int, int, int, float, float, str]  # band, specialty, availability, minutes, km, id
_UNIT_ID_RE = re.compile(r"^[0-9AB]{9}-\w")  # FINESS number, a hyphen, the unit
_Ranked = tuple[RankKey, _Entry]


class DirectoryIndex:
    def __init__(self, establishments: Iterable[Establishment], units: Iterable[Unit],
                 response_minutes: Mapping[str, float] | None = None) -> None:
        self.establishments = {e.finess: e for e in establishments}
        self.units: dict[str, Unit] = {}
        self.response_minutes = dict(response_minutes or {})
        self._grid: dict[str, dict[tuple[int, int], list[_Entry]]] = defaultdict(lambda: defaultdict(list))
        # the whole country, per activity, grouped by the unit properties the patient's criteria
        # test, so that a national scan skips at once the groups that cannot match
        self._all: dict[str, dict[tuple[Any, ...], list[_Entry]]] = defaultdict(lambda: defaultdict(list))
        for unit in units:
            self.units[unit.id] = unit
            est = self.establishments.get(unit.finess)
            if est is None or est.lat is None or est.lon is None:
                continue
            entry = _Entry(unit, est, est.lat, est.lon)
            for activity in set(unit.activities):
                self._grid[activity][self._cell(est.lat, est.lon)].append(entry)
                self._all[activity][_signature(unit)].append(entry)

    @staticmethod
    def _cell(lat: float, lon: float) -> tuple[int, int]:
        return (math.floor(lat / CELL_DEG), math.floor(lon / CELL_DEG))

    def _near(self, activity: str, c: Criteria, radius_km: float) -> Iterable[_Entry]:
        lat, lon = c.lat, c.lon
        if radius_km == math.inf:
            return [e for group in self._all.get(activity, {}).values() if group
                    and self._fits(group[0].unit, c) for e in group]
        grid = self._grid.get(activity)
        if not grid:
            return []
        dlat = radius_km / 111.0 + CELL_DEG
        dlon = radius_km / (111.0 * max(0.05, math.cos(math.radians(lat)))) + CELL_DEG
        (c0, c1), (c2, c3) = self._cell(lat - dlat, lon - dlon), self._cell(lat + dlat, lon + dlon)
        found: list[_Entry] = []
        for i in range(c0, c2 + 1):
            for j in range(c1, c3 + 1):
                found.extend(grid.get((i, j), ()))
        return found

    # -- the criteria, in the order "why not" names them ----------------------------------
    def failure(self, unit: Unit, c: Criteria) -> str | None:
        """The first criterion this unit fails, in French; None when it is a candidate."""
        if not set(unit.activities) & _wanted(c):
            named = " ni ".join(f"l'activité {SPECIALTY_FR.get(s, s)} (activités ROR "
                                f"{', '.join(SPECIALTY_ACTIVITIES.get(s, ()))})" for s in c.specialties())
            return f"elle ne déclare {'ni ' if len(c.specialties()) > 1 else 'pas '}{named}"
        if not unit.direct_admission:
            return "elle n'accepte pas d'admission directe"
        if not unit.age_min <= c.age <= unit.age_max:
            return f"l'âge du patient ({c.age} ans) est hors de sa tranche ({unit.age_min} à {unit.age_max} ans)"
        if c.isolation in ISOLATION_NEEDED and not unit.isolation_rooms:
            return "elle n'a pas de chambre d'isolement (portage BMR/BHRe)"
        if "oxygen" in c.needs and not unit.oxygen:
            return "elle ne dispose pas d'oxygène"
        if "bariatric_bed" in c.needs and not unit.bariatric_beds:
            return "elle n'a pas de lit bariatrique"
        est = self.establishments.get(unit.finess)
        if est is None or est.lat is None or est.lon is None:
            return "son établissement n'a pas de coordonnées géographiques"
        if unit.availability == Availability.FULL:
            return ("elle est déclarée complète : les unités complètes ne sont pas proposées (celles "
                    "qui sont à portée sont listées à part)")
        return None

    def _proposal(self, e: _Entry, c: Criteria, km: float, rank: int = 0) -> Proposal:
        """A proposal with its reasons: the one place where the reasons are worded."""
        specialty = c.specialties()[rank]
        minutes = self.response_minutes.get(e.unit.id)
        declared = _when(e.unit.availability_at)
        codes = ", ".join(sorted(set(e.unit.activities) & set(SPECIALTY_ACTIVITIES[specialty])))
        named = SPECIALTY_FR.get(specialty, specialty) + (" (autre spécialité acceptable)" if rank else "")
        reasons = [
            f"{named} : activité ROR {codes} déclarée",
            f"à {_km(km)} km du domicile ({BAND_FR[band_of(km)]})",
            f"{AVAILABILITY_FR[e.unit.availability]}" + (f" (déclaré {declared})" if declared else ""),
            (f"délai médian de réponse : {minutes:.0f} min" if minutes is not None
             else "délai de réponse pas encore mesuré"),
        ]
        if c.isolation in ISOLATION_NEEDED:
            reasons.append("chambres d'isolement pour le portage BMR/BHRe")
        if "oxygen" in c.needs:
            reasons.append("oxygène disponible")
        if "bariatric_bed" in c.needs:
            reasons.append("lit bariatrique disponible")
        reasons.append("unité de démonstration (données de service non publiques)" if e.unit.demo
                       else "unité déclarée dans le répertoire (ROR)")
        return Proposal(e.unit, e.est, km, band_of(km), minutes, tuple(reasons), specialty, rank > 0)

    def _rank_key(self, e: _Entry, km: float, rank: int = 0) -> RankKey:
        avail = 0 if e.unit.availability == Availability.AVAILABLE else 1
        minutes = self.response_minutes.get(e.unit.id, math.inf)
        return (band_of(km), rank, avail, minutes, km, e.unit.id)

    def search(self, c: Criteria, limit: int = DEFAULT_LIMIT, offset: int = 0) -> SearchResult:
        wanted = offset + limit
        for radius in (*BANDS_KM, math.inf):
            candidates, full = self._collect(c, radius)
            if len(candidates) > wanted or radius == math.inf:
                break
        first = heapq.nsmallest(wanted, candidates, key=lambda item: item[0])
        full_first = heapq.nsmallest(limit, full, key=lambda item: item[0])
        return SearchResult(
            [self._proposal(e, c, key[4], key[1]) for key, e in first[offset:]],
            [self._proposal(e, c, key[4], key[1]) for key, e in full_first],
            len(candidates) > wanted,
            len(c.specialties()) > 1,
        )

    def _collect(self, c: Criteria, radius: float) -> tuple[list[_Ranked], list[_Ranked]]:
        """Units within `radius` that match (and those that match but are full), with their rank
        keys; the Proposal objects are built only for the ones returned."""
        seen: set[str] = set()
        candidates: list[_Ranked] = []
        full: list[_Ranked] = []
        for rank, specialty in enumerate(c.specialties()):
            for activity in SPECIALTY_ACTIVITIES.get(specialty, ()):
                for e in self._near(activity, c, radius):
                    if e.unit.id in seen or not self._fits(e.unit, c):
                        continue
                    seen.add(e.unit.id)  # a unit of both specialties counts for the first
                    km = distance_km(c.lat, c.lon, e.lat, e.lon)
                    if km >= radius:
                        continue
                    item = (self._rank_key(e, km, rank), e)
                    (full if e.unit.availability == Availability.FULL else candidates).append(item)
        return candidates, full

    @staticmethod
    def _fits(unit: Unit, c: Criteria) -> bool:
        """The patient-side criteria (the activity is known from the index)."""
        return (
            unit.direct_admission
            and unit.age_min <= c.age <= unit.age_max
            and (c.isolation not in ISOLATION_NEEDED or unit.isolation_rooms)
            and ("oxygen" not in c.needs or unit.oxygen)
            and ("bariatric_bed" not in c.needs or unit.bariatric_beds)
        )

    def why_not(self, unit_id: str, c: Criteria, limit: int = DEFAULT_LIMIT) -> str:
        """Why a unit is not proposed: the first criterion it fails, or its rank."""
        unit = self.units.get(unit_id)
        if unit is None:
            return self._why_not_named(unit_id, c, limit)
        est = self.establishments.get(unit.finess)
        where = f"{unit.name} ({est.name if est else unit.finess})"
        problem = self.failure(unit, c)
        if problem:
            return f"{where} n'est pas proposée : {problem}."
        result = self.search(c, limit=10**6)
        rank = next((i for i, p in enumerate(result.proposals, 1) if p.unit.id == unit_id), None)
        if rank is not None and rank <= limit:
            return f"{where} est proposée, au rang {rank}."
        return (f"{where} remplit tous les critères mais arrive au rang {rank} : seules les {limit} "
                "premières sont proposées (demandez-en plus).")


    def _why_not_named(self, text: str, c: Criteria, limit: int) -> str:
        """`why_not` for a typed establishment name (or part of it) or FINESS number: the units
        of that establishment for the specialty asked, explained."""
        if _UNIT_ID_RE.match(text.strip()):
            return f"Unité inconnue : « {text} »."
        key = normalise_key(text)
        if len(key) < 3:
            return (f"« {text} » : tapez le nom (ou une partie du nom) d'un établissement, son "
                    "numéro FINESS ou l'identifiant d'une unité.")
        found = [e for e in self.establishments.values() if key == e.finess or key in normalise_key(e.name)]
        if not found:
            return f"Aucun établissement ni aucune unité ne correspond à « {text} »."
        if len(found) > 1:
            # the sites with wards first; one alone among the matches is the one meant
            with_units = {u.finess for u in self.units.values()}
            found.sort(key=lambda e: (e.finess not in with_units, e.name))
            if sum(e.finess in with_units for e in found) == 1:
                found = found[:1]
        if len(found) > 1:
            named = " ; ".join(f"{e.name} ({e.commune or e.departement}, FINESS {e.finess})"
                               for e in found[:5])
            more = f" et {len(found) - 5} autres" if len(found) > 5 else ""
            return (f"« {text} » désigne {len(found)} établissements : {named}{more}. Précisez le nom "
                    "ou tapez le numéro FINESS.")
        [est] = found
        wanted = _wanted(c)
        units = [u for u in self.units.values() if u.finess == est.finess]
        fitting = [u for u in units if wanted & set(u.activities)]
        if not fitting:
            specialty = " ou ".join(SPECIALTY_FR.get(s, s) for s in c.specialties())
            return (f"{est.name} n'est pas proposé : aucune de ses unités du répertoire ne déclare "
                    f"l'activité {specialty}" + ("" if units else " (il n'en a aucune : site sans "
                                                 "hospitalisation, ou hors du catalogue)") + ".")
        return " ".join(self.why_not(u.id, c, limit) for u in fitting[:3])


try:
    from zoneinfo import ZoneInfo

    _PARIS: Any = ZoneInfo("Europe/Paris")
except Exception:  # noqa: BLE001 - no time zone data: keep the stored offset
    _PARIS = None


def alternative_specialty(answers: Mapping[str, Any]) -> str | None:
    """The second acceptable specialty of a dossier's answers (request.specialty_alt), if any."""
    alt = answers.get("request.specialty_alt")
    return alt if alt in SPECIALTY_ACTIVITIES and alt != answers.get("request.specialty") else None


def _wanted(c: Criteria) -> set[str]:
    """The ROR activities of the specialties searched."""
    return {a for s in c.specialties() for a in SPECIALTY_ACTIVITIES.get(s, ())}


def _signature(unit: Unit) -> tuple[Any, ...]:
    return (unit.direct_admission, unit.age_min, unit.age_max, unit.isolation_rooms, unit.oxygen,
            unit.bariatric_beds)


def _when(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return ""
    if moment.tzinfo is not None and _PARIS is not None:
        moment = moment.astimezone(_PARIS)
    return f"le {moment:%d/%m à %H:%M}"


__all__ = ["Criteria", "DirectoryIndex", "Proposal", "SearchResult", "alternative_specialty", "band_of",
           "distance_km", "group_label", "km_fr"]
