"""Values the assistant proposes from what the dossier already says, shown at the question as a
numbered pick (typing the number picks; nothing is ever taken without it):

- the anticoagulation class from the drugs named in the current treatments (INN or French brand
  names), e.g. « apixaban » -> AOD; `aucun` treatment -> Non;
- the doctor's MSSanté address in the form the Ordre des médecins gives its members
  (`prenom.nom@medecin.mssante.fr`), from the doctor's name, to be checked (homonyms get another
  address).
"""

from __future__ import annotations

import re

from orient.models.fields import RuleContext
from orient.models.text import strip_accents

# Words of the treatments (accents and case ignored) -> anticoagulation option code.
ANTITHROMBOTICS: dict[str, tuple[str, ...]] = {
    "doac": ("apixaban", "eliquis", "rivaroxaban", "xarelto", "dabigatran", "pradaxa", "edoxaban",
             "lixiana"),
    "vka": ("warfarine", "warfarin", "coumadine", "fluindione", "previscan", "acenocoumarol",
            "sintrom", "minisintrom"),
    "heparin": ("heparine", "heparines", "enoxaparine", "lovenox", "tinzaparine", "innohep",
                "dalteparine", "fragmine", "nadroparine", "fraxiparine", "fraxodi", "calciparine",
                "hbpm"),
    "antiplatelet": ("aspirine", "kardegic", "acetylsalicylique", "clopidogrel", "plavix",
                     "ticagrelor", "brilique", "prasugrel", "efient", "duoplavin"),
}
_WORD = re.compile(r"[a-z]+")
_NONE = {"aucun", "aucune", "aucun traitement", "neant"}


def antithrombotics_named(treatments: str) -> list[tuple[str, str]]:
    """(option code, the word found) for each class named, in the order of the option list."""
    words = _WORD.findall(strip_accents(treatments).casefold())
    found = []
    for code, names in ANTITHROMBOTICS.items():
        hit = next((w for w in words if w in names), None)
        if hit is not None:
            found.append((code, hit))
    return found


def anticoagulation(ctx: RuleContext) -> list[tuple[str, str]]:
    """The classes the treatments name, as (code, why): « d'après les traitements : apixaban »."""
    treatments = str(ctx.answers.get("medical.treatments") or "")
    if not treatments.strip():
        return []
    if " ".join(strip_accents(treatments).casefold().split()).rstrip(".") in _NONE:
        return [("none", "d'après les traitements : aucun")]
    return [(code, f"d'après les traitements : {word}") for code, word in antithrombotics_named(treatments)]


_TITLE = re.compile(r"^(?:dr|docteur|pr|professeur)\.?\s+", re.IGNORECASE)


def _part(name: str) -> str:
    return re.sub(r"[^a-z-]", "", strip_accents(name).casefold().replace("'", "").replace("’", ""))


def mssante_address(doctor_name: str) -> str | None:
    """`prenom.nom@medecin.mssante.fr` for a name of two words (first name, then surname; a
    surname typed in capitals may come first); None when it cannot be told which word is which."""
    words = _TITLE.sub("", " ".join(doctor_name.split())).split(" ")
    if len(words) != 2:
        return None
    first, last = words
    if first.isupper() and not last.isupper():  # « MARTIN Claire »
        first, last = last, first
    first, last = _part(first), _part(last)
    if not first or not last:
        return None
    return f"{first}.{last}@medecin.mssante.fr"


def mssante(ctx: RuleContext) -> list[tuple[str, str]]:
    address = mssante_address(str(ctx.answers.get("requester.name") or ""))
    if address is None:
        return []
    return [(address, f"{address} (forme des adresses de l'Ordre des médecins : à vérifier)")]
