"""A pasted letter or consultation note: what can be recognised without guessing becomes values
to confirm (spec/hnp-dossier.md, "imported answers"). Pure: text in, values and French notes out.

Recognised, and nothing else:

* the INS (NIR or NIA): 15 characters shaped as one (sex digit, year, month, place, order, key),
  spaces allowed; the key is checked by the field's rule, not here (a wrong key is shown with its
  refusal and asked). Two different numbers: none is proposed;
* the date of birth, only where the text says so (« née le », « né(e) le », « date de
  naissance », « DDN »), as 12/03/1938 or 12 mars 1938. Two different dates: none;
* phones, only where the line says whose they are: the caregiver's (« fille », « fils »,
  « épouse », « aidant », « personne de confiance »...), the patient's (« patient(e) »,
  « domicile »), the doctor's callback number (« me joindre », « cabinet »...); others are named
  in a note and left out;
* vital signs, on lines that name one (TA, FC, FR, SpO2, T°, poids...), read by the same reader as
  a line of signs typed at a vital-sign question (dialogs/hnp_vitals.py);
* sections headed ``Motif``, ``Antécédents`` (``ATCD``), ``Traitement(s)``, ``Allergie(s)``,
  ``Diagnostic`` (or ``Hypothèse diagnostique``): the heading at the start of a line, followed by
  ``:`` or alone on its line; the section runs to a blank line or the next heading;
* an ICD-10 code written as such (« CIM-10 : J18.9 »); otherwise the diagnosis words give
  suggestions (assistant/directory/icd10.py), listed in a note and offered as numbered picks at
  the code question, never chosen here.
"""

from __future__ import annotations

import re
import unicodedata

from orient.assistant.importing.common import (
    MAX_LETTER_CHARS,
    ImportRefused,
    ImportResult,
    origin_of,
)
from orient.dialogs import hnp_vitals
from orient.models.fields import Icd10Lookup
from orient.models.readers import MONTHS_FR

__all__ = ["read_letter"]

_SECTIONS = (
    ("medical.reason", (r"motifs?(?:\s+(?:de\s+(?:la\s+|l['’]\s*)?)?(?:demande|consultation|"
                        r"hospitalisation|adressage|recours|admission))?(?:\s+d['’]\s*hospitalisation)?")),
    ("medical.history", (r"ant[ée]c[ée]dents?(?:\s+(?:m[ée]dicaux|personnels|m[ée]dico-chirurgicaux|"
                         r"notables?))?(?:\s+et\s+chirurgicaux)?|atcds?")),
    ("medical.treatments", (r"traitements?(?:\s+(?:en\s+cours|habituels?|actuels?|au\s+long\s+cours|"
                            r"de\s+fond))?|ordonnance(?:\s+en\s+cours)?")),
    ("medical.allergies", r"allergies?(?:\s+(?:connues?|m[ée]dicamenteuses?))?"),
    ("medical.diagnosis", (r"diagnostics?(?:\s+(?:retenu|suspect[ée]|probable|principal))?|"
                           r"hypoth[èe]ses?\s+diagnostiques?")),
)
# Other headings of a letter: they end a section.
_OTHER_HEADINGS = (r"examen(?:\s+clinique)?|histoire\s+de\s+la\s+maladie|hdm|mode\s+de\s+vie|"
                   r"contexte(?:\s+social)?|biologie|imagerie|examens?\s+compl[ée]mentaires?|"
                   r"conclusion|conduite\s+[àa]\s+tenir|cat|constantes|signes\s+vitaux|"
                   r"param[èe]tres|projet|demande|bilan|cordialement|bien\s+confraternellement|"
                   r"confraternellement|identit[ée]|patient|patiente|[àa]\s+l['’]\s*examen|"
                   r"(?:code\s+)?(?:cim|icd)\s*-?\s*10")
_BULLET = re.compile(r"^\s*(?:[-–—•*·▪►>]+|\d{1,2}[.)])\s*")


def _heading(pattern: str) -> re.Pattern[str]:
    # at the start of a line (after a bullet or a '#'), followed by ':' or alone on its line
    return re.compile(rf"^\s*(?:#+\s*|[-•*]\s*)?(?:{pattern})\s*(?::\s*(?P<rest>.*)|\s*$)",
                      re.IGNORECASE)


