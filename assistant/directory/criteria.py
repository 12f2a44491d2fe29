"""Matching criteria typed as text (command line, query string), read with the dossier's own
readers so that `cardiologie`, `cardiology` and `4` all name the same specialty."""

from __future__ import annotations

from orient.assistant.directory.communes import default_table
from orient.assistant.directory.matching import Criteria
from orient.dialogs.hnp import HNP, NO_SPECIALTY
from orient.models.readers import ReadError, read_choice, read_int, read_multi


class CriteriaError(ValueError):
    """A criterion that cannot be read; the message is French and names the argument."""


def _codes(field_id: str) -> str:
    return ", ".join(code for code, _ in HNP.field(field_id).options)


def _choice(field_id: str, raw: str, flag: str) -> str:
    try:
        return read_choice(raw, HNP.field(field_id).options)
    except ReadError:
        raise CriteriaError(f"{flag} « {raw} » inconnu ; valeurs possibles : {_codes(field_id)}.") from None


def criteria_from_text(specialty: str, commune: str, age: str, needs: list[str] | None = None,
                       isolation: str | None = None, specialty_alt: str | None = None) -> Criteria:
    code = _choice("request.specialty", specialty, "--specialty")
    alt = _choice("request.specialty_alt", specialty_alt, "--specialty-alt") if specialty_alt else None
    if alt == code:
        raise CriteriaError(f"--specialty-alt « {specialty_alt} » : c'est déjà la spécialité de "
                            "--specialty ; donnez-en une autre, ou aucune.")
    try:
        years = read_int(age, min=0, max=120)
    except ReadError:
        raise CriteriaError(f"--age « {age} » : un âge en années entre 0 et 120 est attendu.") from None
    chosen: list[str] = []
    if needs:
        try:
            chosen = read_multi(",".join(needs), HNP.field("logistics.needs").options)
        except ReadError:
            raise CriteriaError(f"--needs « {' '.join(needs)} » : valeurs possibles : "
                                f"{_codes('logistics.needs')}.") from None
    isolation_code = _choice("medical.isolation", isolation, "--isolation") if isolation else None
    found = default_table().resolve(commune)
    if found.commune is None:
        if found.candidates:
            listed = " ; ".join(c.label for c in found.candidates)
            raise CriteriaError(f"--commune « {commune} » : plusieurs communes correspondent : {listed}.")
        near = " ; ".join(c.label for c in found.suggestions)
        raise CriteriaError(f"--commune « {commune} » : commune inconnue"
                            + (f" ; orthographes proches : {near}." if near else "."))
    place = found.commune
    if place.lat is None or place.lon is None:
        raise CriteriaError(f"--commune « {commune} » : cette commune n'a pas de coordonnées.")
    return Criteria(code, place.lat, place.lon, years, frozenset(chosen), isolation_code,
                    alt if alt != NO_SPECIALTY else None)
