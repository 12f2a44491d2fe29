"""Readers: turn what the doctor typed into the normalised value of a field.

Each reader takes the raw typed string and returns the normalised value, or raises
:class:`ReadError` with a short French ``reason`` (what is wrong, possibly empty when the answer
is simply not recognised) and a French ``expected`` (what is expected). The caller composes the
final message with the field's label.

Whatever the input (any unicode, control characters, huge strings), a reader either returns or
raises ``ReadError``; only ASCII digits count as digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date

from orient.models.text import TERMINAL_AND_BIDI, controls_in

__all__ = [
    "ReadError",
    "read_bool",
    "read_choice",
    "read_date",
    "read_dec",
    "read_email",
    "read_identifier",
    "read_int",
    "read_multi",
    "read_name",
    "read_phone",
    "read_text",
]


class ReadError(ValueError):
    """A typed answer that cannot be read.

    ``reason``: short French sentence of what is wrong ("" when simply not recognised).
    ``expected``: French description of what is expected.
    ``picks``: (code, label) candidates the person may pick by number at the next answer (an
    ambiguous commune), listed numbered in the reason.
    """

    def __init__(self, reason: str, expected: str, picks: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(reason or expected)
        self.reason = reason
        self.expected = expected
        self.picks = tuple(picks)

    def __repr__(self) -> str:
        return f"ReadError(reason={self.reason!r}, expected={self.expected!r})"


# --------------------------------------------------------------------------- helpers

_EMPTY = "la réponse est vide"
_SHOW_LIMIT = 40
_DIGITS = "0123456789"
_APOSTROPHES = "'\u2019\u02bc"  # ' ’ ʼ
_HYPHENS = "-\u2010\u2011"  # - ‐ ‑


def _as_str(raw: object, expected: str) -> str:
    if not isinstance(raw, str):
        raise ReadError("", expected)
    return raw


def _fold_spaces(s: str) -> str:
    """Trim and fold inner runs of whitespace into one space."""
    return " ".join(s.split())


def _visible(c: str) -> str:
    """A character as it can be shown in a message."""
    if c == " ":
        return "espace"
    return c if c.isprintable() and not c.isspace() else f"U+{ord(c):04X}"


def _show(s: str) -> str:
    """Typed text quoted for a message: folded, printable, shortened."""
    s = "".join(c if c.isprintable() else "\ufffd" for c in _fold_spaces(s))
    if len(s) > _SHOW_LIMIT:
        s = s[: _SHOW_LIMIT - 1] + "…"
    return f"« {s} »"


def _list_chars(chars: Sequence[str]) -> str:
    seen: list[str] = []
    for c in chars:
        v = _visible(c)
        if v not in seen:
            seen.append(v)
    listed = ", ".join(f"« {v} »" if len(v) == 1 else v for v in seen[:6])
    return listed + (", …" if len(seen) > 6 else "")


def _strip_accents(s: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)
    )


def _fmt_num(x: float) -> str:
    """A number written the French way (decimal comma, no useless zero)."""
    if isinstance(x, int) or float(x).is_integer():
        return str(int(x))
    return repr(float(x)).replace(".", ",")


# --------------------------------------------------------------------------- text


def read_text(raw: str, min_length: int = 0) -> str:
    """Free text: trimmed, inner whitespace folded to one space, C0 controls and DEL removed; C1
    controls (U+0080-U+009F) and bidirectional embeddings, overrides and isolates refused."""
    min_length = min_length or 0
    expected = (
        f"un texte d'au moins {min_length} caractère{'s' if min_length > 1 else ''}"
        if min_length > 0
        else "un texte"
    )
    raw = _as_str(raw, expected)
    text = unicodedata.normalize("NFC", raw)
    refused = controls_in(text, TERMINAL_AND_BIDI)
    if refused:  # terminal (C1) and bidirectional controls: refused, never stored
        raise ReadError(f"caractère de contrôle interdit ({refused})", expected)
    text = "".join(c for c in text if c.isspace() or unicodedata.category(c) != "Cc")
    text = _fold_spaces(text)
    if len(text) < min_length:
        if not text:
            raise ReadError(_EMPTY, expected)
        n = len(text)
        raise ReadError(
            f"le texte est trop court ({n} caractère{'s' if n > 1 else ''})", expected
        )
    return text


# --------------------------------------------------------------------------- names

_NAME_EXPECTED = "des lettres, avec au besoin des espaces, des traits d'union ou des apostrophes"
_NAME_EXTRA = {
    "œ": "oe",
    "Œ": "OE",
    "æ": "ae",
    "Æ": "AE",
    "ß": "ss",
    "ẞ": "SS",
    "ø": "o",
    "Ø": "O",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ð": "d",
    "Ð": "D",
    "þ": "th",
    "Þ": "TH",
    "ı": "i",
}


def _ascii_letters(c: str) -> str | None:
    """The ASCII letters a (Latin) letter stands for, or None if it is not one."""
    if not c.isalpha():
        return None
    if c in _NAME_EXTRA:
        return _NAME_EXTRA[c]
    base = _strip_accents(c)
    base = "".join(_NAME_EXTRA.get(b, b) for b in base)
    if base and base.isascii() and base.isalpha():
        return base
    return None


def read_name(raw: str, *, upper_ins: bool = False) -> str:
    """A person's name: letters (accents allowed), spaces, hyphens, apostrophes.

    The apostrophes ``'`` and ``’`` are both stored as ``'``. With ``upper_ins`` (birth name,
    INS rules) the name is stored upper-case without accents: "Lefèvre-d’Ornano" gives
    "LEFEVRE-D'ORNANO", œ gives OE, æ AE, ß SS.
    """
    raw = _as_str(raw, _NAME_EXPECTED)
    text = _fold_spaces(unicodedata.normalize("NFC", raw))
    if not text:
        raise ReadError(_EMPTY, _NAME_EXPECTED)
    out: list[str] = []
    bad: list[str] = []
    has_letter = False
    prev_letter = False
    for c in text:
        if c == " ":
            out.append(" ")
            prev_letter = False
        elif c in _APOSTROPHES:
            out.append("'")
            prev_letter = False
        elif c in _HYPHENS:
            out.append("-")
            prev_letter = False
        elif unicodedata.combining(c):
            # A combining accent left over by NFC: fine after a letter.
            if prev_letter:
                if not upper_ins:
                    out.append(c)
            else:
                bad.append(c)
        else:
            letters = _ascii_letters(c)
            if letters is None:
                bad.append(c)
                prev_letter = False
            else:
                out.append(letters.upper() if upper_ins else c)
                has_letter = True
                prev_letter = True
    if bad:
        raise ReadError(f"caractères non acceptés : {_list_chars(bad)}", _NAME_EXPECTED)
    if not has_letter:
        raise ReadError("le nom ne contient aucune lettre", _NAME_EXPECTED)
    name = "".join(out)
    if name[0] in "-'" or name[-1] in "-'":
        raise ReadError(
            "un nom ne commence ni ne finit par un trait d'union ou une apostrophe",
            _NAME_EXPECTED,
        )
    if not upper_ins:
        name = unicodedata.normalize("NFC", name)
    return name


# --------------------------------------------------------------------------- identifiers

_ID_EXPECTED = "un identifiant fait de chiffres et de lettres (espaces, points et tirets ignorés)"


def read_identifier(raw: str) -> str:
    """An identifier: spaces, dots and hyphens ignored; stored upper-case without separator."""
    raw = _as_str(raw, _ID_EXPECTED)
    kept = [c for c in raw if not (c.isspace() or c in "." or c in _HYPHENS)]
    if not kept:
        raise ReadError(_EMPTY, _ID_EXPECTED)
    bad = [c for c in kept if not (c.isascii() and c.isalnum())]
    if bad:
        raise ReadError(f"caractères non acceptés : {_list_chars(bad)}", _ID_EXPECTED)
    return "".join(kept).upper()


# --------------------------------------------------------------------------- dates

_DATE_EXPECTED = "une date jj/mm/aaaa (par exemple 12/03/1938)"
MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_YEAR_MIN, _YEAR_MAX = 1800, 2199
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", re.ASCII)
_DMY_DATE = re.compile(r"([0-9]{1,2}) *([/.\- ]) *([0-9]{1,2}) *\2 *([0-9]+)", re.ASCII)
_COMPACT_DATE = re.compile(r"[0-9]+", re.ASCII)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _make_date(day_s: str, month_s: str, year_s: str) -> date:
    if len(year_s) == 2:
        raise ReadError(
            f"l'année {year_s} à deux chiffres est ambiguë (19{year_s} ou 20{year_s} ?)",
            _DATE_EXPECTED,
        )
    if len(year_s) != 4:
        raise ReadError("l'année doit compter quatre chiffres", _DATE_EXPECTED)
    day, month, year = int(day_s), int(month_s), int(year_s)
    if not _YEAR_MIN <= year <= _YEAR_MAX:
        raise ReadError(f"l'année {year_s} n'est pas plausible", _DATE_EXPECTED)
    if not 1 <= month <= 12:
        raise ReadError(f"le mois {month_s} n'existe pas", _DATE_EXPECTED)
    if day < 1:
        raise ReadError(f"le jour {day_s} n'existe pas", _DATE_EXPECTED)
    days = _days_in_month(year, month)
    if day > days:
        name = MONTHS_FR[month - 1]
        which = f"{name} {year}" if month == 2 else name
        raise ReadError(
            f"le {day:02d}/{month:02d}/{year} n'existe pas : {which} compte {days} jours",
            _DATE_EXPECTED,
        )
    return date(year, month, day)


def read_date(raw: str) -> date:
    """A date: jj/mm/aaaa, jj-mm-aaaa, jj.mm.aaaa, jjmmaaaa or ISO aaaa-mm-jj.

    Day and month may have one digit when separated ("1/3/1938"). Two-digit years are refused.
    """
    raw = _as_str(raw, _DATE_EXPECTED)
    text = _fold_spaces(raw)
    if not text:
        raise ReadError(_EMPTY, _DATE_EXPECTED)
    if len(text) <= 40:
        m = _ISO_DATE.fullmatch(text)
        if m:
            return _make_date(m[3], m[2], m[1])
        m = _DMY_DATE.fullmatch(text)
        if m:
            return _make_date(m[1], m[3], m[4])
        if _COMPACT_DATE.fullmatch(text):
            if len(text) == 8:
                return _make_date(text[:2], text[2:4], text[4:])
            if len(text) == 6:
                return _make_date(text[:2], text[2:4], text[4:])
    raise ReadError("la date est dans un format inconnu", _DATE_EXPECTED)


# --------------------------------------------------------------------------- yes / no

_BOOL_EXPECTED = "oui ou non (o ou n)"
_BOOL_WORDS = {
    "oui": True,
    "o": True,
    "yes": True,
    "y": True,
    "non": False,
    "n": False,
    "no": False,
}


def read_bool(raw: str) -> bool:
    """Yes or no: oui, o, non, n (and yes, y, no), any case."""
    raw = _as_str(raw, _BOOL_EXPECTED)
    key = raw.strip().casefold()
    if not key:
        raise ReadError(_EMPTY, _BOOL_EXPECTED)
    try:
        return _BOOL_WORDS[key]
    except KeyError:
        raise ReadError("", _BOOL_EXPECTED) from None


# --------------------------------------------------------------------------- choices

_KEY_DROP = str.maketrans("", "", "'\u2019\u02bc-\u2010\u2011_")
_NUMBER = re.compile(r"([0-9]{1,6})[.)]?", re.ASCII)


def _key(s: str) -> str:
    """Comparison key: no case, accents, apostrophes, hyphens, underscores nor spaces."""
    s = _strip_accents(s).casefold().translate(_KEY_DROP)
    return "".join(s.split())


def options_list(options: Sequence[tuple[str, str]]) -> str:
    """Options as shown in French: "1. Aujourd'hui ; 2. Sous 24 h ; 3. Sous 48 h"."""
    return " ; ".join(f"{i}. {label}" for i, (_, label) in enumerate(options, 1))


def _choose(
    item: str, options: Sequence[tuple[str, str]], expected: str, *, name_item: bool
) -> str:
    """The code of the option ``item`` designates (``item`` already trimmed).

    ``name_item``: name the item in the reason even when it is simply not recognised (in a
    list of several items the caller cannot tell which one was refused).
    """
    if not item:
        raise ReadError(_EMPTY, expected)
    key = _key(item)
    exact: list[int] = []
    m = _NUMBER.fullmatch(item)
    if m:
        n = int(m[1])
        if 1 <= n <= len(options):
            exact.append(n - 1)
    for i, (code, label) in enumerate(options):
        if key and (key == _key(code) or key == _key(label)) and i not in exact:
            exact.append(i)
    if len(exact) == 1:
        return options[exact[0]][0]
    if len(exact) > 1:
        names = ", ".join(options[i][1] for i in sorted(exact))
        raise ReadError(
            f"{_show(item)} correspond à plusieurs options : {names}", expected
        )
    if key:
        found = [i for i, (_, label) in enumerate(options) if _key(label).startswith(key)]
        if not found and any(c.isdigit() for c in key):
            # a quantity alone names the option it ends: "48h" is "Sous 48 h"
            found = [i for i, (_, label) in enumerate(options) if _key(label).endswith(key)]
        if len(found) == 1:
            return options[found[0]][0]
        if found:
            names = ", ".join(options[i][1] for i in found)
            raise ReadError(
                f"{_show(item)} correspond à plusieurs options : {names}", expected
            )
    if m:
        raise ReadError(f"il n'y a pas d'option {int(m[1])}", expected)
    reason = f"{_show(item)} ne correspond à aucune option" if name_item else ""
    raise ReadError(reason, expected)


def read_choice(raw: str, options: Sequence[tuple[str, str]]) -> str:
    """One option among ``options`` ((code, French label) in display order); returns the code.

    Accepted: the option's number as shown (from 1), its code, its label, or an unambiguous
    beginning of its label. Case, accents, apostrophes, hyphens, underscores and spaces are
    ignored in the comparison.
    """
    expected = options_list(options)
    raw = _as_str(raw, expected)
    return _choose(_fold_spaces(raw), options, expected, name_item=False)


# "non" too: "Le patient présente-t-il un de ces signes ?" is naturally answered "non"
_NONE_WORDS = ("aucun", "aucune", "non")


def read_multi(raw: str, options: Sequence[tuple[str, str]]) -> list[str]:
    """Several options separated by commas or semicolons; ``aucun``/``aucune`` (or ``non``)
    alone: none (unless an option is itself called so).

    Each item is read as in :func:`read_choice`; duplicates are removed keeping the first
    order; empty items are ignored. Returns the codes.
    """
    expected = (
        "les numéros des options, séparés par des virgules, ou « aucun » : "
        + options_list(options)
    )
    raw = _as_str(raw, expected)
    items = [_fold_spaces(p) for p in re.split(r"[,;]", raw)]
    items = [p for p in items if p]
    if not items:
        raise ReadError(_EMPTY, expected)
    option_keys = {_key(code) for code, _ in options} | {_key(lab) for _, lab in options}
    none_items = [p for p in items if _key(p) in _NONE_WORDS and _key(p) not in option_keys]
    if none_items:
        if len(none_items) == len(items):
            return []
        raise ReadError(
            f"{_show(none_items[0])} ne peut pas être combiné avec d'autres options", expected
        )
    codes: list[str] = []
    for item in items:
        code = _choose(item, options, expected, name_item=True)
        if code not in codes:
            codes.append(code)
    return codes


# --------------------------------------------------------------------------- numbers

_NUM = re.compile(
    r"([+\-\u2212]?) *([0-9]*)(?:([.,])([0-9]*))? *(.*)", re.ASCII | re.DOTALL
)
_MAX_DIGITS = 18


def _range_words(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f" entre {_fmt_num(lo)} et {_fmt_num(hi)}"
    if lo is not None:
        return f" supérieur ou égal à {_fmt_num(lo)}"
    if hi is not None:
        return f" inférieur ou égal à {_fmt_num(hi)}"
    return ""


def _units_words(units: Sequence[str]) -> str:
    if not units:
        return ""
    if len(units) == 1:
        return f" (unité acceptée : {units[0]})"
    return f" (unités acceptées : {', '.join(units)})"


def _read_number(
    raw: str,
    units: Sequence[str],
    lo: float | None,
    hi: float | None,
    integer: bool,
) -> int | float:
    units = tuple(units or ())
    kind = "un nombre entier" if integer else "un nombre"
    expected = kind + _range_words(lo, hi) + _units_words(units)
    raw = _as_str(raw, expected)
    text = _fold_spaces(raw)
    if not text:
        raise ReadError(_EMPTY, expected)
    m = _NUM.fullmatch(text)
    if not m or not (m[2] or m[4]):
        raise ReadError("", expected)
    sign, whole, frac, unit = m[1], m[2], m[4] or "", m[5]
    if unit:
        ukey = "".join(unit.split()).casefold()
        if not any(ukey == "".join(u.split()).casefold() for u in units):
            reason = f"l'unité {_show(unit)} n'est pas acceptée" if units else ""
            raise ReadError(reason, expected)
    if len(whole.lstrip("0")) + len(frac) > _MAX_DIGITS:
        raise ReadError("le nombre compte trop de chiffres", expected)
    negative = sign not in ("", "+")
    if integer:
        if frac.strip("0"):
            raise ReadError("un nombre entier est attendu, sans décimale", expected)
        value: int | float = int(whole.lstrip("0") or "0")
        if negative:
            value = -value
    else:
        value = float(f"{whole or '0'}.{frac or '0'}")
        if negative:
            value = -value
        value = value + 0.0  # no negative zero
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ReadError(f"la valeur {_fmt_num(value)} est hors limites", expected)
    return value


def read_int(
    raw: str,
    *,
    units: Sequence[str] = (),
    min: int | None = None,
    max: int | None = None,
) -> int:
    """A whole number, possibly followed by one of ``units``; "92,0" is read as 92."""
    return int(_read_number(raw, units, min, max, integer=True))


def read_dec(
    raw: str,
    *,
    units: Sequence[str] = (),
    min: float | None = None,
    max: float | None = None,
) -> float:
    """A decimal number (``,`` or ``.`` as decimal mark), possibly followed by one of ``units``."""
    return float(_read_number(raw, units, min, max, integer=False))


# --------------------------------------------------------------------------- phone

_PHONE_EXPECTED = (
    "un numéro de téléphone à 10 chiffres (par exemple 06 12 34 56 78) "
    "ou international (par exemple +32 2 123 45 67)"
)
_PHONE_SEPARATORS = ".-/\u2010\u2011"
_OVERSEAS = {
    **dict.fromkeys(("0262", "0263", "0269", "0639", "0692", "0693"), "262"),
    **dict.fromkeys(("0590", "0690", "0691"), "590"),
    **dict.fromkeys(("0594", "0694"), "594"),
    **dict.fromkeys(("0596", "0696", "0697"), "596"),
}


def _french_e164(national: str) -> str:
    """E.164 form of a 10-digit French number starting with 0 (not 00)."""
    cc = _OVERSEAS.get(national[:4], "33")
    return f"+{cc}{national[1:]}"


def read_phone(raw: str) -> str:
    """A phone number, stored E.164 ("+33612345678").

    National: 10 digits starting with 0 (overseas departments get their own country code).
    International: ``+`` or ``00`` then 8 to 15 digits; ``+33`` must be followed by 9 digits
    ("+33 (0)6 …" is accepted).
    """
    raw = _as_str(raw, _PHONE_EXPECTED)
    text = "".join(c for c in raw if not (c.isspace() or c in _PHONE_SEPARATORS))
    if not text:
        raise ReadError(_EMPTY, _PHONE_EXPECTED)
    letters = [c for c in text if c.isalpha()]
    if letters:
        raise ReadError("un numéro de téléphone ne contient pas de lettres", _PHONE_EXPECTED)
    international = text.startswith(("+", "00"))
    if international:
        text = text[1:] if text.startswith("+") else text[2:]
        text = text.replace("(0)", "", 1)
    bad = [c for c in text if c not in _DIGITS]
    if bad:
        raise ReadError(f"caractères non acceptés : {_list_chars(bad)}", _PHONE_EXPECTED)
    if len(text) > 15:
        raise ReadError(f"le numéro compte trop de chiffres ({len(text)})", _PHONE_EXPECTED)
    if not international:
        if len(text) != 10:
            raise ReadError(
                f"10 chiffres attendus, {len(text)} saisi{'s' if len(text) > 1 else ''}",
                _PHONE_EXPECTED,
            )
        if text[0] != "0":
            raise ReadError("un numéro français commence par 0", _PHONE_EXPECTED)
        return _french_e164(text)
    if text.startswith("33"):
        rest = text[2:]
        if len(rest) != 9 or rest[0] == "0":
            raise ReadError(
                "après +33, 9 chiffres sont attendus, sans le 0 initial", _PHONE_EXPECTED
            )
        return _french_e164("0" + rest)
    if not 8 <= len(text) <= 15:
        raise ReadError(
            "un numéro international compte de 8 à 15 chiffres après l'indicatif +",
            _PHONE_EXPECTED,
        )
    if text[0] == "0":
        raise ReadError("l'indicatif du pays ne commence pas par 0", _PHONE_EXPECTED)
    return f"+{text}"


# --------------------------------------------------------------------------- email

_EMAIL_EXPECTED = "une adresse électronique (par exemple prenom.nom@chu-exemple.fr)"
_EMAIL_FORBIDDEN = set(',;:<>()[]\\"')


def read_email(raw: str) -> str:
    """An e-mail address: one @, a dot in the domain, no spaces; the domain is lower-cased."""
    raw = _as_str(raw, _EMAIL_EXPECTED)
    text = raw.strip()
    if not text:
        raise ReadError(_EMPTY, _EMAIL_EXPECTED)
    if any(c.isspace() for c in text):
        raise ReadError("une adresse ne contient pas d'espace", _EMAIL_EXPECTED)
    bad = [c for c in text if c in _EMAIL_FORBIDDEN or not c.isprintable()]
    if bad:
        raise ReadError(f"caractères non acceptés : {_list_chars(bad)}", _EMAIL_EXPECTED)
    if text.count("@") != 1:
        raise ReadError("une adresse contient un seul @", _EMAIL_EXPECTED)
    local, domain = text.split("@")
    if not local:
        raise ReadError("il manque le nom avant le @", _EMAIL_EXPECTED)
    if not domain:
        raise ReadError("il manque le domaine après le @", _EMAIL_EXPECTED)
    if "." not in domain or any(not part for part in domain.split(".")):
        raise ReadError(
            f"le domaine {_show(domain)} n'est pas valide (par exemple chu-exemple.fr)",
            _EMAIL_EXPECTED,
        )
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise ReadError("les points sont mal placés avant le @", _EMAIL_EXPECTED)
    return f"{local}@{domain.lower()}"