_SECTION_RES = tuple((field_id, _heading(p)) for field_id, p in _SECTIONS)
_OTHER_RE = _heading(_OTHER_HEADINGS)
_ALONE_RE = re.compile(r"^\s*[A-ZÀ-Ý][^:]{0,40}:\s*$")  # "Examen clinique :" alone on its line

_NIR = re.compile(r"(?<![0-9A-Za-z])([1-478]\s?\d{2}\s?(?:0[1-9]|1[0-2]|[2-4]\d|99)\s?(?:\d{2}|2[AB])"
                  r"\s?\d{3}\s?\d{3}\s?\d{2})(?![0-9A-Za-z])", re.IGNORECASE)
_MONTHS = "|".join(MONTHS_FR) + "|fevrier|aout|decembre"
_DOB = re.compile(
    r"(?:\bn[ée]e?\s*(?:\(e\))?\s+le|\bdate\s+de\s+naissance\s*:?|\bddn\s*:?)\s*"
    rf"(?P<d>\d{{1,2}}\s*[/.-]\s*\d{{1,2}}\s*[/.-]\s*\d{{4}}|\d{{1,2}}(?:er)?\s+(?:{_MONTHS})\s+\d{{4}})",
    re.IGNORECASE)
_PHONE = re.compile(r"(?<![\d+])((?:\+33\s?(?:\(0\)\s?)?|0)[1-9](?:[\s.-]?\d{2}){4})(?!\d)")
_PHONE_OF = (
    ("context.caregiver_phone", re.compile(
        r"\b(?:fille|fils|[ée]pou(?:se|x)|mari|conjointe?|aidante?|personne\s+de\s+confiance|"
        r"belle-fille|gendre|ni[èe]ce|neveu|s[œo]e?ur|fr[èe]re|famille|compagne|compagnon|"
        r"tutrice|tuteur|curatrice|curateur)\b", re.IGNORECASE)),
    ("requester.callback_phone", re.compile(
        r"\b(?:me\s+(?:joindre|rappeler|contacter)|cabinet|mon\s+(?:num[ée]ro|portable)|"
        r"ligne\s+directe|rappel)\b", re.IGNORECASE)),
    ("patient.phone", re.compile(r"\b(?:patiente?|domicile|joignable)\b", re.IGNORECASE)),
)
_VITAL_LINE = re.compile(r"(?<![A-Za-zÀ-ÿ])(?:ta|pa|fc|fr|spo2|sao2|sat|t\s*°|temp[ée]rature|"
                         r"poids|pouls|tension)(?![A-Za-zÀ-ÿ])", re.IGNORECASE)
_DATE = re.compile(r"\b\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{2,4}\b")
_ICD_CODE = re.compile(r"\b(?:cim\s*-?\s*10|icd\s*-?\s*10)\s*:?\s*(?P<c>[A-Z]\d{2}(?:\.?[0-9A-Z]{1,2})?)\b",
                       re.IGNORECASE)


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold())
                   if not unicodedata.combining(c))


def _clean(line: str) -> str:
    return " ".join(_BULLET.sub("", line).split()).strip(" ;,.")


def _sections(lines: list[str], result: ImportResult) -> None:
    found: dict[str, list[str]] = {}
    current: str | None = None
    for line in lines:
        if not line.strip():
            current = None
            continue
        heading = next(((f, m) for f, r in _SECTION_RES if (m := r.match(line))), None)
        if heading is not None:
            current, m = heading
            if current in found:
                result.note("Une rubrique apparaît deux fois dans la lettre : seule la première est "
                            "reprise.", current)
                current = None
                continue
            found[current] = [m["rest"]] if m["rest"] and m["rest"].strip() else []
            continue
        if _OTHER_RE.match(line) or _ALONE_RE.match(line):
            current = None
            continue
        if current is not None:
            found[current].append(line)
    for field_id, body in found.items():
        items = [c for c in (_clean(x) for x in body) if c]
        if items:
            result.add(field_id, " ; ".join(items))


def _one(values: list[str], what: str, field_id: str, result: ImportResult) -> str | None:
    distinct = list(dict.fromkeys(values))
    if len(distinct) > 1:
        result.note(f"La lettre donne plusieurs {what} ({', '.join(distinct[:3])}) : aucun n'est "
                    "repris, la question reste posée.", field_id)
        return None
    return distinct[0] if distinct else None


