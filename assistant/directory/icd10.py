"""ICD-10 in French: check a typed code, show its French label, propose codes for a diagnosis.

Data: ``data/icd10/icd10_fr.csv`` (see ``data/icd10/NOTICE.md``: GPL-3.0-or-later French labels
from GNU Health, ICD content (c) WHO), a separate data file read once at run time, in memory.

Display labels
--------------
The French label of a code is shown as it is, with a capital initial, except for the sub-code
labels that are *fragments* (they read well only after their parent's label). Rule, drawn from the
data (``_FRAGMENT_*`` below):

1. The label holds ``" | "``: ``<cause> | <place or qualifier>``. 2,122 sub-codes (external
   causes W00-Y34, and O05.0) are written this way, the part before the bar being the
   parent's label reworded: shown ``<Cause> : <qualifier>``, e.g. W58.4
   ``Morsure ou coup donné par un crocodile ou un alligator : rue ou route``.
2. The label starts with a preposition or a conjunction, which no complete label does (``A``,
   ``À``, ``Au``, ``Aux``, ``Avec``, ``Sans``, ``Dû``/``Due``, ``Par``, ``Chez``, ``Pour``, ...):
   shown ``<parent label> : <fragment>``, initial lowered (``A`` read as ``à``), e.g. A00.0
   ``Choléra : à Vibrio cholerae 01, biovar cholerae``; F42.0 ``Trouble obsessionnel-compulsif :
   avec idées ou ruminations obsédantes au premier plan``.
3. The label names a variety (it starts with ``Forme``, ``Mélange``, ``Type``, ``Variante`` or
   ends with ``(diffus)``) without naming the thing, i.e. without holding its parent's label:
   same display, e.g. C83.4 ``Lymphome non folliculaire : immunoblastique (diffus)``, F42.2
   ``Trouble obsessionnel-compulsif : forme mixte, avec idées obsédantes [...]``; not B57.0
   ``Forme aigüe de la maladie de Chagas`` (parent ``Maladie de Chagas``).

Rules 2 and 3 catch 8 labels of this file (A00.0, A00.1, C83.2, C83.4, C83.6, F42.0-F42.2); a
label that merely lacks its parent's words (``Hypomanie`` under ``Episode maniaque``) is complete
and shown alone.

A label written in lower case that is not a fragment (R50.1 ``fièvre persistante``) only gets a
capital initial. When a code has no French label (1,293 codes, mostly V transport accidents), the
English label is shown, followed by ``(libellé anglais)``; when it reads ``<parent>: <detail>`` and
the parent has a French label, the parent's French label replaces the English one:
``Occupant d'une automobile blessé [...] : Passenger injured in traffic accident (libellé
anglais)``.

Proposals
---------
``propose`` reads the words of a free-text diagnosis (case, accents and a plural or feminine
ending ignored by a light stemmer; function words and "suspicion", "probable", "patient", ages
ignored), expands common French clinical abbreviations (``_ABBREVIATIONS``: BPCO, AVC, IDM, HTA,
IC, EP, TVP, IRA, PNA, SCA...) and a few synonyms (``_SYNONYMS``: cancer -> tumeur maligne,
hépatique -> foie...), and ranks codes by an IDF-weighted word overlap: the share of the query
found in the label (a word found only in the parent's label counts for ``_PARENT_STRENGTH``), a
bonus when every query word is found, a smaller one for labels made mostly of query words and for
three-character categories, a penalty for external causes (V01-Y98, never a main diagnosis); ties
go to the shorter, more general code. Codes matching less than ``_MIN_COVERAGE`` of the query are
left out, so unknown words give []. A word not in any label is matched as the prefix of known
words, else as a known word with one letter missing, added or swapped. A code typed in the text
(``I50.0``) comes first. Given the patient's age and sex, codes outside their scope are left out
(``icd10_scope``: perinatal codes only under one year, pregnancy codes only for a woman of 12 to
55, codes restricted to one sex); ``out_of_scope`` says why a typed code does not fit.
"""

from __future__ import annotations

import csv
import math
import os
import re
import threading
import unicodedata
from array import array
from collections.abc import Iterator
from functools import cache, lru_cache
from importlib import resources
from itertools import islice
from typing import NamedTuple

