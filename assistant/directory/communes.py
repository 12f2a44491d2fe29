"""French communes: resolve what a user typed (INSEE code, postcode or name) to a commune.

Data: ``data/communes_fr.csv`` (see ``data/SOURCES.md``), read once, in memory, no database.
"""

from __future__ import annotations

import csv
import difflib
import math
import re
import threading
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from orient.assistant.directory.packed import Packed, PackedMap

_DATA_PACKAGE = "orient.assistant.directory"
_DATA_FILE = "communes_fr.csv"
_MAX_SUGGESTIONS = 5
_SUGGESTION_CUTOFF = 0.6

_CODE_RE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
_CODE_NOISE_RE = re.compile(r"[\s.\-]+")
_WORD_RE = re.compile(r"[a-z0-9]+")
_COMBINING_RE = re.compile(r"[\u0300-\u036f]+")
_ARTICLES = frozenset({"le", "la", "les", "l"})
_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}
_PAREN_SUFFIX_RE = re.compile(r"\s*\(.*\)\s*$")
_COLUMNS = ("code_insee", "type", "nom", "nom_complet", "commune_parente", "departement")
_POSTCODES = "codes_postaux"
_COORDINATES = ("lat_mairie", "lon_mairie", "lat_centroide", "lon_centroide")
_ARRONDISSEMENT_RE = re.compile(r"\s+arrondissement$", re.IGNORECASE)
_CODE_IN_TEXT_RE = re.compile(r"(?<![0-9A-Za-z])(\d{5}|2[ABab]\d{3})(?![0-9A-Za-z])")
_DEPARTEMENT_RE = re.compile(r"(?<![0-9A-Za-z])(\d{2,3}|2[ABab])(?![0-9A-Za-z])")


@dataclass(frozen=True)
class Commune:
    """A commune (COM) or a municipal arrondissement of Paris, Lyon, Marseille (ARM)."""

    code: str
    name: str
    departement: str
    kind: str
    postcodes: tuple[str, ...]
    lat: float | None
    lon: float | None

    @property
    def label(self) -> str:
        """Name, département and INSEE code, e.g. ``Le Havre (76, 76351)``."""
        return f"{self.name} ({self.departement}, {self.code})"


@dataclass(frozen=True)
class Resolution:
    """Outcome of a lookup: exactly one of ``commune``, ``candidates`` (>= 2) or neither.

    When nothing matched, ``suggestions`` holds the nearest spellings (possibly none).
    """

    commune: Commune | None = None
    candidates: tuple[Commune, ...] = ()
    suggestions: tuple[Commune, ...] = ()


def normalize_name(text: str) -> str:
    """Comparison key for a name: case, accents, punctuation, spaces and a leading article
    ignored; ``St``/``Ste`` read as ``Saint``/``Sainte``."""
    text = text.casefold()
    if not text.isascii():
        text = text.replace("œ", "oe").replace("æ", "ae")
        text = _COMBINING_RE.sub("", unicodedata.normalize("NFKD", text))
    words = _WORD_RE.findall(text)
    if len(words) > 1 and words[0] in _ARTICLES:
        del words[0]
    return "".join([_ABBREVIATIONS.get(w, w) for w in words])


def normalize_code(text: str) -> str | None:
    """The INSEE code or postcode ``text`` spells (spaces, dots, hyphens dropped), else None."""
    code = _CODE_NOISE_RE.sub("", text).upper()
    return code if _CODE_RE.match(code) else None


def describe(communes: Iterable[Commune]) -> str:
    """Labels joined French style: ``Saint-Denis (93, 93066) ; Saint-Denis (974, 97411)``."""
    return " ; ".join(c.label for c in communes)


def _bucket(key: str) -> str:
    """Prefilter for suggestions: the first letter, or the one after a leading Saint(e)."""
    if key.startswith("saint"):
        return key[:7] if key.startswith("sainte") else key[:6]
    return key[0]


def _coordinate(text: str) -> float:
    """A latitude or longitude of the file, NaN when missing (empty or written "nan")."""
    try:
        return float(text)
    except ValueError:
        return math.nan


def _sort_key(commune: Commune) -> tuple[str, str, str]:
    return (commune.departement, normalize_name(commune.name), commune.code)