def _dob(text: str) -> str:
    parts = text.split()
    if len(parts) == 3 and not parts[1][0].isdigit():
        month = _fold(parts[1])
        months = [_fold(m) for m in MONTHS_FR]
        day = parts[0].removesuffix("er")
        return f"{int(day):02d}/{months.index(month) + 1:02d}/{parts[2]}"
    return re.sub(r"\s+", "", text)


def _phones(lines: list[str], result: ImportResult) -> None:
    by_field: dict[str, list[str]] = {}
    for line in lines:
        for m in _PHONE.finditer(line):
            number = " ".join(m.group(1).split())
            around = line[max(0, m.start() - 60):m.start()] or line
            field_id = next((f for f, r in _PHONE_OF if r.search(around)), None)
            if field_id is None:
                field_id = next((f for f, r in _PHONE_OF if r.search(line)), None)
            if field_id is None:
                result.note(f"Numéro {number} trouvé sans indication de qui il s'agit : il n'est "
                            "pas repris.")
                continue
            by_field.setdefault(field_id, []).append("".join(c for c in number if c.isdigit() or c == "+"))
    labels = {"context.caregiver_phone": "numéros pour l'aidant", "patient.phone": "numéros du patient",
              "requester.callback_phone": "numéros de rappel"}
    for field_id, numbers in by_field.items():
        result.add(field_id, _one(numbers, labels[field_id], field_id, result))


def _vitals(lines: list[str], result: ImportResult) -> None:
    seen: dict[str, list[str]] = {}
    for line in lines:
        if not _VITAL_LINE.search(line):
            continue
        text = _DATE.sub(" ", line)  # a date is never a blood pressure
        split = hnp_vitals.split(hnp_vitals.OXYGEN, text)  # labelled values only (and a pressure)
        if split is None:
            continue
        for field_id, value in split.parts:
            seen.setdefault(field_id, []).append(value)
    for field_id, values in seen.items():
        result.add(field_id, _one(values, "valeurs pour une même constante", field_id, result))


def read_letter(text: str, *, icd10: Icd10Lookup | None = None) -> ImportResult:
    """Read a pasted letter. Raises :class:`ImportRefused` when it is too long or when nothing
    in it can be recognised."""
    if not isinstance(text, str):
        raise ImportRefused("La lettre doit être un texte. Rien n'a été importé.")
    if len(text) > MAX_LETTER_CHARS:
        raise ImportRefused(f"Texte trop long ({len(text)} caractères) : une lettre ou une note de "
                            f"consultation compte au plus {MAX_LETTER_CHARS} caractères. Rien n'a "
                            "été importé.")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    result = ImportResult("letter", origin_of(text.encode("utf-8")))
    lines = text.split("\n")

    nirs = ["".join(m.group(1).split()).upper() for m in _NIR.finditer(text)]
    result.add("patient.ins", _one(nirs, "matricules INS", "patient.ins", result))
    dates = [_dob(m["d"]) for m in _DOB.finditer(text)]
    result.add("patient.birth_date", _one(dates, "dates de naissance", "patient.birth_date", result))
    _phones(lines, result)
    _vitals(lines, result)
    _sections(lines, result)
    codes = list(dict.fromkeys(m["c"].upper() for m in _ICD_CODE.finditer(text)))
    result.add("medical.diagnosis_code", _one(codes, "codes CIM-10", "medical.diagnosis_code", result))
    diagnosis = result.value("medical.diagnosis")
    if diagnosis and not codes and icd10 is not None:
        proposed = icd10.propose(diagnosis)
        if proposed:
            listed = " ; ".join(f"{code} {label}" for code, label in proposed[:3])
            result.note(f"Codes CIM-10 possibles pour « {diagnosis[:60]} » : {listed}. Ils seront "
                        "proposés, numérotés, à la question du code.", "medical.diagnosis_code")
    if not result.values:
        raise ImportRefused(
            "Rien de reconnaissable dans ce texte : ni matricule INS, ni date de naissance (« née "
            "le … »), ni téléphone dont on sait à qui il est, ni constantes (TA, FC, SpO2…), ni "
            "rubrique Motif, Antécédents, Traitements, Allergies ou Diagnostic. Rien n'a été "
            "importé ; les questions seront posées une à une.")
    return result