from orient.assistant.directory.icd10_scope import fits, scope_problem
from orient.assistant.directory.packed import Packed, PackedMap

__all__ = ["Icd10", "default_icd10"]

_DATA_PACKAGE = "orient.assistant.directory"
_DATA_PATH = ("data", "icd10", "icd10_fr.csv")

_ENGLISH_MARK = "(libellé anglais)"
_SEPARATOR = " : "

# --- fragment rule -------------------------------------------------------------------------------
_FRAGMENT_BAR = " | "
_FRAGMENT_LEADS = frozenset({
    "a", "à", "au", "aux", "avec", "sans", "dû", "due", "dus", "dues", "par", "chez", "pour",
    "lors", "selon", "suivant", "en", "de", "du", "des", "d", "et", "ou", "sur", "dans",
})
_FRAGMENT_VARIETY_RE = re.compile(r"^(?:formes?|mélange|types?|variantes?)\b|\(diffus\)\s*$",
                                  re.IGNORECASE)
_LEAD_WORD_RE = re.compile(r"^([^\W\d_]+)(?=[\s'’]|$)")

# --- text normalisation --------------------------------------------------------------------------
_COMBINING_RE = re.compile(r"[\u0300-\u036f]+")
_WORD_RE = re.compile(r"[a-z0-9]+")
_CODE_KEY_RE = re.compile(r"[\s.,]+")
_CODE_IN_TEXT_RE = re.compile(r"(?<![0-9A-Za-z])([A-Za-z]\d{2}(?:\.?\d)?)(?![0-9A-Za-z])")
_STOPWORDS = frozenset({
    # French function words
    "a", "au", "aux", "avec", "ce", "ces", "cette", "chez", "d", "dans", "de", "des", "du", "en",
    "et", "l", "la", "le", "les", "leur", "leurs", "ni", "non", "ou", "par", "pour", "qu", "que",
    "s", "sa", "sans", "se", "ses", "son", "sur", "un", "une", "y", "est", "etant", "sous",
    # ICD residual wording
    "autre", "autres", "ailleurs", "classe", "classee", "classes", "classees", "compris",
    "mention", "precise", "precisee", "precises", "precisees", "precision", "sauf",
    # what a doctor adds around a hypothesis
    "suspicion", "suspecte", "suspect", "probable", "possible", "hypothese", "diagnostic",
    "evocateur", "evoquant", "patient", "patiente", "tableau", "contexte", "bilan", "ans", "an",
    "age", "agee", "mois", "jours", "mr", "mme", "m", "h", "j",
})
# Common French clinical abbreviations: a key (normalised words) stands for any of its phrases,
# worded as ICD labels word them; a label matches the key as well as its best-matching phrase.
_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "ic": ("insuffisance cardiaque",),
    "icc": ("insuffisance cardiaque congestive",),
    "icg": ("insuffisance ventriculaire gauche", "insuffisance cardiaque gauche"),
    "oap": ("oedeme pulmonaire", "oedeme aigu poumon", "insuffisance ventriculaire gauche"),
    "ep": ("embolie pulmonaire",),
    "tvp": ("thrombose veineuse profonde", "phlebite thrombophlebite profonds membres inferieurs"),
    "mtev": ("embolie pulmonaire", "phlebite thrombophlebite"),
    "avc": ("accident vasculaire cerebral", "infarctus cerebral", "hemorragie intracerebrale"),
    "avc ischemique": ("infarctus cerebral",),
    "avc hemorragique": ("hemorragie intracerebrale",),
    "ait": ("accident ischemique transitoire",),
    "idm": ("infarctus myocarde",),
    "sca": ("syndrome coronarien aigu", "infarctus aigu myocarde", "angine poitrine instable",
            "cardiopathie ischemique aigue"),
    "hta": ("hypertension arterielle", "hypertension essentielle"),
    "htap": ("hypertension pulmonaire",),
    "fa": ("fibrillation auriculaire",),
    "acfa": ("fibrillation auriculaire",),
    "bpco": ("maladie pulmonaire obstructive chronique",
             "bronchopneumopathie chronique obstructive"),
    "ira": ("insuffisance renale aigue", "insuffisance respiratoire aigue"),
    "irc": ("insuffisance renale chronique", "maladie renale chronique",
            "insuffisance respiratoire chronique"),
    "mrc": ("maladie renale chronique",),
    "pna": ("pyelonephrite aigue", "nephrite tubulo interstitielle aigue"),
    "pnp": ("pneumopathie",),
    "pac": ("pneumopathie",),
    "iu": ("infection voies urinaires",),
    "dt1": ("diabete sucre type 1",),
    "dt2": ("diabete sucre type 2",),
    "did": ("diabete sucre type 1",),
    "dnid": ("diabete sucre type 2",),
    "sep": ("sclerose en plaques",),
    "hsa": ("hemorragie sous arachnoidienne",),
    "hdh": ("hemorragie gastro intestinale", "hematemese"),
    "hdb": ("hemorragie gastro intestinale", "melaena"),
    "tc": ("traumatisme cranien", "lesion traumatique intracranienne"),
    "tce": ("traumatisme cranien", "lesion traumatique intracranienne"),
    "aeg": ("alteration etat general", "malaise fatigue"),
    "sdra": ("syndrome detresse respiratoire",),
    "saos": ("apnee sommeil",),
    "lam": ("leucemie myeloide aigue", "leucemie myeloblastique aigue"),
    "lla": ("leucemie lymphoblastique aigue",),
    "llc": ("leucemie lymphoide chronique",),
    "lmc": ("leucemie myeloide chronique",),
    "oh": ("alcool", "alcoolique"),
}
# Clinical wording that ICD labels put otherwise. A phrase marked ``~`` is looser: it counts for
# ``_SYNONYM_STRENGTH``.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "syndrome coronarien aigu": ("infarctus aigu myocarde", "angine poitrine instable",
                                 "cardiopathie ischemique aigue"),
    "pyelonephrite": ("pyelonephrite", "nephrite tubulo interstitielle"),
    "pneumopathie": ("pneumopathie", "pneumonie"),
    "pneumonie": ("pneumonie", "pneumopathie"),
    "decompensation": ("decompensation", "~aigu", "~episode aigu", "~insuffisance"),
    "exacerbation": ("exacerbation", "~aigu", "~episode aigu"),
    "exacerbee": ("exacerbation", "~aigu", "~episode aigu"),
    "cancer": ("cancer", "tumeur maligne", "carcinome"),
    "neoplasie": ("tumeur maligne", "~tumeur"),
    "metastase": ("tumeur maligne secondaire",),
    "confusion": ("confusion", "desorientation", "delirium"),
    "confusionnel": ("desorientation", "delirium"),
    "syndrome confusionnel": ("desorientation", "delirium"),
    "deshydratation": ("deshydratation", "hypovolemie"),
    "malaise": ("malaise", "~syncope"),
    "alcoolique": ("alcoolique", "alcool"),
    "ethylique": ("alcoolique", "alcool"),
    "ethylisme": ("alcoolisme", "alcool"),
    "medicamenteuse": ("medicamenteux", "~medicaments"),
    "pneumopathie inhalation": ("pneumopathie aliments vomissements", "pneumopathie inhalation"),
    # organ adjectives: ICD labels often name the organ instead
    "hepatique": ("hepatique", "~foie"),
    "pulmonaire": ("pulmonaire", "~poumon"),
    "renal": ("renal", "~rein"),
    "cardiaque": ("cardiaque", "~coeur"),
    "gastrique": ("gastrique", "~estomac"),
    "vesical": ("vesical", "~vessie"),
    "osseux": ("osseux", "~os"),
    "cutane": ("cutane", "~peau"),
}
_EXPANSIONS = {**_SYNONYMS, **_ABBREVIATIONS}
_MAX_KEY_WORDS = max(len(k.split()) for k in _EXPANSIONS)

