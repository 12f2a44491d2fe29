"""Import of a ROR export (Répertoire opérationnel des ressources): a FHIR Bundle of
``HealthcareService``, ``Location`` and ``Organization`` resources becomes the real units (wards)
of the establishments it covers, replacing their demo units.

Everything is read and checked before anything is written: a file with one fault imports nothing,
and the error (:class:`RorImportError`, message in French) names the resource (``Type/id`` and its
place in the Bundle, ``entry[i]``) and the field at fault.

Reference: the ANS implementation guide "Répertoire de l'Offre et des Ressources" (ROR), FHIR
R4, profiles ``ror-healthcareservice``, ``ror-location`` and ``ror-organization``
(https://interop.esante.gouv.fr/ig/fhir/ror, sources github.com/ansforge/IG-fhir-repertoire-offre-
ressources-sante) and its 2.4 exposure model (``ror24``). What is read, and how:

File
    A JSON FHIR ``Bundle`` (any ``type``: collection, searchset...), read with ``fhir.resources``.
    fhir.resources 8 has no pure R4 (4.0.1) package: the R4B classes (``fhir.resources.R4B``) are
    used; HealthcareService, Location, Organization and Bundle are the same in R4 and R4B. Each
    ``HealthcareService``, ``Location`` and ``Organization`` entry is validated against its class;
    entries of other types (OperationOutcome of a search...) are counted and ignored. XML is not
    read. At least one HealthcareService is required.

References
    ``providedBy``, ``location`` and ``Organization.partOf`` must point to a resource of the Bundle:
    ``Type/id`` (also at the end of an absolute URL, ``_history`` ignored) or the ``fullUrl`` of an
    entry (``urn:uuid:...``). A reference to a resource absent from the Bundle is an error.

Establishment (FINESS ET)
    The Organization of ``providedBy``; when it carries no FINESS (an internal organisation, OI),
    its ``partOf`` chain is followed to the geographic entity (EG). Identifiers read as FINESS:

    * system ``urn:oid:1.2.250.1.71.4.2.2`` (national structure identifier, idNatSt), value
      ``1`` + FINESS (10 characters, the ANS shape: the prefix 1 means FINESS) or the plain
      9-character FINESS; values with another prefix (``2`` + SIREN, ``3`` + SIRET, ``4`` +
      RPPS rank...) are not FINESS and are skipped;
    * system ``http://finess.esante.gouv.fr`` or ``https://finess.esante.gouv.fr`` (the ROR
      ``finess`` slice), or any identifier typed ``1`` "FINESS" in TRE-G07
      (TypeIdentifiantStructure): the plain 9-character FINESS.

    Every FINESS read on any Organization must have a valid key (Luhn, ``2A``/``2B`` for
    Corsica); two different FINESS on one Organization are an error. :func:`orient.assistant.store.directory.import_ror` also
    refuses a FINESS absent from Orient's establishment file (an EJ number, a closed site...).
    The establishments covered are those that provide at least one HealthcareService of the file;
    an Organization that provides none (an EJ listed for ``partOf``) is checked but not covered.

Unit, one per HealthcareService
    * id ``{finess}-ror-{HealthcareService.id}``; name ``HealthcareService.name`` (required);
    * activities: the codes of the ``specialty`` codings of system
      ``https://mos.esante.gouv.fr/NOS/TRE_R211-ActiviteOperationnelle/FHIR/TRE-R211-
      ActiviteOperationnelle`` (the ``operationalActivity`` slice; codings of that system found
      in ``characteristic`` are read too). At least one; every code must be in the TRE-R211 list
      (``data/ror_activites_operationnelles.csv``);
    * ages: extension ``.../StructureDefinition/ror-healthcareservice-patient-type``, its
      sub-extension ``ageRange`` (``valueRange.low.value``, ``valueRange.high.value``), required by
      the guide and here. Ages are whole years (unit absent, UCUM ``a``, or ``an``/``ans``/
      ``year``), 0 or more, min <= max; a maximum above 120 (``999`` meaning "no limit") is stored
      as 120;
    * direct admission: ``not appointmentRequired`` (absent: direct admission);
    * isolation rooms, oxygen, bariatric beds: specific equipment (TRE-R212-Equipement) declared
      on the service's Locations, extension ``.../ror-location-equipment`` (also spelled
      ``ror-location-equipement``), sub-extension ``equipmentType`` (``equipementType`` in ror24)
      and optional ``nbInService`` (0 means none in service), or on the HealthcareService itself,
      extension ``.../ror-healthcareservice-equipement`` (ror24). Codes: isolation rooms 009
      (chambre à pression négative) and 154 (chambre à double flux); oxygen 115 (prises
      d'oxygène dans les chambres); bariatric beds 089 and 090 (lit d'hospitalisation obésité)
      and 225 (chambre adaptée obésité). Other equipment is ignored;
    * availability: bed capacity of the service's Locations, extension
      ``.../ror-location-supported-capacity``: records with ``capacityType`` 01 (lit, TRE-R329),
      ``temporalityCapacity`` 01 (courant, TRE-R331) and ``capacityStatus`` 02 (disponible,
      TRE-R330), ``nbCapacity`` summed over the Locations; or, ror24, extension
      ``.../ror-healthcareservice-capacity-reception`` on the service, ``availableBedNumber``.
      0 available beds: full; 1 or 2: limited; 3 or more: available. No declared capacity:
      limited (to be confirmed by phone; never shown as available). ``availability_at``: the
      latest ``capacityUpdateDate`` (``availableBedUpdateDate``), else the service's
      ``meta.lastUpdated``, else the time of the import;
    * phone: the first ``telecom`` of system ``phone`` of the HealthcareService, else of its
      Locations, read as E.164 (a malformed number is an error); none declared: no phone (the
      switchboard is not substituted, nothing is invented).

    Extensions are recognised by the end of their URL (``/StructureDefinition/<id>``), so that the
    canonical bases of the guide's versions (``.../ig/fhir/ror``, ``.../ig/fhir/ror24``) all match.

Services that are not wards
    A HealthcareService with ``active`` false, or whose care mode (``characteristic`` coded in
    TRE-R213-ModePriseEnCharge) is not 28, "Hospitalisation complète", is checked like the others,
    its establishment is covered, but it gives no unit (consultations, day hospital...).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pydantic
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.organization import Organization

from orient.models.directory import Availability, Unit
from orient.models.identifiers import finess_valid
from orient.models.readers import ReadError, read_phone

__all__ = [
    "ACTIVITY_CODES_FILE",
    "ImportReport",
    "RorBundle",
    "RorImportError",
    "load_activity_codes",
    "parse_ror",
]

ACTIVITY_CODES_FILE = Path(__file__).parent / "data" / "ror_activites_operationnelles.csv"

_NOS = "https://mos.esante.gouv.fr/NOS/"
TRE_R211 = _NOS + "TRE_R211-ActiviteOperationnelle/FHIR/TRE-R211-ActiviteOperationnelle"
TRE_R213 = _NOS + "TRE_R213-ModePriseEnCharge/FHIR/TRE-R213-ModePriseEnCharge"
TRE_R212 = _NOS + "TRE_R212-Equipement/FHIR/TRE-R212-Equipement"
TRE_G07 = _NOS + "TRE_G07-TypeIdentifiantStructure/FHIR/TRE-G07-TypeIdentifiantStructure"
ID_NAT_STRUCT = "urn:oid:1.2.250.1.71.4.2.2"
FINESS_SYSTEMS = frozenset({"http://finess.esante.gouv.fr", "https://finess.esante.gouv.fr"})

FULL_HOSPITALISATION = "28"  # TRE-R213: Hospitalisation complète (HC)
ISOLATION_EQUIPMENT = frozenset({"009", "154"})
OXYGEN_EQUIPMENT = frozenset({"115"})
BARIATRIC_EQUIPMENT = frozenset({"089", "090", "225"})
CAPACITY_BED = "01"  # TRE-R329 NatureCapacite: lit
CAPACITY_CURRENT = "01"  # TRE-R331 TemporaliteCapacite: courant
CAPACITY_AVAILABLE = "02"  # TRE-R330 TypeStatutCapacite: disponible
AGE_UNITS = frozenset({"a", "an", "ans", "year", "years"})
AGE_NO_LIMIT = 120

EXT_PATIENT_TYPE = "ror-healthcareservice-patient-type"
EXT_HS_EQUIPMENT = ("ror-healthcareservice-equipement",)
EXT_LOCATION_EQUIPMENT = ("ror-location-equipment", "ror-location-equipement")
EXT_LOCATION_CAPACITY = "ror-location-supported-capacity"
EXT_HS_CAPACITY = "ror-healthcareservice-capacity-reception"

_READ: dict[str, Any] = {
    "HealthcareService": HealthcareService, "Location": Location, "Organization": Organization,
}

_PYDANTIC_FR = {
    "missing": "champ obligatoire manquant",
    "model_field_validation.missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu de FHIR R4",
    "bool_parsing": "booléen attendu (true ou false)",
    "bool_type": "booléen attendu (true ou false)",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "string_type": "texte attendu",
    "list_type": "liste attendue",
    "dict_type": "objet attendu",
    "model_type": "objet attendu",
    "json_invalid": "objet attendu",
    "string_pattern_mismatch": "format non conforme à FHIR",
}


class RorImportError(ValueError):
    """A ROR file that cannot be imported. The message, in French, names the resource and the
    field at fault; ``resource`` and ``field`` hold them apart ("" when not relevant)."""

    def __init__(self, reason: str, resource: str = "", field: str = "") -> None:
        where = resource + (f", champ {field}" if field else "")
        super().__init__(f"{where} : {reason}" if where else reason)
        self.resource = resource
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class RorBundle:
    """What a valid ROR file declares, ready to be stored."""

    finess: frozenset[str]  # establishments covered (their units are replaced)
    units: tuple[Unit, ...]
    finess_sources: dict[str, str]  # FINESS -> "Organization/id (entry[i])" that declares it
    services: int  # HealthcareService read
    skipped_services: int  # inactive or not full hospitalisation: no unit
    ignored_entries: int  # entries of other resource types


@dataclass(frozen=True)
class ImportReport:
    """Counts of an import, for the command line."""

    source: str
    finess: tuple[str, ...]
    units_imported: int
    units_removed: int
    demo_units_removed: int
    services: int
    skipped_services: int
    ignored_entries: int

    def summary_fr(self) -> str:
        n = len(self.finess)
        lines = [
            (
                f"Import ROR « {self.source} » : {self.units_imported} unité(s) importée(s) pour "
                f"{n} établissement(s) ({', '.join(self.finess)})."
            ),
            (
                f"{self.units_removed} unité(s) remplacée(s), dont {self.demo_units_removed} de "
                "démonstration."
            ),
        ]
        if self.skipped_services:
            lines.append(
                f"{self.skipped_services} offre(s) sans unité : inactive(s) ou hors "
                "hospitalisation complète."
            )
        if self.ignored_entries:
            lines.append(f"{self.ignored_entries} ressource(s) d'un autre type ignorée(s).")
        return "\n".join(lines)


# --------------------------------------------------------------------------- reading


def load_activity_codes(path: Path = ACTIVITY_CODES_FILE) -> frozenset[str]:
    """The TRE-R211 operational activity codes (column ``code`` of the CSV)."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return frozenset(row["code"].strip() for row in csv.DictReader(f) if row.get("code"))
    except OSError as exc:
        raise RorImportError(
            f"liste des activités opérationnelles (TRE-R211) illisible : {path} ({exc.strerror})"
        ) from exc


