"""Check digits and consistency checks of French health identifiers.

Identifiers handled here:

* RPPS (Répertoire partagé des professionnels de santé): 11 digits, the last one being a
  Luhn check digit over the whole number. Source: ANS, "Annuaire Santé", documentation of the
  RPPS identifier (identification nationale des professionnels de santé).
* FINESS (Fichier national des établissements sanitaires et sociaux): 9 characters, the
  first two being the département code (``2A``/``2B`` for Corsica), the last one a Luhn check
  digit. For Corsica the Luhn sum is computed with ``2A`` read as ``21`` and ``2B`` as ``22``.
  Source: ANS/DREES FINESS documentation (structure of the FINESS number); verified on every
  row of the 2020 FINESS extract shipped with Orient.
* NIR (numéro d'inscription au répertoire, "numéro de sécurité sociale") and NIA (numéro
  d'identification d'attente), 13 characters plus a 2-digit key:

  ====== =========================================================================
  pos.   meaning
  ====== =========================================================================
  1      sex: 1 or 2 (NIR), 3 or 4 (special NIR), 7 or 8 (temporary NIA);
         odd = male, even = female
  2-3    last two digits of the birth year
  4-5    birth month, 01-12; 20-42 or 99 when the month is unknown
  6-10   INSEE birth place code: département (``2A``/``2B`` for Corsica) + commune,
         ``97x`` + 2 digits for overseas, ``99`` + country code when born abroad
  11-13  order number in the birth register
  14-15  key = 97 - (first 13 digits mod 97), with ``2A`` replaced by ``19`` and ``2B``
         by ``18`` before the computation
  ====== =========================================================================

  Sources: Référentiel Identifiant national de santé (INS) and its "Guide d'implémentation de
  l'identité INS" published by the ANS (Agence du numérique en santé), which reuse the INSEE
  description of the NIR; INSEE, "Numéro d'inscription au répertoire (NIR)".

Pure functions, no I/O. Messages meant for people are in French.
"""

from __future__ import annotations

from datetime import date

from orient.models.readers import MONTHS_FR

__all__ = [
    "birth_departement",
    "finess_valid",
    "luhn_valid",
    "nir_check",
    "nir_key",
    "nir_trait_mismatches",
    "rpps_valid",
]

_DIGITS = frozenset("0123456789")
_NIR_SEX_DIGITS = frozenset("123478")
_NIR_MALE = frozenset("137")
_NIR_FEMALE = frozenset("248")
_NIR_CORSICA = {"2A": "19", "2B": "18"}
_FINESS_CORSICA = {"2A": "21", "2B": "22"}