# --- ranking -------------------------------------------------------------------------------------
_PARENT_STRENGTH = 0.6       # a query word found only in the parent's label
_SYNONYM_STRENGTH = 0.85     # a looser synonym (``~`` in ``_SYNONYMS``)
_PREFIX_STRENGTH = 0.9       # an unknown word matched as the prefix of a known one
_CLOSE_STRENGTH = 0.8        # an unknown word matched by close spelling
_MAX_PREFIX_EXPANSIONS = 12
_MIN_CLOSE_LENGTH = 5
_MAX_CLOSE_EXPANSIONS = 3
_ALL_MATCHED_BONUS = 0.5
_GROUP_MATCHED = 0.5         # a query word counts as found from this match on
_CATEGORY_BONUS = 0.05       # three-character categories, the more general codes
_PRECISION_WEIGHT = 0.3
_EXTERNAL_CAUSE_PENALTY = 0.3
_MIN_COVERAGE = 0.3
_MAX_QUERY_GROUPS = 30
_MAX_QUERY_CHARS = 1000


def _fold(text: str) -> str:
    """Lower case, no accents, ``œ``/``æ`` spelt out."""
    text = text.casefold()
    if not text.isascii():
        text = text.replace("œ", "oe").replace("æ", "ae")
        text = _COMBINING_RE.sub("", unicodedata.normalize("NFKD", text))
    return text


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(_fold(text))