def _path(loc: Iterable[object]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _validation_error(exc: pydantic.ValidationError, resource: str) -> RorImportError:
    errors = exc.errors()
    first = errors[0]
    reason = _PYDANTIC_FR.get(first["type"], f"valeur non conforme à FHIR R4 ({first['msg']})")
    if len(errors) > 1:
        reason += f" (et {len(errors) - 1} autre(s) erreur(s) dans cette ressource)"
    return RorImportError(reason, resource, _path(first["loc"]))


@dataclass
class _Entry:
    index: int
    type: str
    id: str
    full_url: str
    resource: Any

    @property
    def label(self) -> str:
        return f"{self.type}/{self.id or '?'} (entry[{self.index}])"


def _read_json(path: Path) -> object:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RorImportError(f"fichier introuvable : {path}") from exc
    except UnicodeDecodeError as exc:
        raise RorImportError(f"le fichier {path} n'est pas un texte UTF-8") from exc
    except OSError as exc:
        raise RorImportError(f"fichier illisible : {path} ({exc.strerror})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RorImportError(
            f"le fichier {Path(path).name} n'est pas du JSON valide (ligne {exc.lineno}, colonne "
            f"{exc.colno} : {exc.msg}) ; un Bundle FHIR au format JSON est attendu"
        ) from exc


def _entries(data: object, name: str) -> list[_Entry]:
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        got = data.get("resourceType") if isinstance(data, dict) else None
        what = f"une ressource {got}" if isinstance(got, str) else "autre chose"
        raise RorImportError(
            f"le fichier {name} n'est pas un Bundle FHIR (il contient {what}) ; un Bundle de "
            "ressources HealthcareService, Location et Organization est attendu",
            "Bundle", "resourceType",
        )
    raw_entries = data.get("entry") or []
    if not isinstance(raw_entries, list):
        raise RorImportError("liste attendue", "Bundle", "entry")
    shell = dict(data)
    shell["entry"] = [
        {k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e
        for e in raw_entries
    ]
    try:
        Bundle.model_validate(shell)
    except pydantic.ValidationError as exc:
        raise _validation_error(exc, "Bundle") from exc

    out = []
    for i, e in enumerate(raw_entries):
        res = e.get("resource")
        where = f"entry[{i}]"
        if not isinstance(res, dict):
            raise RorImportError("ressource manquante dans l'entrée", f"Bundle {where}", "resource")
        rtype = res.get("resourceType")
        if not isinstance(rtype, str) or not rtype:
            raise RorImportError(
                "type de ressource manquant", f"Bundle {where}", "resource.resourceType"
            )
        rid = res.get("id")
        url = e.get("fullUrl")
        entry = _Entry(
            i, rtype, rid if isinstance(rid, str) else "", url if isinstance(url, str) else "", None
        )
        cls = _READ.get(rtype)
        if cls is None:
            out.append(entry)
            continue
        try:
            entry.resource = cls.model_validate(res)
        except pydantic.ValidationError as exc:
            raise _validation_error(exc, entry.label) from exc
        if not entry.id:
            raise RorImportError("identifiant de ressource manquant", entry.label, "id")
        out.append(entry)
    return out


class _Index:
    """The Bundle's resources by type/id and fullUrl, to resolve references."""

    def __init__(self, entries: Sequence[_Entry]) -> None:
        self.by_key: dict[tuple[str, str], _Entry] = {}
        self.by_url: dict[str, _Entry] = {}
        for e in entries:
            if e.resource is None:
                continue
            key = (e.type, e.id)
            if key in self.by_key:
                raise RorImportError(
                    f"ressource en double (déjà en {self.by_key[key].label})", e.label, "id"
                )
            self.by_key[key] = e
            if e.full_url:
                self.by_url[e.full_url] = e

    def resolve(self, ref: Any, expected: str, owner: _Entry, where: str) -> _Entry:
        text = getattr(ref, "reference", None) if ref is not None else None
        if not text:
            raise RorImportError(
                f"référence vers une ressource {expected} manquante", owner.label, where
            )
        found = self.by_url.get(text)
        if found is None:
            parts = [p for p in text.split("/") if p]
            if "_history" in parts:
                parts = parts[: parts.index("_history")]
            if len(parts) >= 2:
                found = self.by_key.get((parts[-2], parts[-1]))
        if found is None:
            raise RorImportError(
                f"la référence « {text} » désigne une ressource {expected} absente du fichier ; "
                "le Bundle doit contenir chaque ressource référencée",
                owner.label, where,
            )
        if found.type != expected:
            raise RorImportError(
                f"la référence « {text} » désigne une ressource {found.type}, une ressource "
                f"{expected} est attendue",
                owner.label, where,
            )
        return found


# --------------------------------------------------------------------------- FINESS


def _finess_of(org: _Entry) -> str | None:
    """The FINESS declared by an Organization, checked; None when it declares none."""
    found: list[tuple[str, str]] = []
    for i, ident in enumerate(org.resource.identifier or ()):
        system = (ident.system or "").strip().rstrip("/")
        value = (ident.value or "").strip().upper()
        where = f"identifier[{i}].value"
        typed_finess = any(
            c.code == "1" and (c.system or "") == TRE_G07
            for c in ((ident.type.coding or ()) if ident.type else ())
        )
        if system == ID_NAT_STRUCT:
            if len(value) == 10 and value[0] == "1":
                value = value[1:]
            elif len(value) != 9:
                continue  # another kind of structure (SIREN, SIRET, RPPS rank...)
        elif system not in FINESS_SYSTEMS and not typed_finess:
            continue
        if len(value) != 9:
            raise RorImportError(
                f"FINESS « {ident.value} » : 9 caractères attendus (ou 1 suivi des 9 caractères "
                f"du FINESS pour le système {ID_NAT_STRUCT})",
                org.label, where,
            )
        if not finess_valid(value):
            raise RorImportError(
                f"FINESS « {value} » invalide : la clé de contrôle ne correspond pas",
                org.label, where,
            )
        found.append((value, where))
    values = {v for v, _ in found}
    if len(values) > 1:
        raise RorImportError(
            f"plusieurs FINESS différents pour une même organisation ({', '.join(sorted(values))})",
            org.label, found[1][1],
        )
    return found[0][0] if found else None


def _establishment(hs: _Entry, index: _Index, finess: dict[str, str | None]) -> tuple[str, str]:
    """(FINESS, Organization label) of the establishment providing this service."""
    org = index.resolve(hs.resource.providedBy, "Organization", hs, "providedBy")
    seen = []
    while True:
        seen.append(org.label)
        value = finess.get(org.label)
        if value:
            return value, org.label
        parent = org.resource.partOf
        if parent is None:
            break
        org = index.resolve(parent, "Organization", org, "partOf")
        if org.label in seen:
            raise RorImportError("les références partOf forment une boucle", org.label, "partOf")
    raise RorImportError(
        "FINESS manquant : ni l'organisation qui fournit l'offre ni ses organisations parentes "
        f"(partOf) ne portent d'identifiant FINESS ({' → '.join(seen)})",
        hs.label, "providedBy",
    )


# --------------------------------------------------------------------------- services


def _ext_id(url: str | None) -> str:
    return (url or "").rstrip("/").rsplit("/", 1)[-1]


def _extensions(resource: Any, ids: Iterable[str] | str) -> Iterator[tuple[int, Any]]:
    wanted = {ids} if isinstance(ids, str) else set(ids)
    for i, ext in enumerate(getattr(resource, "extension", None) or ()):
        if _ext_id(ext.url) in wanted:
            yield i, ext


def _sub(ext: Any, *names: str) -> tuple[int, Any] | None:
    for i, sub in enumerate(ext.extension or ()):
        if sub.url in names:
            return i, sub
    return None


def _codes(concept: Any, system: str) -> list[str]:
    codings = (concept.coding or ()) if concept else ()
    return [c.code for c in codings if c.system == system and c.code]


def _activities(hs: _Entry, known: Collection[str]) -> tuple[str, ...]:
    found: list[str] = []
    for element in ("specialty", "characteristic"):
        for i, concept in enumerate(getattr(hs.resource, element) or ()):
            for j, coding in enumerate(concept.coding or ()):
                if coding.system != TRE_R211:
                    continue
                code = (coding.code or "").strip()
                if code not in known:
                    raise RorImportError(
                        f"code d'activité opérationnelle « {code} » absent de la nomenclature "
                        "TRE-R211",
                        hs.label, f"{element}[{i}].coding[{j}].code",
                    )
                if code not in found:
                    found.append(code)
    if not found:
        raise RorImportError(
            f"aucune activité opérationnelle : une specialty codée dans {TRE_R211} est attendue",
            hs.label, "specialty",
        )
    return tuple(found)


def _age(q: Any, hs: _Entry, where: str) -> int:
    value = getattr(q, "value", None) if q is not None else None
    if value is None:
        raise RorImportError("âge manquant", hs.label, where + ".value")
    unit = (q.code or q.unit or "").strip().lower()
    if unit and unit not in AGE_UNITS:
        raise RorImportError(
            f"âge en années attendu, unité « {q.code or q.unit} »", hs.label, where
        )
    if Decimal(value) != Decimal(value).to_integral_value() or value < 0:
        raise RorImportError(
            f"âge « {value} » : nombre entier d'années attendu", hs.label, where + ".value"
        )
    return int(value)


def _ages(hs: _Entry) -> tuple[int, int]:
    for i, ext in _extensions(hs.resource, EXT_PATIENT_TYPE):
        sub = _sub(ext, "ageRange")
        if sub is None:
            continue
        j, age_range = sub
        where = f"extension[{i}].extension[{j}].valueRange"
        rng = age_range.valueRange
        if rng is None:
            raise RorImportError("tranche d'âge (valueRange) manquante", hs.label, where)
        low = _age(rng.low, hs, where + ".low")
        high = _age(rng.high, hs, where + ".high")
        if low > high:
            raise RorImportError(
                f"âge minimum ({low} ans) supérieur à l'âge maximum ({high} ans)", hs.label, where
            )
        if low > AGE_NO_LIMIT:
            raise RorImportError(f"âge minimum ({low} ans) improbable", hs.label, where + ".low")
        return low, min(high, AGE_NO_LIMIT)
    raise RorImportError(
        "tranche d'âge manquante : extension ror-healthcareservice-patient-type avec ageRange "
        "attendue",
        hs.label, "extension",
    )


def _equipment(resource: Any, ids: Iterable[str]) -> set[str]:
    codes: set[str] = set()
    for _, ext in _extensions(resource, ids):
        kind = _sub(ext, "equipmentType", "equipementType")
        if kind is None:
            continue
        count = _sub(ext, "nbInService")
        if count is not None and count[1].valueInteger == 0:
            continue
        codes.update(_codes(kind[1].valueCodeableConcept, TRE_R212))
    return codes


def _iso(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat() + "T00:00:00"
    return None


def _capacity(hs: _Entry, locations: Sequence[_Entry]) -> tuple[int | None, str | None]:
    """(available beds or None when no capacity is declared, date of the latest declaration)."""
    available: int | None = None
    dates: list[str] = []
    for loc in locations:
        for _, ext in _extensions(loc.resource, EXT_LOCATION_CAPACITY):
            subs = {s.url: s for s in ext.extension or ()}

            def code(name: str, subs: dict[str, Any] = subs) -> list[str]:
                s = subs.get(name)
                concept = s.valueCodeableConcept if s is not None else None
                return [c.code for c in ((concept.coding or ()) if concept else ()) if c.code]

            if not (
                CAPACITY_BED in code("capacityType")
                and CAPACITY_CURRENT in code("temporalityCapacity")
                and CAPACITY_AVAILABLE in code("capacityStatus")
            ):
                continue
            nb = subs.get("nbCapacity")
            if nb is None or nb.valueInteger is None:
                continue
            available = (available or 0) + max(nb.valueInteger, 0)
            when = subs.get("capacityUpdateDate")
            if when is not None and (iso := _iso(when.valueDateTime)):
                dates.append(iso)
    for _, ext in _extensions(hs.resource, EXT_HS_CAPACITY):
        subs = {s.url: s for s in ext.extension or ()}
        nb = subs.get("availableBedNumber")
        if nb is not None and nb.valueInteger is not None:
            available = (available or 0) + max(nb.valueInteger, 0)
            when = subs.get("availableBedUpdateDate")
            if when is not None and (iso := _iso(when.valueDate or when.valueDateTime)):
                dates.append(iso)
    return available, (max(dates) if dates else None)


def _availability(available: int | None) -> Availability:
    if available is None:
        return Availability.LIMITED
    if available == 0:
        return Availability.FULL
    return Availability.LIMITED if available <= 2 else Availability.AVAILABLE


def _phone(entries: Sequence[_Entry]) -> str | None:
    for e in entries:
        for i, telecom in enumerate(e.resource.telecom or ()):
            if telecom.system != "phone" or not telecom.value:
                continue
            try:
                return read_phone(telecom.value)
            except ReadError as exc:
                raise RorImportError(
                    f"numéro de téléphone « {telecom.value} » illisible : "
                    f"{exc.reason or exc.expected}",
                    e.label, f"telecom[{i}].value",
                ) from exc
    return None


def _is_ward(hs: _Entry) -> bool:
    if hs.resource.active is False:
        return False
    modes = [c for concept in hs.resource.characteristic or () for c in _codes(concept, TRE_R213)]
    return not modes or FULL_HOSPITALISATION in modes


# --------------------------------------------------------------------------- entry points


def parse_ror(
    path: str | Path,
    activity_codes: Collection[str] | None = None,
    *,
    now: datetime | None = None,
) -> RorBundle:
    """Read and check a ROR Bundle file; raises :class:`RorImportError` at the first fault."""
    path = Path(path)
    known = load_activity_codes() if activity_codes is None else activity_codes
    entries = _entries(_read_json(path), path.name)
    index = _Index(entries)
    imported_at = (now or datetime.now(UTC)).isoformat(timespec="seconds")

    finess_by_org: dict[str, str | None] = {}
    sources: dict[str, str] = {}
    for e in entries:
        if e.type == "Organization" and e.resource is not None:
            finess_by_org[e.label] = _finess_of(e)
    services = [e for e in entries if e.type == "HealthcareService" and e.resource is not None]
    if not services:
        raise RorImportError(
            f"le fichier {path.name} ne contient aucune ressource HealthcareService (offre)",
            "Bundle", "entry",
        )

    covered: set[str] = set()
    units: list[Unit] = []
    unit_ids: dict[str, str] = {}
    skipped = 0
    for hs in services:
        res = hs.resource
        finess, org_label = _establishment(hs, index, finess_by_org)
        sources.setdefault(finess, org_label)
        locations = [
            index.resolve(ref, "Location", hs, f"location[{i}]")
            for i, ref in enumerate(res.location or ())
        ]
        name = (res.name or "").strip()
        if not name:
            raise RorImportError("nom de l'offre (name) manquant", hs.label, "name")
        activities = _activities(hs, known)
        age_min, age_max = _ages(hs)
        equipment = _equipment(res, EXT_HS_EQUIPMENT)
        for loc in locations:
            equipment |= _equipment(loc.resource, EXT_LOCATION_EQUIPMENT)
        available, declared = _capacity(hs, locations)
        phone = _phone([hs, *locations])
        covered.add(finess)
        if not _is_ward(hs):
            skipped += 1
            continue
        unit_id = f"{finess}-ror-{hs.id}"
        if unit_id in unit_ids:
            raise RorImportError(f"unité en double (déjà en {unit_ids[unit_id]})", hs.label, "id")
        unit_ids[unit_id] = hs.label
        updated = res.meta.lastUpdated if res.meta is not None else None
        units.append(Unit(
            id=unit_id,
            finess=finess,
            name=name,
            activities=activities,
            age_min=age_min,
            age_max=age_max,
            direct_admission=res.appointmentRequired is not True,
            isolation_rooms=bool(equipment & ISOLATION_EQUIPMENT),
            oxygen=bool(equipment & OXYGEN_EQUIPMENT),
            bariatric_beds=bool(equipment & BARIATRIC_EQUIPMENT),
            availability=_availability(available),
            availability_at=declared or _iso(updated) or imported_at,
            phone=phone,
            demo=False,
        ))
    return RorBundle(
        finess=frozenset(covered),
        units=tuple(units),
        finess_sources=sources,
        services=len(services),
        skipped_services=skipped,
        ignored_entries=sum(1 for e in entries if e.resource is None),
    )