def _is_digits(s: str) -> bool:
    """True when ``s`` is non-empty and made of ASCII digits only."""
    return bool(s) and all(c in _DIGITS for c in s)


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` (ASCII digits only, check digit last) passes the Luhn check."""
    if not isinstance(digits, str) or not _is_digits(digits):
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = ord(c) - 48
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def rpps_valid(s: str) -> bool:
    """True when ``s`` is an RPPS number: 11 ASCII digits with a Luhn check digit."""
    return isinstance(s, str) and len(s) == 11 and luhn_valid(s)


def finess_valid(s: str) -> bool:
    """True when ``s`` is a FINESS number: 9 characters, Luhn check digit.

    Corsican numbers start with ``2A`` or ``2B``, read as ``21`` and ``22`` for the Luhn sum.
    """
    if not isinstance(s, str) or len(s) != 9:
        return False
    s = s.upper()
    head = s[:2]
    if head in _FINESS_CORSICA:
        s = _FINESS_CORSICA[head] + s[2:]
    return luhn_valid(s)


def _nir_numeric(first13: str) -> str:
    """The first 13 NIR characters with the Corsican département made numeric."""
    s = first13.upper()
    dept = s[5:7]
    if dept in _NIR_CORSICA:
        s = s[:5] + _NIR_CORSICA[dept] + s[7:]
    return s


def nir_key(first13: str) -> int:
    """The NIR/NIA key (1 to 97) of its first 13 characters.

    ``2A`` and ``2B`` in the département position (characters 6-7) are replaced by ``19`` and
    ``18`` before computing 97 - (number mod 97). Raises ``ValueError`` on anything else than
    13 digits (Corsica aside).
    """
    s = _nir_numeric(first13) if isinstance(first13, str) else ""
    if len(s) != 13 or not _is_digits(s):
        raise ValueError("13 chiffres attendus (2A ou 2B acceptés pour la Corse)")
    return 97 - int(s) % 97


def _visible(c: str) -> str:
    """A character as it can be shown in a message."""
    return c if c.isprintable() and not c.isspace() else f"U+{ord(c):04X}"


def nir_check(s: str) -> str | None:
    """Check a 15-character NIR or NIA already stripped of separators and upper-cased.

    Returns ``None`` when it is valid, else a short French sentence saying what is wrong.
    """
    if not isinstance(s, str):
        return "le numéro n'est pas un texte"
    bad = []
    for i, c in enumerate(s):
        if c in _DIGITS:
            continue
        if i in (5, 6) and s[5:7] in _NIR_CORSICA:
            continue
        shown = _visible(c)
        if shown not in bad:
            bad.append(shown)
    if bad:
        listed = ", ".join(bad[:5]) + (", …" if len(bad) > 5 else "")
        return (
            f"caractères non acceptés : {listed} (seulement des chiffres, "
            "et 2A ou 2B en 6e et 7e positions pour la Corse)"
        )
    if len(s) != 15:
        return f"15 caractères attendus, {len(s)} saisis"
    if s[0] not in _NIR_SEX_DIGITS:
        return f"le premier chiffre doit être 1, 2, 3, 4, 7 ou 8, et non {s[0]}"
    expected = nir_key(s[:13])
    typed = int(s[13:])
    if typed != expected:
        # the expected key is not given: the mistake is as likely in the 13 digits as in the key
        return f"la clé {s[13:]} ne correspond pas aux 13 chiffres (vérifiez-les sur la carte Vitale ou l'attestation)"
    return None


def birth_departement(code: str) -> str:
    """The département of an INSEE birth place code: ``31`` for 31555, ``2A`` for 2A004, ``974``
    for 97411 (overseas: three characters), ``99`` for a birth abroad (99 + country code)."""
    code = "".join(code.split()).upper()
    if code.startswith("99"):
        return "99"
    return code[:3] if code[:2] in ("97", "98") else code[:2]


# Départements of a NIR that the current INSEE code of the same birth place no longer bears:
# NIR département -> (born before this year, current départements of the same places).
_FORMER_DEPARTEMENTS: dict[str, tuple[int, frozenset[str]]] = {
    "20": (1976, frozenset({"2A", "2B"})),  # Corsica, split in 1976
    "75": (1968, frozenset({"75", "92", "93", "94"})),  # Seine, split in 1968
    "78": (1968, frozenset({"78", "91", "92", "93", "94", "95"})),  # Seine-et-Oise, split in 1968
    "91": (1963, frozenset({"99"})),  # French Algeria (99352 today), until 1962
    "92": (1963, frozenset({"99"})),
    "93": (1963, frozenset({"99"})),
    "94": (1963, frozenset({"99"})),
    "95": (1957, frozenset({"99"})),  # Morocco (99350) under the protectorate
    "96": (1957, frozenset({"99"})),  # Tunisia (99351) under the protectorate
    "985": (2012, frozenset({"976"})),  # Mayotte before it became a département
}


def _departement_matches(in_nir: str, given: str, born: int | None) -> bool:
    """True when the NIR's birth département may be that of the given place: the same, or the
    same place under its département at the time of birth (Corsica before 1976, the Paris region
    before 1968, Algeria, Morocco and Tunisia before independence, Mayotte)."""
    if in_nir == given:
        return True
    former = _FORMER_DEPARTEMENTS.get(in_nir)
    return former is not None and given in former[1] and (born is None or born < former[0])


def _where(departement: str) -> str:
    return "à l'étranger (99)" if departement == "99" else f"dans le département {departement}"


def nir_trait_mismatches(
    nir: str,
    *,
    sex: str | None,
    birth_date: date | None,
    birth_place: str | None,
) -> list[str]:
    """French descriptions of the patient traits that do not match the NIR/NIA.

    ``sex`` is ``"F"``, ``"M"`` or ``"I"`` (``"I"``, undetermined, never mismatches);
    ``birth_place`` is an INSEE code (``2A004``, ``31555``, ``99134`` for born abroad), compared
    by its département (or ``99`` abroad) with the NIR's. A trait
    given as ``None`` is not compared, nor a part of the NIR that is missing or malformed.
    An empty list means that nothing contradicts the NIR.
    """
    if not isinstance(nir, str):
        return []
    nir = "".join(nir.split()).upper()
    out: list[str] = []

    digit = nir[:1]
    if sex in ("F", "M") and digit:
        nir_sex = "M" if digit in _NIR_MALE else "F" if digit in _NIR_FEMALE else None
        if nir_sex is not None and nir_sex != sex:
            said = "un homme" if nir_sex == "M" else "une femme"
            typed = "féminin" if sex == "F" else "masculin"
            out.append(f"sexe : le numéro indique {said} ({digit}), le sexe saisi est {typed}")

    if birth_date is not None:
        yy = nir[1:3]
        if len(yy) == 2 and _is_digits(yy) and yy != f"{birth_date.year % 100:02d}":
            out.append(
                f"année de naissance : le numéro indique {yy}, "
                f"la date de naissance est en {birth_date.year}"
            )
        mm = nir[3:5]
        if len(mm) == 2 and _is_digits(mm):
            month = int(mm)
            unknown = 20 <= month <= 42 or month == 99
            if not unknown and month != birth_date.month:
                out.append(
                    f"mois de naissance : le numéro indique {mm}, la date de naissance "
                    f"est en {MONTHS_FR[birth_date.month - 1]} ({birth_date.month:02d})"
                )

    if birth_place is not None:
        # The département only (spec): the NIR keeps the commune's code at the time of birth,
        # which mergers and renumbering have often changed since.
        given = birth_departement(birth_place)
        in_nir = birth_departement(nir[5:10]) if len(nir[5:10]) == 5 else ""
        born = birth_date.year if birth_date is not None else None
        if given and in_nir and not _departement_matches(in_nir, given, born):
            out.append(
                f"lieu de naissance : le numéro indique une naissance {_where(in_nir)}, "
                f"le lieu saisi est {_where(given)}"
            )
    return out