_STEM_SUFFIXES = (("euse", "eu"), ("ive", "if"), ("elle", "el"), ("ienne", "ien"), ("ale", "al"),
                  ("ique", "i"))


def _stem_word(word: str) -> str:
    """Light French stemmer: plural, feminine and ``-ique``/``-ie`` endings merged.

    ``infectieuses``/``infectieux`` -> ``infectieu``, ``aigues``/``aigus`` -> ``aigu``,
    ``renaux``/``renale`` -> ``renal``, ``ischemique``/``ischemie`` -> ``ischemi``.
    """
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("aux") and len(word) > 5:
        word = word[:-3] + "al"
    elif word[-1] in "sx":
        word = word[:-1]
    for suffix, replacement in _STEM_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + replacement
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


_stem = lru_cache(maxsize=4096)(_stem_word)  # the words people type, at query time


def _stems(text: str) -> list[str]:
    return [_stem(w) for w in _words(text) if w not in _STOPWORDS]


# The same keys, stemmed: ``pneumopathies`` finds the entry of ``pneumopathie``.
_STEMMED_EXPANSIONS = {
    " ".join(_stem(w) for w in key.split()): phrases for key, phrases in _EXPANSIONS.items()
}


def _one_slip(typed: str, known: str) -> bool:
    """``typed`` is ``known`` with one letter missing, one letter too many or two neighbouring
    letters swapped (``insufisanc``, ``pneumopatthi``, ``pnuemopathi``). A changed letter is
    not a slip here: it turns ``confusion`` into ``contusion``."""
    if typed == known:
        return False
    if len(typed) + 1 == len(known):
        typed, known = known, typed
    if len(typed) == len(known) + 1:
        for i in range(len(known) + 1):
            if typed[:i] + typed[i + 1:] == known:
                return True
        return False
    if len(typed) == len(known):
        diff = [i for i in range(len(typed)) if typed[i] != known[i]]
        return (len(diff) == 2 and diff[1] == diff[0] + 1
                and typed[diff[0]] == known[diff[1]] and typed[diff[1]] == known[diff[0]])
    return False


def _code_key(code: str) -> str:
    return _CODE_KEY_RE.sub("", code).upper()


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _lower_initial(text: str) -> str:
    """``A Vibrio`` -> ``à Vibrio``, ``Avec idées`` -> ``avec idées``; acronyms kept."""
    match = _LEAD_WORD_RE.match(text)
    if match is None:
        return text
    word = match.group(1)
    if len(word) > 1 and word.isupper():
        return text
    lowered = "à" if word == "A" else word[:1].lower() + word[1:]
    return lowered + text[len(word):]


def _is_fragment(label: str, parent_label: str) -> bool:
    """Rules 2 and 3 of the module docstring (rule 1, the bar, is handled apart)."""
    match = _LEAD_WORD_RE.match(label)
    if match is not None and match.group(1).casefold() in _FRAGMENT_LEADS:
        return True
    return bool(_FRAGMENT_VARIETY_RE.search(label)) and (
        " ".join(_words(parent_label)) not in " ".join(_words(label))
    )


