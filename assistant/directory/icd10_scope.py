"""Which patients an ICD-10 code can describe: the codes restricted to one sex or to an age.

The lists are the ICD-10 validity checks every coding tool applies (WHO ICD-10, volume 2, codes
limited to one sex; the usual age edits of coding software):

- perinatal conditions (chapter XVI, P00-P96) and live-born infants (Z38): a newborn or infant,
  under one year of age (the chapter covers conditions originating in the perinatal period, so
  an infant keeps them for a while; an adult never starts one);
- pregnancy, childbirth and the puerperium (chapter XV, O00-O99), obstetrical tetanus (A34),
  puerperal mental disorders (F53), puerperal osteomalacia (M83.0), pregnancy supervision and
  care (Z32-Z36, Z39): a woman of childbearing age, 12 to 55 years;
- male only: B26.0, C60-C63, D07.4-D07.6, D17.6, D29, D40, E29, E89.5, F52.4, I86.1, L29.1,
  N40-N51, Q53-Q55, R86, S31.2-S31.3, Z12.5;
- female only: B37.3, C51-C58, C79.6, D06, D07.0-D07.3, D25-D28, D39, E28, E89.4, F52.5, I86.3,
  L29.2, L70.5, M80.0-M80.1, M81.0-M81.1, N70-N98, N99.2-N99.3, P54.6, Q50-Q52, R87, S31.4,
  S37.4-S37.6, T19.2-T19.3, T83.3, Y76, Z01.4, Z12.4, Z30.1, Z30.3, Z30.5, Z31.1-Z31.2, Z43.7,
  Z87.5, Z97.5, and the pregnancy codes above.

A range written with sub-codes (D07.0-D07.3) covers those sub-codes only, not the category (D07
also holds male codes); a range of categories (N40-N51) covers their sub-codes. A patient whose
sex is indeterminate (`I`) or not yet known, or whose age is not known, is never excluded on that
ground.
"""

from __future__ import annotations

from typing import NamedTuple

MALE, FEMALE = "M", "F"
NEWBORN = (0, 0)  # age in whole years
CHILDBEARING = (12, 55)


class Scope(NamedTuple):
    first: str  # codes without the dot: "N40", "D074"
    last: str
    sex: str | None
    ages: tuple[int, int] | None
    kind: str  # "perinatal", "pregnancy" or "sex": which French explanation fits


def _ranges(text: str, sex: str | None, ages: tuple[int, int] | None, kind: str) -> list[Scope]:
    found = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        first, last = first.replace(".", ""), (last or first).replace(".", "")
        found.append(Scope(first, last, sex, ages, kind))
    return found


SCOPES: tuple[Scope, ...] = (
    *_ranges("P00-P96, Z38", None, NEWBORN, "perinatal"),
    *_ranges("O00-O99, A34, F53, M83.0, Z32-Z36, Z39", FEMALE, CHILDBEARING, "pregnancy"),
    *_ranges("B26.0, C60-C63, D07.4-D07.6, D17.6, D29, D40, E29, E89.5, F52.4, I86.1, L29.1, "
             "N40-N51, Q53-Q55, R86, S31.2-S31.3, Z12.5", MALE, None, "sex"),
    *_ranges("B37.3, C51-C58, C79.6, D06, D07.0-D07.3, D25-D28, D39, E28, E89.4, F52.5, I86.3, "
             "L29.2, L70.5, M80.0-M80.1, M81.0-M81.1, N70-N98, N99.2-N99.3, P54.6, Q50-Q52, R87, "
             "S31.4, S37.4-S37.6, T19.2-T19.3, T83.3, Y76, Z01.4, Z12.4, Z30.1, Z30.3, Z30.5, "
             "Z31.1-Z31.2, Z43.7, Z87.5, Z97.5", FEMALE, None, "sex"),
)


def _key(code: str) -> str:
    return code.replace(".", "").strip().upper()


def scopes_of(code: str) -> list[Scope]:
    """The restrictions that apply to a code (dotted or not)."""
    key = _key(code)
    return [s for s in SCOPES if s.first <= key[:len(s.first)] and key[:len(s.last)] <= s.last]


def fits(code: str, age: int | None = None, sex: str | None = None) -> bool:
    return scope_problem(code, age, sex) is None


def scope_problem(code: str, age: int | None = None, sex: str | None = None,
                  label: str | None = None) -> str | None:
    """Why this code cannot describe this patient, in French; None when it can (or when what
    would exclude it is not known)."""
    named = f"{code} ({label})" if label else code
    female = sex == FEMALE
    patient = "la patiente" if female else "le patient"
    for s in scopes_of(code):
        if s.sex is not None and sex in (MALE, FEMALE) and sex != s.sex:
            if s.kind == "pregnancy":
                return f"{named} est un code de grossesse ou d'accouchement : {patient} est un homme."
            who = "aux hommes" if s.sex == MALE else "aux femmes"
            return f"{named} est un code réservé {who} : {patient} est {'une femme' if female else 'un homme'}."
        if s.ages is not None and age is not None and not s.ages[0] <= age <= s.ages[1]:
            years = "moins d'un an" if age == 0 else f"{age} an{'s' if age > 1 else ''}"
            if s.kind == "perinatal":
                return (f"{named} est un code de la période périnatale (nouveau-né ou nourrisson de "
                        f"moins d'un an) : {patient} a {years}.")
            return (f"{named} est un code de grossesse ou d'accouchement (femme de "
                    f"{s.ages[0]} à {s.ages[1]} ans) : {patient} a {years}.")
    return None


__all__ = ["SCOPES", "Scope", "fits", "scope_problem", "scopes_of"]