class CommuneTable:
    """All communes and arrondissements, indexed by INSEE code, postcode and name.

    Kept compact: 35,000 rows as Python objects took about 30 MB, and the objects left behind
    while building kept the memory of the process high afterwards. Here the columns are packed
    strings and arrays in INSEE code order, every index a sorted packed map, and everything kept
    is made once the building is over (so the memory it used is given back); a `Commune` is built
    on first use."""

    def __init__(self, lines: Iterable[str]) -> None:
        """Build the indexes from the CSV text (header line first), in a single pass."""
        codes: list[str] = []
        names: list[str] = []
        departements: list[str] = []
        postcode_lists: list[str] = []
        lats = array("d")
        lons = array("d")
        by_postcode: dict[str, list[str]] = defaultdict(list)
        by_name: dict[str, list[str]] = defaultdict(list)
        current_names: set[str] = set()  # keys of current names: what suggestions offer
        parents: dict[str, str] = {}  # ARM code -> code of its city
        former_codes: dict[str, str] = {}  # COMD/COMA code -> code of its commune
        reader = csv.reader(lines)
        col = {name: i for i, name in enumerate(next(reader))}
        i_code, i_kind, i_nom, i_full, i_parent, i_dep = (col[k] for k in _COLUMNS)
        i_postcodes = col[_POSTCODES]
        i_lat, i_lon, i_lat_c, i_lon_c = (col[k] for k in _COORDINATES)
        for row in reader:
            code, kind, nom, full = row[i_code], row[i_kind], row[i_nom], row[i_full]
            key = normalize_name(full)
            aliases = [] if nom == full else [nom]  # without its article: "Aux Marais", "Marais"
            if kind == "COM" or kind == "ARM":
                target = code
                lat, lon = _coordinate(row[i_lat]), _coordinate(row[i_lon])
                if math.isnan(lat) or math.isnan(lon):  # no town hall position: the centroid
                    lat, lon = _coordinate(row[i_lat_c]), _coordinate(row[i_lon_c])
                codes.append(code)
                names.append(full)
                departements.append(row[i_dep])
                postcode_lists.append(row[i_postcodes])
                lats.append(lat)
                lons.append(lon)
                for postcode in filter(None, row[i_postcodes].split("|")):
                    by_postcode[postcode].append(code)
                current_names.add(key)
                if kind == "ARM":
                    parents[code] = row[i_parent]
                    aliases.append(_ARRONDISSEMENT_RE.sub("", nom))  # "Paris 1er"
            else:
                target = former_codes[code] = row[i_parent]
            if "(" in nom:
                aliases.append(_PAREN_SUFFIX_RE.sub("", nom))  # "Château-Chinon (Ville)"
            for alias_key in {key, *map(normalize_name, aliases)}:
                if target not in (targets := by_name[alias_key]):
                    targets.append(target)
        order = sorted(range(len(codes)), key=codes.__getitem__)
        self._codes = Packed(codes[i] for i in order)
        self._names = Packed(names[i] for i in order)
        self._departements = Packed(departements[i] for i in order)
        self._postcodes = Packed(postcode_lists[i] for i in order)
        self._lats = array("d", (lats[i] for i in order))
        self._lons = array("d", (lons[i] for i in order))
        self._by_postcode = PackedMap({p: "|".join(c) for p, c in by_postcode.items()})
        self._by_name = PackedMap({k: "|".join(c) for k, c in by_name.items()})
        self._current = bytes(k in current_names for k in self._by_name.keys)
        self._parent = PackedMap(parents)
        # A code both COM and COMD (93066): the COM row is the commune.
        self._former_codes = PackedMap(
            {c: t for c, t in former_codes.items() if self._codes.find(c) is None}
        )
        self._communes: dict[str, Commune] = {}

    @classmethod
    def from_package(cls) -> CommuneTable:
        """Load the table shipped in ``orient.assistant.directory/data``."""
        resource = resources.files(_DATA_PACKAGE).joinpath("data", _DATA_FILE)
        with resource.open("r", encoding="utf-8") as lines:
            return cls(lines)

    def __len__(self) -> int:
        return len(self._codes)

    def get(self, code: str) -> Commune | None:
        """The commune or arrondissement with this INSEE code (lenient about typing)."""
        normalized = normalize_code(code)
        return self._commune(normalized) if normalized and self._known(normalized) else None

    def _known(self, code: str) -> bool:
        return self._codes.find(code) is not None

    def _named(self, key: str) -> list[str]:
        """Codes of the communes this name key designates (names, aliases, former communes)."""
        codes = self._by_name.get(key)
        return [] if codes is None else codes.split("|")

    def resolve(self, text: str) -> Resolution:
        """Resolve an INSEE code, a postcode or a name.

        One commune: accepted. Several (shared postcode, homonyms, a code that is one commune's
        INSEE code and another's postcode): candidates, an arrondissement replacing its city.
        None: the nearest spellings. A delegated or associated commune gives its commune.
        """
        code = normalize_code(text)
        if code is not None:
            codes = [c for c in (code, self._former_codes.get(code)) if c and self._known(c)][:1]
            if (by_postcode := self._by_postcode.get(code)) is not None:
                codes += by_postcode.split("|")
            return self._settle(codes)
        key = normalize_name(text)
        if not key:
            return Resolution()
        if named := self._named(key):
            return self._settle(named)
        combined = self._code_and_name(text)
        if combined is not None:
            return combined
        return Resolution(suggestions=self._suggest(key))

    def _code_and_name(self, text: str) -> Resolution | None:
        """A code with a name, as in "76600 Le Havre" or a listed label "Saint-Denis (974, 97411)":
        the communes of that code (INSEE or postcode) that bear that name."""
        found = _CODE_IN_TEXT_RE.search(text)
        if found is None:
            return None
        rest = _DEPARTEMENT_RE.sub(" ", text[: found.start()] + " " + text[found.end() :])
        name_key = normalize_name(rest.replace("(", " ").replace(")", " "))
        names = set(self._named(name_key))
        by_code = self.resolve(found.group(1))
        matching = [
            c.code
            for c in (by_code.commune, *by_code.candidates)
            if c is not None and (c.code in names or self._parent.get(c.code) in names)
        ]
        if matching:
            return self._settle(matching)
        return Resolution(suggestions=self._suggest(name_key) if name_key else ())

    def _commune(self, code: str) -> Commune:
        commune = self._communes.get(code)
        if commune is None:
            at = self._codes.find(code)
            assert at is not None, code
            postcodes, lat, lon = self._postcodes[at], self._lats[at], self._lons[at]
            commune = self._communes[code] = Commune(
                code,
                self._names[at],
                self._departements[at],
                "ARM" if code in self._parent else "COM",
                tuple(postcodes.split("|")) if postcodes else (),
                None if math.isnan(lat) else lat,
                None if math.isnan(lon) else lon,
            )
        return commune

    def _settle(self, codes: Iterable[str]) -> Resolution:
        found = dict.fromkeys(codes)  # distinct, order kept
        # An arrondissement and its own city both match (postcode 75001): keep the arrondissement.
        for code in list(found):
            found.pop(self._parent.get(code) or "", None)
        communes = sorted((self._commune(c) for c in found), key=_sort_key)
        if len(communes) == 1:
            return Resolution(commune=communes[0])
        return Resolution(candidates=tuple(communes))

    def _bears(self, code: str, key: str) -> bool:
        """Whether the commune `code` currently bears the name `key` (not as an alias)."""
        at = self._codes.find(code)
        return at is not None and normalize_name(self._names[at]) == key

    def _spellings(self, bucket: str) -> Iterable[str]:
        """The current names (keys) in this bucket (see _bucket): a former commune's name would
        be shown as its commune's, not the spelling the user was close to."""
        for at, other in self._by_name.keys.starting_with(bucket):
            if self._current[at] and _bucket(other) == bucket:
                yield other

    def _suggest(self, key: str) -> tuple[Commune, ...]:
        matcher = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(key)
        scored: list[tuple[float, str]] = []
        for other in self._spellings(_bucket(key)):
            if abs(len(other) - len(key)) > 3:
                continue
            matcher.set_seq1(other)
            if (
                matcher.real_quick_ratio() >= _SUGGESTION_CUTOFF
                and matcher.quick_ratio() >= _SUGGESTION_CUTOFF
            ):
                ratio = matcher.ratio()
                if ratio >= _SUGGESTION_CUTOFF:
                    scored.append((ratio, other))
        scored.sort(key=lambda item: (-item[0], item[1]))
        result: dict[str, Commune] = {}
        for _, other in scored:
            for code in self._named(other):
                if code not in result and self._bears(code, other):
                    result[code] = self._commune(code)
            if len(result) >= _MAX_SUGGESTIONS:
                break
        return tuple(result.values())[:_MAX_SUGGESTIONS]


_LOADING = threading.Lock()


@cache
def _shipped_table() -> CommuneTable:
    return CommuneTable.from_package()


def default_table() -> CommuneTable:
    """The shipped commune table, loaded on first use and kept (once, whichever thread asks)."""
    with _LOADING:
        return _shipped_table()


class SharedTable:
    """The shipped table for a hub's lookups, loaded on its first question (or by `load`, in the
    background) rather than when the hub starts."""

    def resolve(self, text: str) -> Resolution:
        return default_table().resolve(text)

    def get(self, code: str) -> Commune | None:
        return default_table().get(code)

    def load(self) -> None:
        default_table()