class _Row(NamedTuple):
    code: str
    fr: str
    en: str


def _display_label(row: _Row, parent: _Row | None) -> str:
    """The label to show for ``row`` (see the module docstring)."""
    fr, en = row.fr.strip(), row.en.strip()
    if fr:
        if _FRAGMENT_BAR in fr:
            head, _, tail = fr.partition(_FRAGMENT_BAR)
            head, tail = head.strip(), tail.strip()
            if not head and parent is not None:
                head = parent.fr.strip()
            return f"{_capitalise(head)}{_SEPARATOR}{tail}" if head else _capitalise(tail)
        if parent is not None and parent.fr.strip() and _is_fragment(fr, parent.fr):
            return f"{_capitalise(parent.fr.strip())}{_SEPARATOR}{_lower_initial(fr)}"
        return _capitalise(fr)
    en = en.rstrip(": ").strip()
    if parent is not None:
        parent_en = parent.en.strip().rstrip(": ").strip()
        prefix = f"{parent_en}: "
        if parent_en and en.startswith(prefix):
            detail = en[len(prefix):].strip()
            if detail == parent_en:
                en = parent_en
            elif parent.fr.strip():
                return f"{_capitalise(parent.fr.strip())}{_SEPARATOR}{detail} {_ENGLISH_MARK}"
    head, sep, tail = en.partition(": ")
    if sep and head.strip() == tail.strip():
        en = head.strip()
    if not en:
        return row.code
    return f"{en} {_ENGLISH_MARK}"


class Icd10:
    """ICD-10 codes with French display labels, loaded on first use.

    ``source`` is a path to a CSV laid out like ``data/icd10/icd10_fr.csv``; by default the file
    shipped in the package is read.
    """

    def __init__(self, source: str | os.PathLike[str] | None = None) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._loaded = False
        self._indexed = False
        # Kept packed (see packed.py): as lists and dicts of Python objects, the table and its
        # index held about 8 MB, and the process kept over 20 MB after building them.
        self._codes = Packed(())
        self._labels = Packed(())
        self._by_key: PackedMap[int] = PackedMap({})
        # the index: stems sorted, with their idf and their postings (code indices and
        # strengths, the postings of stem i at _starts[i]:_starts[i + 1])
        self._vocabulary = Packed(())
        self._idf = array("d")
        self._starts = array("I", [0])
        self._docs = array("i")
        self._strengths = array("f")
        self._own_weight = array("d")
        self._external = b""
        self._default_idf = 1.0
        self._unknown_idf = 1.0

    # --- loading ---------------------------------------------------------------------------------

    def _read_rows(self) -> list[_Row]:
        if self._source is None:
            opened = resources.files(_DATA_PACKAGE).joinpath(*_DATA_PATH).open(
                "r", encoding="utf-8")
        else:
            opened = open(self._source, encoding="utf-8", newline="")  # noqa: SIM115
        with opened as lines:
            reader = csv.reader(lines)
            header = next(reader, [])
            try:
                code_at, fr_at, en_at = (
                    header.index(c) for c in ("code", "libelle_fr", "libelle_en"))
            except ValueError as exc:
                raise ValueError(f"ICD-10 file without the expected columns: {header}") from exc
            width = max(code_at, fr_at, en_at) + 1
            return [
                _Row(r[code_at].strip(), r[fr_at], r[en_at])
                for r in reader if len(r) >= width and r[code_at].strip()
            ]

    def _ensure_loaded(self) -> None:
        """Codes and display labels (what ``label`` and ``normalise`` need)."""
        if self._loaded:
            return
        with self._lock:
            if not self._loaded:
                self._load(self._read_rows())
                self._loaded = True

    def load_index(self) -> None:
        """Build the word index now (otherwise on the first proposal)."""
        self._ensure_indexed()

    def _ensure_indexed(self) -> None:
        """The word index (what ``propose`` needs), built on the first proposal."""
        if self._indexed:
            return
        self._ensure_loaded()
        with self._lock:
            if not self._indexed:
                self._build_index()
                self._indexed = True

    def _load(self, rows: list[_Row]) -> None:
        by_code = {row.code: row for row in rows}
        self._codes = Packed(row.code for row in rows)
        self._labels = Packed(
            _display_label(row, by_code.get(row.code[:3]) if len(row.code) > 3 else None)
            for row in rows
        )
        self._by_key = PackedMap(
            {row.code.replace(".", "").upper(): i for i, row in enumerate(rows)},
            values=lambda positions: array("I", positions),
        )

    def _build_index(self) -> None:
        codes, labels = list(self._codes), self._labels
        # One folding pass over all labels (labels hold no line break), then words and stems.
        folded = _fold("\n".join(label.replace("\n", " ") for label in labels)).split("\n")
        stem_of: dict[str, str] = {}  # (the query-time cache of _stem is not filled with these)
        own_stems: list[tuple[str, ...]] = []  # a tuple: a set per code costs 3 MB at peak
        for line in folded:
            found: set[str] = set()
            for word in _WORD_RE.findall(line):
                if word in _STOPWORDS:
                    continue
                stem = stem_of.get(word)
                if stem is None:
                    stem = stem_of[word] = _stem_word(word)
                found.add(stem)
            own_stems.append(tuple(found))
        del folded, stem_of
        n = len(codes)
        document_frequency: dict[str, int] = {}
        for stems in own_stems:
            for stem in stems:
                document_frequency[stem] = document_frequency.get(stem, 0) + 1
        idf = {s: math.log((n + 1) / (df + 0.5)) for s, df in document_frequency.items()}
        # (code indices, strengths) per stem, in code order: a dict per stem costs several times
        # the memory of the arrays
        postings = {s: (array("i"), array("f")) for s in document_frequency}
        position = {code: i for i, code in enumerate(codes)}
        for index, code in enumerate(codes):
            stems = own_stems[index]
            for stem in stems:
                postings[stem][0].append(index)
                postings[stem][1].append(1.0)
            if len(code) > 3:
                parent = position.get(code[:3])
                if parent is not None:
                    own = set(stems)
                    for stem in own_stems[parent]:
                        if stem not in own:
                            postings[stem][0].append(index)
                            postings[stem][1].append(_PARENT_STRENGTH)
        # frozen as flat arrays in the order of the sorted stems
        vocabulary = sorted(postings)
        starts, docs, strengths = array("I", [0]), array("i"), array("f")
        for stem in vocabulary:
            docs.extend(postings[stem][0])
            strengths.extend(postings[stem][1])
            starts.append(len(docs))
        del postings, position
        self._vocabulary = Packed(vocabulary)
        self._idf = array("d", (idf[stem] for stem in vocabulary))
        self._starts, self._docs, self._strengths = starts, docs, strengths
        self._own_weight = array("d", (sum(idf[s] for s in stems) for stems in own_stems))
        self._external = bytes(code[:1] in "VWXY" for code in codes)
        self._default_idf = sum(idf.values()) / len(idf) if idf else 1.0
        self._unknown_idf = math.log((n + 1) / 0.5) if n else 1.0

    # --- codes -----------------------------------------------------------------------------------

    def _index(self, code: object) -> int | None:
        if not isinstance(code, str):
            return None
        self._ensure_loaded()
        return self._by_key.get(_code_key(code))

    def _stem_idf(self, stem: str) -> float | None:
        at = self._vocabulary.find(stem)
        return None if at is None else self._idf[at]

    def _posting(self, stem: str) -> Iterator[tuple[int, float]]:
        """(code index, strength) of the codes whose labels hold `stem` (or their category's)."""
        at = self._vocabulary.find(stem)
        if at is None:
            return iter(())
        start, end = self._starts[at], self._starts[at + 1]
        return zip(self._docs[start:end], self._strengths[start:end], strict=True)

    def normalise(self, code: str) -> str | None:
        """Dotted form of an existing code (``I500`` -> ``I50.0``, ``i50`` -> ``I50``), else None."""
        index = self._index(code)
        return None if index is None else self._codes[index]

    def label(self, code: str) -> str | None:
        """French label to show for a code typed as ``I50.0``, ``I500`` or ``i50.0``; None if the
        code does not exist."""
        index = self._index(code)
        return None if index is None else self._labels[index]

    def parent(self, code: str) -> str | None:
        """The three-character category of an existing sub-code (``I50.0`` -> ``I50``), else None."""
        dotted = self.normalise(code)
        if dotted is None or len(dotted) <= 3:
            return None
        return dotted[:3] if _code_key(dotted[:3]) in self._by_key else None

    def __contains__(self, code: object) -> bool:
        return self._index(code) is not None

    def __len__(self) -> int:
        self._ensure_loaded()
        return len(self._codes)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """(dotted code, display label), in the file's order."""
        self._ensure_loaded()
        return iter(zip(self._codes, self._labels, strict=True))

    # --- proposals -------------------------------------------------------------------------------

    def _alternatives(self, stem: str) -> list[list[tuple[str, float]]]:
        """How one query word can match: itself, else known words it prefixes, else close ones."""
        if self._vocabulary.find(stem) is not None:
            return [[(stem, 1.0)]]
        if len(stem) >= 4:
            found = [[(word, _PREFIX_STRENGTH)] for _, word in
                     islice(self._vocabulary.starting_with(stem), _MAX_PREFIX_EXPANSIONS)]
            if found:
                return found
        if len(stem) >= _MIN_CLOSE_LENGTH:
            close = [w for w in self._vocabulary_by_head(stem[0]) if _one_slip(stem, w)]
            return [[(word, _CLOSE_STRENGTH)] for word in close[:_MAX_CLOSE_EXPANSIONS]]
        return []

    def _vocabulary_by_head(self, head: str) -> list[str]:
        return [word for _, word in self._vocabulary.starting_with(head)]

    def _groups(self, text: str) -> list[tuple[float, list[list[tuple[str, float]]]]]:
        """The query as groups of alternatives, each alternative a list of (stem, strength), with
        the group's weight."""
        text = _CODE_IN_TEXT_RE.sub(" ", text[:_MAX_QUERY_CHARS])  # codes: see _codes_in_text
        words = [w for w in _words(text) if w not in _STOPWORDS]
        if all(len(w) < 2 for w in words):
            return []  # a lone letter or digit ("C", "2") says nothing alone; "hépatite C" does
        groups: list[tuple[float, list[list[tuple[str, float]]]]] = []
        i = 0
        while i < len(words) and len(groups) < _MAX_QUERY_GROUPS:
            phrases: tuple[str, ...] | None = None
            for size in range(min(_MAX_KEY_WORDS, len(words) - i), 0, -1):
                key = words[i:i + size]
                phrases = _EXPANSIONS.get(" ".join(key)) or _STEMMED_EXPANSIONS.get(
                    " ".join(_stem(w) for w in key))
                if phrases is not None:
                    i += size
                    break
            if phrases is None:
                word = words[i]
                i += 1
                stem = _stem(word)
                alternatives = self._alternatives(stem)
                if not alternatives and word.isdigit():
                    continue  # an age, a dose, a date: not part of a diagnosis
                weight = self._stem_idf(stem) or max(
                    (self._stem_idf(s) or 0.0 for alt in alternatives for s, _ in alt),
                    default=self._unknown_idf,
                )
                groups.append((weight, alternatives))
                continue
            alternatives = []
            for phrase in phrases:
                strength = _SYNONYM_STRENGTH if phrase.startswith("~") else 1.0
                stems = _stems(phrase.lstrip("~"))
                if stems:
                    alternatives.append([(s, strength) for s in stems])
            known = [self._idf_or_default(s) for alt in alternatives for s, _ in alt]
            if known:
                groups.append((sum(known) / len(known), alternatives))
        return groups

    def _idf_or_default(self, stem: str) -> float:
        idf = self._stem_idf(stem)
        return self._default_idf if idf is None else idf

    def _codes_in_text(self, text: str) -> list[int]:
        found: list[int] = []
        for match in _CODE_IN_TEXT_RE.finditer(text[:_MAX_QUERY_CHARS]):
            index = self._by_key.get(_code_key(match.group(1)))
            if index is not None and index not in found:
                found.append(index)
        return found

    def _scores(self, groups: list[tuple[float, list[list[tuple[str, float]]]]]) -> dict[int, float]:
        """Score of every code matching at least ``_MIN_COVERAGE`` of the query."""
        total = sum(weight for weight, _ in groups)
        if total <= 0:
            return {}
        coverage: dict[int, float] = {}
        groups_matched: dict[int, int] = {}
        matched_stems: set[str] = set()
        for weight, alternatives in groups:
            best: dict[int, float] = {}
            for alternative in alternatives:
                alt_weight = sum(self._idf_or_default(s) for s, _ in alternative)
                if alt_weight <= 0:
                    continue
                partial: dict[int, float] = {}
                for stem, strength in alternative:
                    stem_idf = self._stem_idf(stem)
                    if stem_idf is None:
                        continue
                    matched_stems.add(stem)
                    share = stem_idf * strength / alt_weight
                    for doc, doc_strength in self._posting(stem):
                        partial[doc] = partial.get(doc, 0.0) + share * doc_strength
                several = len(alternative) > 1
                for doc, value in partial.items():
                    if several and value < 1.0:
                        value *= value  # half of "accident vasculaire cerebral" is not half an AVC
                    if value > best.get(doc, 0.0):
                        best[doc] = value
            for doc, value in best.items():
                coverage[doc] = coverage.get(doc, 0.0) + weight * value / total
                if value >= _GROUP_MATCHED:
                    groups_matched[doc] = groups_matched.get(doc, 0) + 1
        explained: dict[int, float] = {}
        for stem in matched_stems:
            stem_idf = self._stem_idf(stem) or 0.0
            for doc, doc_strength in self._posting(stem):
                if doc_strength == 1.0:
                    explained[doc] = explained.get(doc, 0.0) + stem_idf
        scores: dict[int, float] = {}
        for doc, value in coverage.items():
            if value < _MIN_COVERAGE:
                continue
            score = value
            if groups_matched.get(doc, 0) == len(groups):
                score += _ALL_MATCHED_BONUS
            own = self._own_weight[doc]
            if own > 0:
                score += _PRECISION_WEIGHT * min(1.0, explained.get(doc, 0.0) / own)
            if len(self._codes[doc]) == 3:
                score += _CATEGORY_BONUS
            if self._external[doc]:
                score -= _EXTERNAL_CAUSE_PENALTY
            scores[doc] = score
        return scores

    def out_of_scope(self, code: str, age: int | None = None, sex: str | None = None) -> str | None:
        """Why an existing code cannot describe this patient (age, sex: see icd10_scope), in
        French; None when it can, or when the code does not exist."""
        dotted = self.normalise(code)
        if dotted is None:
            return None
        return scope_problem(dotted, age, sex, self.label(dotted))

    def propose(self, text: str, limit: int = 5, age: int | None = None,
                sex: str | None = None) -> list[tuple[str, str]]:
        """Codes (dotted) and display labels best matching a free-text diagnosis, best first;
        [] when nothing matches (empty or unknown words). Given the patient's age (whole years)
        or sex (`F`, `M`), codes that cannot describe that patient are left out (perinatal
        codes for an adult, pregnancy codes for a man: see icd10_scope)."""
        if not isinstance(text, str) or limit <= 0:
            return []
        self._ensure_indexed()
        typed = self._codes_in_text(text)
        scores = self._scores(self._groups(text))
        codes, labels = self._codes, self._labels
        ranked = sorted(
            scores,
            key=lambda doc: (-round(scores[doc], 9), len(codes[doc]), len(labels[doc]), codes[doc]),
        )
        ordered = typed + [doc for doc in ranked if doc not in typed]
        if age is not None or sex is not None:  # the best ones that fit, tested until enough
            ordered = list(islice((doc for doc in ordered if fits(codes[doc], age, sex)), limit))
        return [(codes[doc], labels[doc]) for doc in ordered[:limit]]


@cache
def default_icd10() -> Icd10:
    """The shipped ICD-10 table (loaded on first use, then shared)."""
    return Icd10()
